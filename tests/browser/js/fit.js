/* What does not fit, or says nothing, in the page as laid out now (the tests ask it at 1280 px):
   - code: every <pre> of the article (code cells, source shown with nvp.book.show.source, text
     outputs) whose content is wider than its box, i.e. it scrolls sideways or is cut off, or whose
     box sticks out of the text column or out of an ancestor that clips it;
   - outputs: every cell output block (an image, a table, HTML) that is wider than its box or
     sticks out in the same way;
   - equations: every display equation (MathJax mjx-container[display]) whose typeset formula is
     wider than its box, or reaches beyond the text column or an ancestor that clips it; every
     inline equation (span.math) that scrolls or is cut in the same way;
   - tables written in Markdown (outside cell outputs) that stick out or scroll sideways;
   - sliders: every slider (ipywidgets .widget-slider: IntSlider, FloatSlider, SelectionSlider...;
     any input[type=range]) without a visible, non-empty label, whose label is cut short, or
     whose label leaves its track too narrow to use.
   Collapsed blocks (<details>) are opened while they are measured. Each problem is one line
   saying where it is (the section heading) and what it holds. */
() => {
  const article = document.querySelector('article.bd-article') || document.querySelector('main')
    || document.body;
  // Collapsed cells (hide-cell, hide-output, dropdowns) are measured as a reader who opens them
  // sees them; they are closed again at the end.
  const closed = Array.from(article.querySelectorAll('details:not([open])'));
  closed.forEach(d => { d.open = true; });
  const TOLERANCE = 2;  // px: sub-pixel layout and rounded scrollWidth
  const MIN_TRACK = 100;  // px: a slider track narrower than this is hard to use
  const short = (s, n = 70) => {
    s = s.replace(/\s+/g, ' ').trim();
    return s.length > n ? s.slice(0, n - 3) + '...' : s;
  };
  const shown = (e) => {
    if (!e || !e.isConnected) return false;
    const r = e.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) return false;
    for (let a = e; a && a !== document.documentElement; a = a.parentElement) {
      const st = getComputedStyle(a);
      if (st.display === 'none' || st.visibility === 'hidden') return false;  // not opacity:
      // collapsed blocks fade in when opened, from opacity 0
      // clipped out of sight, e.g. MathJax's assistive MathML for screen readers
      if (st.position === 'absolute' && st.clip !== 'auto') return false;
    }
    return true;
  };
  const where = (e) => {
    for (let a = e; a && a !== document.body; a = a.parentElement) {
      if (a.tagName !== 'SECTION') continue;
      const h = a.querySelector(':scope > h1, :scope > h2, :scope > h3, :scope > h4');
      if (h) return '"' + short(h.textContent.replace(/[#¶]\s*$/, ''), 50) + '"';
    }
    return '(page top)';
  };

  // The text column: the article's content box. A box may not reach beyond it, nor beyond any
  // ancestor that clips or scrolls its content sideways.
  const ar = article.getBoundingClientRect();
  const ast = getComputedStyle(article);
  const column = {
    left: ar.left + parseFloat(ast.paddingLeft || '0'),
    right: ar.right - parseFloat(ast.paddingRight || '0'),
  };
  const limits = (e) => {
    let left = column.left, right = column.right;
    for (let a = e.parentElement; a && a !== article && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX === 'visible') continue;
      const r = a.getBoundingClientRect();
      left = Math.max(left, r.left + a.clientLeft);
      right = Math.min(right, r.left + a.clientLeft + a.clientWidth);
    }
    return {left, right};
  };
  // How many px the content [left, right] and the element's own box exceed what it may fill.
  const excess = (e, content) => {
    const r = e.getBoundingClientRect();
    const box = {left: r.left + e.clientLeft, right: r.left + e.clientLeft + e.clientWidth};
    const lim = limits(e);
    const allowed = {left: Math.max(box.left, lim.left), right: Math.min(box.right, lim.right)};
    return Math.max(0, content.right - allowed.right, allowed.left - content.left,
                    r.right - lim.right, lim.left - r.left);
  };

  // Code: the content of a <pre> spans scrollWidth from its padding box's left edge.
  const code = [];
  const pres = Array.from(article.querySelectorAll('pre')).filter(shown);
  for (const pre of pres) {
    const r = pre.getBoundingClientRect();
    const left = r.left + pre.clientLeft;
    const over = excess(pre, {left, right: left + pre.scrollWidth});
    if (over <= TOLERANCE) continue;
    const lines = pre.textContent.split('\n');
    const longest = lines.reduce((a, b) => (b.length > a.length ? b : a), '');
    const kind = pre.closest('.cell_output') ? 'output' : 'code';
    code.push(`${kind} block in ${where(pre)} is ${Math.round(over)} px wider than its box ` +
              `(longest line, ${longest.length} characters: "${short(longest, 60)}")`);
  }

  // Other cell outputs (images, tables, HTML, widgets): their own box against their content.
  const outputs = [];
  const blocks = Array.from(article.querySelectorAll('.cell_output > *')).filter(shown);
  for (const b of blocks) {
    if (b.querySelector('pre')) continue;  // judged line by line above
    const r = b.getBoundingClientRect();
    const left = r.left + b.clientLeft;
    // a box inside that scrolls sideways (e.g. a wide table in its own scroller) counts too
    const inner = Array.from(b.querySelectorAll('*')).filter(e => {
      const ox = getComputedStyle(e).overflowX;
      return (ox === 'auto' || ox === 'scroll') && shown(e);
    }).map(e => e.scrollWidth - e.clientWidth);
    const over = Math.max(excess(b, {left, right: left + b.scrollWidth}), ...inner);
    if (over <= TOLERANCE) continue;
    const what = b.querySelector('img') ? 'image' : b.querySelector('table') ? 'table' : 'output';
    outputs.push(`${what} in ${where(b)} is ${Math.round(over)} px wider than its box ` +
                 `("${short(b.textContent || b.className, 50)}")`);
  }

  // Display equations: the typeset formula (mjx-math) inside its mjx-container.
  const equations = [];
  const texOf = new Map();  // mjx-container -> its TeX source, from MathJax 3's list of math
  try {
    for (const item of window.MathJax.startup.document.math) texOf.set(item.typesetRoot, item.math);
  } catch (e) { /* no MathJax 3 on the page: name the equation by its text */ }
  const displays = Array.from(article.querySelectorAll('mjx-container[display="true"]'))
    .filter(c => !c.parentElement.closest('mjx-container, mjx-assistive-mml') && shown(c));
  for (const c of displays) {
    const m = c.querySelector(':scope > mjx-math') || c.querySelector('mjx-math') || c;
    const mr = m.getBoundingClientRect();
    const cr = c.getBoundingClientRect();
    // (not scrollWidth: MathJax's hidden assistive MathML inflates it)
    const over = excess(c, {left: mr.left, right: mr.right});
    if (over <= TOLERANCE) continue;
    const tex = texOf.get(c) || (c.querySelector('mjx-assistive-mml') || c).textContent;
    equations.push(`display equation in ${where(c)} is ${Math.round(over)} px wider than its ` +
                   `box (formula ${Math.round(mr.width)} px, box ${Math.round(cr.width)} px: ` +
                   `"${short(tex, 60)}")`);
  }

  // Inline equations (span.math, e.g. in a table cell or a heading) that scroll or are cut.
  const inline = Array.from(article.querySelectorAll('span.math'))
    .filter(e => !e.closest('mjx-assistive-mml') && shown(e));
  for (const sp of inline) {
    const c = sp.querySelector('mjx-container');
    const m = c && c.querySelector('mjx-math');
    if (!m) continue;
    const mr = m.getBoundingClientRect();
    const over = excess(sp, {left: mr.left, right: mr.right});
    if (over <= TOLERANCE) continue;
    const tex = texOf.get(c) || sp.textContent;
    equations.push(`inline equation in ${where(sp)} is ${Math.round(over)} px wider than its ` +
                   `box ("${short(tex, 60)}")`);
  }

  // Tables outside cell outputs (Markdown tables): they may not reach beyond the column or
  // scroll sideways inside their container.
  const tables = Array.from(article.querySelectorAll('table'))
    .filter(t => !t.closest('.cell_output') && shown(t));
  for (const t of tables) {
    const tr = t.getBoundingClientRect();
    const over = excess(t, {left: tr.left, right: tr.right});
    if (over <= TOLERANCE) continue;
    outputs.push(`table in ${where(t)} is ${Math.round(over)} px wider than its box ` +
                 `("${short(t.textContent, 50)}")`);
  }

  // Sliders and their labels.
  const sliders = [];
  const labelText = (label) => {
    const copy = label.cloneNode(true);
    for (const inner of copy.querySelectorAll('input, select, textarea')) inner.remove();
    return copy.textContent.trim() && shown(label) ? copy.textContent.trim() : '';
  };
  const widgetSliders = Array.from(article.querySelectorAll('.widget-slider')).filter(shown);
  let labelled = 0;
  for (const s of widgetSliders) {
    const label = s.querySelector(':scope > .widget-label, :scope > label');
    const readout = s.querySelector('.widget-readout');
    const id = `slider in ${where(s)}` + (readout ? ` (readout "${short(readout.textContent, 20)}")`
                                                 : '');
    const text = label ? labelText(label) : '';
    const track = s.querySelector('.slider-container, .slider');
    const trackWidth = track ? track.getBoundingClientRect().width : 0;
    if (!text) {
      sliders.push(`${id} has no visible label saying what it changes`);
    } else if (label.scrollWidth > label.clientWidth + 1) {
      sliders.push(`${id}: its label "${short(text, 40)}" is cut short (shown ` +
                   `${label.clientWidth} of ${label.scrollWidth} px; description_width="initial")`);
    } else if (track && trackWidth < MIN_TRACK) {
      sliders.push(`${id}: its label "${short(text, 40)}" leaves the track only ` +
                   `${Math.round(trackWidth)} px (give the slider a min_width)`);
    } else {
      labelled += 1;
    }
  }
  const ranges = Array.from(article.querySelectorAll('input[type="range"]'))
    .filter(i => shown(i) && !i.closest('.widget-slider'));
  for (const input of ranges) {
    const texts = Array.from(input.labels || []).map(l => labelText(l)).filter(Boolean);
    const by = (input.getAttribute('aria-labelledby') || '').split(/\s+/).filter(Boolean)
      .map(x => document.getElementById(x)).filter(e => e && shown(e) && e.textContent.trim());
    if (!texts.length && !by.length) {
      sliders.push(`range input in ${where(input)} (value ${input.value}) has no visible <label>`);
    } else {
      labelled += 1;
    }
  }

  closed.forEach(d => { d.open = false; });
  return {
    code, outputs, equations, sliders,
    counted: {pre: pres.length, outputs: blocks.length, displays: displays.length,
              inline: inline.length, tables: tables.length,
              sliders: widgetSliders.length + ranges.length, labelled},
    column: {left: Math.round(column.left), right: Math.round(column.right)},
  };
}
