/* Triage desk: ask before decisions that cannot be undone (forms with data-confirm). */
"use strict";
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form && form.getAttribute && form.getAttribute("data-confirm");
  if (!question) {
    return;
  }
  if (form.getAttribute("data-confirmed") === "1" || window.confirm(question)) {
    form.setAttribute("data-confirmed", "1");
    return;
  }
  event.preventDefault();
});
