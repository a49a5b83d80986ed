/* The book's live tools: Real NVP in the reader's browser (ONNX Runtime Web, one thread).
 * Written for this book (nvp.book.live makes the <div class="nvp-live"> each tool fills).
 * The runtime (_static/ort/) and the graphs (_static/nvp-model/) load when the reader presses
 * "start". Each tool keeps what it last computed in element.nvpResult, for the browser tests.
 */
(function () {
  "use strict";
  if (window.nvpLive) { window.nvpLive.scan(); return; }
  var script = document.currentScript;
  var BASE = script ? script.src.replace(/nvp-live\.js(\?.*)?$/, "") : "../_static/";
  var SIDE = 28, D = SIDE * SIDE;
  var model = null;  // the promise of {manifest, encode, decode}
  var listeners = [];

  function tell(text) { listeners.forEach(function (f) { f(text); }); }

  function unavailable() {
    if (location.protocol === "file:") {
      return "This page was opened from a file, where browsers refuse to load the model: " +
        "serve the book over HTTP instead (make serve, then http://127.0.0.1:8000).";
    }
    if (typeof WebAssembly !== "object") {
      return "This browser has no WebAssembly, which the model needs: open the chapter " +
        "in Jupyter or Colab, where the kernel versions below run the same model.";
    }
    return null;
  }

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var s = document.createElement("script");
      s.src = src; s.onload = resolve;
      s.onerror = function () { reject(new Error("could not load " + src)); };
      document.head.appendChild(s);
    });
  }

  async function fetchBytes(url, label) {
    var response = await fetch(url);
    if (!response.ok) throw new Error(url + ": HTTP " + response.status);
    var total = Number(response.headers.get("content-length")) || 0;
    var reader = response.body.getReader(), parts = [], got = 0;
    for (;;) {
      var r = await reader.read();
      if (r.done) break;
      parts.push(r.value); got += r.value.length;
      tell("Loading " + label + ": " + (got / 1e6).toFixed(1) +
           (total ? " of " + (total / 1e6).toFixed(1) : "") + " MB…");
    }
    var out = new Uint8Array(got), at = 0;
    parts.forEach(function (p) { out.set(p, at); at += p.length; });
    return out;
  }

  function loadModel() {
    if (model) return model;
    model = (async function () {
      var t0 = performance.now();
      tell("Loading the runtime (ONNX Runtime Web)…");
      if (!window.ort) await loadScript(BASE + "ort/ort.wasm.min.js");
      ort.env.wasm.numThreads = 1;
      ort.env.wasm.wasmPaths = BASE + "ort/";
      var manifest = await (await fetch(BASE + "nvp-model/manifest.json")).json();
      var options = { executionProviders: ["wasm"] };
      var enc = await fetchBytes(BASE + "nvp-model/encode.onnx", "the encoder");
      var dec = await fetchBytes(BASE + "nvp-model/decode.onnx", "the decoder");
      tell("Starting the model (compiling WebAssembly)…");
      var encode = await ort.InferenceSession.create(enc, options);
      var decode = await ort.InferenceSession.create(dec, options);
      var m = { manifest: manifest, encode: encode, decode: decode,
                readyMs: performance.now() - t0 };
      window.nvpLive.readyMs = m.readyMs;
      tell("Model ready (" + (m.readyMs / 1000).toFixed(1) + " s).");
      return m;
    })();
    model.catch(function (err) { tell("The model could not load: " + err.message); model = null; });
    return model;
  }

  // Deterministic N(0, 1) draws from a seed: mulberry32 + Box–Muller.
  function normals(seed, n) {
    var a = seed >>> 0, out = new Float32Array(n);
    function uniform() {
      a = (a + 0x6D2B79F5) >>> 0;
      var t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    }
    for (var i = 0; i < n; i += 2) {
      var u = 1 - uniform(), v = uniform(), r = Math.sqrt(-2 * Math.log(u));
      out[i] = r * Math.cos(2 * Math.PI * v);
      if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * v);
    }
    return out;
  }

  async function encode(m, pixels, n) {  // pixels: Float32Array (n·784) of k/255
    var shape = [n, 1, SIDE, SIDE], half = new Float32Array(n * D).fill(0.5);
    var out = await m.encode.run({ x: new ort.Tensor("float32", pixels, shape),
                                   noise: new ort.Tensor("float32", half, shape) });
    return out;
  }

  async function decode(m, z, n) {
    var out = await m.decode.run({ z: new ort.Tensor("float32", z, [n, 1, SIDE, SIDE]) });
    return out.x.data;
  }

  // A (h, w) slice of a float array drawn on a canvas; values mapped from [lo, hi] to grey.
  function paint(canvas, data, offset, h, w, lo, hi) {
    canvas.width = w; canvas.height = h;
    var ctx = canvas.getContext("2d"), img = ctx.createImageData(w, h);
    for (var i = 0; i < h * w; i++) {
      var v = Math.round(255 * Math.min(1, Math.max(0, (data[offset + i] - lo) / (hi - lo))));
      img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = v;
      img.data[4 * i + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }

  function el(tag, attrs, parent) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") e.textContent = attrs[k]; else e.setAttribute(k, attrs[k]);
    });
    if (parent) parent.appendChild(e);
    return e;
  }

  function pixelCanvas(parent, cls) {
    var c = el("canvas", { "class": "nvp-px " + (cls || ""), width: SIDE, height: SIDE }, parent);
    return c;
  }

  // ---- the sampler --------------------------------------------------------------------------
  function sampler(root, m) {
    var row = el("div", { "class": "nvp-controls" }, root);
    var label = el("label", {}, row);
    label.appendChild(document.createTextNode("temperature T "));
    var temp = el("input", { type: "range", min: "0", max: "1.2", step: "0.05", value: "0.7",
                             "aria-label": "temperature T", "class": "nvp-temperature" }, label);
    var tOut = el("span", { text: "0.70" }, label);
    var fixLabel = el("label", {}, row);
    var fix = el("input", { type: "checkbox", "class": "nvp-fix-seed" }, fixLabel);
    fixLabel.appendChild(document.createTextNode(" keep the seed "));
    var seedBox = el("input", { type: "number", min: "0", value: "1", "class": "nvp-seed",
                                "aria-label": "seed", style: "width:6em" }, fixLabel);
    var button = el("button", { type: "button", "class": "nvp-new", text: "new samples" }, row);
    var info = el("p", { "class": "nvp-info" }, root);
    var grid = el("div", { "class": "nvp-grid" }, root);
    var canvases = [];
    for (var i = 0; i < 16; i++) canvases.push(pixelCanvas(grid));
    var busy = false, again = false;

    async function draw() {
      if (busy) { again = true; return; }
      busy = true;
      var seed = Number(seedBox.value) >>> 0, t = Number(temp.value);
      var eps = normals(seed, 16 * D), z = new Float32Array(16 * D);
      for (var i = 0; i < z.length; i++) z[i] = t * eps[i];
      var t0 = performance.now();
      var x = await decode(m, z, 16);
      var ms = performance.now() - t0;
      canvases.forEach(function (c, k) { paint(c, x, k * D, SIDE, SIDE, 0, 1); });
      info.textContent = "16 samples at T = " + t.toFixed(2) + ", seed " + seed +
        " (decoded in " + Math.round(ms) + " ms)";
      root.nvpResult = { seed: seed, temperature: t, z: Array.from(z), x: Array.from(x), ms: ms };
      root.dataset.seed = String(seed);
      busy = false;
      if (again) { again = false; draw(); }
    }
    temp.addEventListener("input", function () {
      tOut.textContent = Number(temp.value).toFixed(2);
      draw();
    });
    seedBox.addEventListener("change", draw);
    button.addEventListener("click", function () {
      if (!fix.checked) seedBox.value = String(Math.floor(Math.random() * 1e6));
      draw();
    });
    return draw();
  }

  // ---- draw a digit -------------------------------------------------------------------------
  function drawer(root, m, config) {
    var wrap = el("div", { "class": "nvp-draw-row" }, root);
    var pad = el("canvas", { "class": "nvp-pad", width: 280, height: 280,
                             "aria-label": "drawing pad, 28 by 28 pixels" }, wrap);
    var side = el("div", { "class": "nvp-draw-side" }, wrap);
    var score = el("p", { "class": "nvp-score", text: "Draw a digit in the black square." }, side);
    var hist = el("canvas", { "class": "nvp-hist", width: 300, height: 90 }, side);
    var codes = el("div", { "class": "nvp-codes" }, side);
    var row = el("div", { "class": "nvp-controls" }, root);
    var clear = el("button", { type: "button", "class": "nvp-clear", text: "clear" }, row);
    (config.digits || []).forEach(function (d, k) {
      var b = el("button", { type: "button", "class": "nvp-digit",
                             text: "test digit " + (config.labels[k] !== undefined ?
                               "(a " + config.labels[k] + ")" : k) }, row);
      b.addEventListener("click", function () { setPixels(d); });
    });
    var ctx = pad.getContext("2d", { willReadFrequently: true });
    var small = document.createElement("canvas"); small.width = small.height = SIDE;
    var sctx = small.getContext("2d", { willReadFrequently: true });
    var scores = (config.scores || []).slice().sort(function (a, b) { return a - b; });

    function blank() { ctx.fillStyle = "#000"; ctx.fillRect(0, 0, 280, 280); }
    function setPixels(d) {
      var img = sctx.createImageData(SIDE, SIDE);
      for (var i = 0; i < D; i++) {
        img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = d[i];
        img.data[4 * i + 3] = 255;
      }
      sctx.putImageData(img, 0, 0);
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(small, 0, 0, 280, 280);
      schedule();
    }
    function pixels() {  // the 28×28 image the model scores, k/255: the mean of each 10×10
      // block of the pad (a loaded test digit, drawn as uniform blocks, comes back exactly)
      var data = ctx.getImageData(0, 0, 280, 280).data, x = new Float32Array(D);
      for (var r = 0; r < SIDE; r++) {
        for (var c = 0; c < SIDE; c++) {
          var sum = 0;
          for (var dy = 0; dy < 10; dy++) {
            for (var dx = 0; dx < 10; dx++) sum += data[4 * ((10 * r + dy) * 280 + 10 * c + dx)];
          }
          x[r * SIDE + c] = Math.round(sum / 100) / 255;
        }
      }
      return x;
    }
    function drawHist(value) {
      var h = hist.getContext("2d"), W = hist.width, H = hist.height;
      h.clearRect(0, 0, W, H);
      if (!scores.length) return;
      var lo = Math.min(scores[0], value), hi = Math.max(scores[scores.length - 1], value);
      var span = hi - lo || 1, bins = new Array(40).fill(0);
      scores.forEach(function (s) { bins[Math.min(39, Math.floor(40 * (s - lo) / span))]++; });
      var top = Math.max.apply(null, bins);
      h.fillStyle = "#8aa4c8";
      bins.forEach(function (c, i) {
        var bh = (H - 20) * c / top;
        h.fillRect(i * W / 40, H - 14 - bh, W / 40 - 1, bh);
      });
      var xv = (value - lo) / span * (W - 2) + 1;
      h.fillStyle = "#c0392b"; h.fillRect(xv - 1, 0, 3, H - 14);
      h.fillStyle = "#333"; h.font = "11px sans-serif";
      h.fillText(lo.toFixed(2), 0, H - 2);
      h.fillText(hi.toFixed(2) + " bits/dim", W - 90, H - 2);
    }
    var busy = false, again = false;
    async function scoreNow() {
      if (busy) { again = true; return; }
      busy = true;
      var x = pixels(), t0 = performance.now();
      var out = await encode(m, x, 1);
      var ms = performance.now() - t0, bpd = out.bpd.data[0];
      var below = 0;
      scores.forEach(function (s) { if (s <= bpd) below++; });
      var pct = scores.length ? 100 * below / scores.length : 0;
      score.textContent = "bits/dim " + bpd.toFixed(4) + " (lower is likelier): " +
        pct.toFixed(0) + "% of the " + scores.length + " test digits score at most this " +
        "(scored in " + Math.round(ms) + " ms)";
      drawHist(bpd);
      codes.textContent = "";
      var shapes = m.manifest.encode.code_shapes;
      shapes.forEach(function (s, k) {
        var box = el("span", { "class": "nvp-code" }, codes);
        el("span", { text: "scale " + (k + 1) + ": " }, box);
        var data = out["z" + k].data;
        for (var c = 0; c < s[0]; c++) {
          paint(pixelCanvas(box), data, c * s[1] * s[2], s[1], s[2], -3, 3);
        }
      });
      root.nvpResult = { pixels: Array.from(x), bpd: bpd, percentile: pct, ms: ms };
      busy = false;
      if (again) { again = false; scoreNow(); }
    }
    var pending = false;
    function schedule() {
      if (pending) return;
      pending = true;
      requestAnimationFrame(function () { pending = false; scoreNow(); });
    }
    var down = false, last = null;
    function at(e) {
      var r = pad.getBoundingClientRect();
      return [(e.clientX - r.left) * 280 / r.width, (e.clientY - r.top) * 280 / r.height];
    }
    pad.style.touchAction = "none";
    pad.addEventListener("pointerdown", function (e) {
      down = true; last = at(e); pad.setPointerCapture(e.pointerId); stroke(last); });
    pad.addEventListener("pointermove", function (e) { if (down) stroke(at(e)); });
    ["pointerup", "pointercancel"].forEach(function (n) {
      pad.addEventListener(n, function () { down = false; last = null; schedule(); });
    });
    function stroke(p) {
      ctx.strokeStyle = "#fff"; ctx.lineWidth = 22; ctx.lineCap = ctx.lineJoin = "round";
      ctx.beginPath(); ctx.moveTo(last[0], last[1]); ctx.lineTo(p[0], p[1]); ctx.stroke();
      last = p; schedule();
    }
    clear.addEventListener("click", function () { blank(); schedule(); });
    blank();
    return scoreNow();
  }

  // ---- interpolation ------------------------------------------------------------------------
  function interpolator(root, m, config) {
    var digits = config.digits || [];
    var row = el("div", { "class": "nvp-controls" }, root);
    function chooser(name, value) {
      var label = el("label", {}, row);
      label.appendChild(document.createTextNode(name + " "));
      var s = el("select", { "aria-label": name }, label);
      digits.forEach(function (d, k) {
        el("option", { value: String(k), text: "test digit " + k +
          (config.labels[k] !== undefined ? " (a " + config.labels[k] + ")" : "") }, s);
      });
      s.value = String(value);
      return s;
    }
    var first = chooser("first digit", 0), second = chooser("second digit", 1);
    var label = el("label", {}, row);
    label.appendChild(document.createTextNode("position t "));
    var pos = el("input", { type: "range", min: "0", max: "1", step: "0.05", value: "0.5",
                            "aria-label": "position t", "class": "nvp-t" }, label);
    var info = el("p", { "class": "nvp-info" }, root);
    var strip = el("div", { "class": "nvp-grid" }, root);
    var a = pixelCanvas(strip), mid = pixelCanvas(strip), b = pixelCanvas(strip);
    var codesA = null, codesB = null, busy = false, again = false;
    async function codesOf() {
      var x = new Float32Array(2 * D);
      [first, second].forEach(function (s, k) {
        var d = digits[Number(s.value)];
        for (var i = 0; i < D; i++) x[k * D + i] = d[i] / 255;
      });
      var out = await encode(m, x, 2);
      codesA = out.z.data.slice(0, D); codesB = out.z.data.slice(D, 2 * D);
      paint(a, x, 0, SIDE, SIDE, 0, 1); paint(b, x, D, SIDE, SIDE, 0, 1);
    }
    async function update(recode) {
      if (busy) { again = true; return; }
      busy = true;
      if (recode || !codesA) await codesOf();
      var t = Number(pos.value), ca = Math.cos(t * Math.PI / 2), sb = Math.sin(t * Math.PI / 2);
      var z = new Float32Array(D);
      for (var i = 0; i < D; i++) z[i] = ca * codesA[i] + sb * codesB[i];
      var x = await decode(m, z, 1);
      paint(mid, x, 0, SIDE, SIDE, 0, 1);
      var q = new Float32Array(D);
      for (var j = 0; j < D; j++) q[j] = Math.round(255 * x[j]) / 255;
      var bpd = (await encode(m, q, 1)).bpd.data[0];
      info.textContent = "t = " + t.toFixed(2) + " on the arc cos(πt/2)·z₁ + sin(πt/2)·z₂: " +
        "the middle image scores " + bpd.toFixed(3) + " bits/dim";
      root.nvpResult = { t: t, x: Array.from(x), bpd: bpd };
      busy = false;
      if (again) { again = false; update(true); }
    }
    first.addEventListener("change", function () { update(true); });
    second.addEventListener("change", function () { update(true); });
    pos.addEventListener("input", function () { update(false); });
    return update(true);
  }

  // ---- resample a scale --------------------------------------------------------------------
  function resampler(root, m, config) {
    var digits = config.digits || [], map = config.scale_map;
    var row = el("div", { "class": "nvp-controls" }, root);
    var label = el("label", {}, row);
    label.appendChild(document.createTextNode("digit "));
    var pick = el("select", { "aria-label": "digit", "class": "nvp-pick" }, label);
    digits.forEach(function (d, k) {
      el("option", { value: String(k), text: "test digit " + k +
        (config.labels[k] !== undefined ? " (a " + config.labels[k] + ")" : "") }, pick);
    });
    var label2 = el("label", {}, row);
    label2.appendChild(document.createTextNode("redraw "));
    var which = el("select", { "aria-label": "redraw", "class": "nvp-which" }, label2);
    el("option", { value: "0", text: "fine (scale 1)" }, which);
    el("option", { value: "1", text: "coarse (scale 2)" }, which);
    var label3 = el("label", {}, row);
    label3.appendChild(document.createTextNode("temperature T "));
    var temp = el("input", { type: "range", min: "0", max: "1.2", step: "0.05", value: "0.7",
                             "aria-label": "temperature T", "class": "nvp-temperature" }, label3);
    var button = el("button", { type: "button", "class": "nvp-new", text: "new draws" }, row);
    var info = el("p", { "class": "nvp-info" }, root);
    var strip = el("div", { "class": "nvp-grid" }, root);
    var canvases = [];
    for (var i = 0; i < 8; i++) canvases.push(pixelCanvas(strip));
    var seed = 1, busy = false, again = false;
    async function update() {
      if (busy) { again = true; return; }
      busy = true;
      var d = digits[Number(pick.value)], x = new Float32Array(D);
      for (var i = 0; i < D; i++) x[i] = d[i] / 255;
      var z = (await encode(m, x, 1)).z.data, t = Number(temp.value), s = Number(which.value);
      var eps = normals(seed, 7 * D), zs = new Float32Array(7 * D);
      for (var k = 0; k < 7; k++) {
        for (var j = 0; j < D; j++) zs[k * D + j] = map[j] === s ? t * eps[k * D + j] : z[j];
      }
      var xs = await decode(m, zs, 7);
      paint(canvases[0], x, 0, SIDE, SIDE, 0, 1);
      for (var c = 0; c < 7; c++) paint(canvases[c + 1], xs, c * D, SIDE, SIDE, 0, 1);
      info.textContent = "the digit, then 7 versions with scale " + s + "'s code redrawn at T = " +
        t.toFixed(2) + " (seed " + seed + ")";
      root.nvpResult = { seed: seed, scale: s, temperature: t, z: Array.from(zs),
                         x: Array.from(xs) };
      busy = false;
      if (again) { again = false; update(); }
    }
    [pick, which].forEach(function (e) { e.addEventListener("change", update); });
    temp.addEventListener("input", update);
    button.addEventListener("click", function () { seed += 1; update(); });
    return update();
  }

  var TOOLS = { sampler: sampler, draw: drawer, interpolate: interpolator,
                resample: resampler };

  function setup(root) {
    if (root.dataset.ready) return;
    root.dataset.ready = "1";
    var status = root.querySelector(".nvp-live-status") || el("p", {}, root);
    status.className = "nvp-live-status";
    var why = unavailable();
    if (why) { status.textContent = why; root.dataset.state = "unavailable"; return; }
    status.textContent = "This tool runs the trained model in your browser " +
      "(about 27 MB, downloaded once).";
    var start = el("button", { type: "button", "class": "nvp-start", text: "start the model" });
    root.insertBefore(start, status.nextSibling);
    listeners.push(function (text) { status.textContent = text; });
    start.addEventListener("click", async function () {
      start.disabled = true;
      root.dataset.state = "loading";
      try {
        var m = await loadModel();
        start.remove();
        var config = JSON.parse(root.dataset.config || "{}");
        await TOOLS[root.dataset.tool](root, m, config);
        root.dataset.state = "ready";
      } catch (err) {
        status.textContent = "The model could not run here: " + err.message;
        root.dataset.state = "failed";
        start.disabled = false;
      }
    });
  }

  window.nvpLive = {
    scan: function () { document.querySelectorAll(".nvp-live").forEach(setup); },
    normals: normals,
  };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", window.nvpLive.scan);
  } else {
    window.nvpLive.scan();
  }
})();
