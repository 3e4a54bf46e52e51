// Door check-in: filter the list as staff type; without this script the search form does the same on submit.
(function () {
  var input = document.querySelector("[data-checkin-filter]");
  if (!input) return;
  var rows = Array.prototype.slice.call(document.querySelectorAll("[data-checkin-name]"));
  input.addEventListener("input", function () {
    var needle = input.value.trim().toLowerCase();
    rows.forEach(function (row) {
      row.hidden = needle !== "" && row.getAttribute("data-checkin-name").indexOf(needle) === -1;
    });
  });
})();
