"""nvp.book.live (the HTML of the browser tools) and live_figure's static version."""

from __future__ import annotations

import html
import json

import ipywidgets as widgets
import matplotlib.pyplot as plt
import pytest
import torch

import nvp
from nvp.book.live import live_tool, score_digits
from nvp.book.widgets import live_figure


def config_of(out) -> dict:
    start = out.data.index('data-config="') + len('data-config="')
    return json.loads(html.unescape(out.data[start:out.data.index('"', start)]))


def test_draw_tool_carries_digits_and_scores():
    x = torch.randint(0, 256, (3, 1, 28, 28)).float() / 255
    out = live_tool("draw", digits=x, labels=[1, 2, 3], scores=torch.tensor([1.0, 1.5, 2.0]))
    cfg = config_of(out)
    assert torch.equal(torch.tensor(cfg["digits"]).view(3, 1, 28, 28) / 255, x)
    assert cfg["scores"] == [1.0, 1.5, 2.0] and cfg["labels"] == [1, 2, 3]
    assert 'data-tool="draw"' in out.data and "nvp-live.js" in out.data
    assert "make serve" in out.data  # what to do where the tool cannot run


@pytest.mark.parametrize("kwargs, message", [
    (dict(kind="painter"), "kind must be one of"),
    (dict(kind="draw"), "digits of shape"),
    (dict(kind="draw", digits=torch.zeros(2, 1, 28, 28)), "scores"),
    (dict(kind="interpolate", digits=torch.zeros(2, 1, 8, 8)), "digits of shape"),
])
def test_bad_tool_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        live_tool(**kwargs)


def test_scores_use_bin_centres():
    torch.manual_seed(0)
    model = nvp.RealNVP(1, 2, 8, 1, data_constraint=0.9).eval()
    x = torch.randint(0, 256, (5, 1, 8, 8)).float() / 255
    with torch.no_grad():
        z, sldj = model(x, noise=torch.full_like(x, 0.5))
    assert torch.allclose(score_digits(model, x, batch=2), nvp.bits_per_dim(z, sldj))


def draw(a=0.0, b=0.0):
    fig, ax = plt.subplots(figsize=(1, 1))
    ax.set_title(f"{a} {b}")
    return fig


def test_live_figure_is_precomputed_in_the_static_page(monkeypatch):
    monkeypatch.setenv("NVP_STATIC_HTML", "1")
    out = live_figure(draw, a=widgets.FloatSlider(value=0.5, min=0, max=1, step=0.25,
                                                  description="a"),
                      b=widgets.FloatSlider(value=0.2, description="b"))
    stack = out.children[1]
    assert len(stack.children) == 5  # 0, 0.25, …, 1: one frame per value of the first control
    assert stack.selected_index == 2  # starts at a's value
    assert len({img.value for img in stack.children}) == 5  # the frames differ
    note = live_figure(draw, static="note", a=widgets.FloatSlider(description="a"))
    assert "runs in Jupyter or Colab" in note.data
    with pytest.raises(ValueError, match="static must be"):
        live_figure(draw, static="gif", a=widgets.FloatSlider(description="a"))


def test_live_figure_with_a_kernel(monkeypatch):
    monkeypatch.delenv("NVP_STATIC_HTML", raising=False)
    a = widgets.FloatSlider(value=0.5, min=0, max=1, step=0.25, description="a")
    out = live_figure(draw, a=a)
    before = out.children[1].value
    a.value = 1.0
    assert out.children[1].value != before  # redrawn in Python


def test_scale_map_is_the_models_own_split():
    from nvp.book.live import scale_map
    from nvp.book.trace import latent_scales

    model = nvp.RealNVP(1, 2, 4, 1, data_constraint=0.9)
    assert scale_map(2) == latent_scales(model, (1, 28, 28)).flatten().tolist()
    out = live_tool("resample", digits=torch.zeros(2, 1, 28, 28))
    assert config_of(out)["scale_map"] == scale_map(2)
