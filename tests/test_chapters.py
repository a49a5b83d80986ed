"""The chapters as a reader meets them, checked on the notebooks' source (no kernel, no browser).

* Exercises: every ``**Exercise N.K.**`` has a hint or a worked solution carrying its own number,
  ``N.K``, robust to Markdown renumbering lists; every hint and solution points at an exercise
  that exists; every exercise can be checked, by a worked solution (its code cell, which the
  book build executes, right after its ``**Solution N.K.**`` cell) or by a check the reader
  calls (``check_flow``).
* Solutions fold whole: the reasoning in prose inside ``<details class="solution">`` (it folds in
  Jupyter, Colab and the HTML), its code cell tagged ``solution`` and hidden in Jupyter; the build
  moves that cell inside the fold (``book/_ext/nvp_solutions.py``). Hints fold the same way.
* Code cells fit the page: a code block holds 77 characters at a 1280 px window.
* Every chapter ends with a summary before its exercises.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from nvp.book.show import WIDTH

BOOK = Path(__file__).parents[1] / "book"
CHAPTERS = sorted(BOOK.glob("[0-9][0-9]_*.ipynb"))
MARK = re.compile(r"\*\*(Exercise|Hint|Solution) (\d+)\.(\d+)\b")
FOLD = {"Hint": '<details class="hint">', "Solution": '<details class="solution">'}


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def text(cell: dict) -> str:
    return "".join(cell["source"])


def marks(path: Path) -> dict[str, dict[str, list[int]]]:
    """``{kind: {"N.K": [cell indices]}}`` for Exercise, Hint and Solution markers."""
    found: dict[str, dict[str, list[int]]] = {"Exercise": {}, "Hint": {}, "Solution": {}}
    for i, cell in enumerate(cells(path)):
        if cell["cell_type"] == "markdown":
            for kind, n, k in MARK.findall(text(cell)):
                found[kind].setdefault(f"{n}.{k}", []).append(i)
    return found


def test_there_are_chapters():
    assert len(CHAPTERS) >= 9


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_exercises_have_hints_or_solutions_with_their_own_numbers(path):
    chapter = int(path.name[:2])
    found = marks(path)
    exercises = found["Exercise"]
    assert exercises, f"{path.name} has no exercises"
    for ex, where in exercises.items():
        assert ex.startswith(f"{chapter}."), f"exercise {ex} sits in chapter {chapter}"
        assert len(where) == 1, f"exercise {ex} is defined twice"
    numbers = sorted(int(ex.split(".")[1]) for ex in exercises)
    assert numbers == list(range(1, len(numbers) + 1)), f"exercises numbered {numbers}"
    for kind in ("Hint", "Solution"):
        for ex in found[kind]:
            assert ex in exercises, f"{kind.lower()} {ex} points at no exercise of {path.name}"
    for ex in exercises:
        assert ex in found["Hint"] or ex in found["Solution"], f"exercise {ex}: no hint or solution"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_exercise_can_be_checked(path):
    all_cells, found = cells(path), marks(path)
    for ex, (i,) in found["Exercise"].items():
        if "check_flow" in text(all_cells[i]).split(f"Exercise {ex}", 1)[1].split("**Exercise")[0]:
            continue  # the reader checks their own code with nvp.testing.check_flow
        assert ex in found["Solution"], f"exercise {ex}: no worked solution and no check"
        for j in found["Solution"][ex]:
            nxt = all_cells[j + 1] if j + 1 < len(all_cells) else None
            assert nxt is not None and nxt["cell_type"] == "code", \
                f"solution {ex}: the cell after its marker must be the code that solves it"
            meta = nxt.get("metadata", {})
            assert "solution" in meta.get("tags", []), f"solution {ex}: tag its code 'solution'"
            assert meta.get("jupyter", {}).get("source_hidden"), \
                f"solution {ex}: its code must be folded in Jupyter too (jupyter.source_hidden)"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_hints_and_solutions_fold_whole_with_their_reasoning(path):
    all_cells, found = cells(path), marks(path)
    for kind in ("Hint", "Solution"):
        for ex, where in found[kind].items():
            for j in where:
                src = text(all_cells[j]).strip()
                assert src.startswith(FOLD[kind]) and src.endswith("</details>"), (
                    f"{kind.lower()} {ex}: one Markdown cell, {FOLD[kind]} ... </details>")
                assert f"<summary>{kind} {ex}</summary>" in src, f"{kind.lower()} {ex}: summary"
                assert src.count("<details") == 1, f"{kind.lower()} {ex}: one fold per cell"
                words = src.split(f"**{kind} {ex}.**", 1)[1].split()
                least = 12 if kind == "Solution" else 5
                assert len(words) >= least, f"{kind.lower()} {ex}: say the reasoning in prose"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_code_cells_fit_the_page(path):
    long = [(i, line) for i, c in enumerate(cells(path)) if c["cell_type"] == "code"
            and "remove-cell" not in c.get("metadata", {}).get("tags", [])
            for line in text(c).splitlines() if len(line) > WIDTH]
    assert not long, f"{len(long)} code line(s) wider than {WIDTH} characters, e.g. {long[:3]}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_a_summary_closes_the_chapter_before_its_exercises(path):
    headings = [line for c in cells(path) if c["cell_type"] == "markdown"
                for line in text(c).splitlines() if line.startswith("## ")]
    assert "## Summary" in headings, f"{path.name} has no '## Summary' section"
    assert headings[-2:] == ["## Summary", "## Exercises"], headings[-3:]


def test_colab_installs_the_books_release():
    """Every notebook's Colab cell installs the release its Colab button opens (book/_ext/
    nvp_release.py): ``v`` + pyproject's version, which is also ``nvp.__version__``."""
    import re

    import nvp

    pyproject = (BOOK.parent / "pyproject.toml").read_text()
    version = re.search(r'^version = "([^"]+)"$', pyproject, re.M)[1]
    assert nvp.__version__ == version
    pin = f'"nvp[book] @ git+https://github.com/nvp-book/real-nvp-explained@v{version}"'
    notebooks = sorted(BOOK.glob("*.ipynb"))
    for path in notebooks:
        first = cells(path)[0]
        assert "remove-cell" in first["metadata"].get("tags", []), path.name
        assert "google.colab" in text(first) and f"%pip install -q {pin}" in text(first), (
            f"{path.name}: its Colab cell must install {pin}")
