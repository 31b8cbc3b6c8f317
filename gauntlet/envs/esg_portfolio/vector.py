"""Native batched :class:`~gauntlet.envs.esg_portfolio.env.ESGPortfolioEnv`: ``num_envs`` portfolios
on the same market stepped by the single env's compiled day
(:func:`gauntlet.envs.esg_portfolio.kernels.finish_rows` over all copies, after one NumPy ``exp``
of all their logits).

Registered as the ``vector_entry_point`` of every ``gauntlet/ESGPortfolio-*`` id::

    envs = gym.make_vec("gauntlet/ESGPortfolio-v0", num_envs=1024, vectorization_mode="vector_entry_point")

It takes the single env's keyword arguments and matches ``SyncVectorEnv`` of single envs bit for
bit:

* ``reset(seed=s)`` seeds copy ``i`` with ``s + i`` (a list gives one seed per copy, ``None``
  keeps or randomly creates each copy's generator); only ``episode_length`` episodes draw (their
  first day), each copy from its own generator (``np_random``).
* Autoreset mode NEXT_STEP (Gymnasium 1.x): the step after a copy terminates or truncates resets
  it, ignores its action, and returns reward 0, not done, and its reset observation.
* ``infos`` are batched as ``SyncVectorEnv`` batches them: every key of the single env's step
  info with a leading ``num_envs`` axis and its ``"_" + key`` mask (``date`` an object array of
  ISO strings); a copy that resets in a step reports only the reset keys (``portfolio_value``,
  ``weights``, ``drifted_weights``, ``portfolio_esg``, ``date``) with their reset values.
* Actions ``(num_envs, m)``; a bad action raises the single env's error, prefixed with the copy.
* Reset options: Gymnasium's ``reset_mask`` (bool (num_envs,)) resets only some copies.

Rendering is per single env (``render_mode`` must be None here).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv

from gauntlet.envs.esg_portfolio import kernels
from gauntlet.envs.esg_portfolio.env import ESGPortfolioEnv, _raise_bad_action
from gauntlet.envs.vector_prototype import build_prototype, reset_mask_rows
from gauntlet.envs.vector_seeding import per_copy_seeds, seed_generators

_STEP_ONLY = ("turnover", "cost", "gross_return", "net_return", "grant", "tax")
_OUT = {"turnover": 0, "cost": 1, "gross_return": 2, "net_return": 3, "grant": 4, "tax": 5, "portfolio_esg": 6,
        "portfolio_value": 7}


class ESGPortfolioVectorEnv(VectorEnv):
    """``num_envs`` copies of :class:`ESGPortfolioEnv` (same keyword arguments) as one batched env."""

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(self, num_envs: int = 1, **kwargs: Any) -> None:
        self._proto = proto = build_prototype(self, ESGPortfolioEnv, num_envs, kwargs)
        n = self.num_envs
        for name in ("market", "data", "period", "regulation", "lookback", "transaction_cost", "cash", "grant_rate",
                     "tax_rate", "flat_tax", "esg_in_state", "action_scale", "episode_length", "tickers", "n_assets",
                     "n_weights", "esg_scores", "esg_mean", "returns", "first_decision", "last_decision"):
            setattr(self, name, getattr(proto, name))
        self._state = np.tile(proto._state, (n, 1))
        self._generators: list[np.random.Generator | None] = [None] * n
        self._autoreset = np.zeros(n, dtype=bool)
        self._last_obs = np.zeros((n, *self.single_observation_space.shape), dtype=np.float32)
        self._dates = np.array(proto._dates, dtype=object)

    @property
    def np_random(self) -> tuple[np.random.Generator | None, ...]:
        return tuple(self._generators)

    @property
    def current_index(self) -> np.ndarray:
        """(num_envs,) each copy's decision row in ``returns`` / ``market.dates``."""
        return self._state[:, 0].astype(np.int64)

    @property
    def current_weights(self) -> np.ndarray:
        """(num_envs, m) the drifted weights each copy holds before today's trade."""
        return self._state[:, kernels.STATE_HEADER :].copy()

    @property
    def portfolio_value(self) -> np.ndarray:
        return self._state[:, 2].copy()

    # --------------------------------------------------------------------- gym api
    def reset(self, *, seed: int | list[int | None] | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        n = self.num_envs
        seeds = per_copy_seeds(seed, n)
        rows = reset_mask_rows(options, n)
        seed_generators(self._generators, rows, seeds)
        # Copies outside reset_mask keep their last observation, as SyncVectorEnv's do.
        obs = self._last_obs.copy()
        infos = self._empty_infos()
        self._reset_rows(rows, obs, infos)
        self._autoreset[rows] = False
        self._last_obs = obs.copy()
        for key in _STEP_ONLY:
            del infos[key], infos["_" + key]
        return obs, infos

    def _empty_infos(self) -> dict[str, Any]:
        n, m = self.num_envs, self.n_weights
        infos: dict[str, Any] = {key: np.zeros(n) for key in _OUT}
        infos.update(weights=np.zeros((n, m)), drifted_weights=np.zeros((n, m)),
                     date=np.full(n, None, dtype=object))
        for key in list(infos):
            infos["_" + key] = np.zeros(n, dtype=bool)
        return infos

    def _reset_rows(self, rows: np.ndarray, obs: np.ndarray, infos: dict[str, Any]) -> None:
        """Reset copies ``rows``: their observations into ``obs``, their reset infos into ``infos``."""
        proto = self._proto
        for i in rows:
            start, end = proto._episode_rows(self._generators[i])
            proto._set_episode(self._state[i], start, end)
            obs[i], info = proto._reset_observation(start)
            for key, value in info.items():
                infos[key][i] = value
                infos["_" + key][i] = True

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        n, m = self.num_envs, self.n_weights
        resetting = self._autoreset
        finished = ~resetting & (self._state[:, 0] >= self._state[:, 1])
        if finished.any():
            raise RuntimeError(f"sub-env {int(np.flatnonzero(finished)[0])}: the episode is over; call reset()")
        a = np.asarray(actions, dtype=np.float64)
        if a.shape != (n, m):
            raise ValueError(f"actions must have shape ({n}, {m}), got {a.shape}")
        logits = np.zeros((n, m))
        bad = kernels.logits_rows(a, resetting, self.action_scale, logits)
        if bad >= 0:
            try:
                _raise_bad_action(a[bad])
            except ValueError as err:
                raise ValueError(f"sub-env {bad}: {err}") from None
        np.exp(logits, out=logits)
        # Every row is written: by the kernel, or by the reset of a copy that resets.
        obs = np.empty((n, *self.single_observation_space.shape), dtype=np.float32)
        weights, drifted = np.empty((n, m)), np.empty((n, m))
        out = np.zeros((n, kernels.N_OUT))
        kernels.finish_rows(logits, resetting, self._state, self._proto._consts, obs, weights, drifted, out)
        present = ~resetting
        infos: dict[str, Any] = {key: out[:, j].copy() for key, j in _OUT.items()}
        infos.update(weights=weights, drifted_weights=drifted, date=self._dates[self._state[:, 0].astype(np.int64)])
        for key in list(infos):
            infos["_" + key] = present.copy()
        rewards = out[:, 8].copy()
        terminated = out[:, 9] == 1.0
        truncated = out[:, 10] == 1.0
        if resetting.any():
            rows = np.flatnonzero(resetting)
            infos["date"][rows] = None
            self._reset_rows(rows, obs, infos)
        self._autoreset = terminated | truncated
        # By reference (a copy of a 1024-copy batch costs more than the step's arithmetic).
        self._last_obs = obs
        return obs, rewards, terminated, truncated, infos
