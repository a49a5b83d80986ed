"""Kernel-free interactive figures for the book: a slider over precomputed frames.

A notebook built into static HTML has no Python kernel, so a widget whose callback runs Python
(``ipywidgets.interact``) shows only its first output there. A slider that only *selects* among
frames computed in advance needs no kernel: the link between slider and picture lives in the
browser. :func:`frames_slider` builds such a control:

* ipywidgets 8 (local Jupyter, the built book): an ``IntSlider`` (and a ``Play`` button)
  ``jslink``-ed to a ``Stack`` of ``Image`` widgets; the widget state, PNGs included, is saved in
  the notebook and rendered by the html-manager in the static page.
* ipywidgets 7 (Colab ships 7.7.1, which has no ``Stack``): a small piece of HTML with the frames
  as base64 ``<img>`` tags and an ``<input type=range>`` whose inline handler shows one of them.

Every control says what it changes: both functions refuse a slider or other control without a
non-empty description (``ValueError``), and show the description in full
(``description_width="initial"``, not cut to the default ~80 px), on both paths. A slider whose
label takes its full width also gets a minimum width, so that its track keeps about 150 px beside
a long label instead of shrinking to a dot in a row of controls.
"""

from __future__ import annotations

import base64
import html
import io
import os
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
from matplotlib.figure import Figure


def fig_to_png(fig: Figure, dpi: int = 96) -> bytes:
    """Render a matplotlib figure to PNG bytes and close it (so the notebook does not show it)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _require_label(description: object, what: str) -> str:
    """The stripped description, or a ``ValueError`` saying which control lacks one."""
    text = description.strip() if isinstance(description, str) else ""
    if not text:
        raise ValueError(
            f"{what} needs a non-empty description that says what it changes "
            f'(e.g. description="temperature T"), got {description!r}')
    return text


def _show_label_in_full(control: widgets.Widget) -> None:
    """Show the description at its natural width; keep a slider's track usable beside it."""
    style = getattr(control, "style", None)
    if style is not None and hasattr(style, "description_width"):
        style.description_width = "initial"
    is_slider = type(control).__name__.endswith("Slider")
    if is_slider and not control.layout.min_width and not control.layout.width:
        # label (~1ch per character) + track (~150 px) + readout and margins (~80 px)
        control.layout.min_width = f"calc({len(control.description)}ch + 230px)"


def _as_png(frame: Figure | bytes) -> bytes:
    if isinstance(frame, Figure):
        return fig_to_png(frame)
    if isinstance(frame, (bytes, bytearray)):
        return bytes(frame)
    raise TypeError(f"a frame must be a matplotlib Figure or PNG bytes, got {type(frame).__name__}")


def _html_slider(
    pngs: list[bytes], description: str, labels: Sequence[str] | None, start: int = 0
) -> Any:
    """Fallback for ipywidgets 7: plain HTML + inline JS, no kernel and no widget manager."""
    from IPython.display import HTML

    uid = "nvp-frames-" + uuid.uuid4().hex[:8]

    def hidden(i: int) -> str:
        return "" if i == start else "display:none"

    imgs = "".join(
        f'<img data-k="{i}" style="max-width:100%;{hidden(i)}" '
        f'src="data:image/png;base64,{base64.b64encode(p).decode()}">'
        for i, p in enumerate(pngs)
    )
    caps = "".join(f'<span data-k="{i}" style="{hidden(i)}">{html.escape(str(s))}</span>'
                   for i, s in enumerate(labels or []))
    # Inline event handlers run even where <script> tags inserted as HTML do not.
    handler = (f"var k=this.value;document.getElementById('{uid}').querySelectorAll('[data-k]')"
               ".forEach(function(e){e.style.display=e.dataset.k==k?'':'none'})")
    # The <label> names the range input (for the reader and for assistive technology).
    return HTML(
        f'<div id="{uid}"><div><label style="white-space:nowrap">'
        f'<span class="nvp-slider-label">{html.escape(description)}</span> '
        f'<input type="range" min="0" max="{len(pngs) - 1}" value="{start}" step="1" '
        f'aria-label="{html.escape(description)}" oninput="{handler}" '
        f'style="width:50%;vertical-align:middle"></label> {caps}</div>'
        f"<div>{imgs}</div></div>"
    )


def frames_slider(
    frames: Sequence[Figure | bytes],
    description: str = "",
    labels: Sequence[str] | None = None,
    play: bool = True,
    start: int = 0,
) -> Any:
    """A slider that flips through precomputed frames, live without a kernel.

    Args:
        frames: matplotlib figures (rendered to PNG and closed) or PNG bytes, one per step.
        description: what the slider changes (e.g. ``"temperature T"``), shown in full left of
            the slider; required (``ValueError`` when empty).
        labels: optional caption per frame (e.g. ``"s = 0.5"``), shown next to the slider.
        play: add a ``Play`` button that animates the slider (ipywidgets 8 only).
        start: the frame shown first (e.g. the most telling one, not the first of the range).

    Returns:
        an ipywidgets ``VBox`` on ipywidgets 8; an ``IPython.display.HTML`` object where
        ``ipywidgets.Stack`` does not exist (ipywidgets 7). Display it as the cell's last value.
    """
    description = _require_label(description, "frames_slider")
    pngs = [_as_png(f) for f in frames]
    if not pngs:
        raise ValueError("frames_slider needs at least one frame")
    if labels is not None and len(labels) != len(pngs):
        raise ValueError(f"got {len(labels)} labels for {len(pngs)} frames")
    if isinstance(start, bool) or not isinstance(start, int) or not 0 <= start < len(pngs):
        raise ValueError(f"start must be a frame index in [0, {len(pngs) - 1}], got {start!r}")
    if not hasattr(widgets, "Stack"):  # ipywidgets 7 (Colab)
        return _html_slider(pngs, description, labels, start)

    n = len(pngs)
    slider = widgets.IntSlider(value=start, min=0, max=n - 1, step=1, description=description,
                               readout=labels is None, continuous_update=True)
    _show_label_in_full(slider)
    images = widgets.Stack([widgets.Image(value=p, format="png") for p in pngs],
                           selected_index=start)
    widgets.jslink((slider, "value"), (images, "selected_index"))
    controls: list[widgets.Widget] = []
    if play:
        player = widgets.Play(value=start, min=0, max=n - 1, step=1, interval=400)
        widgets.jslink((player, "value"), (slider, "value"))
        controls.append(player)
    controls.append(slider)
    if labels is not None:
        captions = widgets.Stack([widgets.Label(str(s)) for s in labels], selected_index=start)
        widgets.jslink((slider, "value"), (captions, "selected_index"))
        controls.append(captions)
    row = widgets.HBox(controls, layout=widgets.Layout(flex_flow="row wrap"))  # wraps on phones
    return widgets.VBox([row, images])


def _static_values(control: widgets.ValueWidget, most: int = 11) -> list[Any]:
    """The values a precomputed version of ``control`` steps through (at most ``most``)."""
    options = getattr(control, "options", None)
    if options is not None:
        return [o[1] if isinstance(o, tuple) else o for o in options][:most]
    lo, hi, step = control.min, control.max, control.step or 1
    n = int(round((hi - lo) / step)) + 1
    stride = max(1, -(-(n - 1) // (most - 1)))  # ceil: at most `most` values
    values = [lo + k * step for k in range(0, n, stride)]
    if isinstance(control.value, int) and not isinstance(control.value, bool):
        values = [int(round(v)) for v in values]
    else:
        values = [round(v, 6) for v in values]
    if control.value not in values:
        values = sorted({*values, control.value})
    return values


def _static_figure(draw: Callable[..., Figure | None],
                   controls: dict[str, widgets.ValueWidget], static: str) -> Any:
    """What :func:`live_figure` shows in the static HTML: precomputed frames along the first
    control (the others at their values), or, with ``static="note"``, one line saying where the
    same experiment runs live."""
    from IPython.display import HTML

    if static == "note":
        return HTML('<p class="nvp-kernel-note"><em>This kernel version runs in Jupyter or '
                    "Colab; on this page, use the version above.</em></p>")
    (name, first), *rest = controls.items()
    fixed = {n: c.value for n, c in rest}
    values = _static_values(first)
    frames = []
    for v in values:
        fig = draw(**{name: v, **fixed})
        frames.append(fig_to_png(fig if isinstance(fig, Figure) else plt.gcf()))
    held = "".join(f"; {c.description} = {c.value}" for _, c in rest)
    labels = [f"{v}{held}" for v in values]
    return frames_slider(frames, first.description, labels=labels, play=False,
                         start=values.index(first.value))


def live_figure(draw: Callable[..., Figure | None], static: str = "frames",
                **controls: widgets.ValueWidget) -> Any:
    """A kernel-backed interactive figure: ``draw(**values)`` re-runs whenever a control moves.

    Like ``ipywidgets.interact``, but the picture is an ``Image`` widget updated in place rather
    than an ``Output`` widget: executing ``interact`` headless (nbclient, which the book build and
    nbval use) can hang on output-widget messages (jupyter/nbclient#312). ``draw`` makes a
    matplotlib figure (returned, or left as the current figure) and must not call ``plt.show()``.
    It needs a kernel (Colab, Jupyter). When the book is built (``NVP_STATIC_HTML=1``, set by the
    ``nvp_onnx`` Sphinx extension) there is none, and sliders that move nothing would mislead:
    ``static="frames"`` (default) then precomputes frames along the first control, the others held
    at their values (a :func:`frames_slider`, at most 11 frames); ``static="note"`` shows one line
    instead, where the page has a browser version of the same experiment.

    Every control needs a non-empty ``description`` saying what it changes (``ValueError``
    otherwise, naming the control); it is shown in full (``description_width="initial"``).
    """
    if not controls:
        raise ValueError("live_figure needs at least one control")
    for name, control in controls.items():
        _require_label(getattr(control, "description", None),
                       f"live_figure control {name!r} ({type(control).__name__})")
        _show_label_in_full(control)
    if static not in ("frames", "note"):
        raise ValueError(f"static must be 'frames' or 'note', got {static!r}")
    if os.environ.get("NVP_STATIC_HTML"):
        return _static_figure(draw, controls, static)

    def render() -> bytes:
        fig = draw(**{name: c.value for name, c in controls.items()})
        return fig_to_png(fig if isinstance(fig, Figure) else plt.gcf())

    picture = widgets.Image(value=render(), format="png")

    def update(_change: object = None) -> None:
        picture.value = render()

    for control in controls.values():
        control.observe(update, names="value")
    row = widgets.HBox(list(controls.values()), layout=widgets.Layout(flex_flow="row wrap"))
    return widgets.VBox([row, picture])
