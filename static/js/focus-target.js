// Moves keyboard and screen-reader focus to the element the URL's fragment names when it asks for it
// (tabindex="-1"), e.g. a form's error summary; without this script the browser still scrolls there.
(function () {
  var id = window.location.hash.slice(1);
  if (!id) return;
  var target = document.getElementById(id);
  if (target && target.getAttribute("tabindex") === "-1") target.focus();
})();
