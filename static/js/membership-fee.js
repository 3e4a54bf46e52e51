// The application form: show the yearly fee for the chosen membership type and size band as they are chosen,
// and mark the types the chosen kind of organisation cannot hold. Without this script the page shows the fee table
// and, after a submit, the chosen fee; the server checks the kind either way.
(function () {
  var band = document.querySelector("select[data-fee-target]");
  var data = document.getElementById("membership-fees");
  if (!band || !data) return;
  var note = document.getElementById(band.getAttribute("data-fee-target"));
  var types = JSON.parse(data.textContent);
  var kind = document.querySelector("select[name=kind]");
  var radios = document.querySelectorAll("input[name=membership_type]");
  function chosenType() {
    for (var i = 0; i < radios.length; i++) if (radios[i].checked) return radios[i].value;
    return "";
  }
  function allowed(pk) {
    var kinds = (types[pk] || {}).kinds || [];
    return !kind || !kinds.length || kinds.indexOf(kind.value) !== -1;
  }
  function show() {
    for (var i = 0; i < radios.length; i++) {
      var ok = allowed(radios[i].value);
      radios[i].disabled = !ok;
      if (!ok && radios[i].checked) radios[i].checked = false;
      var label = radios[i].closest("label");
      if (label) label.classList.toggle("muted", !ok);
    }
    var type = types[chosenType()];
    var fee = type ? type.fees[band.value] : "";
    note.textContent = "";
    if (!fee) {
      note.textContent = note.getAttribute("data-fee-none");
      return;
    }
    var amount = document.createElement("strong");
    amount.textContent = fee;
    note.append(note.getAttribute("data-fee-label") + " ", amount);
  }
  band.addEventListener("change", show);
  if (kind) kind.addEventListener("change", show);
  for (var i = 0; i < radios.length; i++) radios[i].addEventListener("change", show);
  show();
})();
