// The campaign page's counts, kept up to date without a reload while e-mails are queued
// or being sent. The page works without this: the numbers are rendered by the server.
(function () {
  "use strict";

  var EVERY_MS = 2000;
  // After a failed request, wait longer each time, up to this.
  var AT_MOST_MS = 30000;

  var box = document.getElementById("campaign-status");
  if (!box || !window.fetch) {
    return;
  }
  var url = box.getAttribute("data-status-url");
  var problemCount = Number(box.getAttribute("data-problem-count"));
  var sending = box.querySelector("[data-sending]");
  var newProblems = box.querySelector("[data-new-problems]");
  var delay = EVERY_MS;

  function setText(element, value) {
    var text = String(value);
    // Only real changes: the region is aria-live, and a screen reader reads each change.
    if (element && element.textContent !== text) {
      element.textContent = text;
    }
  }

  function show(status) {
    Object.keys(status.states).forEach(function (state) {
      setText(box.querySelector('[data-state="' + state + '"]'), status.states[state]);
    });
    setText(box.querySelector("[data-reminders-sent]"), status.reminders_sent);
    if (sending) {
      sending.hidden = status.in_flight === 0;
    }
    if (newProblems && status.problem_count !== problemCount) {
      newProblems.hidden = false;
    }
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.json();
      })
      .then(function (status) {
        show(status);
        delay = EVERY_MS;
        if (status.in_flight > 0) {
          window.setTimeout(poll, delay);
        }
      })
      .catch(function () {
        delay = Math.min(delay * 2, AT_MOST_MS);
        window.setTimeout(poll, delay);
      });
  }

  if (Number(box.getAttribute("data-in-flight")) > 0) {
    window.setTimeout(poll, EVERY_MS);
  }
})();
