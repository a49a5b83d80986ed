"""Sphinx extension: every chapter's Colab button opens the book's release, ``v{version}``.

The version is the one in ``pyproject.toml``, read at build time. Each chapter's first cell
installs the package of the same release in Colab (``git+…@v{version}``,
``tests/test_chapters.py`` checks it), so a reader who opens a chapter next year runs the
notebook and the package it was written for, not whatever ``main`` is then. The workflow tags
the release when it publishes the book (``.github/workflows/book.yml``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

PYPROJECT = Path(__file__).parents[2] / "pyproject.toml"


def release() -> str:
    """``v`` + the project's version: the tag the book's Colab links and installs name."""
    # the [project] table's version line (tomllib is Python 3.11+; the project supports 3.10)
    return "v" + re.search(r'^version = "([^"]+)"$', PYPROJECT.read_text(), re.M)[1]


def _pin(app: Any, config: Any) -> None:
    config.html_theme_options = {**config.html_theme_options, "repository_branch": release()}


def setup(app: Any) -> dict[str, bool]:
    app.connect("config-inited", _pin)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
