/* Frames sliders (nvp.book.widgets.frames_slider): widget views whose model tree holds an
   IntSlider whose "value" is jslinked (LinkModel, either direction) to a Stack's
   "selected_index", found in the page's saved widget state. A slider that only a kernel's
   callback links to a picture (`interact`, `observe`) is not one. Marks each one's widget area
   data-nvp-frames="k". */
() => {
  const state = {};
  for (const tag of document.querySelectorAll(
      'script[type="application/vnd.jupyter.widget-state+json"]')) {
    Object.assign(state, JSON.parse(tag.textContent).state || {});
  }
  const id = (ref) => typeof ref === 'string' ? ref.replace(/^IPY_MODEL_/, '') : null;
  const name = (mid) => state[mid] ? state[mid].model_name : '';
  const linked = new Set();
  for (const m of Object.values(state)) {
    if (m.model_name !== 'LinkModel') continue;
    const [a, b] = [m.state.source || [], m.state.target || []];
    for (const [x, y] of [[a, b], [b, a]]) {
      if (name(id(x[0])) === 'IntSliderModel' && x[1] === 'value'
          && name(id(y[0])) === 'StackModel' && y[1] === 'selected_index') linked.add(id(x[0]));
    }
  }
  const holdsLinkedSlider = (mid, seen = new Set()) => {
    if (!mid || seen.has(mid) || !state[mid]) return false;
    seen.add(mid);
    if (linked.has(mid)) return true;
    return (state[mid].state.children || []).some(c => holdsLinkedSlider(id(c), seen));
  };
  let k = 0;
  for (const v of document.querySelectorAll('script[type="__WIDGET_VIEW__"]')) {
    let root = null;
    try { root = JSON.parse(v.textContent).model_id; } catch (e) { continue; }
    if (!holdsLinkedSlider(root)) continue;
    const area = v.previousElementSibling;
    if (area && area.classList.contains('widget-subarea')) area.dataset.nvpFrames = String(k);
    k += 1;
  }
  return {sliders: linked.size, areas: k};
}
