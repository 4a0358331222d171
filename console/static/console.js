// wlns console: progressive enhancement only; every page works without it.
// Forms marked data-confirm ask before they are sent (deletes).
document.addEventListener("submit", function (ev) {
  var msg = ev.target.getAttribute && ev.target.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) {
    ev.preventDefault();
  }
});
