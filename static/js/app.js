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
  document.addEventListener("htmx:confirm", function (event) {
    var message = event.detail.elt.getAttribute("data-confirm");
    if (message) {
      event.preventDefault();
      if (window.confirm(message)) event.detail.issueRequest(true);
    }
  });
})();
