"""The assertions on what a page shows (``dom``: js/collect.js, with js/fit.js under ``"fit"``).

One function per check, shared by the tests of the built book (``test_book_pages.py``) and by
the tests that prove each check fails on a page with the fault (``test_checks_catch_faults.py``).
"""

from __future__ import annotations

from typing import Any


def listing(items: list[str], limit: int = 8) -> str:
    shown = "\n  ".join(items[:limit])
    more = f"\n  ... and {len(items) - limit} more" if len(items) > limit else ""
    return f"\n  {shown}{more}"


def assert_no_raw_tex(dom: dict[str, Any], where: str) -> None:
    """No ``$$``, ``\\[``, ``\\begin{``, ``\\frac``... in the visible text outside code."""
    assert not dom["rawTex"], f"{where}: raw TeX in the visible text:{listing(dom['rawTex'])}"


def assert_code_fits(dom: dict[str, Any], where: str) -> None:
    """No code block or cell output wider than its box (1280 px: nothing scrolls sideways)."""
    fit = dom["fit"]
    problems = fit["code"] + fit["outputs"]
    assert not problems, (
        f"{where}: {len(problems)} code blocks or outputs do not fit the text column "
        f"(a code line holds 77 characters at 1280 px; wrap it, or shorten the output):"
        f"{listing(problems)}"
    )


def assert_equations_fit(dom: dict[str, Any], where: str) -> None:
    """No display equation wider than its box (clipped by the theme, or scrolling)."""
    eqs = dom["fit"]["equations"]
    assert not eqs, (
        f"{where}: {len(eqs)} display equations are wider than the text column, so the reader "
        f"sees them cut off or scrolling (split them with \\begin{{aligned}}):{listing(eqs)}"
    )


def assert_sliders_labelled(dom: dict[str, Any], where: str) -> None:
    """Every slider has a visible, non-empty label, shown in full."""
    bad = dom["fit"]["sliders"]
    assert not bad, (
        f"{where}: {len(bad)} sliders do not say what they change (give each a description, "
        f'shown in full with style={{"description_width": "initial"}}):{listing(bad)}'
    )


def assert_fits_a_phone(dom: dict[str, Any], where: str) -> None:
    """At 390 px wide content may scroll inside its own box, but must not widen the page."""
    assert dom["scrollWidth"] <= dom["innerWidth"] + 1, (
        f"{where} at {dom['innerWidth']} px scrolls sideways: the document is "
        f"{dom['scrollWidth']} px wide; outermost overflowing elements:{listing(dom['offenders'])}"
    )
    assert not dom["offenders"], (
        f"{where} at {dom['innerWidth']} px: {dom['offenderCount']} elements stick out of the "
        f"screen, cut off, outside any box that scrolls sideways:{listing(dom['offenders'])}"
    )
