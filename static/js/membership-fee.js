// The application form: show the yearly fee for the size band as it is chosen. Without this script the fee
// stands in each option's label, and the page shows the chosen one after a submit.
(function () {
  var select = document.querySelector("select[data-fee-target]");
  var data = document.getElementById("membership-fees");
  if (!select || !data) return;
  var note = document.getElementById(select.getAttribute("data-fee-target"));
  var fees = JSON.parse(data.textContent);
  function show() {
    var fee = fees[select.value];
    note.textContent = "";
    if (!fee) {
      note.textContent = note.getAttribute("data-fee-none");
      return;
    }
    var amount = document.createElement("strong");
    amount.textContent = fee;
    note.append(note.getAttribute("data-fee-label") + " ", amount);
  }
  select.addEventListener("change", show);
  show();
})();
