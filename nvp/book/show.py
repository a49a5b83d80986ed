"""Showing the package's own code in the book, at a width that fits the page.

A code block of the built book holds about 77 characters at a 1280 px window (measured in
Chromium; ``docs`` in DESIGN.md); a longer line is cut or scrolls sideways. :func:`source` shows
an object's source and refuses one that would not fit, so the book build fails instead of the
reader's page.
"""

from __future__ import annotations

import inspect
import textwrap
from typing import Any

WIDTH = 77  # characters a code block holds at 1280 px (chapters' code cells obey it too)


def source(obj: Any, width: int = WIDTH) -> Any:
    """``obj``'s source as a highlighted code block (``IPython.display.Code``).

    Raises:
        ValueError: a line is longer than ``width``; it names the line, so it can be wrapped.
    """
    from IPython.display import Code

    text = textwrap.dedent(inspect.getsource(obj))
    long = [(i, line) for i, line in enumerate(text.splitlines(), 1) if len(line) > width]
    if long:
        i, line = long[0]
        name = getattr(obj, "__qualname__", repr(obj))
        raise ValueError(f"{name}: {len(long)} line(s) wider than {width} characters, e.g. "
                         f"line {i} ({len(line)}): {line.strip()[:60]}…")
    return Code(text, language="python")
