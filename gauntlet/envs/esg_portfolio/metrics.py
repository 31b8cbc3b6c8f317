"""Episode metrics of ``gauntlet/ESGPortfolio-*`` boards: the env's, plus what trading cost.

``transaction_costs`` is the money paid for trading over the episode in units of the initial
wealth, ``sum_t V_t * c_t`` with ``V_t`` the wealth before day ``t``'s trades and ``c_t`` the
day's ``info["cost"]`` (``transaction_cost * turnover``, a fraction of wealth); ``cost_drag`` is
the yearly cost rate ``252 * mean_t c_t``, the return a policy gives up to its trading.
"""

from __future__ import annotations

import numpy as np

from gauntlet.envs.esg_portfolio.env import TRADING_DAYS
from gauntlet.envs.esg_portfolio.env import episode_metrics as market_metrics


def episode_metrics(rewards: np.ndarray, infos: list[dict]) -> dict[str, float]:
    """:func:`gauntlet.envs.esg_portfolio.env.episode_metrics` (Sharpe, return, drawdown, mean
    daily turnover, ESG, final wealth) plus ``transaction_costs`` and ``cost_drag``."""
    out = market_metrics(rewards, infos)
    cost = np.array([i["cost"] for i in infos], dtype=np.float64)
    wealth_before = np.concatenate([[1.0], [i["portfolio_value"] for i in infos[:-1]]])
    out["transaction_costs"] = float(cost @ wealth_before) if len(cost) else 0.0
    out["cost_drag"] = float(TRADING_DAYS * cost.mean()) if len(cost) else 0.0
    return out
