"""A small table for the book: HTML in Jupyter, a Markdown pipe table in text (no pandas).

Cells are formatted once, when the table is built: integers with thousands separators
(``1,234``), floats with three significant digits, shapes ``(C, H, W)`` as ``C×H×W``, ``None`` as
an empty cell. A column whose cells are all numbers is right-aligned.
"""

from __future__ import annotations

import html
from collections.abc import Sequence


def _fmt(v: object) -> str:
    """The text of one cell."""
    if isinstance(v, bool) or v is None:
        return "" if v is None else str(v)
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return f"{v:,.3g}"
    if isinstance(v, tuple):
        return "×".join(str(d) for d in v)
    return str(v)


def _is_number(s: str) -> bool:
    """Whether a formatted cell is a number such as ``-1,234.5``."""
    return s.replace(",", "").replace(".", "", 1).removeprefix("-").isdigit()


def _html_cell(tag: str, text: str, numeric: bool) -> str:
    """One ``<th>``/``<td>``, escaped; numbers and short texts (shapes) never wrap."""
    style = f"text-align:{'right' if numeric else 'left'};padding:0.1em 0.5em"
    if numeric or len(text) <= 12:
        style += ";white-space:nowrap"
    return f'<{tag} style="{style}">{html.escape(text)}</{tag}>'


class Table:
    """Rows of values under a header; shows as HTML in Jupyter and as Markdown in text."""

    def __init__(self, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        self.header = list(header)
        self.rows = [[_fmt(v) for v in r] for r in rows]
        if any(len(r) != len(self.header) for r in self.rows):
            raise ValueError("every row needs one value per column")
        cols = [[r[k] for r in self.rows] for k in range(len(self.header))]
        self.numeric = [any(col) and all(_is_number(c) for c in col if c) for col in cols]

    def to_markdown(self) -> str:
        """GitHub/MyST pipe table."""
        align = ["---:" if n else ":---" for n in self.numeric]
        lines = ["| " + " | ".join(self.header) + " |", "| " + " | ".join(align) + " |"]
        lines += ["| " + " | ".join(r) + " |" for r in self.rows]
        return "\n".join(lines)

    def to_html(self) -> str:
        """A plain ``<table>`` (escaped), scrolling sideways on narrow screens."""
        head = "".join(_html_cell("th", h, n) for h, n in zip(self.header, self.numeric,
                                                               strict=True))
        body = "".join("<tr>" + "".join(_html_cell("td", v, n) for v, n in
                                        zip(r, self.numeric, strict=True)) + "</tr>"
                       for r in self.rows)
        return (f'<div style="overflow-x:auto"><table class="nvp-table" style="width:100%">'
                f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        return self.to_markdown()
