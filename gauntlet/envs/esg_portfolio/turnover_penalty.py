"""A turnover penalty in the training reward of ``gauntlet/ESGPortfolio-*``, against churn.

The env already charges proportional transaction costs (``transaction_cost * turnover``, 10 bp per
unit traded), but at that size the cost is a small fraction of a day's return noise, so a policy
trained on the net log return alone can trade most of the portfolio every day and pay for it over
the year. A common remedy in portfolio RL is a turnover penalty in the training reward, which makes
churn costlier to the learner than the market charges (the other usual one, smoothing the actions,
would change the evaluated policy itself):

    reward' = reward - turnover_penalty * info["turnover"]

with ``turnover = sum_i |w_i - w_i^-|`` the day's traded fraction of the risky holdings. Only the
training reward changes: the env, its wealth, costs, ``info`` and every evaluation stay the
paper's task, so a policy trained with the penalty is evaluated like any other.
"""

from __future__ import annotations

import math
from typing import Any, SupportsFloat

import gymnasium as gym


class TurnoverPenalty(gym.Wrapper):
    """Subtract ``penalty * info["turnover"]`` from every reward of an env whose step info reports
    ``turnover`` (as ``gauntlet/ESGPortfolio-*`` does). ``penalty`` must be finite and >= 0."""

    def __init__(self, env: gym.Env, penalty: float) -> None:
        if not (isinstance(penalty, (int, float)) and math.isfinite(penalty) and penalty >= 0):
            raise ValueError(f"turnover_penalty={penalty!r} is invalid: it must be a finite number >= 0 "
                             "(reward units per unit of daily turnover; 0 leaves the reward unchanged)")
        super().__init__(env)
        self.penalty = float(penalty)

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        if "turnover" not in info:
            raise KeyError("TurnoverPenalty needs info['turnover'] from the env's step (gauntlet/ESGPortfolio-* "
                           f"reports it); {type(self.env.unwrapped).__name__} gave keys {sorted(info)}")
        return obs, float(reward) - self.penalty * float(info["turnover"]), terminated, truncated, info


def with_turnover_penalty(env: gym.Env, penalty: float, n_envs: int = 1) -> gym.Env:
    """``env`` itself when ``penalty`` is 0, else wrapped in :class:`TurnoverPenalty`. The SB3
    factories rebuild ``n_envs > 1`` copies from ``env.spec``, which would drop the wrapper, so a
    penalty needs ``n_envs=1``."""
    if penalty == 0:
        return env
    if n_envs != 1:
        raise ValueError(f"turnover_penalty={penalty!r} needs n_envs=1 (got n_envs={n_envs}): copies are rebuilt "
                         "from the env's spec without the penalty wrapper")
    return TurnoverPenalty(env, penalty)
