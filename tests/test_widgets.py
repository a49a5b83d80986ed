"""nvp.book.widgets.frames_slider: the static-page slider (the browser test moves it in a real
page), and the one module of nvp that needs ipywidgets."""

from __future__ import annotations

import subprocess
import sys

import pytest

from nvp.book.widgets import _html_slider, frames_slider

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
        frames_slider(PNGS, start=4)
    with pytest.raises(ValueError, match="labels"):
        frames_slider(PNGS, labels=["a"])
    with pytest.raises(ValueError, match="at least one"):
        frames_slider([])


def test_html_fallback_shows_the_start_frame_only():
    page = _html_slider(PNGS, "T", ["a", "b", "c", "d"], start=1).data
    assert 'value="1"' in page
    assert page.count("display:none") == 2 * (len(PNGS) - 1)  # images and captions but one
    assert '<img data-k="1" style="max-width:100%;"' in page


def test_only_the_widgets_module_imports_ipywidgets():
    code = ("import sys, nvp, nvp.book\n"
            "from nvp.book import curves, explore, plot, plot2d, table, toy, trace\n"
            "assert 'ipywidgets' not in sys.modules, 'imported ipywidgets'\n"
            "import nvp.book.widgets\n"
            "assert 'ipywidgets' in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True)
