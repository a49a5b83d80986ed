"""The layout checks of the book's pages can fail: each is run on a small page made with the fault.

Two synthetic pages, built here from one template: ``faulty.html`` holds one of each fault the
browser test must catch, ``sound.html`` the same content made right. Both use what the book uses:
MathJax 3 and the ipywidgets html-manager vendored in ``book/_vendor`` (sliders rendered from
widget state that ipywidgets writes here, as myst-nb does), ``book/_static/widgets-setup.js``,
Sphinx's MathJax options, and the pydata theme's CSS rules for math (its ``div.math`` clips, which
is how the book showed "+8D" without its D). The faults:

- a code cell, a text output and a collapsed block (``<details>``, closed: the check opens it)
  with a line of over 140 characters (the column holds about 85);
- a table output wider than the column;
- a display equation wider than the column (clipped by ``div.math``), and an inline equation
  too long for its table cell (it scrolls in its ``span.math``);
- a Markdown table wider than the column (it scrolls in its container);
- an ``IntSlider`` without a description, a ``FloatSlider`` whose long description is cut to the
  default width, a row of two sliders whose full-width labels squeeze one track to a dot, and an
  ``<input type=range>`` with only an invisible ``aria-label``;
- ``$$``, ``\\frac`` and ``\\begin{aligned}`` left raw in a paragraph;
- at 390 px, an image that sticks out of the screen outside any box that scrolls.

The sound page's sliders are the book's own: ``nvp.book.widgets.frames_slider``, ``live_figure``
and the HTML slider Colab gets. Each check must raise on the faulty page (naming the fault) and
pass on the sound one, with the same assertion functions that ``test_book_pages.py`` applies to
every page of the book. These tests
need Chromium and Playwright, not the book build.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from harness import inspect, load_page, serve, settle
from page_checks import (
    assert_code_fits,
    assert_equations_fit,
    assert_fits_a_phone,
    assert_no_raw_tex,
    assert_sliders_labelled,
)

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "book" / "_vendor"
SETUP = ROOT / "book" / "_static" / "widgets-setup.js"
CUSTOM_CSS = ROOT / "book" / "_static" / "custom.css"  # the book's own rules (span.math)

STYLE = """
body { margin: 0; font: 16px/1.5 sans-serif; }
article.bd-article { max-width: 760px; margin: 0 auto; padding: 0 16px; }
pre { font: 14px/1.4 monospace; overflow: auto; padding: 8px; background: #f6f6f6; }
/* pydata-sphinx-theme 0.15 (static/styles/pydata-sphinx-theme.css), verbatim: */
div.math, span.math { align-items: center; display: flex; max-width: 100%; overflow: hidden; }
div.math { flex-direction: row-reverse; gap: .5em; }
div.math mjx-container { flex-grow: 1; overflow: auto; padding-bottom: .2rem; }
div.math mjx-container mjx-assistive-mml { height: 0; }
.pst-scrollable-table-container { overflow-x: auto; }
"""

# Sphinx's MathJax 3 options: prose (class "document") is never typeset, only math nodes.
MATHJAX = ('window.MathJax = {options: {ignoreHtmlClass: "tex2jax_ignore|mathjax_ignore|document",'
           ' processHtmlClass: "tex2jax_process|mathjax_process|math|output_area"}};')

LONG_CODE = "x = " + " + ".join(f"term_{k:02d}" for k in range(14))  # 141 characters
SHORT_CODE = "x = " + " + ".join(f"term_{k:02d}" for k in range(5)) + "  # fits"
LONG_EQ = r"\log p(x) = " + " + ".join(rf"\log \sigma\big(s_{{{k}}}(x_{{{k}}})\big)"
                                        for k in range(10))
INLINE_LONG = (r"\sum_d \operatorname{softplus}(y_d) + \operatorname{softplus}(-y_d)"
               r" + \log \beta + \log \beta + \log \beta + \log \beta + \log \beta")
SPLIT_EQ = (r"\begin{aligned} \log p(x) &= \log \sigma\big(s_1(x_1)\big) + \log \sigma"
            r"\big(s_2(x_2)\big) \\ &\quad + \log \sigma\big(s_3(x_3)\big) \end{aligned}")


def tiny_png(shade: int) -> bytes:
    """A 2×2 grey PNG, for frames that are never looked at."""
    import io

    import numpy as np
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.full((2, 2), shade, dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def draw(**values: float) -> Any:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1, 1))
    ax.set_title(str(values))
    return fig


def widget_views(faulty: bool) -> tuple[list[Any], str]:
    """The sliders of a page: widgets (rendered by the html-manager), and HTML."""
    import ipywidgets as widgets

    from nvp.book.widgets import _html_slider, frames_slider, live_figure

    if faulty:
        initial = {"description_width": "initial"}
        squeezed = [widgets.FloatSlider(description="log-scale s of the coupling layer",
                                        style=initial),
                    widgets.FloatSlider(description="shift t", style=initial)]
        views = [widgets.IntSlider(value=3, max=10),  # no description
                 widgets.FloatSlider(value=0.5, description="log-scale s of the coupling layer"),
                 widgets.HBox(squeezed, layout=widgets.Layout(flex_flow="row wrap"))]
        return views, '<input type="range" min="0" max="4" value="1" aria-label="β">'
    # The book's own widgets: what chapters build, and what Colab shows (ipywidgets 7).
    frames = [tiny_png(k) for k in (0, 128, 255)]
    views = [frames_slider(frames, description="temperature T", labels=["0", "0.5", "1"]),
             live_figure(draw, s=widgets.FloatSlider(description="log-scale s of the coupling "
                                                                 "layer"),
                         t=widgets.FloatSlider(description="shift t"))]
    return views, _html_slider(frames, "β (data constraint)", None).data


def widget_scripts(views: list[Any]) -> tuple[str, list[str]]:
    """The widget-state script and one view script per view, as myst-nb writes them."""
    from ipywidgets.embed import dependency_state

    state = {"version_major": 2, "version_minor": 0, "state": dependency_state(views)}
    specs = [{"version_major": 2, "version_minor": 0, "model_id": v.model_id} for v in views]
    tag = '<script type="application/vnd.jupyter.widget-{}+json">{}</script>'
    return (tag.format("state", json.dumps(state)),
            [tag.format("view", json.dumps(spec)) for spec in specs])


def page(faulty: bool) -> str:
    """One page: the faults when ``faulty``, the same content made right otherwise."""
    views, range_html = widget_views(faulty)
    state, view_tags = widget_scripts(views)
    code = LONG_CODE if faulty else SHORT_CODE
    hidden = ("solution = " + code) if faulty else SHORT_CODE  # in a collapsed block
    table_cells = "".join(f"<td>column&nbsp;{k:02d}</td>" for k in range(16 if faulty else 4))
    equation = LONG_EQ if faulty else SPLIT_EQ
    text = (r"The density is $$p(x) = \frac{1}{Z} e^{-E(x)}$$ and \begin{aligned} a \end{aligned}."
            if faulty else "The density is the exponential of minus the energy, normalised.")
    # a Markdown table: too many columns, and a formula too long for its cell
    md_cells = "".join(f"<th>column&nbsp;{k:02d}</th>" for k in range(14 if faulty else 1))
    inline = html.escape(INLINE_LONG if faulty else r"\sum_d \log \beta_d")
    picture = ('<img alt="wide" width="900" height="20" src="data:image/gif;base64,'
               'R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7">' if faulty else "")
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>{"faulty" if faulty else "sound"} page</title>
<style>{STYLE}</style><link rel="stylesheet" href="custom.css">
<script>{MATHJAX}</script>
<script defer src="mathjax/tex-mml-chtml.js"></script>
<script src="require.js"></script><script src="widgets-setup.js"></script>
<script src="embed-amd.js"></script>
</head><body><div class="document"><article class="bd-article">
<section id="code"><h2>1. Code</h2>
<div class="cell"><div class="cell_input"><div class="highlight"><pre>{html.escape(code)}</pre>
</div></div><div class="cell_output"><div class="output"><div class="highlight">
<pre>{html.escape(code)}</pre></div></div>
<div class="output"><table><tr>{table_cells}</tr></table></div></div></div>
<details><summary>Show the solution</summary><div class="highlight"><pre>{html.escape(hidden)}</pre>
</div></details>
</section>
<section id="equations"><h2>2. Equations</h2>
<div class="math notranslate nohighlight">\\[{html.escape(equation)}\\]</div>
</section>
<section id="sliders"><h2>3. Sliders</h2>
{state}
{"".join(f'<div class="cell_output">{tag}</div>' for tag in view_tags)}
<div class="cell_output">{range_html}</div>
</section>
<section id="text"><h2>4. Text</h2><p>{html.escape(text)}</p><p>{picture}</p>
<div class="pst-scrollable-table-container"><table><tr><th>step</th>{md_cells}</tr></table></div>
<div class="pst-scrollable-table-container"><table style="table-layout: fixed; width: 100%">
<tr><td style="width: 30%">logit</td><td><span class="math notranslate nohighlight">\\({inline}\\)
</span></td></tr></table></div></section>
</article></div></body></html>
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The two pages beside the book's vendored MathJax, html-manager and widget set-up."""
    root = tmp_path_factory.mktemp("fault-pages")
    for item in [*VENDOR.iterdir(), SETUP, CUSTOM_CSS]:
        (root / item.name).symlink_to(item)
    for name, faulty in (("faulty", True), ("sound", False)):
        (root / f"{name}.html").write_text(page(faulty), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def shown(site: Path, browsers: Any) -> dict[tuple[str, str], dict[str, Any]]:
    """What js/collect.js and js/fit.js report for each page, at 1280 and at 390 px."""
    reports = {}
    with serve(site) as url:
        for name in ("faulty", "sound"):
            for viewport in ("wide", "narrow"):
                tab, events = load_page(browsers[viewport], url, f"{name}.html")
                try:
                    timed_out = settle(tab)
                    dom = inspect(tab)
                finally:
                    tab.close()
                dom["events"], dom["timed_out"] = events, timed_out
                reports[name, viewport] = dom
    return reports


CHECKS: dict[str, tuple[Callable[[dict[str, Any], str], None], str, list[str]]] = {
    # name: (assertion, viewport, what its message must name on the faulty page)
    "code": (assert_code_fits, "wide",
             ["code block in \"1. Code\"", "output block in \"1. Code\"",
              f"{len(LONG_CODE)} characters", "table in \"1. Code\"", "solution = x = term_00",
              "table in \"4. Text\""]),
    "equation": (assert_equations_fit, "wide",
                 ["display equation in \"2. Equations\"", "\\log p(x) = \\log \\sigma",
                  "inline equation in \"4. Text\"", "\\sum_d \\operatorname{softplus}"]),
    "sliders": (assert_sliders_labelled, "wide",
                ["has no visible label", "is cut short", "leaves the track only",
                 "range input in \"3. Sliders\""]),
    "raw TeX": (assert_no_raw_tex, "wide", ["$$", "\\frac", "\\begin{aligned}"]),
    "phone": (assert_fits_a_phone, "narrow", ["img"]),
}


@pytest.mark.parametrize("check", list(CHECKS))
def test_check_fails_on_the_faulty_page(shown: dict, check: str) -> None:
    assertion, viewport, names = CHECKS[check]
    dom = shown["faulty", viewport]
    with pytest.raises(AssertionError) as caught:
        assertion(dom, "faulty.html")
    message = str(caught.value)
    missing = [n for n in names if n not in message]
    assert not missing, f"the {check} check failed without naming {missing}:\n{message}"


@pytest.mark.parametrize("check", list(CHECKS))
def test_check_passes_the_sound_page(shown: dict, check: str) -> None:
    assertion, viewport, _ = CHECKS[check]
    assertion(shown["sound", viewport], "sound.html")


def test_the_sound_page_has_everything_to_check(shown: dict) -> None:
    """The sound page passes because its content fits, not because nothing was looked at."""
    for name in ("faulty", "sound"):
        dom = shown[name, "wide"]
        events = dom["events"]
        assert not (events["console"] or events["pageerror"] or events["failed"]), events
        assert not dom["timed_out"] and not dom["unrendered"], f"{name}: widgets did not render"
        assert dom["mjxContainers"] >= 1 and not dom["mathErrors"], f"{name}: MathJax"
        counted = dom["fit"]["counted"]
        assert counted["pre"] == 3 and counted["displays"] == 1, counted
    # faulty: IntSlider, FloatSlider, two in a row, a range input; sound: frames_slider's
    # IntSlider, live_figure's two FloatSliders, the HTML fallback's range input
    assert shown["faulty", "wide"]["fit"]["counted"]["sliders"] == 5
    sound = shown["sound", "wide"]["fit"]["counted"]
    assert sound["sliders"] == sound["labelled"] == 4, sound
