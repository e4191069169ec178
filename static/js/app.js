// Small page behaviour shared by every screen. htmx does the rest.
(function () {
  "use strict";
  // Forms and buttons with data-confirm ask before a destructive action.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  }, true);
  // A second click on a submit button while its form is on the way does nothing (no duplicate submits).
  document.addEventListener("submit", function (event) {
    if (event.defaultPrevented) return;
    var form = event.target;
    if (form.dataset.submitting === "1") {
      event.preventDefault();
      return;
    }
    form.dataset.submitting = "1";
    form.querySelectorAll("button[type=submit]").forEach(function (b) { b.setAttribute("aria-busy", "true"); });
    window.setTimeout(function () { delete form.dataset.submitting; }, 8000);
  });
  // An htmx request that fails (403, 404, 409, 500, or no answer) never fails silently: a message above the page
  // says why (the server's own words when its answer carries [data-error-message]: "Invoice INV-1001 is finalized",
  // not a role) and offers a reload, since the page is probably stale.
  function showRequestError(status, html) {
    var box = document.getElementById("request-error");
    if (!box) return;
    var text = "";
    if (html) {
      var doc = new DOMParser().parseFromString(html, "text/html");
      var said = doc.querySelector("[data-error-message]");
      if (said) text = said.textContent.trim();
    }
    if (!text) text = box.getAttribute("data-" + status) || box.getAttribute(status ? "data-500" : "data-offline");
    box.textContent = "";
    var message = document.createElement("span");
    message.textContent = text + " ";
    var reload = document.createElement("a");
    reload.href = window.location.href;
    reload.textContent = box.getAttribute("data-reload");
    box.appendChild(message);
    box.appendChild(reload);
    box.hidden = false;
    box.scrollIntoView({ block: "nearest" });
  }
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    showRequestError(xhr.status, xhr.responseText);
  });
  document.addEventListener("htmx:sendError", function () { showRequestError(0, ""); });
  document.addEventListener("htmx:confirm", function (event) {
    var message = event.detail.elt.getAttribute("data-confirm");
    if (message) {
      event.preventDefault();
      if (window.confirm(message)) event.detail.issueRequest(true);
    }
  });
})();
