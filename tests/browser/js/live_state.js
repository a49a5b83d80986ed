// (tool) -> the live tool's state: {state, text, result (element.nvpResult or null), pictures
// (every canvas of the tool as a data URL)}; null when the page has no such tool.
(tool) => {
  const root = document.querySelector(`.nvp-live[data-tool="${tool}"]`);
  if (!root) return null;
  return {
    state: root.dataset.state || "",
    text: root.innerText,
    result: root.nvpResult ? JSON.parse(JSON.stringify(root.nvpResult)) : null,
    pictures: Array.from(root.querySelectorAll("canvas")).map((c) => c.toDataURL()),
  };
}
