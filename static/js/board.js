// Deals board: drag a card to another column (native HTML5 drag and drop) or pick a stage in its "Move to…"
// select. The card moves at once; the server answers with every column's new count and totals, or with an error,
// and then the card goes back where it came from.
(function () {
  "use strict";
  var board = document.getElementById("board");
  if (!board) return;
  var status = document.getElementById("board-status");
  var dragged = null;

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  function say(message, kind) {
    if (!status) return;
    status.textContent = message;
    status.className = "flash board-status flash-" + kind;
    status.hidden = !message;
  }

  function columnOf(element) {
    return element ? element.closest(".board-column") : null;
  }

  function columnFor(stageId) {
    return board.querySelector('.board-column[data-stage="' + stageId + '"]');
  }

  // A card's select offers every stage but its own.
  function syncCard(card, column) {
    var select = card.querySelector(".move-form select");
    if (select) {
      select.value = "";
      Array.prototype.forEach.call(select.options, function (option) {
        option.disabled = option.value !== "" && option.value === column.dataset.stage;
      });
    }
    card.classList.toggle("overdue", column.dataset.kind === "open" && card.dataset.pastClose === "1");
  }

  function place(card, column, before) {
    var list = column.querySelector(".board-cards");
    list.insertBefore(card, before === undefined ? list.firstChild : before);
    syncCard(card, column);
  }

  function move(card, target) {
    var origin = columnOf(card);
    if (!target || target === origin || card.dataset.busy === "1") return;
    var originList = card.parentNode;
    var nextSibling = card.nextSibling;
    place(card, target);
    card.dataset.busy = "1";
    card.setAttribute("aria-busy", "true");
    var body = new FormData();
    body.append("stage", target.dataset.stage);
    fetch(card.dataset.moveUrl, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
    })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (type.indexOf("application/json") === -1) {
          var message = response.status === 403 ? board.dataset.errorForbidden : board.dataset.errorGeneric;
          return { ok: false, error: message };
        }
        return response.json();
      })
      .then(function (data) {
        if (!data.ok) throw new Error(data.error || board.dataset.errorGeneric);
        Object.keys(data.columns || {}).forEach(function (stageId) {
          var summary = document.getElementById("stage-summary-" + stageId);
          if (summary) summary.innerHTML = data.columns[stageId];
        });
        say("", "info");
      })
      .catch(function (error) {
        place(card, origin, nextSibling && nextSibling.parentNode === originList ? nextSibling : null);
        say(error && error.message ? error.message : board.dataset.errorGeneric, "error");
      })
      .finally(function () {
        delete card.dataset.busy;
        card.removeAttribute("aria-busy");
      });
  }

  board.addEventListener("dragstart", function (event) {
    var card = event.target.closest ? event.target.closest('.deal-card[draggable="true"]') : null;
    if (!card) return;
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.deal);
    card.classList.add("dragging");
  });

  board.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
    board.querySelectorAll(".drop-target").forEach(function (c) { c.classList.remove("drop-target"); });
  });

  board.addEventListener("dragover", function (event) {
    var column = columnOf(event.target);
    if (!dragged || !column) return;
    event.preventDefault(); // allows the drop
    event.dataTransfer.dropEffect = "move";
    board.querySelectorAll(".drop-target").forEach(function (c) {
      if (c !== column) c.classList.remove("drop-target");
    });
    if (column !== columnOf(dragged)) column.classList.add("drop-target");
  });

  board.addEventListener("dragleave", function (event) {
    var column = columnOf(event.target);
    if (column && !column.contains(event.relatedTarget)) column.classList.remove("drop-target");
  });

  board.addEventListener("drop", function (event) {
    var column = columnOf(event.target);
    if (!dragged || !column) return;
    event.preventDefault();
    column.classList.remove("drop-target");
    move(dragged, column);
  });

  // Keyboard and phones: the select moves the card as soon as a stage is chosen.
  board.addEventListener("change", function (event) {
    var select = event.target;
    if (!select.matches(".move-form select") || !select.value) return;
    var card = select.closest(".deal-card");
    move(card, columnFor(select.value));
    card.querySelector(".deal-card-name").focus();
  });
  board.addEventListener("submit", function (event) {
    if (!event.target.matches(".move-form")) return;
    event.preventDefault();
    var select = event.target.querySelector("select");
    if (select.value) move(select.closest(".deal-card"), columnFor(select.value));
  }, true);
})();
