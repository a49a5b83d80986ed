"""The book tier: figures, widgets and model explorers for the chapters in ``book/``.

Nothing here is needed to train or use a model (that is ``nvp`` and ``nvp.training``):

* :mod:`~nvp.book.plot`: image grids (:func:`~nvp.book.plot.image_grid`,
  :func:`~nvp.book.plot.make_grid`), masks, squeezing, Jacobians, latent scales.
* :mod:`~nvp.book.plot2d`: the plane: 2-D densities, warped grids, couplings on points;
  :mod:`~nvp.book.plot1d`: the line: curves, 1-D densities, pixel histograms, the logit.
* :mod:`~nvp.book.curves`: training curves, live in a notebook or from a run's metrics.
* :mod:`~nvp.book.trace`: a model's steps, shapes, parameters and MACs; which scale each entry
  of ``z`` leaves at. :mod:`~nvp.book.table`: the small HTML/Markdown table they show in.
* :mod:`~nvp.book.explore`: encode, decode, interpolate, resample scales, nearest neighbours.
* :mod:`~nvp.book.toy`: the 2-D Real NVP of chapter 1 and its two-moons data.
* :func:`tiny_config`: the tiny demonstration model of chapters 6 and 7 (:mod:`~nvp.book.tiny`).
* :mod:`~nvp.book.classifier`: a small CNN, the yardstick of chapter 10's classifier.
* :mod:`~nvp.book.widgets`: sliders over precomputed frames and live figures. It needs
  ``ipywidgets``, the ``book`` extra (``pip install nvp[book]``); it is imported only by
  ``import nvp.book.widgets``, never by ``import nvp`` or ``import nvp.book``.
"""

import os

from .tiny import tiny_config

__all__ = ["model_name", "tiny_config"]

#: The environment variable that points the book at another shipped model.
MODEL_ENV = "NVP_BOOK_MODEL"


def model_name() -> str:
    """The shipped unconditional model the chapters load: ``$NVP_BOOK_MODEL`` if set, else
    ``"mnist5k"``. ``NVP_BOOK_MODEL=mnist5k-seed1 make book`` builds the book against the same
    recipe trained with another seed (``make book-other-model``): every number the chapters
    state comes from the model they load, so the text must hold for both."""
    from ..training.hub import PRETRAINED

    name = os.environ.get(MODEL_ENV, "mnist5k")
    if name not in PRETRAINED or name.endswith("-cond"):
        choices = ", ".join(n for n in PRETRAINED if not n.endswith("-cond"))
        raise ValueError(f"{MODEL_ENV}={name!r} is not a shipped unconditional model: {choices}")
    return name
