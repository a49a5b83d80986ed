// Two small fixes that let the vendored ipywidgets html-manager (embed-amd.js) work inside this
// book's theme. Loaded on every page from html_js_files (_config.yml); runs before the deferred
// theme and MathJax scripts, and before the widgets render (on window load).
(function () {
  // 1. The theme's Font Awesome script swaps every <i class="fa ..."> for an <svg>. The Play
  //    widget looks its icon up as an <i> element on every change and throws when it is gone,
  //    which also stops jslink-ed widgets from updating. "nest" keeps the <i> and puts the svg
  //    inside it.
  //    The nested svg is the icon; hide the icon-font glyph the widget CSS would draw as well.
  window.FontAwesomeConfig = Object.assign(window.FontAwesomeConfig || {}, {
    autoReplaceSvg: "nest",
  });
  var style = document.createElement("style");
  style.textContent = ".jupyter-widgets i.fa::before { content: none; }";
  document.head.appendChild(style);

  // 2. The html-manager typesets widget labels through the MathJax 2 API,
  //    MathJax.Hub.Queue(["Typeset", MathJax.Hub, element]). The book loads MathJax 3, which has
  //    no Hub, so each label would throw; map the call onto MathJax 3's typesetPromise.
  document.addEventListener("DOMContentLoaded", function () {
    var mj = window.MathJax;
    if (!mj || mj.Hub) {
      return;
    }
    mj.Hub = {
      Queue: function (job) {
        var element = job && job[2];
        if (element && typeof mj.typesetPromise === "function") {
          mj.typesetPromise([element]).catch(function () {});
        }
      },
    };
  });
})();
