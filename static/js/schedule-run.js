// A schedule run's page: while the run is queued or solving, fetch the page again every few seconds and swap in the
// fresh status and figures; the status is a live region, so a screen reader hears the result once it is in. Without
// this script the page offers a link that reloads it.
(function () {
  var run = document.querySelector("[data-run-refresh]");
  if (!run || !window.fetch || !window.DOMParser) return;
  var seconds = parseInt(run.getAttribute("data-run-refresh"), 10) || 2;

  function swap(fresh) {
    ["[data-run-status]", "[data-run-body]"].forEach(function (selector) {
      var now = run.querySelector(selector);
      var next = fresh.querySelector(selector);
      if (now && next && now.innerHTML !== next.innerHTML) now.innerHTML = next.innerHTML;
    });
  }

  function poll() {
    fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        return response.ok ? response.text() : Promise.reject(response.status);
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("[data-run]");
        if (!fresh) return;
        swap(fresh);
        if (fresh.hasAttribute("data-run-refresh")) {
          window.setTimeout(poll, seconds * 1000);
        } else {
          run.removeAttribute("data-run-refresh");
        }
      })
      .catch(function () {
        window.setTimeout(poll, seconds * 5000);
      });
  }

  window.setTimeout(poll, seconds * 1000);
})();
