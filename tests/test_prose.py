"""The book's words against its numbers, checked on the notebooks' source (no kernel).

* **No typed results.** A decimal in a page's prose is either glued from the cell that computes
  it (myst-nb's ``{glue:text}`` role: the next model changes it with no rewrite), or a fact from
  elsewhere, cited in the same sentence (``{cite}``, a link), or listed with its reason in
  ``tests/typed_numbers/<page>.toml`` (a setting of the recipe, an arithmetic constant, a quoted
  figure). Anything else is a number typed by hand from one run, and fails here.
* **No asserts that cannot fail.** A count in its own range ``0 <= k <= 6``, a count
  compared with 0 (``len(x) >= 0``, ``n.sum() >= 0``), an assert of a literal: each holds
  whatever the model does, so it checks nothing the reader is told.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).parents[1]
BOOK = ROOT / "book"
ALLOWED = Path(__file__).parent / "typed_numbers"
PAGES = sorted(BOOK.glob("*.ipynb"))

DECIMAL = re.compile(r"(?<![\w.§])-?\d+\.\d+(?![\w.])")  # §3.6 is a section
FENCE = re.compile(r"^(```|~~~)[^\n]*\n.*?^\1", re.S | re.M)
GLUE = re.compile(r"\{glue(?::\w+)?\}`[^`]*`")
XREF = re.compile(r"\b(Exercises?|Solutions?|Hints?|Table|Figure|Section|Eq\.)\s+\d+\.\d+", re.I)
URL = re.compile(r"\]\([^)]*\)|<https?://[^>]*>|https?://\S+")
CITED = re.compile(r"\{cite(?::\w+)?\}`|\]\(https?://")
SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z*(\[$`-])|\n\s*\n|\n\s*[-*] ")


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def markdown(path: Path) -> list[str]:
    return ["".join(c["source"]) for c in cells(path) if c["cell_type"] == "markdown"]


def allowed(path: Path) -> dict[str, str]:
    """``{typed number: why it is typed}`` for one page."""
    file = ALLOWED / f"{path.stem}.toml"
    return tomllib.loads(file.read_text(encoding="utf-8")) if file.exists() else {}


def typed_decimals(text: str) -> list[tuple[str, str]]:
    """``(number, sentence)`` for every decimal in ``text`` neither glued nor cited in its
    sentence. Code fences and link targets are not prose."""
    text = FENCE.sub("", text)
    found = []
    for sentence in SENTENCE.split(text):
        if CITED.search(sentence):
            continue
        bare = XREF.sub("", URL.sub("", GLUE.sub("", sentence)))
        found += [(m.group(), " ".join(sentence.split())) for m in DECIMAL.finditer(bare)]
    return found


def test_the_scanner_sees_typed_and_ignores_glued_and_cited():
    text = ("The model reaches 1.12 bits/dim. It reaches {glue:text}`bpd:.2f` bits/dim.\n\n"
            "RealNVP reports 1.06 {cite}`dinh2017density`. See [the thread](https://x.org/1.5).\n"
            "```python\nlr = 0.001\n```\nAt $T = 0.7$ it draws (paper §3.6, Exercise 8.2).")
    assert [n for n, _ in typed_decimals(text)] == ["1.12", "0.7"]


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.stem)
def test_no_decimal_in_prose_is_typed_by_hand(path):
    ok = allowed(path)
    for number, reason in ok.items():
        assert isinstance(reason, str) and len(reason.split()) >= 3, \
            f"{path.stem}: typed number {number} needs a reason (tests/typed_numbers/)"
    typed = [(n, s) for text in markdown(path) for n, s in typed_decimals(text) if n not in ok]
    assert not typed, (
        f"{path.name}: {len(typed)} decimal(s) typed in prose; glue them from the cell that "
        f"computes them (myst_nb.glue + {{glue:text}}), cite them, or list them with a reason in "
        f"tests/typed_numbers/{path.stem}.toml: "
        + "; ".join(f"{n!r} in {s[:100]!r}" for n, s in typed[:6]))


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.stem)
def test_every_allowed_number_is_still_on_its_page(path):
    text = "\n".join(markdown(path))
    stale = [n for n in allowed(path) if n not in text]
    assert not stale, f"tests/typed_numbers/{path.stem}.toml lists numbers no longer typed: {stale}"


# --- asserts that cannot fail ---------------------------------------------------------------

def _is_count(node: ast.AST) -> bool:
    """``len(...)``, ``int(...)`` of a sum, ``x.sum()``, ``x.numel()``: never negative."""
    if isinstance(node, ast.Call):
        f = node.func
        if isinstance(f, ast.Name) and f.id == "len":
            return True
        if isinstance(f, ast.Name) and f.id == "int" and node.args:
            return _is_count(node.args[0])
        if isinstance(f, ast.Attribute) and f.attr in ("sum", "numel", "count_nonzero"):
            return True
    return False


def _zero(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value == 0


def vacuous(test: ast.expr) -> str | None:
    """Why ``assert test`` cannot fail, or None."""
    if isinstance(test, ast.Constant):
        return "asserts a literal"
    if isinstance(test, ast.BoolOp):
        parts = [vacuous(v) for v in test.values]
        if isinstance(test.op, ast.And):
            return next((p for p in parts if p), None) if all(parts) else None
        return next((p for p in parts if p), None)
    if not isinstance(test, ast.Compare):
        return None
    items = [test.left, *test.comparators]
    if (len(items) == 3 and _zero(items[0]) and isinstance(test.ops[0], ast.LtE)
            and isinstance(items[2], ast.Constant)):
        return "0 <= k <= n: a count in its own range"
    for a, op, b in zip(items, test.ops, items[1:], strict=False):
        if isinstance(op, ast.GtE) and _is_count(a) and _zero(b):
            return "a count >= 0"
        if isinstance(op, ast.LtE) and _zero(a) and _is_count(b):
            return "0 <= a count"
        if isinstance(op, (ast.Eq, ast.LtE, ast.GtE, ast.Is)) and ast.dump(a) == ast.dump(b):
            return "compares a value with itself"
    return None


def asserts(path: Path) -> list[tuple[int, str, str]]:
    found = []
    for i, cell in enumerate(cells(path)):
        if cell["cell_type"] != "code":
            continue
        src = re.sub(r"^(\s*)[%!].*$", r"\1pass  # a magic", "".join(cell["source"]),
                     flags=re.M)
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.Assert) and (why := vacuous(node.test)):
                found.append((i, ast.unparse(node.test), why))
    return found


def test_the_vacuous_assert_finder_finds_them():
    for src, bad in [("assert 0 <= same <= 6", True), ("assert len(xs) >= 0", True),
                     ("assert True", True), ("assert (a > 0).sum() >= 0", True),
                     ("assert x == x", True), ("assert 0 <= k <= 6 and True", True),
                     ("assert 3 <= same <= 6", False), ("assert same >= 3", False),
                     ("assert 0.5 < frac", False), ("assert bpd < 1.2 and n > 3", False),
                     ("assert (a > 0).sum() >= 12", False)]:
        tree = ast.parse(src).body[0]
        assert bool(vacuous(tree.test)) == bad, src


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.stem)
def test_no_assert_that_cannot_fail(path):
    found = asserts(path)
    assert not found, f"{path.name}: asserts that cannot fail: " + "; ".join(
        f"cell {i}: assert {src} ({why})" for i, src, why in found)
