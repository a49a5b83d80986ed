"""The README's "package in ten lines" runs as printed (offline, in a temporary folder)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).parents[1] / "README.md"


def ten_lines() -> str:
    section = README.read_text(encoding="utf-8").split("## The package in ten lines", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S)[1]


def test_the_ten_line_example_runs(tmp_path, monkeypatch):
    code = ten_lines()
    assert len([line for line in code.splitlines() if line.strip()]) <= 10
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)  # noqa: S102
    assert scope["z"].shape == scope["x"].shape == (16, 1, 28, 28)
    assert (scope["x_back"] - scope["x"]).abs().max() < 1e-4  # the exact inverse
    assert scope["samples"].shape == (64, 1, 28, 28)
    assert (tmp_path / "runs" / "try" / "best.pt").is_file()
