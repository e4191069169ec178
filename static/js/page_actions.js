// Page behaviour declared in markup (data-* attributes) instead of inline handlers, so the Content-Security-Policy
// can forbid inline scripts.
(function () {
  "use strict";
  // <select data-autosubmit>: choosing an option submits its form (language switch, pipeline picker).
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("[data-autosubmit]") && el.form) el.form.submit();
  });
  // <input type="checkbox" data-select-all="ids">: ticks or clears every checkbox named "ids".
  document.addEventListener("click", function (event) {
    var el = event.target;
    if (!el.matches) return;
    if (el.matches("[data-select-all]")) {
      var name = el.getAttribute("data-select-all");
      document.querySelectorAll("input[type=checkbox]").forEach(function (c) {
        if (c.name === name) c.checked = el.checked;
      });
    }
    // <a data-history-back>: back to the previous page (falls back to the link's href without history).
    var back = el.closest && el.closest("a[data-history-back]");
    if (back && window.history.length > 1) {
      event.preventDefault();
      window.history.back();
    }
  });
  // <form data-columns-form>: before it is sent, its "cols" field lists the ticked columns, comma-separated.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("[data-columns-form]")) return;
    var picked = [];
    form.querySelectorAll("input[data-col]:checked").forEach(function (i) { picked.push(i.value); });
    form.elements.cols.value = picked.join(",");
  }, true);
})();
// Escape inside a form with a [data-escape-cancel] element clicks it (inline edit: cancel without eval'd triggers).
document.addEventListener("keyup", function (event) {
  if (event.key !== "Escape" || !event.target.closest) return;
  var form = event.target.closest("form");
  var cancel = form && form.querySelector("[data-escape-cancel]");
  if (cancel) cancel.click();
});
