"""Portfolio allocation on real daily prices in a market with (or without) ESG regulation.

## Description

Each trading day the agent picks the portfolio weights it holds until the next close, pays
proportional transaction costs on what it trades, earns the day's return and, in the
ESG-regulated market, receives a grant when its portfolio's ESG score is above the index mean
or pays a tax when it is below. Adapted from FinRL's ``StockPortfolioEnv`` as used by the paper,
with its known defects fixed: the reward is the log return net of costs (not the portfolio
value), costs are charged, and the API is Gymnasium's.

Timing: on decision day ``t`` the agent sees returns up to the close of ``t`` and chooses target
weights ``w_t``; the portfolio then earns the simple returns ``R_{t+1} = p_{t+1} / p_t - 1``.

## Action Space

``Box(-1, 1, (m,), float32)`` with ``m = n_assets (+ 1 with cash=True, cash last)``. The target
weights are ``w = softmax(action_scale * a)``, so they are positive and sum to 1 (long only, fully
invested, cash is one of the assets). ``weights_to_action(w)`` inverts the map (weights smaller
than ``exp(-2 * action_scale)`` times the largest are raised to that floor).
Actions outside the box, of the wrong shape, or with NaN/inf raise ``ValueError``.

## Observation Space

``Box(-10, 10, (d,), float32)``, the concatenation of

- the last ``lookback`` daily log returns of every risky asset, row-major (oldest first), each
  divided by that asset's standard deviation of daily log returns over the *training* period
  (so train and test environments share one scaling): ``lookback * n_assets`` values;
- the current (drifted) weights ``w_t^-``: ``m`` values;
- with ``esg_in_state=True``: the z-scored ESG scores ``(ESG_i - mean) / std`` of the risky
  assets and the portfolio's ``(ESG_p(w_t^-) - mean) / std``: ``n_assets + 1`` values.

Every entry is clipped to [-10, 10].

## Rewards

With ``w^-`` the drifted weights before trading and ``w`` the targets:

- turnover ``tau = sum_{i risky} |w_i - w_i^-|`` (cash moves are free);
- cost ``c = transaction_cost * tau`` (fraction of wealth);
- gross return ``r = sum_i w_i R_{t+1,i}`` (cash earns 0);
- portfolio ESG ``E_p = sum_{i risky} w_i ESG_i + w_cash * E_bar`` where ``E_bar`` is the
  equal-weighted mean ESG of the universe (cash is ESG-neutral); ``E_p`` within ``1e-9 * E_bar``
  of ``E_bar`` counts as equal (no grant, no tax), so rounding noise of 1/N weights is ignored;
- regulation ``"esg"``: grant ``g = grant_rate * max(r, 0) * E_p / E_bar`` if ``E_p > E_bar``
  else 0; tax ``x = tax_rate * max(r, 0) + flat_tax`` if ``E_p < E_bar`` else 0.
  Regulation ``"none"``: ``g = x = 0``;
- net return ``r_net = r - c + g - x`` and wealth ``V_{t+1} = V_t * (1 + r_net)``;
- reward ``log(1 + r_net)``.

After the day the weights drift to ``w^-_{t+1} = w * (1 + R_{t+1}) / (1 + r)`` (costs, grants and
taxes are settled pro rata across holdings).

## Starting State

Wealth 1 on the first decision day of the period: the first trading day on or after the period
start that has ``lookback`` earlier returns. Initial weights: 1/N in the risky assets, or all
cash with ``cash=True``. With ``episode_length`` set, the first day is drawn uniformly from the
period using ``self.np_random``; otherwise the episode is the whole period and is deterministic
(reset seeds change nothing).

## Episode End

Truncated when the period's last trading day is reached (or after ``episode_length`` steps).
Terminated if wealth is wiped out (``1 + r_net <= 1e-12``; the reward is then ``log(1e-12)``).

## Info

``portfolio_value``, ``weights`` (the targets ``w``), ``drifted_weights`` (``w^-_{t+1}``),
``turnover``, ``cost``, ``gross_return``, ``net_return``, ``grant``, ``tax``, ``portfolio_esg``
(``E_p``), ``date`` (ISO date of the close that values the portfolio). Reset's info has the
same wealth, weight and ESG keys.

## Arguments

- ``data``: ``"sp500"`` (20 S&P 500 stocks 1990-2022 from skfolio, needs
  ``pip install "gauntlet-rl[data]"``), ``"synthetic"`` (seeded factor market, see
  :func:`gauntlet.envs.esg_portfolio.market.synthetic_market`) or ``"csv"`` (``prices_csv=``, optional
  ``esg_csv=``; formats in :mod:`gauntlet.envs.esg_portfolio.market`).
- ``esg_scores``: ticker -> score; overrides the ESG table (default: the documented synthetic
  assignment of :mod:`gauntlet.envs.esg_portfolio.market`, not real ratings).
- ``period``: ``"train"`` or ``"test"``. ``train_start``, ``train_end``, ``test_start``,
  ``test_end``: ISO dates, inclusive. Defaults for sp500: train 2010-01-01..2019-12-31, test
  2020-01-01..end of data; for other data: the first 80% of the days train, the rest test.
  The periods must lie inside the data and must not overlap.
- ``lookback`` (20), ``transaction_cost`` (0.001 = 10 bp per unit traded), ``cash`` (False),
  ``regulation`` (``"esg"`` | ``"none"``), ``grant_rate`` (0.05), ``tax_rate`` (0.05),
  ``flat_tax`` (0.0 per day), ``esg_in_state`` (True), ``action_scale`` (5.0),
  ``episode_length`` (None = whole period), ``synthetic_assets`` / ``synthetic_days`` /
  ``synthetic_seed`` (10 / 1500 / 0), ``render_mode`` (None | ``"rgb_array"``: a (480, 900, 3)
  uint8 picture of the episode's wealth curve and the current holdings, each asset coloured by
  whether its ESG score is above the universe mean, with the portfolio's ESG score; rendering
  reads the state only).

## Version History

- v0: initial version. Later, without changing dynamics, spaces or rewards: the rgb_array
  picture gained the holdings panel and is drawn without pyplot; the step moved into numba
  kernels (:mod:`gauntlet.envs.esg_portfolio.kernels`), with a native vector env
  (:class:`gauntlet.envs.esg_portfolio.vector.ESGPortfolioVectorEnv`, the ids'
  ``vector_entry_point``); trajectories are identical to the numpy code's (tested against
  trajectories recorded from it in ``tests/data/trajectories``; the dot products repeat the
  order of the OpenBLAS kernels NumPy calls on AVX-512 machines, where those were recorded).

## Paper

Garrido-Merchán et al., "Deep Reinforcement Learning for ESG financial portfolio management"
(arXiv 2307.09631). The paper's grant and tax formulas are not public; the ones above are ours.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from gauntlet.envs.esg_portfolio import kernels
from gauntlet.envs.esg_portfolio.market import Market, esg_vector, load_csv, load_sp500, synthetic_market
from gauntlet.envs.validation import check_choice, check_int, check_range

TRADING_DAYS = 252
OBS_CLIP = 10.0
_RUIN = 1e-12
_SP500_TRAIN = ("2010-01-01", "2019-12-31")


class ESGPortfolioEnv(gym.Env):
    """Daily long-only allocation with transaction costs and an optional ESG grant/tax regulation
    (everything is documented in the module docstring)."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 4}

    def __init__(
        self,
        data: str = "sp500",
        prices_csv: str | None = None,
        esg_csv: str | None = None,
        esg_scores: Mapping[str, float] | None = None,
        period: str = "train",
        train_start: str | None = None,
        train_end: str | None = None,
        test_start: str | None = None,
        test_end: str | None = None,
        lookback: int = 20,
        transaction_cost: float = 0.001,
        cash: bool = False,
        regulation: str = "esg",
        grant_rate: float = 0.05,
        tax_rate: float = 0.05,
        flat_tax: float = 0.0,
        esg_in_state: bool = True,
        action_scale: float = 5.0,
        episode_length: int | None = None,
        synthetic_assets: int = 10,
        synthetic_days: int = 1500,
        synthetic_seed: int = 0,
        render_mode: str | None = None,
    ) -> None:
        check_choice("data", data, ("sp500", "synthetic", "csv"))
        check_choice("period", period, ("train", "test"))
        check_choice("regulation", regulation, ("esg", "none"))
        check_choice("render_mode", render_mode, (None, *self.metadata["render_modes"]))
        check_int("lookback", lookback, 1, 252)
        check_range("transaction_cost", transaction_cost, 0.0, 0.1)
        check_range("grant_rate", grant_rate, 0.0, 1.0)
        check_range("tax_rate", tax_rate, 0.0, 1.0)
        check_range("flat_tax", flat_tax, 0.0, 0.01)
        check_range("action_scale", action_scale, 0.1, 20.0)
        if data == "csv" and prices_csv is None:
            raise ValueError('data="csv" needs prices_csv= (a date x ticker CSV of daily close prices)')
        if data != "csv" and (prices_csv is not None or esg_csv is not None):
            raise ValueError(f'prices_csv/esg_csv are only read with data="csv", got data={data!r}')
        if data == "synthetic":
            check_int("synthetic_assets", synthetic_assets, 2, 500)
            check_int("synthetic_days", synthetic_days, 100, 100_000)

        if data == "sp500":
            market = load_sp500()
        elif data == "csv":
            market = load_csv(prices_csv, esg_csv)
        else:
            market = synthetic_market(synthetic_assets, synthetic_days, synthetic_seed)
        if esg_scores is not None:
            market = Market(market.dates, market.tickers, market.prices,
                            esg_vector(esg_scores, market.tickers, source="esg_scores"), market.source)
        self.market = market
        self.data, self.period, self.regulation = data, period, regulation
        self.lookback, self.transaction_cost, self.cash = int(lookback), float(transaction_cost), bool(cash)
        self.grant_rate, self.tax_rate, self.flat_tax = float(grant_rate), float(tax_rate), float(flat_tax)
        self.esg_in_state, self.action_scale = bool(esg_in_state), float(action_scale)
        self.render_mode = render_mode

        dates = market.dates
        self.tickers = market.tickers
        self.n_assets = len(market.tickers)
        self.n_weights = self.n_assets + int(self.cash)
        split = self._resolve_split(dates, data, train_start, train_end, test_start, test_end)
        self.train_rows = self._period_rows(dates, split[0], split[1], "train")
        self.test_rows = self._period_rows(dates, split[2], split[3], "test")
        if dates[self.train_rows[1]] >= dates[self.test_rows[0]]:
            raise ValueError(f"the train period {split[0]}..{split[1]} overlaps the test period {split[2]}..{split[3]}")
        first, last = self.train_rows if period == "train" else self.test_rows
        # Decision row t earns R[t + 1] and observes R[t - lookback + 1 .. t] (R[0] does not exist).
        self.first_decision = max(first, self.lookback)
        self.last_decision = last - 1
        n_days = self.last_decision - self.first_decision + 1
        if n_days < 1:
            raise ValueError(f"the {period} period {dates[first]}..{dates[last]} has no trading day with "
                             f"lookback={self.lookback} earlier returns and a next-day return; widen it")
        if episode_length is not None:
            check_int("episode_length", episode_length, 1, n_days)
        self.episode_length = None if episode_length is None else int(episode_length)

        prices = market.prices
        simple = np.zeros_like(prices)
        simple[1:] = prices[1:] / prices[:-1] - 1.0
        self.returns = simple
        """Simple daily returns of the risky assets; ``returns[t]`` is from close t-1 to close t (row 0 is 0)."""
        self._step_growth = 1.0 + (np.hstack([simple, np.zeros((len(simple), 1))]) if self.cash else simple)
        log_r = np.log1p(simple)
        train_slice = slice(max(self.train_rows[0], 1), self.train_rows[1] + 1)
        scale = log_r[train_slice].std(axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        self._z = np.clip(log_r / scale, -OBS_CLIP, OBS_CLIP).astype(np.float32)

        self.esg_scores = market.esg.astype(np.float64)
        if (self.esg_scores < 0).any() or self.esg_scores.mean() <= 0:
            raise ValueError(f"ESG scores must be >= 0 with a positive mean (the grant scales with E_p / E_bar), "
                             f"got {dict(zip(self.tickers, self.esg_scores.tolist()))} from {market.source}")
        self.esg_mean = float(self.esg_scores.mean())
        self._esg_band = (self.esg_mean - 1e-9 * abs(self.esg_mean), self.esg_mean + 1e-9 * abs(self.esg_mean))
        esg_std = float(self.esg_scores.std())
        self._esg_std = esg_std if esg_std > 0 else 1.0
        self._esg_ext = np.append(self.esg_scores, self.esg_mean) if self.cash else self.esg_scores
        self._dates = [str(d) for d in dates]

        n_window = self.lookback * self.n_assets
        self._obs_slices = (slice(0, n_window), slice(n_window, n_window + self.n_weights))
        obs_dim = n_window + self.n_weights + (self.n_assets + 1 if self.esg_in_state else 0)
        self._obs = np.zeros(obs_dim, dtype=np.float32)
        if self.esg_in_state:
            self._obs[n_window + self.n_weights : -1] = np.clip(
                (self.esg_scores - self.esg_mean) / self._esg_std, -OBS_CLIP, OBS_CLIP)
        self.observation_space = spaces.Box(-OBS_CLIP, OBS_CLIP, (obs_dim,), dtype=np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, (self.n_weights,), dtype=np.float32)
        self._action_shape = (self.n_weights,)
        self._out = np.empty(kernels.N_OUT)

        self._consts = kernels.pack_constants(
            self.n_assets, self.lookback, self.transaction_cost, self.regulation == "esg", self.grant_rate,
            self.tax_rate, self.flat_tax, self.esg_mean, self._esg_band, self._esg_std, self.esg_in_state, self.cash,
            self._obs, self._esg_ext, self._step_growth, self._z)
        # [t, end, wealth, 0, drifted weights] (layout: gauntlet.envs.esg_portfolio.kernels).
        self._state = np.zeros(kernels.STATE_HEADER + self.n_weights)
        self._set_episode(self._state, self.first_decision, self.last_decision + 1)
        self._wealth: list[float] = [1.0]
        self._pool_row = _POOL_ROWS

    # ------------------------------------------------------------------ public helpers
    @property
    def current_index(self) -> int:
        """Row of the current decision day in ``returns`` / ``market.dates``."""
        return int(self._state[0])

    @property
    def current_weights(self) -> np.ndarray:
        """The drifted weights held before today's trade (a copy)."""
        return self._state[kernels.STATE_HEADER :].copy()

    @property
    def portfolio_value(self) -> float:
        return float(self._state[2])

    @property
    def elapsed_steps(self) -> int:
        """Steps taken since the last reset."""
        return len(self._wealth) - 1

    def initial_weights(self) -> np.ndarray:
        w = np.zeros(self.n_weights)
        if self.cash:
            w[-1] = 1.0
        else:
            w[:] = 1.0 / self.n_assets
        return w

    def action_to_weights(self, action: np.ndarray) -> np.ndarray:
        z = self.action_scale * np.asarray(action, dtype=np.float64)
        e = np.exp(z - z.max())
        return e / e.sum()

    def weights_to_action(self, weights: Sequence[float] | np.ndarray) -> np.ndarray:
        """An action whose softmax is ``weights`` (up to the floor described in the docstring)."""
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != (self.n_weights,) or not np.all(np.isfinite(w)) or (w < 0).any() or w.sum() <= 0:
            raise ValueError(f"weights must be {self.n_weights} finite non-negative numbers with a positive sum, got {w}")
        with np.errstate(divide="ignore"):
            log_w = np.log(w / w.max())
        return np.clip(1.0 + log_w / self.action_scale, -1.0, 1.0).astype(np.float32)

    def portfolio_esg(self, weights: np.ndarray) -> float:
        return float(weights @ self._esg_ext)

    def regulation_transfers(self, gross_return: float, portfolio_esg: float) -> tuple[float, float]:
        """(grant, tax) as fractions of wealth for one day (formulas in the module docstring)."""
        if self.regulation == "none":
            return 0.0, 0.0
        gain = max(gross_return, 0.0)
        # A band of 1e-9 relative treats rounding noise around the mean (e.g. exactly 1/N) as "at the mean".
        if portfolio_esg > self._esg_band[1]:
            return self.grant_rate * gain * portfolio_esg / self.esg_mean, 0.0
        if portfolio_esg < self._esg_band[0]:
            return 0.0, self.tax_rate * gain + self.flat_tax
        return 0.0, 0.0

    # ------------------------------------------------------------------------ gym API
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        start, end = self._episode_rows(self.np_random)
        self._set_episode(self._state, start, end)
        self._wealth = [1.0]
        return self._reset_observation(start)

    def _episode_rows(self, rng: np.random.Generator) -> tuple[int, int]:
        """First decision row and the row after the last one of a new episode."""
        if self.episode_length is None:
            return self.first_decision, self.last_decision + 1
        latest = self.last_decision - self.episode_length + 1
        start = int(rng.integers(self.first_decision, latest + 1))
        return start, start + self.episode_length

    def _set_episode(self, state: np.ndarray, start: int, end: int) -> None:
        state[:3] = (start, end, 1.0)
        state[kernels.STATE_HEADER :] = self.initial_weights()

    def _reset_observation(self, start: int) -> tuple[np.ndarray, dict[str, Any]]:
        weights = self.initial_weights()
        esg_p = self.portfolio_esg(weights)
        info = {"portfolio_value": 1.0, "weights": weights.copy(), "drifted_weights": weights.copy(),
                "portfolio_esg": esg_p, "date": self._dates[start]}
        return self._observation(start, weights, esg_p), info

    def step(self, action):
        state = self._state
        if state[0] >= state[1]:
            raise RuntimeError("the episode is over (truncated or terminated); call reset() before step()")
        a = np.asarray(action, dtype=np.float64)
        if a.shape != self._action_shape:
            raise ValueError(f"action must have shape ({self.n_weights},), got {a.shape}")
        row = self._pool_row
        if row == _POOL_ROWS:
            self._new_pools()
            row = 0
        weights, drifted = self._weight_pool[row]
        if not kernels.logits_one(a, self.action_scale, weights):
            _raise_bad_action(a)
        np.exp(weights, out=weights)
        out = self._out
        obs = self._obs_pool[row]
        kernels.finish_one(weights, state, self._consts, obs, weights, drifted, out)
        self._pool_row = row + 1
        turnover, cost, gross, net, grant, tax, esg_p, value, reward, terminated, truncated = out.tolist()
        self._wealth.append(value)
        info = {
            "portfolio_value": value, "weights": weights, "drifted_weights": drifted,
            "turnover": turnover, "cost": cost, "gross_return": gross, "net_return": net,
            "grant": grant, "tax": tax, "portfolio_esg": esg_p, "date": self._dates[int(state[0])],
        }
        return obs, reward, terminated == 1.0, truncated == 1.0, info

    def _new_pools(self) -> None:
        """Fresh output arrays for the next ``_POOL_ROWS`` steps: each step hands out its own rows,
        so returned arrays are never overwritten, for the price of one allocation per pool."""
        self._obs_pool = np.empty((_POOL_ROWS, self.observation_space.shape[0]), dtype=np.float32)
        self._weight_pool = np.empty((_POOL_ROWS, 2, self.n_weights))

    def render(self) -> np.ndarray | None:
        """``"rgb_array"``: the picture of :mod:`gauntlet.envs.esg_portfolio.render` (the episode's
        wealth curve and the current holdings coloured by ESG score against the mean)."""
        if self.render_mode != "rgb_array":
            return None
        from gauntlet.envs.esg_portfolio.render import Snapshot, draw

        start = self.current_index - (len(self._wealth) - 1)
        labels = (*self.tickers, "cash") if self.cash else tuple(self.tickers)
        return draw(Snapshot(self.period, self.regulation,
                             np.array(self.market.dates[start : self.current_index + 1], dtype="datetime64[D]"),
                             np.array(self._wealth), labels, self.current_weights, self._esg_ext, self.esg_mean))

    # ---------------------------------------------------------------------- internals
    def _observation(self, t: int, weights: np.ndarray, esg_p: float) -> np.ndarray:
        obs = self._obs.copy()
        obs[self._obs_slices[0]] = self._z[t - self.lookback + 1 : t + 1].ravel()
        obs[self._obs_slices[1]] = weights
        if self.esg_in_state:
            obs[-1] = min(max((esg_p - self.esg_mean) / self._esg_std, -OBS_CLIP), OBS_CLIP)
        return obs

    @staticmethod
    def _resolve_split(dates: np.ndarray, data: str, *given: str | None) -> list[np.datetime64]:
        names = ("train_start", "train_end", "test_start", "test_end")
        cut = max(1, int(0.8 * len(dates))) - 1
        defaults = list(_SP500_TRAIN) if data == "sp500" else [dates[0], dates[cut]]
        out: list[np.datetime64] = []
        for k, (name, value) in enumerate(zip(names, given)):
            if value is None:
                # The test period starts the day after training ends and runs to the end of the data.
                value = defaults[k] if k < 2 else (out[1] + np.timedelta64(1, "D") if k == 2 else dates[-1])
            try:
                out.append(np.datetime64(str(value), "D"))
            except ValueError:
                raise ValueError(f"{name}={value!r} is not an ISO date (YYYY-MM-DD)") from None
        return out

    def _period_rows(self, dates: np.ndarray, start: np.datetime64, end: np.datetime64, label: str) -> tuple[int, int]:
        span = f"{dates[0]}..{dates[-1]} in {self.market.source}"
        if start > end:
            raise ValueError(f"{label}_start={start} is after {label}_end={end}")
        if start < dates[0] or end > dates[-1]:
            raise ValueError(f"the {label} period {start}..{end} is outside the data ({span})")
        first = int(np.searchsorted(dates, start, side="left"))
        last = int(np.searchsorted(dates, end, side="right")) - 1
        if last - first < 1:
            raise ValueError(f"the {label} period {start}..{end} holds fewer than 2 trading days of the data ({span})")
        return first, last


_POOL_ROWS = 64


def _raise_bad_action(a: np.ndarray) -> None:
    """The error for an action outside [-1, 1] (the kernels' check, to 1e-6) or not a number."""
    if not np.isfinite(a).all():
        raise ValueError(f"action contains NaN or inf: {a}")
    raise ValueError(f"action must lie in [-1, 1] (the action space), got min {a.min()} max {a.max()}")


def episode_metrics(rewards: np.ndarray, infos: list[dict]) -> dict[str, float]:
    """Annualized return, Sharpe (252 days, risk-free 0), max drawdown, mean daily turnover, mean
    portfolio ESG and final wealth of one episode (wealth starts at 1)."""
    net = np.array([i["net_return"] for i in infos], dtype=np.float64)
    wealth = np.concatenate([[1.0], [i["portfolio_value"] for i in infos]])
    days = len(net)
    final = float(wealth[-1])
    std = float(net.std(ddof=1)) if days > 1 else 0.0
    peak = np.maximum.accumulate(wealth)
    return {
        "annualized_return": float(final ** (TRADING_DAYS / days) - 1.0) if days else 0.0,
        "sharpe": float(net.mean() / std * np.sqrt(TRADING_DAYS)) if std > 0 else 0.0,
        "max_drawdown": float((1.0 - wealth / peak).max()),
        "turnover": float(np.mean([i["turnover"] for i in infos])) if days else 0.0,
        "portfolio_esg": float(np.mean([i["portfolio_esg"] for i in infos])) if days else 0.0,
        "final_wealth": final,
    }

