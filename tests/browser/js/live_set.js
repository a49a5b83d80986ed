// ([tool, selector, value]) -> set a control of the live tool (a range, number or select) and
// fire the event the reader's hand would ("input" for a range, "change" otherwise); true if found.
([tool, selector, value]) => {
  const root = document.querySelector(`.nvp-live[data-tool="${tool}"]`);
  const input = root && root.querySelector(selector);
  if (!input) return false;
  if (input.type === "checkbox") input.checked = Boolean(value); else input.value = String(value);
  input.dispatchEvent(new Event(input.type === "range" ? "input" : "change", { bubbles: true }));
  return true;
}
