// Live updates for the staff dashboard: the queue re-renders its table
// from a small HTML fragment; the detail page shows a notice when the
// escalation changed elsewhere. Plain polling, no build step.
(function () {
  "use strict";

  function every(seconds, fn) {
    var ms = Math.max(2, seconds || 4) * 1000;
    var busy = false;
    function tick() {
      if (busy || document.hidden) return;
      busy = true;
      Promise.resolve(fn()).catch(function () {}).then(function () { busy = false; });
    }
    setInterval(tick, ms);
    document.addEventListener("visibilitychange", tick);
  }

  function get(url, accept) {
    return fetch(url, { credentials: "same-origin", cache: "no-store", headers: { "Accept": accept } })
      .then(function (res) {
        if (res.status === 401) { window.location.assign("/staff/login?next=" + encodeURIComponent(location.pathname + location.search)); throw new Error("signed out"); }
        if (!res.ok) throw new Error("HTTP " + res.status);
        return res;
      });
  }

  function ids(root) {
    var out = {};
    root.querySelectorAll("tr[data-id]").forEach(function (tr) { out[tr.getAttribute("data-id")] = true; });
    return out;
  }

  function pollQueue(box) {
    var live = document.getElementById("live");
    every(Number(box.getAttribute("data-interval")), function () {
      // Do not pull the table from under a keyboard or pointer user.
      if (box.contains(document.activeElement) && document.activeElement !== document.body) return;
      return get(box.getAttribute("data-poll"), "text/html").then(function (res) {
        var open = res.headers.get("X-Open-Count");
        return res.text().then(function (html) {
          var before = ids(box);
          box.innerHTML = html;
          var added = 0;
          box.querySelectorAll("tr[data-id]").forEach(function (tr) {
            if (!before[tr.getAttribute("data-id")]) { tr.classList.add("new"); added++; }
          });
          if (added && live) live.textContent = added === 1 ? "Nieuwe escalatie binnengekomen." : added + " nieuwe escalaties binnengekomen.";
          if (open !== null) document.title = (open !== "0" ? "(" + open + ") " : "") + "Wachtrij · mfabot servicedesk";
        });
      });
    });
  }

  function pollDetail(el) {
    var version = el.getAttribute("data-version");
    var notice = document.getElementById("changed");
    every(Number(el.getAttribute("data-interval")), function () {
      if (!notice || !notice.hidden) return;
      return get(el.getAttribute("data-poll"), "application/json").then(function (res) { return res.json(); }).then(function (v) {
        if (String(v.version) !== version) notice.hidden = false;
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var q = document.getElementById("queue");
    if (q) pollQueue(q);
    var d = document.getElementById("detail");
    if (d) pollDetail(d);
  });
})();
