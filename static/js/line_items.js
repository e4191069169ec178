// Line item editor: drag a line by its row to reorder (native HTML5 drag and drop). The row moves at once; on drop
// the new order of every line goes to the server in one request, and the editor comes back recomputed. Keyboards
// and phones use the ↑ ↓ buttons on each row instead. Listeners sit on the document because htmx replaces the
// editor after every change.
(function () {
  "use strict";
  var dragged = null;
  var before = "";

  function rowsOf(tbody) {
    return Array.prototype.slice.call(tbody.querySelectorAll("tr.line-row[data-line]"));
  }

  function order(tbody) {
    return rowsOf(tbody).map(function (row) { return row.dataset.line; }).join(",");
  }

  document.addEventListener("dragstart", function (event) {
    var row = event.target.closest ? event.target.closest('#line-rows tr[draggable="true"]') : null;
    if (!row) return;
    dragged = row;
    before = order(row.parentNode);
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", row.dataset.line);
    row.classList.add("dragging");
  });

  document.addEventListener("dragover", function (event) {
    if (!dragged) return;
    var row = event.target.closest ? event.target.closest("#line-rows tr.line-row") : null;
    if (!row || row.parentNode !== dragged.parentNode) return;
    event.preventDefault(); // allows the drop
    event.dataTransfer.dropEffect = "move";
    if (row === dragged) return;
    var box = row.getBoundingClientRect();
    var after = event.clientY > box.top + box.height / 2;
    row.parentNode.insertBefore(dragged, after ? row.nextSibling : row);
  });

  document.addEventListener("drop", function (event) {
    if (dragged && event.target.closest && event.target.closest("#line-rows")) event.preventDefault();
  });

  document.addEventListener("dragend", function () {
    if (!dragged) return;
    var row = dragged;
    var tbody = row.parentNode;
    row.classList.remove("dragging");
    dragged = null;
    var now = order(tbody);
    if (now === before) return;
    row.setAttribute("aria-busy", "true");
    window.htmx.ajax("POST", tbody.dataset.reorderUrl, {
      source: tbody,
      target: "#line-editor",
      swap: "outerHTML",
      values: { order: now },
    });
  });

  // Closing the library picker or the custom line form (their Cancel link leads to the editor page without
  // JavaScript).
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("[data-close-slot]") : null;
    if (!link) return;
    var slot = document.getElementById("line-slot");
    if (!slot) return;
    event.preventDefault();
    slot.innerHTML = "";
  });
})();
