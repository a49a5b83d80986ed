/* Widget set-up for the built book. Loaded on pages with widgets, after require.js and before the
   ipywidgets html-manager (embed-amd.js): `nb_ipywidgets_js` in _config.yml lists the three.
   1. The html-manager looks for its Font Awesome fonts next to its AMD modules' URLs, which
      require.js places beside the page (book/@jupyter-widgets/...: 404s): map the modules to
      _static/, where the fonts are vendored.
   2. It typesets widget labels with the MathJax 2 API (MathJax.Hub.Queue), and the book loads
      MathJax 3 (no Hub): every label then throws. Give MathJax, before and after MathJax 3
      replaces the configuration object with itself, a Hub.Queue that typesets with MathJax 3.
   3. The theme's Font Awesome replaces each <i class="fa ..."> by an <svg>. The Play widget
      looks its <i> up when it renders and when it is pressed, and throws; the frames sliders
      (Play + IntSlider + Stack) then stay dead. Nest the <svg> inside the <i> instead. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (script && window.require && typeof window.require.config === "function") {
    var dir = script.src.slice(0, script.src.lastIndexOf("/"));
    window.require.config({
      paths: { "@jupyter-widgets/html-manager/dist": dir, "@jupyter-widgets": dir }
    });
  }

  function queue(job) {
    var element = job && job[2];
    var mj = window.MathJax;
    if (element && mj && typeof mj.typesetPromise === "function") {
      mj.typesetPromise([element]).catch(function (err) { console.warn("MathJax:", err); });
    }
  }
  function withHub(mj) {
    if (mj && typeof mj === "object" && !Object.prototype.hasOwnProperty.call(mj, "Hub")) {
      Object.defineProperty(mj, "Hub", { value: { Queue: queue }, configurable: true });
    }
    return mj;
  }
  var current = withHub(window.MathJax);
  Object.defineProperty(window, "MathJax", {
    configurable: true,
    enumerable: true,
    get: function () { return current; },
    set: function (value) { current = withHub(value); }
  });

  window.FontAwesomeConfig = Object.assign({ autoReplaceSvg: "nest" }, window.FontAwesomeConfig);
})();
