// The signing form on the buyer's quote page: a typed name, or a signature drawn with signature_pad (vendored in
// static/vendor/signature_pad). A drawing is sent as a PNG data URI in the hidden signature_image field; the server
// checks it again (PNG, size, not blank), so this only spares the signer a round trip.
(function () {
  "use strict";

  function setUp(form) {
    var padBox = form.querySelector("[data-pad]");
    var canvas = form.querySelector("[data-pad-canvas]");
    var imageField = form.querySelector("[data-pad-image]");
    var errorBox = form.querySelector("[data-pad-error]");
    var typed = form.querySelector("[data-typed-preview]");
    var nameField = form.querySelector("[name=signature_name]");
    var maxBytes = parseInt(form.getAttribute("data-max-bytes") || "204800", 10);
    var pad = null;

    function kind() {
      var checked = form.querySelector("[name=signature_kind]:checked");
      return checked ? checked.value : "typed";
    }

    function showError(message) {
      errorBox.textContent = message;
      errorBox.hidden = !message;
    }

    // The canvas is drawn at the screen's pixel density; resizing clears it, so the strokes are kept and redrawn.
    function fitCanvas() {
      if (!pad) return;
      var strokes = pad.toData();
      var ratio = Math.max(window.devicePixelRatio || 1, 1);
      canvas.width = canvas.offsetWidth * ratio;
      canvas.height = canvas.offsetHeight * ratio;
      canvas.getContext("2d").scale(ratio, ratio);
      pad.clear();
      pad.fromData(strokes);
    }

    function update() {
      var drawn = kind() === "drawn";
      padBox.hidden = !drawn;
      typed.hidden = drawn;
      if (drawn && !pad && window.SignaturePad) {
        pad = new window.SignaturePad(canvas, { penColor: "#111827", minWidth: 0.8, maxWidth: 2.6 });
        pad.addEventListener("beginStroke", function () { showError(""); });
      }
      if (drawn) fitCanvas();
      showError("");
    }

    form.querySelectorAll("[name=signature_kind]").forEach(function (radio) {
      radio.addEventListener("change", update);
    });
    form.querySelector("[data-pad-clear]").addEventListener("click", function () {
      if (pad) pad.clear();
    });
    nameField.addEventListener("input", function () { typed.textContent = nameField.value; });
    window.addEventListener("resize", fitCanvas);

    // On the form itself, so it runs before the page-wide double-submit guard marks the form as sent.
    form.addEventListener("submit", function (event) {
      imageField.value = "";
      if (kind() !== "drawn") return;
      if (!pad || pad.isEmpty()) {
        event.preventDefault();
        event.stopPropagation();
        showError(form.getAttribute("data-empty-message"));
        return;
      }
      var uri = pad.toDataURL("image/png");
      if ((uri.length - uri.indexOf(",") - 1) * 3 / 4 > maxBytes) {
        event.preventDefault();
        event.stopPropagation();
        showError(form.getAttribute("data-empty-message"));
        return;
      }
      imageField.value = uri;
    });

    update();
  }

  function init() {
    document.querySelectorAll("form[data-quote-sign]").forEach(setUp);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
