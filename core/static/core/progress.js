// Follows a long operation: an element with data-status-url is refreshed from that JSON ({"state": …,
// "text": …, "done": true|false, "link": {"href": …, "label": …} or null}) every two seconds until done; the
// page is then read again once, so that every field on it shows the end state (data-state: the state shown).
(function () {
  function follow(element) {
    var url = element.getAttribute("data-status-url");
    function poll() {
      fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) { return response.json(); })
        .then(function (status) {
          if (status.done && status.state !== element.getAttribute("data-state")) {
            window.location.reload();
            return;
          }
          element.textContent = status.text;
          if (status.link) {
            var link = document.createElement("a");
            link.href = status.link.href;
            link.textContent = status.link.label;
            element.appendChild(document.createTextNode(" "));
            element.appendChild(link);
          }
          element.setAttribute("data-done", status.done ? "true" : "false");
          if (!status.done) { window.setTimeout(poll, 2000); }
        })
        .catch(function () { window.setTimeout(poll, 5000); });
    }
    poll();
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-status-url]").forEach(follow);
  });
})();
