"""Matplotlib figures for ``render_mode="rgb_array"``, drawn off-screen.

Each figure gets its own Agg canvas (``matplotlib.figure.Figure`` + ``FigureCanvasAgg``): no
``pyplot`` state, no change to matplotlib's global backend, so rendering inside a user's
notebook or GUI program leaves their plotting alone, and a figure is freed like any object.
Env modules import this lazily, from ``render()``, so building an env never imports matplotlib.
"""

from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

DPI = 100


def new_figure(width_px: int, height_px: int) -> Figure:
    """An empty figure of ``width_px x height_px`` pixels on its own Agg canvas."""
    fig = Figure(figsize=(width_px / DPI, height_px / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def to_rgb(fig: Figure) -> np.ndarray:
    """Draw ``fig`` and return its pixels as an (H, W, 3) uint8 array."""
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
