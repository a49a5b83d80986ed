"""nvp.book.widgets.frames_slider: the static-page slider (the browser test moves it in a real
page), and the one module of nvp that needs ipywidgets."""

from __future__ import annotations

import subprocess
import sys

import ipywidgets as widgets
import matplotlib
import pytest

from nvp.book.widgets import _html_slider, frames_slider, live_figure

matplotlib.use("Agg")

PNGS = [bytes([0x89]) + f"frame{k}".encode() for k in range(4)]  # stand-ins: never decoded here


def test_frames_slider_starts_where_asked_and_links_every_part():
    box = frames_slider(PNGS, description="T", labels=["a", "b", "c", "d"], start=2)
    row, images = box.children
    player, slider, captions = row.children
    assert slider.value == player.value == 2
    assert images.selected_index == captions.selected_index == 2
    assert [im.value for im in images.children] == PNGS


def test_frames_slider_rejects_bad_input():
    with pytest.raises(ValueError, match="start"):
        frames_slider(PNGS, "T", start=4)
    with pytest.raises(ValueError, match="labels"):
        frames_slider(PNGS, "T", labels=["a"])
    with pytest.raises(ValueError, match="at least one"):
        frames_slider([], "T")


@pytest.mark.parametrize("description", ["", "   ", None])
def test_frames_slider_needs_a_label(description):
    with pytest.raises(ValueError, match="frames_slider needs a non-empty description"):
        frames_slider(PNGS, description)
    with pytest.raises(ValueError, match="description"):
        frames_slider(PNGS)  # the default is no label, which is refused


def test_frames_slider_shows_its_label_in_full():
    box = frames_slider(PNGS, description="temperature T", play=False)
    (slider,) = box.children[0].children
    assert slider.description == "temperature T"
    assert slider.style.description_width == "initial"
    assert slider.layout.min_width == "calc(13ch + 230px)"  # the track keeps its room


def _draw(**values):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1, 1))
    ax.set_title(repr(values))
    return fig


def test_live_figure_labels_every_control_in_full():
    s = widgets.FloatSlider(value=0.5, min=0, max=1, description="s (log-scale)")
    t = widgets.FloatSlider(value=0.0, min=-1, max=1, description="t (shift)")
    box = live_figure(_draw, s=s, t=t)
    row, picture = box.children
    assert list(row.children) == [s, t]
    assert all(c.style.description_width == "initial" for c in (s, t))
    assert s.layout.min_width == "calc(13ch + 230px)"
    fixed = widgets.FloatSlider(description="β", layout=widgets.Layout(width="20em"))
    live_figure(_draw, beta=fixed)
    assert fixed.layout.min_width is None  # a width the caller chose is kept
    before = picture.value
    s.value = 0.9  # the kernel-side callback redraws
    assert picture.value != before


def test_live_figure_refuses_an_unlabelled_control():
    good = widgets.FloatSlider(description="s (log-scale)")
    bare = widgets.FloatSlider(value=0.6)
    with pytest.raises(ValueError, match="live_figure control 't' \\(FloatSlider\\)"):
        live_figure(_draw, s=good, t=bare)
    with pytest.raises(ValueError, match="at least one control"):
        live_figure(_draw)


def test_html_fallback_shows_the_start_frame_only():
    page = _html_slider(PNGS, "T", ["a", "b", "c", "d"], start=1).data
    assert 'value="1"' in page
    assert page.count("display:none") == 2 * (len(PNGS) - 1)  # images and captions but one
    assert '<img data-k="1" style="max-width:100%;"' in page


def test_html_fallback_labels_its_range_input(monkeypatch):
    monkeypatch.delattr(widgets, "Stack")  # as on Colab's ipywidgets 7
    page = frames_slider(PNGS, description="β <0.9>").data
    assert '<label style="white-space:nowrap">' in page
    assert '<span class="nvp-slider-label">β &lt;0.9&gt;</span>' in page
    assert 'aria-label="β &lt;0.9&gt;"' in page
    with pytest.raises(ValueError, match="description"):
        frames_slider(PNGS, description=" ")


def test_only_the_widgets_module_imports_ipywidgets():
    code = ("import sys, nvp, nvp.book\n"
            "from nvp.book import curves, explore, plot, plot1d, plot2d, table, toy, trace\n"
            "assert 'ipywidgets' not in sys.modules, 'imported ipywidgets'\n"
            "import nvp.book.widgets\n"
            "assert 'ipywidgets' in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True)
