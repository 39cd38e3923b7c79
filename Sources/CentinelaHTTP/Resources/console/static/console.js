// Centinela console: progressive enhancement only — every page works without this file.
// Forms marked data-confirm ask before they are sent (closing a case).
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form && form.getAttribute && form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) { event.preventDefault(); }
});
// A form sent with errors moves the focus to their summary, so that screen readers announce it.
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.getElementById("form-errors");
  if (summary) { summary.focus(); }
});
