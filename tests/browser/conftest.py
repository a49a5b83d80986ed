"""Fixtures for the browser checks of the built book (``tests/browser``).

The built HTML (``_build/html``, or ``$NVP_BOOK_HTML``; the book's root with ``_toc.yml`` is the
repository, or ``$NVP_BOOK_ROOT``) is served by ``http.server`` in a thread on
127.0.0.1 (port 0) and opened in Debian's Chromium (``/usr/bin/chromium``, or ``$NVP_CHROMIUM``),
headless, driven by Playwright for Python. Playwright's own browser downloads are never used.

Every page is loaded once per viewport (1280 px and 390 px wide); what the page shows is collected
into a :class:`PageReport`, cached, and each test asserts one aspect of it. Every request that is
not for 127.0.0.1 is aborted (and recorded) before it leaves; Chromium also resolves no host name
but 127.0.0.1, so nothing reaches the network even around the request routing.

Without ``NVP_BROWSER_TESTS=1`` a missing book build, Playwright or Chromium skips these tests;
with it (CI), each of them is a failure. Run them after ``make book``::

    NVP_BROWSER_TESTS=1 pytest tests/browser
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(os.environ.get("NVP_BOOK_ROOT") or Path(__file__).resolve().parents[2]).resolve()
REQUIRED = os.environ.get("NVP_BROWSER_TESTS") == "1"
HTML_DIR = Path(os.environ.get("NVP_BOOK_HTML") or ROOT / "_build" / "html").resolve()
SCREENSHOT_DIR = HTML_DIR.parent / "screenshots"
VIEWPORTS = {"wide": {"width": 1280, "height": 900}, "narrow": {"width": 390, "height": 844}}
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    # No host name resolves but the loopback address: no request can leave, routed or not.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]


def missing(reason: str) -> None:
    """Skip (a developer without the book build or a browser), or fail where CI asks for them."""
    if REQUIRED:
        pytest.fail(f"{reason} (NVP_BROWSER_TESTS=1 requires it)", pytrace=False)
    pytest.skip(reason)


# --------------------------------------------------------------------------- pages from _toc.yml


def _toc_files(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key in ("root", "file"):
            if isinstance(node.get(key), str):
                yield node[key]
        for value in node.values():
            if isinstance(value, (dict, list)):
                yield from _toc_files(value)
    elif isinstance(node, list):
        for item in node:
            yield from _toc_files(item)


def toc_pages() -> list[str]:
    """Every document of the book, as its path without suffix (``book/01_change_of_variables``)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    pages: list[str] = []
    for f in _toc_files(toc):
        f = str(Path(f).with_suffix("")) if Path(f).suffix in {".md", ".ipynb"} else f
        if f not in pages:
            pages.append(f)
    return pages


def is_notebook(page: str) -> bool:
    return (ROOT / f"{page}.ipynb").exists()


def has_widgets(page: str) -> bool:
    html = HTML_DIR / f"{page}.html"
    return html.exists() and WIDGET_VIEW in html.read_text(encoding="utf-8", errors="replace")


def page_id(page: str) -> str:
    return Path(page).name


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize ``page`` (every toc page), ``notebook_page``, ``widget_page`` and ``viewport``.

    Widget pages are those whose built HTML holds widget views; before the book is built, every
    page is a candidate (and the tests skip, or fail under NVP_BROWSER_TESTS=1).
    """
    pages = toc_pages()
    for name, chosen in (
        ("page", pages),
        ("notebook_page", [p for p in pages if is_notebook(p)]),
        ("widget_page", [p for p in pages if has_widgets(p)] if HTML_DIR.is_dir() else pages),
    ):
        if name in metafunc.fixturenames:
            metafunc.parametrize(name, chosen, ids=[page_id(p) for p in chosen])
    if "viewport" in metafunc.fixturenames:
        metafunc.parametrize("viewport", list(VIEWPORTS))


# --------------------------------------------------------------------------- server and browser


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".woff": "font/woff",
        ".woff2": "font/woff2",
        ".svg": "image/svg+xml",
        ".json": "application/json",
        ".wasm": "application/wasm",
    }

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass


@pytest.fixture(scope="session")
def html_dir() -> Path:
    if not (HTML_DIR / "index.html").is_file():
        missing(f"no built book at {HTML_DIR} (run `make book` first)")
    return HTML_DIR


@pytest.fixture(scope="session")
def base_url(html_dir: Path) -> Iterator[str]:
    """The book served over HTTP on 127.0.0.1 and a free port, in a daemon thread."""
    handler = functools.partial(_QuietHandler, directory=str(html_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="book-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def chromium_path() -> str | None:
    explicit = os.environ.get("NVP_CHROMIUM")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    return shutil.which("chromium")


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("Playwright for Python is not installed (pip install playwright)")
    with sync_playwright() as p:
        yield p


@dataclass
class Browser:
    """One persistent context (empty profile) per viewport, and what its pages asked for."""

    context: Any
    viewport: str
    blocked: list[str] = field(default_factory=list)

    def route(self, route: Any) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https", "ws", "wss") or parts.hostname == "127.0.0.1":
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort("blockedbyclient")


@pytest.fixture(scope="session")
def browsers(
    playwright_driver: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Browser]]:
    """Lazily launched Chromium contexts, by viewport name; each has its own empty profile."""
    exe = chromium_path()
    if exe is None:
        missing("Chromium is not installed (apt-get install chromium)")
    opened: dict[str, Browser] = {}

    class Lazy(dict):
        def __missing__(self, name: str) -> Browser:
            profile = tmp_path_factory.mktemp(f"chromium-profile-{name}")
            context = playwright_driver.chromium.launch_persistent_context(
                str(profile),
                executable_path=exe,
                headless=True,
                args=CHROMIUM_ARGS,
                viewport=VIEWPORTS[name],
                device_scale_factor=1,
                service_workers="block",
                timeout=60_000,
            )
            context.set_default_timeout(30_000)
            browser = Browser(context, name)
            context.route("**/*", browser.route)
            opened[name] = self[name] = browser
            return browser

    try:
        yield Lazy()
    finally:
        for browser in opened.values():
            browser.context.close()


# --------------------------------------------------------------------------- one visit of a page
# The JavaScript below runs in the page (Playwright's evaluate); __NAMES__ are filled in below.

WAIT_MATH = r"""async () => {
  const mj = window.MathJax;
  if (mj && mj.startup && mj.startup.promise) { await mj.startup.promise; }
  if (mj && mj.typesetPromise) { await mj.typesetPromise(); }
  return !!mj;
}"""

# A view script counts as rendered when the html-manager put a widget-subarea with real widget
# DOM (.jupyter-widgets / .widget-*) of non-zero size right before it.
RENDERED = r"""(v) => {
  const sub = v.previousElementSibling;
  if (!sub || !sub.classList.contains('widget-subarea')) return false;
  const els = sub.querySelectorAll('.jupyter-widgets, [class*="widget-"]');
  return Array.from(els).some(e => e.getBoundingClientRect().width > 0);
}"""

WIDGETS_DONE = r"""() => Array.from(
  document.querySelectorAll('script[type="__WIDGET_VIEW__"]')).every(__RENDERED__)"""

SCROLL_AND_WAIT_IMAGES = r"""async () => {
  const step = Math.max(200, Math.floor(window.innerHeight * 0.9));
  for (let y = 0; y < document.documentElement.scrollHeight; y += step) {
    window.scrollTo(0, y);
    await new Promise(r => setTimeout(r, 15));
  }
  window.scrollTo(0, 0);
  const pending = Array.from(document.images).filter(i => !i.complete).map(i => new Promise(r => {
    i.addEventListener('load', r, {once: true});
    i.addEventListener('error', r, {once: true});
  }));
  await Promise.race([Promise.all(pending), new Promise(r => setTimeout(r, 10000))]);
}"""

COLLECT = r"""() => {
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
  const delimiters = /\$\$|\\\(|\\\)|\\\[|\\\]|\\begin\{/;
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
}"""


def _fill(js: str) -> str:
    return js.replace("__RENDERED__", RENDERED).replace("__WIDGET_VIEW__", WIDGET_VIEW)


WIDGETS_DONE, COLLECT = _fill(WIDGETS_DONE), _fill(COLLECT)

# Frames sliders (nvp.book.widgets.frames_slider): widget views whose model tree holds an IntSlider
# whose "value" is jslinked (LinkModel, either direction) to a Stack's "selected_index", found in
# the page's saved widget state. A slider that only a kernel's callback links to a picture
# (`interact`, `observe`) is not one. Marks each one's widget area data-nvp-frames="k".
FRAMES_AREAS = r"""() => {
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
}""".replace("__WIDGET_VIEW__", WIDGET_VIEW)

# What a frames area shows: a fingerprint of the pixels of its visible pictures, and its text.
SHOWN = r"""async (k) => {
  const area = document.querySelector(`[data-nvp-frames="${k}"]`);
  if (!area) return {pictures: [], text: '(not rendered)'};
  const imgs = Array.from(area.querySelectorAll('img')).filter(i => i.offsetParent !== null);
  const pictures = [];
  for (const img of imgs) {
    if (!img.complete) await new Promise(r => { img.onload = r; img.onerror = r; });
    const c = document.createElement('canvas');
    c.width = 48; c.height = 48;
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0, 48, 48);
    const d = g.getImageData(0, 0, 48, 48).data;
    let h = 0;
    for (let i = 0; i < d.length; i++) { h = (h * 31 + d[i]) >>> 0; }
    pictures.push(`${img.naturalWidth}x${img.naturalHeight}:${h}`);
  }
  return {pictures, text: area.innerText};
}"""


@dataclass
class SliderCheck:
    """One frames slider: what it showed before, after three → presses, and after Play."""

    index: int
    before: dict[str, Any]
    after_keys: dict[str, Any]
    has_play: bool = False
    after_play: dict[str, Any] | None = None
    error: str = ""


def _until_changed(tab: Any, index: int, before: dict[str, Any], seconds: float) -> Any:
    """What the area shows once its pictures changed, or after ``seconds``."""
    now = before
    for _ in range(int(seconds * 10)):
        now = tab.evaluate(SHOWN, index)
        if now["pictures"] != before["pictures"]:
            break
        tab.wait_for_timeout(100)
    return now


def check_sliders(tab: Any) -> tuple[int, list[SliderCheck]]:
    """Move every frames slider with the keyboard, then press its Play button.

    Returns the number of jslinked frames views in the widget state, and one check per view.
    """
    found = tab.evaluate(FRAMES_AREAS)
    checks = []
    for index in range(found["areas"]):
        area = tab.locator(f'[data-nvp-frames="{index}"]')
        check = SliderCheck(index, {"pictures": [], "text": ""}, {"pictures": [], "text": ""})
        checks.append(check)
        try:
            area.scroll_into_view_if_needed(timeout=10_000)
            check.before = tab.evaluate(SHOWN, index)
            handle = area.locator(".noUi-handle, input[type=range]").first
            handle.focus(timeout=10_000)
            for _ in range(3):
                handle.press("ArrowRight", timeout=10_000)
            check.after_keys = _until_changed(tab, index, check.before, 5)
            handle.press("Home", timeout=10_000)
            play = area.locator(".widget-play button").first
            if play.count():
                check.has_play = True
                start = tab.evaluate(SHOWN, index)
                play.click(timeout=10_000)
                check.after_play = _until_changed(tab, index, start, 5)
        except Exception as error:  # noqa: BLE001 - reported by the test, with the page's errors
            check.error = f"{type(error).__name__}: {error}".splitlines()[0]
    return found["areas"], checks


@dataclass
class PageReport:
    page: str
    viewport: str
    url: str
    console_errors: list[str]
    page_errors: list[str]
    failed_requests: list[str]
    bad_responses: list[str]
    blocked: list[str]
    widgets_timed_out: bool
    seconds: float
    screenshot: Path
    dom: dict[str, Any]
    frames_views: int  # widget views holding a jslinked frames slider (widget state)
    sliders: list[SliderCheck]


_REPORTS: dict[tuple[str, str], PageReport] = {}
_BROKEN: dict[tuple[str, str], str] = {}  # pages whose visit itself failed: fail fast next time


def load_page(browser: Browser, base_url: str, page_path: str) -> tuple[Any, dict[str, list[str]]]:
    """Open a page, recording console errors, uncaught exceptions and failed requests."""
    events: dict[str, list[str]] = {"console": [], "pageerror": [], "failed": [], "status": []}
    page = browser.context.new_page()

    def console(message: Any) -> None:
        if message.type == "error":
            events["console"].append(f"{message.text} ({message.location.get('url', '')})")

    def failed(request: Any) -> None:
        if urlsplit(request.url).hostname == "127.0.0.1":  # others are aborted and recorded
            events["failed"].append(f"{request.url} ({request.failure})")

    def response(resp: Any) -> None:
        if resp.status >= 400:
            events["status"].append(f"{resp.status} {resp.url}")

    page.on("console", console)
    page.on("pageerror", lambda error: events["pageerror"].append(str(error)))
    page.on("requestfailed", failed)
    page.on("response", response)
    page.goto(f"{base_url}/{page_path}", wait_until="load")
    return page, events


def visit(browser: Browser, base_url: str, page: str) -> PageReport:
    """Load ``page`` once per viewport (cached): errors, requests, math, images, widgets, layout."""
    key = (browser.viewport, page)
    if key in _REPORTS:
        return _REPORTS[key]
    if key in _BROKEN:
        pytest.fail(_BROKEN[key], pytrace=False)
    if not (HTML_DIR / f"{page}.html").is_file():
        pytest.fail(
            f"{page}.html is missing from {HTML_DIR}: the chapter did not build", pytrace=False
        )
    start = time.perf_counter()
    browser.blocked.clear()
    try:
        report = _visit(browser, base_url, page, start)
    except Exception as error:
        _BROKEN[key] = f"{page} ({browser.viewport}) could not be checked: {error}"
        raise
    _REPORTS[key] = report
    return report


def _visit(browser: Browser, base_url: str, page: str, start: float) -> PageReport:
    tab, events = load_page(browser, base_url, f"{page}.html")
    timed_out = False
    try:
        tab.evaluate(WAIT_MATH)
        try:
            tab.wait_for_function(WIDGETS_DONE, timeout=20_000, polling=100)
        except Exception:  # noqa: BLE001 - a timeout is reported as unrendered widgets
            timed_out = True
        shot_dir = SCREENSHOT_DIR if browser.viewport == "wide" else SCREENSHOT_DIR / "narrow"
        shot = shot_dir / f"{page_id(page)}.png"
        if browser.viewport == "wide":  # the first screen as a reader sees it (for the README)
            (SCREENSHOT_DIR / "top").mkdir(parents=True, exist_ok=True)
            tab.screenshot(path=str(SCREENSHOT_DIR / "top" / shot.name))
        tab.evaluate(SCROLL_AND_WAIT_IMAGES)
        dom = tab.evaluate(COLLECT)
        shot_dir.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(shot), full_page=True)
        # Kernel-free interaction, once per page (wide), after the screenshot of the first frame.
        frames, sliders = 0, []
        if browser.viewport == "wide" and dom["viewScripts"]:
            frames, sliders = check_sliders(tab)
    finally:
        tab.close()
    return PageReport(
        page=page,
        viewport=browser.viewport,
        url=f"{base_url}/{page}.html",
        console_errors=events["console"],
        page_errors=events["pageerror"],
        failed_requests=events["failed"],
        bad_responses=events["status"],
        blocked=list(browser.blocked),
        widgets_timed_out=timed_out,
        seconds=time.perf_counter() - start,
        screenshot=shot,
        dom=dom,
        frames_views=frames,
        sliders=sliders,
    )


@pytest.fixture
def visit_page(browsers: dict[str, Browser], base_url: str) -> Any:
    """``visit_page(viewport, page) -> PageReport``: each page loads once per viewport."""
    return lambda viewport, page: visit(browsers[viewport], base_url, page)


@pytest.fixture
def report(visit_page: Any, page: str, viewport: str) -> PageReport:
    return visit_page(viewport, page)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line per viewport: pages loaded, how long it took, where the screenshots are."""
    for viewport in VIEWPORTS:
        reports = [r for r in _REPORTS.values() if r.viewport == viewport]
        if reports:
            slowest = max(reports, key=lambda r: r.seconds)
            terminalreporter.write_line(
                f"browser ({viewport}, {VIEWPORTS[viewport]['width']} px): {len(reports)} pages "
                f"in {sum(r.seconds for r in reports):.1f} s (slowest {page_id(slowest.page)} "
                f"{slowest.seconds:.1f} s); screenshots in {reports[0].screenshot.parent}"
            )
    moved = [r for r in _REPORTS.values() if r.sliders]
    if moved:
        terminalreporter.write_line(
            f"browser: moved {sum(len(r.sliders) for r in moved)} frames sliders on "
            f"{len(moved)} pages ({', '.join(page_id(r.page) for r in moved)})"
        )
