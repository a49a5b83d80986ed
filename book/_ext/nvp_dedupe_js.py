"""Sphinx extension: drop the inline scripts that Sphinx 7 writes twice into every page.

Extensions that add an inline script (``app.add_js_file(None, body=...)``) once the builder exists,
as JB1's sphinx-thebe and sphinx-togglebutton do, get it twice: once directly and once from the
registry (as ``filename=''``). The second ``const THEBE_JS_URL = ...`` then throws "Identifier
'THEBE_JS_URL' has already been declared" on every page of the book.
"""

from __future__ import annotations

from typing import Any


def _dedupe(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    files = context.get("script_files")
    if not isinstance(files, list):
        return
    seen: set[tuple[str, str]] = set()
    kept = []
    for js in files:
        attributes = sorted(getattr(js, "attributes", {}).items())
        key = (getattr(js, "filename", js) or "", repr(attributes))
        if key not in seen:
            seen.add(key)
            kept.append(js)
    files[:] = kept


def setup(app: Any) -> dict[str, bool]:
    app.connect("html-page-context", _dedupe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
