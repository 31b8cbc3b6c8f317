"""How board numbers are printed: the same in ``gauntlet leaderboard show``, Markdown and
model-index exports, and ``gauntlet run``'s table.

Magnitudes of 1,000 and more are integers with thousands separators (``12,004``); smaller
ones keep 4 significant digits (``0.8954``, ``633.5``, ``1.2e-05``). A value that rounds to
zero prints ``0``, never ``-0`` or ``-0.000``, and a missing value (no data, or the spread of
a single run) prints an en dash.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from gauntlet.bench.aggregate import summarize

MISSING = "–"


def format_number(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return MISSING
    x = float(x)
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    text = f"{x:.4g}"
    if abs(float(text)) >= 1000:
        text = f"{x:,.0f}"
    return "0" if float(text.replace(",", "")) == 0 else text


def format_mean_std(mean: float | None, std: float | None) -> str:
    """``1,137 ± 1.274``; ``1,137 ± –`` for one run, whose std is None."""
    return f"{format_number(mean)} ± {format_number(std)}"


def format_interval(value: float | None, interval: list[float | None] | None) -> str:
    """``1,137 [1,136, 1,138]``; ``1,137 [–]`` when there is no interval (one run)."""
    low, high = interval if interval else (None, None)
    if low is None or high is None:
        return f"{format_number(value)} [{MISSING}]"
    return f"{format_number(value)} [{format_number(low)}, {format_number(high)}]"


def format_over_runs(values: Sequence[float]) -> str:
    """One number per run aggregated as a board does: ``mean ± sample std (ddof=1)``, with an
    en dash for the spread of a single run."""
    summary = summarize(np.asarray(values, dtype=float)[:, None])
    return format_mean_std(summary["mean"], summary["std"])
