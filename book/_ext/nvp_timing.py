"""Sphinx extension: each page's execution time, printed at the end of the build.

The book must build in about 200 s on a 2-core machine (issue 19), so a slow chapter should be
seen the day it gets slow. When the build finishes this prints one line per executed page
(myst-nb's own measurement of the kernel run), slowest first, the sum, and the build's wall
time, and writes the same table to ``_build/execution-times.md`` (beside ``html/``). Pages an
incremental build did not execute again are listed apart, not summed.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

_START: dict[str, float] = {}


def _started(app: Any) -> None:
    _START["t"], _START["epoch"] = time.perf_counter(), time.time()


def table(times: dict[str, float], wall: float | None = None,
          earlier: list[str] | None = None) -> str:
    """A Markdown table of ``{page: seconds}``, slowest first, with the total; ``earlier``:
    pages executed by an earlier build (listed, not timed)."""
    rows = ["| page | execution (s) |", "|---|---:|"]
    rows += [f"| {page} | {t:.1f} |" for page, t in sorted(times.items(), key=lambda kv: -kv[1])]
    rows.append(f"| **all pages executed** | **{sum(times.values()):.1f}** |")
    rows += [f"| {page} | not executed again |" for page in sorted(earlier or [])]
    if wall is not None:
        rows.append(f"| build wall time | {wall:.1f} |")
    return "\n".join(rows)


def _report(app: Any, exception: Exception | None) -> None:
    if exception is not None:
        return
    data = getattr(app.env, "nb_metadata", {})
    runs = {doc: meta["exec_data"] for doc, meta in data.items()
            if meta.get("exec_data") and meta["exec_data"].get("runtime") is not None}
    if not runs:
        return
    start = _START.get("epoch", 0.0)
    times = {doc: float(r["runtime"]) for doc, r in runs.items() if r.get("mtime", start) >= start}
    wall = time.perf_counter() - _START["t"] if "t" in _START else None
    text = table(times, wall, [doc for doc in runs if doc not in times])
    print("\nExecution time per page (myst-nb, seconds):\n" + text)
    Path(app.outdir).parent.joinpath("execution-times.md").write_text(text + "\n")


def setup(app: Any) -> dict[str, bool]:
    app.connect("builder-inited", _started)
    app.connect("build-finished", _report)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
