"""Market data for :mod:`gauntlet.envs.esg_portfolio`: real S&P 500 prices, CSV prices, a synthetic market.

Every source returns a :class:`Market` (dates, tickers, a positive price matrix without gaps, and
one ESG score per ticker). Prices are validated once here so the env's step is pure array work.

ESG scores. No redistributable public ESG panel exists, so the shipped default is a documented
*synthetic* assignment, not a rating: ``ESG(ticker) = 20 + 60 * (crc32(ticker) mod 10007) / 10006``,
a fixed pseudo-random score in [20, 80] that depends only on the ticker symbol. Pass real scores
through an ESG CSV or ``esg_scores=`` to study real ESG data.

CSV formats. Prices: the first column holds dates (any header, ISO ``YYYY-MM-DD`` recommended), every
other column is one ticker's daily close; dates strictly increasing, no missing values, all prices
> 0. ESG table: two columns named ``ticker`` and ``esg``; tickers not in the price file are ignored,
price tickers missing from it are an error.
"""

from __future__ import annotations

import importlib.util
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np

SP500_INSTALL_HINT = 'pip install "gauntlet-rl[data]"'


@dataclass(frozen=True)
class Market:
    """Daily close prices ``prices[t, i]`` of ``tickers[i]`` on ``dates[t]`` and one ESG score per ticker."""

    dates: np.ndarray
    tickers: tuple[str, ...]
    prices: np.ndarray
    esg: np.ndarray
    source: str


def default_esg_scores(tickers: tuple[str, ...] | list[str]) -> np.ndarray:
    """The documented synthetic ESG assignment (see the module docstring); not a real rating."""
    return np.array([20.0 + 60.0 * (zlib.crc32(t.encode()) % 10007) / 10006.0 for t in tickers])


def load_sp500() -> Market:
    """20 S&P 500 stocks, 1990-01-02..2022-12-28, from ``skfolio.datasets.load_sp500_dataset`` (BSD-3)."""
    if importlib.util.find_spec("skfolio") is None:
        raise ImportError(f'data="sp500" needs the optional dependency skfolio: {SP500_INSTALL_HINT}')
    from skfolio.datasets import load_sp500_dataset

    frame = load_sp500_dataset()
    return _market_from_frame(frame, "skfolio load_sp500_dataset()", esg=None)


def load_csv(prices_csv: str | Path, esg_csv: str | Path | None = None) -> Market:
    """Prices (and optionally ESG scores) from the CSV files described in the module docstring."""
    import pandas as pd

    path = Path(prices_csv)
    if not path.is_file():
        raise FileNotFoundError(f"prices_csv: no such file {str(path)!r}")
    raw = pd.read_csv(path, dtype=str)
    if raw.shape[1] < 2 or raw.shape[0] < 2:
        raise ValueError(f"{path}: need a date column and at least one ticker column with >= 2 rows, "
                         f"got {raw.shape[0]} rows x {raw.shape[1]} columns")
    date_col = raw.columns[0]
    dates = pd.to_datetime(raw[date_col], errors="coerce")
    bad = dates.isna().to_numpy()
    if bad.any():
        row = int(np.argmax(bad))
        raise ValueError(f"{path}: cannot parse date {raw[date_col].iloc[row]!r} in column {date_col!r} (row {row + 2})")
    steps = np.diff(dates.to_numpy())
    if (steps <= np.timedelta64(0)).any():
        k = int(np.argmax(steps <= np.timedelta64(0)))
        raise ValueError(f"{path}: dates in column {date_col!r} are not strictly increasing: "
                         f"{dates.iloc[k].date()} is followed by {dates.iloc[k + 1].date()} (rows {k + 2}, {k + 3})")
    values = raw.drop(columns=date_col).apply(pd.to_numeric, errors="coerce")
    values.index = pd.DatetimeIndex(dates)
    esg = None if esg_csv is None else load_esg_csv(esg_csv, tuple(str(c) for c in values.columns))
    return _market_from_frame(values, str(path), esg=esg)


def load_esg_csv(esg_csv: str | Path, tickers: tuple[str, ...]) -> np.ndarray:
    """ESG scores for ``tickers`` from a ``ticker,esg`` CSV; errors name the file and the tickers."""
    import pandas as pd

    path = Path(esg_csv)
    if not path.is_file():
        raise FileNotFoundError(f"esg_csv: no such file {str(path)!r}")
    table = pd.read_csv(path, dtype={"ticker": str})
    missing_cols = {"ticker", "esg"} - set(table.columns)
    if missing_cols:
        raise ValueError(f"{path}: the ESG table needs columns 'ticker' and 'esg', missing {sorted(missing_cols)}")
    scores = dict(zip(table["ticker"].astype(str), pd.to_numeric(table["esg"], errors="coerce")))
    return esg_vector(scores, tickers, source=str(path))


def esg_vector(scores: Mapping[str, float], tickers: tuple[str, ...], source: str) -> np.ndarray:
    """``scores`` in ticker order; missing tickers or non-finite scores raise an error naming ``source``."""
    missing = [t for t in tickers if t not in scores]
    if missing:
        raise ValueError(f"{source}: the ESG table has no score for tickers {missing}")
    out = np.array([float(scores[t]) for t in tickers])
    bad = ~np.isfinite(out)
    if bad.any():
        raise ValueError(f"{source}: the ESG score of {[t for t, b in zip(tickers, bad) if b]} is missing or not a number")
    return out


def synthetic_market(n_assets: int = 10, n_days: int = 1500, seed: int = 0) -> Market:
    """A seeded one-factor market with bull/bear regime switches.

    Regime ``s_t`` is a Markov chain (stay probability 0.99 in bull, 0.97 in bear). The market
    factor ``f_t ~ N(mu_s, sigma_s)`` with (mu, sigma) = (0.0006, 0.008) in bull and
    (-0.0008, 0.018) in bear; asset log returns ``r_ti = beta_i f_t + eps_ti`` with
    ``beta_i ~ U(0.6, 1.4)``, ``eps_ti ~ N(0, sd_i)``, ``sd_i ~ U(0.006, 0.018)``; prices start at 100
    on 2000-01-03 and follow business days. ESG scores ``~ U(20, 80)``. Same seed => same market.
    """
    import pandas as pd

    rng = np.random.default_rng(seed)
    stay = np.array([0.99, 0.97])
    mu, sigma = np.array([0.0006, -0.0008]), np.array([0.008, 0.018])
    switch_u = rng.random(n_days - 1)
    regimes = np.zeros(n_days - 1, dtype=np.int64)
    for t in range(1, n_days - 1):
        prev = regimes[t - 1]
        regimes[t] = prev if switch_u[t] < stay[prev] else 1 - prev
    factor = mu[regimes] + sigma[regimes] * rng.standard_normal(n_days - 1)
    beta = rng.uniform(0.6, 1.4, n_assets)
    idio = rng.uniform(0.006, 0.018, n_assets)
    log_returns = factor[:, None] * beta + rng.standard_normal((n_days - 1, n_assets)) * idio
    prices = 100.0 * np.exp(np.vstack([np.zeros((1, n_assets)), np.cumsum(log_returns, axis=0)]))
    dates = pd.bdate_range("2000-01-03", periods=n_days).to_numpy().astype("datetime64[D]")
    tickers = tuple(f"S{i:02d}" for i in range(n_assets))
    return Market(dates, tickers, prices, rng.uniform(20.0, 80.0, n_assets), f"synthetic(seed={seed})")


def _market_from_frame(frame, source: str, esg: np.ndarray | None) -> Market:
    tickers = tuple(str(c) for c in frame.columns)
    if len(set(tickers)) != len(tickers):
        dupes = sorted({t for t in tickers if tickers.count(t) > 1})
        raise ValueError(f"{source}: duplicate ticker columns {dupes}")
    prices = frame.to_numpy(dtype=np.float64)
    dates = frame.index.to_numpy().astype("datetime64[D]")
    nan = np.isnan(prices)
    if nan.any():
        t, i = np.argwhere(nan)[0]
        raise ValueError(f"{source}: column {tickers[i]!r} has a missing or non-numeric price on {dates[t]} "
                         f"({int(nan.sum())} gaps in total); fill or drop them before loading")
    non_positive = prices <= 0
    if non_positive.any():
        t, i = np.argwhere(non_positive)[0]
        raise ValueError(f"{source}: column {tickers[i]!r} has a non-positive price {prices[t, i]} on {dates[t]}")
    if esg is None:
        esg = default_esg_scores(tickers)
    return Market(dates, tickers, prices, esg, source)
