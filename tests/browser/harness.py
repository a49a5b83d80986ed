"""The browser harness: the book's pages served on 127.0.0.1 and inspected in Chromium.

Used by ``conftest.py`` (the built book) and ``test_checks_catch_faults.py`` (synthetic pages with
known faults). The JavaScript that runs in the pages lives in ``js/*.js``: one function expression
per file, each with a comment saying what it returns; :func:`js` loads it.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

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


@contextlib.contextmanager
def serve(directory: Path) -> Iterator[str]:
    """``directory`` served over HTTP on 127.0.0.1 and a free port, in a daemon thread."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
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


# The JavaScript that runs in the page (Playwright's evaluate) lives in js/*.js, one function
# expression per file, each with a comment saying what it returns. __RENDERED__ in a script is
# replaced by js/rendered.js, __WIDGET_VIEW__ by the widget view MIME type.

JS_DIR = Path(__file__).resolve().parent / "js"


@functools.cache
def js(name: str) -> str:
    """The script ``js/<name>.js``, with its placeholders filled in."""
    text = (JS_DIR / f"{name}.js").read_text(encoding="utf-8").strip()
    if "__RENDERED__" in text and name != "rendered":
        text = text.replace("__RENDERED__", js("rendered"))
    return text.replace("__WIDGET_VIEW__", WIDGET_VIEW)


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
        now = tab.evaluate(js("shown"), index)
        if now["pictures"] != before["pictures"]:
            break
        tab.wait_for_timeout(100)
    return now


def check_sliders(tab: Any) -> tuple[int, list[SliderCheck]]:
    """Move every frames slider with the keyboard, then press its Play button.

    Returns the number of jslinked frames views in the widget state, and one check per view.
    """
    found = tab.evaluate(js("frames_areas"))
    checks = []
    for index in range(found["areas"]):
        area = tab.locator(f'[data-nvp-frames="{index}"]')
        check = SliderCheck(index, {"pictures": [], "text": ""}, {"pictures": [], "text": ""})
        checks.append(check)
        try:
            area.scroll_into_view_if_needed(timeout=10_000)
            check.before = tab.evaluate(js("shown"), index)
            handle = area.locator(".noUi-handle, input[type=range]").first
            handle.focus(timeout=10_000)
            for _ in range(3):
                handle.press("ArrowRight", timeout=10_000)
            check.after_keys = _until_changed(tab, index, check.before, 5)
            handle.press("Home", timeout=10_000)
            play = area.locator(".widget-play button").first
            if play.count():
                check.has_play = True
                start = tab.evaluate(js("shown"), index)
                play.click(timeout=10_000)
                check.after_play = _until_changed(tab, index, start, 5)
        except Exception as error:  # noqa: BLE001 - reported by the test, with the page's errors
            check.error = f"{type(error).__name__}: {error}".splitlines()[0]
    return found["areas"], checks


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


def settle(tab: Any) -> bool:
    """Wait for MathJax and for every widget view (20 s); True when the widgets timed out."""
    tab.evaluate(js("wait_math"))
    try:
        tab.wait_for_function(js("widgets_done"), timeout=20_000, polling=100)
    except Exception:  # noqa: BLE001 - a timeout is reported as unrendered widgets
        return True
    return False


def inspect(tab: Any) -> dict[str, Any]:
    """Everything the tests read from a settled page: js/collect.js, with js/fit.js as "fit"."""
    tab.evaluate(js("scroll_and_wait_images"))
    dom = tab.evaluate(js("collect"))
    dom["fit"] = tab.evaluate(js("fit"))
    return dom
