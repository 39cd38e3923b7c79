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
// The inboxes follow the case and alert events of the regulator's jurisdictions (Server-Sent Events): when
// one arrives, the list is fetched again and swapped in place, and the change is announced.
// Without script, a reload shows the same.
document.addEventListener("DOMContentLoaded", function () {
  var status = document.querySelector("[data-live]");
  var region = document.querySelector("[data-live-region]");
  if (!status || !region || !window.EventSource || !window.fetch) { return; }
  var source = new EventSource(status.getAttribute("data-live"));
  var timer = null;
  function refresh() {
    fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("[data-live-region]");
        var current = document.querySelector("[data-live-region]");
        if (fresh && current) {
          current.replaceWith(fresh);
          status.textContent = status.getAttribute("data-message");
        }
      });
  }
  function later() { clearTimeout(timer); timer = setTimeout(refresh, 400); }
  ["opened", "alert_added", "facility_added", "acknowledged", "referred", "closed", "reopened", "comment"].forEach(function (kind) {
    source.addEventListener("case." + kind, later);
  });
  ["opened", "evidence_added", "escalated", "reopened", "acknowledged", "assigned", "referred", "resolved", "snoozed",
   "snooze_ended", "comment"].forEach(function (kind) {
    source.addEventListener("alert." + kind, later);
  });
});
// The case file's print button (printing to PDF is the browser's own).
document.addEventListener("click", function (event) {
  if (event.target && event.target.hasAttribute && event.target.hasAttribute("data-print")) { window.print(); }
});
