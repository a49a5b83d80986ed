/* Whether one widget view script was rendered: the html-manager put a widget-subarea with real
   widget DOM (.jupyter-widgets / .widget-*) of non-zero size right before it. Inlined by the harness into
   the scripts that use it (widgets_done.js, collect.js). */
(v) => {
  const sub = v.previousElementSibling;
  if (!sub || !sub.classList.contains('widget-subarea')) return false;
  const els = sub.querySelectorAll('.jupyter-widgets, [class*="widget-"]');
  return Array.from(els).some(e => e.getBoundingClientRect().width > 0);
}
