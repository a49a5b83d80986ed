"""The book tier: figures, widgets and model explorers for the chapters in ``book/``.

Nothing here is needed to train or use a model (that is ``nvp`` and ``nvp.training``):

* :mod:`~nvp.book.plot`: image grids (:func:`~nvp.book.plot.image_grid`,
  :func:`~nvp.book.plot.make_grid`), masks, squeezing, Jacobians, latent scales.
* :mod:`~nvp.book.plot2d`: the plane and the line: 2-D densities, warped grids, couplings on points.
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

from .tiny import tiny_config

__all__ = ["tiny_config"]
