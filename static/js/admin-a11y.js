// A tabular inline (an event's registrations, say) scrolls sideways inside its wrapper on a narrow screen. A
// keyboard user must be able to reach and scroll that region, and a screen reader to name it (axe:
// scrollable-region-focusable), so each wrapper becomes a focusable region named after its inline's heading.
document.querySelectorAll(".inline-group .wrapper").forEach((wrapper) => {
  const heading = wrapper.closest(".inline-group").querySelector("h2");
  wrapper.setAttribute("tabindex", "0");
  wrapper.setAttribute("role", "region");
  if (heading) {
    wrapper.setAttribute("aria-label", heading.textContent.trim());
  }
});

// An autocomplete field (select2) names its box after the chosen value only, so an empty one has no name at all
// (axe: aria-input-field-name). Each box is named by the field's own label as well, whenever select2 builds one:
// on jQuery's ready, which may come after the page's "load", and for each inline row added later.
const autocompletesName = () => {
  document.querySelectorAll("select.admin-autocomplete").forEach((select) => {
    const label = document.querySelector(`label[for="${select.id}"]`);
    const box = select.nextElementSibling;
    if (!label || !box || !box.classList.contains("select2")) {
      return;
    }
    label.id = label.id || `${select.id}_label`;
    box.querySelectorAll(".select2-selection--single, .select2-selection__rendered").forEach((element) => {
      const name = `${label.id} ${element.id || ""}`.trim();
      if (element.getAttribute("aria-labelledby") !== name) {
        element.setAttribute("aria-labelledby", name);
      }
    });
  });
};
new MutationObserver(autocompletesName).observe(document.body, { childList: true, subtree: true });
