// Asks before an action that cannot be undone: a form with data-confirm submits only once confirmed.
document.addEventListener("submit", function (event) {
  var message = event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});
