/* What a page shows: math typeset or raw, TeX left in the text, images, figures, widget views,
   Colab links, and horizontal overflow of the page itself (the 390 px check). */
() => {
  const article = document.querySelector('article.bd-article') || document.querySelector('main')
    || document.body;
  const short = (s) => s.length > 120 ? s.slice(0, 117) + '...' : s;
  const describe = (e) => {
    let d = e.tagName.toLowerCase();
    if (e.id) d += '#' + e.id;
    if (e.classList.length) d += '.' + Array.from(e.classList).slice(0, 3).join('.');
    return d;
  };

  // Math: every Sphinx math node (span.math / div.math) holds MathJax output, without TeX errors.
  const mathNodes = Array.from(document.querySelectorAll('span.math, div.math'));
  const mathRaw = mathNodes.filter(m => !m.querySelector('mjx-container'))
    .map(m => short(m.textContent.trim()));
  const mathErrors = Array.from(document.querySelectorAll('mjx-merror'))
    .map(e => short(e.getAttribute('data-mjx-error') || e.textContent));
  // Visible text outside code, scripts and MathJax output: no TeX delimiters may be left.
  const skip = new Set(['PRE', 'CODE', 'SCRIPT', 'STYLE', 'MJX-CONTAINER', 'TEXTAREA', 'NOSCRIPT']);
  const texts = document.createTreeWalker(article, NodeFilter.SHOW_TEXT, {
    acceptNode(n) {
      for (let e = n.parentElement; e && e !== article; e = e.parentElement) {
        if (skip.has(e.tagName)) return NodeFilter.FILTER_REJECT;
      }
      return NodeFilter.FILTER_ACCEPT;
    }
  });
  // TeX delimiters, environments and common commands: none may be left in the visible text.
  const delimiters = new RegExp([
    String.raw`\$\$`, String.raw`\\[()[\]]`, String.raw`\\(?:begin|end)\{`,
    String.raw`\\(?:frac|dfrac|tfrac|sqrt|left|right|mathrm|mathbf|mathcal|mathbb|operatorname)`
      + String.raw`(?![A-Za-z])`,
  ].join('|'));
  const rawTex = [];
  for (let n = texts.nextNode(); n; n = texts.nextNode()) {
    if (delimiters.test(n.textContent) && n.parentElement.offsetParent !== null) {
      rawTex.push(short(n.textContent.trim()));
    }
  }

  const images = Array.from(document.images).map(i => ({
    src: short(i.currentSrc || i.src || ''),
    complete: i.complete,
    naturalWidth: i.naturalWidth,
  }));
  // A code cell that calls plt.show() shows a picture (the kernel's inline backend: with
  // MPLBACKEND=Agg in the environment of the build, plt.show() shows nothing at all).
  const figureless = Array.from(document.querySelectorAll('div.cell')).filter(c => {
    const src = c.querySelector('.cell_input');
    if (!src || !/\bplt\.show\(\s*\)/.test(src.textContent)) return false;
    const out = c.querySelector('.cell_output');
    return !(out && out.querySelector('img, svg, canvas'));
  }).map(c => {
    const code = (c.querySelector('.cell_input pre') || c.querySelector('.cell_input')).textContent;
    return 'the cell starting ' + short(code.trim().split('\n')[0]);
  });

  const views = Array.from(document.querySelectorAll('script[type="__WIDGET_VIEW__"]'));
  const isRendered = __RENDERED__;
  const unrendered = views.filter(v => !isRendered(v)).map(v => {
    try { return 'model ' + JSON.parse(v.textContent).model_id; }
    catch (e) { return short(v.textContent); }
  });
  const widgetRoots = Array.from(document.querySelectorAll('.widget-subarea > .jupyter-widgets'))
    .filter(e => e.getBoundingClientRect().width > 0).length;
  const colab = Array.from(document.querySelectorAll('a[href*="colab.research.google.com"]'))
    .map(a => a.href);

  // Horizontal overflow: the outermost elements of the article that stick out of the viewport
  // and are not inside a box that scrolls sideways (overflow-x auto/scroll). Subtrees clipped out
  // of sight (MathJax's assistive MathML for screen readers) or not displayed are skipped.
  const vw = window.innerWidth;
  const offenders = [];
  const flagged = new Set();
  const boxes = document.createTreeWalker(article, NodeFilter.SHOW_ELEMENT, {
    acceptNode(e) {
      const st = getComputedStyle(e);
      if (st.display === 'none' || st.visibility === 'hidden') return NodeFilter.FILTER_REJECT;
      if (st.clip !== 'auto' && st.position === 'absolute') return NodeFilter.FILTER_REJECT;
      return NodeFilter.FILTER_ACCEPT;
    }
  });
  for (let e = boxes.nextNode(); e; e = boxes.nextNode()) {
    const r = e.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (r.right <= vw + 1 && r.left >= -1) continue;
    let excused = false;
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      if (flagged.has(a)) { excused = true; break; }
      const ox = getComputedStyle(a).overflowX;
      if (ox === 'auto' || ox === 'scroll') { excused = true; break; }
    }
    if (excused) continue;
    flagged.add(e);
    const text = short(e.textContent.trim().replace(/\s+/g, ' ')).slice(0, 60);
    const span = `x=${Math.round(r.left)}..${Math.round(r.right)}`;
    offenders.push(`${describe(e)} spans ${span} ("${text}")`);
  }

  return {
    title: document.title,
    mathjax: !!window.MathJax,
    mathNodes: mathNodes.length,
    mjxContainers: document.querySelectorAll('mjx-container').length,
    mathRaw, mathErrors, rawTex, images, figureless,
    viewScripts: views.length, unrendered, widgetRoots, colab,
    scrollWidth: document.documentElement.scrollWidth, innerWidth: vw,
    offenders: offenders.slice(0, 10), offenderCount: offenders.length,
  };
}
