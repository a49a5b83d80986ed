"""Sphinx extension: a solution folds whole, its reasoning and its code in one box.

In a chapter a solution is one Markdown cell, raw HTML that folds in Jupyter, Colab and the HTML
alike::

    <details class="solution">
    <summary>Solution 6.2</summary>

    **Solution 6.2.** The reasoning, in Markdown ...

    </details>

followed by its code cell, tagged ``solution`` (and ``jupyter.source_hidden`` for Jupyter). A
notebook cannot put a code cell inside a Markdown cell, so in the HTML this extension does: it
moves the code cell (input and output) inside the ``<details>``, before its closing tag. A
``solution`` cell with no fold right before it is a warning (an error under ``-W``): it would
print open under a closed explanation. Hints fold the same way (``class="hint"``), with no code.
"""

from __future__ import annotations

import re
from typing import Any

from docutils import nodes
from sphinx.util import logging

logger = logging.getLogger(__name__)
OPEN = re.compile(r'^\s*<details class="(solution|hint)">')
TAG = "tag_solution"


def _is_close(node: nodes.Node) -> bool:
    return isinstance(node, nodes.raw) and node.astext().strip() == "</details>"


def _is_solution_cell(node: nodes.Node) -> bool:
    return isinstance(node, nodes.container) and TAG in node.get("classes", [])


def fold_solutions(app: Any, doctree: nodes.document) -> None:
    moved: set[int] = set()
    for raw in list(doctree.findall(nodes.raw)):
        if not OPEN.match(raw.astext()):
            continue
        parent = raw.parent
        start = parent.index(raw)
        close = next((k for k in range(start + 1, len(parent)) if _is_close(parent[k])), None)
        if close is None:
            logger.warning("a <details> fold is not closed by a '</details>' line",
                           location=raw)
            continue
        while close + 1 < len(parent) and _is_solution_cell(parent[close + 1]):
            cell = parent[close + 1]
            parent.remove(cell)
            parent.insert(close, cell)  # before </details>
            moved.add(id(cell))
            close += 1
    for cell in doctree.findall(_is_solution_cell):
        if id(cell) not in moved:
            logger.warning("a code cell tagged 'solution' does not follow a "
                           '<details class="solution"> cell: it would show unfolded',
                           location=cell)


def setup(app: Any) -> dict[str, bool]:
    app.connect("doctree-read", fold_solutions)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
