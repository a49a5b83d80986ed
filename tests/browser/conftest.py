"""Fixtures for the browser checks of the built book (``tests/browser``).

The built HTML (``_build/html``, or ``$NVP_BOOK_HTML``; the book's root with ``_toc.yml`` is the
repository, or ``$NVP_BOOK_ROOT``) is served by ``http.server`` in a thread on
127.0.0.1 (port 0) and opened in Debian's Chromium (``/usr/bin/chromium``, or ``$NVP_CHROMIUM``),
headless, driven by Playwright for Python. Playwright's own browser downloads are never used.

Every page is loaded once per viewport (1280 px and 390 px wide); what the page shows is collected
into a :class:`PageReport`, cached, and each test asserts one aspect of it (``page_checks.py``).
Serving, loading and inspecting a page is ``harness.py``; the JavaScript it runs in the page is
``js/*.js``. Every request that is
not for 127.0.0.1 is aborted (and recorded) before it leaves; Chromium also resolves no host name
but 127.0.0.1, so nothing reaches the network even around the request routing.

Each page has ``$NVP_BROWSER_TIMEOUT`` seconds (30) to load. Without ``NVP_BROWSER_TESTS=1`` a
missing book build, Playwright or Chromium skips these tests; with it (CI), each of them is a
failure. Run them after ``make book``::

    NVP_BROWSER_TESTS=1 pytest tests/browser
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from harness import (
    CHROMIUM_ARGS,
    WIDGET_VIEW,
    Browser,
    SliderCheck,
    check_sliders,
    chromium_path,
    inspect,
    load_page,
    serve,
    settle,
)

ROOT = Path(os.environ.get("NVP_BOOK_ROOT") or Path(__file__).resolve().parents[2]).resolve()
REQUIRED = os.environ.get("NVP_BROWSER_TESTS") == "1"
HTML_DIR = Path(os.environ.get("NVP_BOOK_HTML") or ROOT / "_build" / "html").resolve()
SCREENSHOT_DIR = HTML_DIR.parent / "screenshots"
VIEWPORTS = {"wide": {"width": 1280, "height": 900}, "narrow": {"width": 390, "height": 844}}
# Seconds a page may take to load (and each action on it); raise it on a machine that is busy.
TIMEOUT_S = float(os.environ.get("NVP_BROWSER_TIMEOUT", "30"))


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


@pytest.fixture(scope="session")
def html_dir() -> Path:
    if not (HTML_DIR / "index.html").is_file():
        missing(f"no built book at {HTML_DIR} (run `make book` first)")
    return HTML_DIR


@pytest.fixture(scope="session")
def base_url(html_dir: Path) -> Iterator[str]:
    """The built book, served (see :func:`serve`)."""
    with serve(html_dir) as url:
        yield url


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("Playwright for Python is not installed (pip install playwright)")
    with sync_playwright() as p:
        yield p


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
            context.set_default_timeout(TIMEOUT_S * 1000)
            browser = Browser(context, name)
            context.route("**/*", browser.route)
            opened[name] = self[name] = browser
            return browser

    try:
        yield Lazy()
    finally:
        for browser in opened.values():
            browser.context.close()


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
    try:
        timed_out = settle(tab)
        shot_dir = SCREENSHOT_DIR if browser.viewport == "wide" else SCREENSHOT_DIR / "narrow"
        shot = shot_dir / f"{page_id(page)}.png"
        if browser.viewport == "wide":  # the first screen as a reader sees it (for the README)
            (SCREENSHOT_DIR / "top").mkdir(parents=True, exist_ok=True)
            tab.screenshot(path=str(SCREENSHOT_DIR / "top" / shot.name))
        dom = inspect(tab)
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
