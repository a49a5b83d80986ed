"""The built book, checked as a reader's browser sees it (headless Chromium, see conftest.py).

For every page of ``_toc.yml``, in a 1280 px and a 390 px wide viewport: it loads with no
JavaScript error and no failed request, nothing is requested from any host but 127.0.0.1, every
equation is typeset by MathJax, every image loads, every figure is shown, every widget renders,
the text fits a phone screen (wide content scrolls inside its own box), and at 1280 px no code
block, cell output or display equation is wider than its box, every slider has a visible label
shown in full, and no raw TeX is left in the text. Notebook chapters link to their own notebook
in Colab, and on every page with widgets each kernel-free frames slider (and its Play button)
changes the picture. ``test_checks_catch_faults.py`` proves that the layout checks fail on a page
with each fault.
Full-page screenshots go to ``_build/screenshots/`` (``narrow/`` for 390 px).

    make book && NVP_BROWSER_TESTS=1 pytest tests/browser
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from page_checks import (
    assert_code_fits,
    assert_equations_fit,
    assert_fits_a_phone,
    assert_no_raw_tex,
    assert_sliders_labelled,
    listing,
)

sys.path.insert(0, str(Path(__file__).parents[2] / "book" / "_ext"))
from nvp_release import release  # noqa: E402  (the build's own reading of the version)

# the book's release, not main
COLAB_PREFIX = ("https://colab.research.google.com/github/nvp-book/real-nvp-explained/blob/"
                f"{release()}/")


def test_page_loads_without_errors(report: Any) -> None:
    problems = (
        [f"console error: {m}" for m in report.console_errors]
        + [f"uncaught exception: {m}" for m in report.page_errors]
        + [f"failed request: {m}" for m in report.failed_requests]
        + [f"HTTP {m}" for m in report.bad_responses]
    )
    assert not problems, f"{report.url} ({report.viewport}):{listing(problems)}"


def test_nothing_leaves_loopback(report: Any) -> None:
    assert not report.blocked, (
        f"{report.url} requested hosts other than 127.0.0.1 (a CDN? vendor the file):"
        f"{listing(report.blocked)}"
    )


def test_math_is_rendered(report: Any) -> None:
    dom = report.dom
    if dom["mathNodes"]:
        assert dom["mathjax"], f"{report.url} has math but MathJax did not load"
        assert dom["mjxContainers"] > 0, f"{report.url}: no mjx-container, MathJax typeset nothing"
    assert not dom["mathRaw"], f"{report.url}: math left untypeset:{listing(dom['mathRaw'])}"
    assert not dom["mathErrors"], f"{report.url}: TeX errors:{listing(dom['mathErrors'])}"
    assert_no_raw_tex(dom, report.url)


def test_images_load(report: Any) -> None:
    broken = [
        f"{i['src']} (complete={i['complete']}, naturalWidth={i['naturalWidth']})"
        for i in report.dom["images"]
        if not i["complete"] or i["naturalWidth"] == 0
    ]
    assert not broken, (
        f"{report.url} ({report.viewport}): images that did not load:{listing(broken)}"
    )


def test_figures_are_shown(report: Any) -> None:
    missing = report.dom["figureless"]
    assert not missing, (
        f"{report.url}: {len(missing)} code cells call plt.show() but show no picture (was the "
        f"book built with MPLBACKEND=Agg? the kernel needs its inline backend):{listing(missing)}"
    )


def test_widgets_are_rendered(report: Any) -> None:
    dom = report.dom
    assert not dom["unrendered"], (
        f"{report.url}: {len(dom['unrendered'])} of {dom['viewScripts']} widget views rendered "
        f"nothing (html-manager not loaded, or widget state missing; waited "
        f"{'in vain ' if report.widgets_timed_out else ''}20 s):{listing(dom['unrendered'])}"
    )
    assert dom["widgetRoots"] >= dom["viewScripts"], (
        f"{report.url}: {dom['widgetRoots']} rendered widget roots for {dom['viewScripts']} views"
    )


def test_colab_link_opens_this_notebook(visit_page: Any, notebook_page: str) -> None:
    rep = visit_page("wide", notebook_page)
    expected = f"{COLAB_PREFIX}{notebook_page}.ipynb"
    assert expected in rep.dom["colab"], (
        f"{rep.url}: no Colab launch link to {expected}; Colab links found:"
        f"{listing(rep.dom['colab'] or ['(none)'])}"
    )
    others = [c for c in rep.dom["colab"] if c != expected]
    assert not others, f"{rep.url}: Colab links to other notebooks:{listing(others)}"


def test_fits_a_phone_screen(visit_page: Any, page: str) -> None:
    rep = visit_page("narrow", page)
    assert_fits_a_phone(rep.dom, rep.url)


def test_code_fits_its_box(visit_page: Any, page: str) -> None:
    """At 1280 px no code block, shown source or cell output scrolls sideways or is cut off."""
    rep = visit_page("wide", page)
    assert_code_fits(rep.dom, rep.url)


def test_equations_fit_the_column(visit_page: Any, page: str) -> None:
    """At 1280 px no display equation is wider than its box (the theme clips it)."""
    rep = visit_page("wide", page)
    assert_equations_fit(rep.dom, rep.url)


def test_sliders_say_what_they_change(visit_page: Any, page: str) -> None:
    """Every slider, live or precomputed, has a visible label shown in full."""
    rep = visit_page("wide", page)
    assert_sliders_labelled(rep.dom, rep.url)


def test_slider_flips_the_pictures(visit_page: Any, widget_page: str) -> None:
    """Kernel-free interaction: each frames slider changes the picture (→ keys, then Play)."""
    rep = visit_page("wide", widget_page)
    if not rep.frames_views:
        pytest.skip(f"{widget_page}: no jslinked frames slider in its widget state")
    for s in rep.sliders:
        assert not s.error, (
            f"{rep.url}: could not move frames slider #{s.index}: {s.error}; "
            f"see the page errors:{listing(rep.page_errors or ['(none)'])}"
        )
        assert s.before["pictures"], f"{rep.url}: frames slider #{s.index} shows no picture"
        assert s.after_keys["pictures"] != s.before["pictures"], (
            f"{rep.url}: pressing → three times on slider #{s.index} did not change the picture "
            f"(shown before: {s.before['text']!r}, after: {s.after_keys['text']!r}); "
            f"see the page errors:{listing(rep.page_errors or ['(none)'])}"
        )
        if s.has_play:
            assert s.after_play and s.after_play["pictures"] != s.before["pictures"], (
                f"{rep.url}: Play on slider #{s.index} did not animate the picture; "
                f"see the page errors:{listing(rep.page_errors or ['(none)'])}"
            )


def test_the_guard_blocks_other_hosts(browsers: Any) -> None:
    """The harness itself: a request for another host is aborted and recorded, never sent."""
    browser = browsers["wide"]
    browser.blocked.clear()
    tab = browser.context.new_page()
    try:
        tab.set_content('<img src="https://cdn.example.org/x.png"><p>guard</p>')
        tab.wait_for_load_state("load")
    finally:
        tab.close()
    assert browser.blocked == ["https://cdn.example.org/x.png"]
    browser.blocked.clear()
