"""Native batched :class:`~gauntlet.envs.fair_threshold.env.FairThresholdEnv`: ``num_envs`` copies
stepped in one call of the compiled round
(:func:`gauntlet.envs.fair_threshold.kernels.step_rows`, which runs the single env's
``_round`` on every copy).

Registered as the ``vector_entry_point`` of every ``gauntlet/FairThreshold-*`` id::

    envs = gym.make_vec("gauntlet/FairThreshold-v0", num_envs=1024, vectorization_mode="vector_entry_point")

It takes the single env's keyword arguments and matches ``SyncVectorEnv`` of single envs bit for
bit:

* ``reset(seed=s)`` seeds copy ``i`` with ``s + i`` (a list gives one seed per copy, ``None``
  keeps or randomly creates each copy's generator); each copy draws from its own PCG64 stream
  exactly what a single env draws. The streams' states live in the env (``(num_envs, 4)``
  uint64); ``np_random`` returns each copy's generator set to its current state.
* Autoreset mode NEXT_STEP (Gymnasium 1.x): the step after a copy truncates resets it, ignores
  its action, and returns reward 0, ``truncated=False`` and its reset observation.
* ``infos`` are batched as ``SyncVectorEnv`` batches them: every key of the single env's step
  info with a leading ``num_envs`` axis and its ``"_" + key`` mask (``cost`` and
  ``expected_cost`` are dicts of such arrays); a copy that resets in a step reports only the
  reset keys ``group_share`` and ``base_share``.
* Actions: ``(num_envs,)`` integer threshold indices, or ``(num_envs, 1)`` thresholds with
  ``continuous=True``. A bad action raises the single env's error, prefixed with the copy.
* Reset options: Gymnasium's ``reset_mask`` (bool (num_envs,)) resets only some copies.

Rendering is per single env (``render_mode`` must be None here).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv

from gauntlet.envs.fair_threshold import kernels, random
from gauntlet.envs.fair_threshold.env import FairThresholdEnv
from gauntlet.envs.vector_prototype import build_prototype, reset_mask_rows
from gauntlet.envs.vector_seeding import per_copy_seeds, seed_generators

_STEP_KEYS = ("cost", "expected_cost", "expected_reward", "threshold", "acceptance_rate",
              "expected_acceptance_rate")


class FairThresholdVectorEnv(VectorEnv):
    """``num_envs`` copies of :class:`FairThresholdEnv` (same keyword arguments) as one batched env."""

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(self, num_envs: int = 1, **kwargs: Any) -> None:
        self._proto = proto = build_prototype(self, FairThresholdEnv, num_envs, kwargs)
        n = self.num_envs
        for key, value in proto.config.items():
            setattr(self, key, value)
        self.base_share, self.group_names, self.scores = proto.base_share, proto.group_names, proto.scores
        self.thresholds, self.constraint_names = proto.thresholds, proto.constraint_names
        self._cuts = np.array([cut for _, cut in proto._grid], dtype=np.int64)
        self._state = np.zeros((n, proto._state.size))
        self._state[:] = proto._state
        self._rng_states = np.zeros((n, 4), dtype=np.uint64)
        self._generators: list[np.random.Generator | None] = [None] * n
        self._views: list[np.ndarray | None] = [None] * n
        self._autoreset = np.zeros(n, dtype=bool)
        self._all = np.ones(n, dtype=bool)
        self._base = np.full(n, self.base_share)
        self._last_obs = np.zeros((n, *self.single_observation_space.shape), dtype=np.float32)

    def __setstate__(self, state: dict[str, Any]) -> None:
        # The PCG64 views alias the memory of the generator objects; a copy (deepcopy, pickle)
        # holds new generators, so the views are derived again from them.
        self.__dict__.update(state)
        self._views = [None if g is None else random.pcg64_state(g) for g in self._generators]

    @property
    def np_random(self) -> tuple[np.random.Generator | None, ...]:
        """Each copy's generator, set to the copy's current state."""
        for i, view in enumerate(self._views):
            if view is not None:
                view[:] = self._rng_states[i]
        return tuple(self._generators)

    @property
    def group_share(self) -> np.ndarray:
        """(num_envs,) the share each copy's next batch is drawn from."""
        return self._state[:, 0].copy()

    @property
    def t(self) -> np.ndarray:
        """(num_envs,) rounds played in each copy's episode."""
        return self._state[:, 1].astype(np.int64)

    # --------------------------------------------------------------------- gym api
    def reset(self, *, seed: int | list[int | None] | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        n = self.num_envs
        seeds = per_copy_seeds(seed, n)
        rows = reset_mask_rows(options, n)
        for i in seed_generators(self._generators, rows, seeds):
            self._views[i] = random.pcg64_state(self._generators[i])
            self._rng_states[i] = self._views[i]
        # Copies outside reset_mask keep their last observation, as SyncVectorEnv's do.
        obs = self._last_obs.copy()
        obs[rows] = self._reset_rows(rows)
        self._last_obs = obs.copy()
        self._autoreset[rows] = False
        present = np.zeros(n, dtype=bool)
        present[rows] = True
        shares = np.where(present, self._state[:, 0], 0.0)
        return obs, {"group_share": shares, "_group_share": present,
                     "base_share": np.where(present, self.base_share, 0.0), "_base_share": present.copy()}

    def _reset_rows(self, rows: np.ndarray) -> np.ndarray:
        """Reset copies ``rows`` (each drawing its initial share from its own stream) and return
        their observations."""
        proto = self._proto
        obs = np.empty((len(rows), *self.single_observation_space.shape), dtype=np.float32)
        for k, i in enumerate(rows):
            view = self._views[i]
            view[:] = self._rng_states[i]
            share = proto._initial_share(self._generators[i])
            self._rng_states[i] = view
            state = self._state[i]
            state[0], state[1] = share, 0.0
            proto._reset_scores(state)
            obs[k] = proto._reset_observation(share)
        return obs

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        n = self.num_envs
        resetting = self._autoreset
        cuts, taus = self._check_actions(actions, resetting)
        obs = np.zeros((n, *self.single_observation_space.shape), dtype=np.float32)
        out = np.zeros((n, kernels.N_OUT))
        kernels.step_rows(cuts, resetting, self._state, self._proto._consts, self._proto._cut_cache,
                          self._rng_states, obs, out)
        rewards = out[:, 0].copy()
        truncated = self._state[:, 1] >= self.horizon
        if self.rho is None:
            cost, expected_cost = {"dp": out[:, 2].copy()}, {"dp": out[:, 4].copy()}
        else:
            cost = {"dp": out[:, 2].copy(), "service": out[:, 3].copy()}
            expected_cost = {"dp": out[:, 4].copy(), "service": out[:, 5].copy()}
        infos: dict[str, Any] = {
            "cost": cost,
            "expected_cost": expected_cost,
            "expected_reward": out[:, 1].copy(),
            "threshold": np.where(resetting, 0.0, taus),
            "acceptance_rate": out[:, 6:8].copy(),
            "expected_acceptance_rate": out[:, 8:10].copy(),
            "group_share": out[:, 10].copy(),
            "_group_share": self._all.copy(),
            "base_share": self._base.copy(),
            "_base_share": self._all.copy(),
        }
        present = ~resetting
        if resetting.any():
            rows = np.flatnonzero(resetting)
            obs[rows] = self._reset_rows(rows)
            infos["group_share"][rows] = self._state[rows, 0]
            truncated[rows] = False
        for key in _STEP_KEYS:
            infos["_" + key] = present.copy()
        for group in (cost, expected_cost):
            group.update({"_" + name: present.copy() for name in list(group)})
        self._autoreset = truncated.copy()
        self._last_obs = obs.copy()
        return obs, rewards, np.zeros(n, dtype=bool), truncated, infos

    def _check_actions(self, actions: Any, resetting: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Threshold cut indices and thresholds; a bad action of a copy that is not reset raises
        the single env's error for it."""
        n = self.num_envs
        if self.continuous:
            try:
                arr = np.asarray(actions, dtype=np.float64)
            except (TypeError, ValueError):
                raise ValueError(f"actions {actions!r} are not numbers; expected an array of shape ({n}, 1) in [0, 1]") from None
            if arr.shape != (n, 1):
                raise ValueError(f"actions have shape {arr.shape}; expected ({n}, 1) (one threshold in [0, 1] per copy)")
            taus = arr[:, 0]
            bad = ~((taus >= 0.0) & (taus <= 1.0)) & ~resetting
            self._raise_first(bad, arr)
            return np.searchsorted(self.scores, np.where(resetting, 0.0, taus), side="left").astype(np.int64), taus
        arr = np.asarray(actions)
        if arr.shape != (n,):
            raise ValueError(f"actions have shape {arr.shape}; expected ({n},) (one threshold index per copy)")
        if arr.dtype.kind not in "iu":
            self._raise_first(~resetting, arr)
            arr = arr.astype(np.int64)
        bad = ((arr < 0) | (arr >= self.n_thresholds)) & ~resetting
        self._raise_first(bad, arr)
        index = np.where(resetting, 0, arr)
        return self._cuts[index], self.thresholds[index]

    def _raise_first(self, bad: np.ndarray, actions: np.ndarray) -> None:
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            try:
                self._proto._threshold(actions[i].item() if actions.ndim == 1 else actions[i])
            except ValueError as err:
                raise ValueError(f"sub-env {i}: {err}") from None
