"""Native batched MEC offloading: ``num_envs`` systems stepped in one call of the compiled step
(:func:`gauntlet.envs.mec_offloading.kernels.step_rows`, the kernel the single env runs on a batch of one).

Registered as the ``vector_entry_point`` of every id, ``MOMECOffloadingVectorEnv`` for
``gauntlet/mo-MECOffloading-v0``/``-v1`` and ``MECOffloadingVectorEnv`` for
``gauntlet/MECOffloading-v0``/``-v1`` (v1: the same keyword arguments with a backhaul)::

    envs = gym.make_vec("gauntlet/mo-MECOffloading-v0", num_envs=1024, vectorization_mode="vector_entry_point")

Rewards, as the single envs of the same id: ``MOMECOffloadingVectorEnv`` returns the float32
reward vectors, shape ``(num_envs, 2)`` (what MO-Gymnasium's ``MOSyncVectorEnv`` returns over
``gauntlet/mo-MECOffloading-v0``); ``MECOffloadingVectorEnv`` returns the scalarized ``w . r``
(float64, shape ``(num_envs,)``, identical to ``SyncVectorEnv`` over ``gauntlet/MECOffloading-v0``).
Both put the vectors in ``infos["reward_vector"]``; ``reward_space`` and ``reward_dim``
describe one copy's vector.

Seeding and autoreset follow ``SyncVectorEnv``: ``reset(seed=s)`` seeds copy ``i`` with
``s + i``; a copy whose episode ended is reset on the *next* ``step`` call (its action is
ignored, its reward is 0) (``AutoresetMode.NEXT_STEP``). ``reset(options={"weights": w})``
takes one preference ``(2,)`` for all copies or one per copy ``(num_envs, 2)``.
``infos`` holds ``action_mask`` (num_envs, servers), ``reward_vector``, ``delay``,
``energy``, ``task_size`` and ``weights``, each with its ``_key`` mask as Gymnasium does.
With ``render_mode="rgb_array"``, ``render()`` returns one picture per copy (the single
env's picture; a copy reset at this step shows no last decision).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from gauntlet.envs.mec_offloading.env import N_OBJECTIVES, LastDecision, MECCore, scalarize, validate_weights
from gauntlet.envs.validation import check, check_choice, check_int
from gauntlet.envs.vector_seeding import per_copy_seeds


class MOMECOffloadingVectorEnv(VectorEnv):
    """``num_envs`` copies of :class:`~gauntlet.envs.mec_offloading.env.MOMECOffloadingEnv` in
    one :class:`~gauntlet.envs.mec_offloading.env.MECCore`; same keyword arguments. Rewards are
    the float32 reward vectors, shape ``(num_envs, 2)``."""

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": ["rgb_array"]}

    def __init__(
        self,
        num_envs: int = 1,
        *,
        context: str = "train",
        n_edges: int | None = None,
        cloud_freq_ghz: float | None = None,
        edge_freq_ghz: float | None = None,
        max_edges: int = 10,
        n_users: int = 10,
        arrival_rate: float = 0.1,
        episode_steps: int = 100,
        hist_bins: int = 60,
        hist_bin_mbit: float = 1.0,
        tx_power_w: float = 0.01,
        bandwidth_hz: float = 16.6e6,
        backhaul_rate_bps: float | None = None,
        backhaul_latency_s: float = 0.0,
        weights: tuple[float, float] = (0.5, 0.5),
        preference_in_obs: bool = False,
        render_mode: str | None = None,
        max_episode_steps: int | None = None,
    ) -> None:
        check_int("num_envs", num_envs, 1)
        check_choice("render_mode", render_mode, (None, *self.metadata["render_modes"]))
        check("max_episode_steps", max_episode_steps, max_episode_steps in (None, episode_steps),
              f"None or episode_steps={episode_steps} (set episode_steps instead)")
        self.core = MECCore(
            int(num_envs), context=context, n_edges=n_edges, cloud_freq_ghz=cloud_freq_ghz, edge_freq_ghz=edge_freq_ghz,
            max_edges=max_edges, n_users=n_users, arrival_rate=arrival_rate, episode_steps=episode_steps,
            hist_bins=hist_bins, hist_bin_mbit=hist_bin_mbit, tx_power_w=tx_power_w, bandwidth_hz=bandwidth_hz,
            backhaul_rate_bps=backhaul_rate_bps, backhaul_latency_s=backhaul_latency_s,
        )
        self.num_envs = int(num_envs)
        self.preference_in_obs = bool(preference_in_obs)
        self.weights = np.tile(validate_weights(weights), (self.num_envs, 1))
        self.reward_dim = N_OBJECTIVES
        dim = self.core.n_servers * self.core.row_features + (N_OBJECTIVES if self.preference_in_obs else 0)
        self.single_observation_space = spaces.Box(-1.0, self.core.obs_high, shape=(dim,), dtype=np.float32)
        self.single_action_space = spaces.Discrete(self.core.n_servers)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.reward_space = spaces.Box(-np.inf, 0.0, shape=(N_OBJECTIVES,), dtype=np.float32)
        self.render_mode = render_mode
        # The last step's (actions, task sizes, users, delays, energies, reward vectors, reset
        # copies) by reference, for render(); None right after reset().
        self._last: tuple[np.ndarray, ...] | None = None
        self._rngs: list[np.random.Generator] = [seeding.np_random(None)[0] for _ in range(self.num_envs)]
        self._autoreset = np.zeros(self.num_envs, dtype=bool)
        self._started = False

    def reset(self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None):
        seeds = per_copy_seeds(seed, self.num_envs)
        for i, s in enumerate(seeds):
            if s is not None or not self._started:
                self._rngs[i] = seeding.np_random(s)[0]
        if options and "weights" in options:
            self.set_weights(options["weights"])
        rows = np.arange(self.num_envs)
        self.core.reset_rows(rows, self._rngs)
        self._autoreset[:] = False
        self._started = True
        self._last = None
        zeros = np.zeros((self.num_envs, N_OBJECTIVES), dtype=np.float32)
        return self._obs(), self._infos(zeros, np.zeros(self.num_envs), np.zeros(self.num_envs), np.zeros(self.num_envs))

    def set_weights(self, weights: Any) -> None:
        """Set the preference of every copy (``(2,)``) or of each copy (``(num_envs, 2)``)."""
        w = np.asarray(weights, dtype=np.float64)
        if w.ndim == 2:
            if w.shape[0] != self.num_envs:
                raise ValueError(f"per-copy weights must have shape ({self.num_envs}, {N_OBJECTIVES}), got {w.shape}")
            self.weights = np.stack([validate_weights(row) for row in w])
        else:
            self.weights = np.tile(validate_weights(w), (self.num_envs, 1))

    def step(self, actions: Any):
        if not self._started:
            raise RuntimeError("call reset() before step()")
        a = self._check_actions(actions)
        core = self.core
        done_rows = np.flatnonzero(self._autoreset)
        a[done_rows] = 0
        size, user = core.head_size.copy(), core.head_user.copy()
        obs = self._obs_array()
        reward, delay, energy = core.step(a, obs)
        if len(done_rows):
            core.reset_rows(done_rows, [self._rngs[i] for i in done_rows])
            core.observe(obs, done_rows)
            reward[done_rows] = 0.0
            delay[done_rows] = 0.0
            energy[done_rows] = 0.0
            size[done_rows] = 0.0
        truncated = core.t >= core.episode_steps
        truncated[done_rows] = False
        self._autoreset = truncated.copy()
        self._last = (a, size, user, delay, energy, reward, done_rows)
        terminated = np.zeros(self.num_envs, dtype=bool)
        return obs, self._reward(reward), terminated, truncated, self._infos(reward, delay, energy, size)

    def action_masks(self) -> np.ndarray:
        return self.core.present.copy()

    def render(self) -> tuple[np.ndarray, ...] | None:
        """One picture per copy, as the single env draws it (a tuple, like ``SyncVectorEnv``);
        ``None`` without ``render_mode="rgb_array"``."""
        if self.render_mode != "rgb_array":
            return None
        from gauntlet.envs.mec_offloading.render import draw

        return tuple(draw(self.core, self.weights[i], self._last_decision(i), row=i) for i in range(self.num_envs))

    def _last_decision(self, i: int) -> LastDecision | None:
        if self._last is None or i in self._last[-1]:
            return None
        action, size, user, delay, energy, reward, _ = self._last
        return LastDecision(int(action[i]), float(size[i]), int(user[i]), float(delay[i]), float(energy[i]), reward[i])

    def _reward(self, vectors: np.ndarray) -> np.ndarray:
        return vectors.copy()

    def _check_actions(self, actions: Any) -> np.ndarray:
        arr = np.asarray(actions)
        if arr.shape != (self.num_envs,):
            raise ValueError(f"actions must have shape ({self.num_envs},), got {arr.shape}")
        if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
            raise ValueError("actions contain NaN or inf")
        if arr.dtype.kind not in "iuf" or (arr.dtype.kind == "f" and not np.all(arr == np.floor(arr))):
            raise ValueError(f"actions must be integers in [0, {self.core.max_edges}], got {actions!r}")
        a = arr.astype(np.int64)
        if np.any((a < 0) | (a > self.core.max_edges)):
            raise ValueError(f"actions must be integers in [0, {self.core.max_edges}], got {actions!r}")
        # Server a is present exactly when a <= E.
        valid = (a <= self.core.edges) | self._autoreset
        if not valid.all():
            bad = int(np.flatnonzero(~valid)[0])
            raise ValueError(
                f"action {a[bad]} of copy {bad} is masked: that system has {self.core.edges[bad]} edge servers "
                f"(valid actions 0..{self.core.edges[bad]}); see infos['action_mask'] / action_masks()"
            )
        return a

    def _obs(self) -> np.ndarray:
        return self.core.observe(self._obs_array())

    def _obs_array(self) -> np.ndarray:
        """A new observation batch with the preferences filled in, for the core to write its rows into."""
        obs = np.empty((self.num_envs, *self.single_observation_space.shape), dtype=np.float32)
        if self.preference_in_obs:
            obs[:, self.core.n_servers * self.core.row_features :] = self.weights
        return obs

    def _infos(self, reward: np.ndarray, delay: np.ndarray, energy: np.ndarray, size: np.ndarray) -> dict[str, Any]:
        ones = np.ones(self.num_envs, dtype=bool)
        infos: dict[str, Any] = {
            "action_mask": self.core.present.copy(),
            "reward_vector": reward,
            "delay": delay,
            "energy": energy,
            "task_size": size,
            "weights": self.weights.copy(),
        }
        for key in list(infos):
            infos[f"_{key}"] = ones
        return infos


class MECOffloadingVectorEnv(MOMECOffloadingVectorEnv):
    """``num_envs`` copies of :class:`~gauntlet.envs.mec_offloading.env.MECOffloadingEnv`:
    rewards are ``w . r`` per copy (float64, shape ``(num_envs,)``)."""

    def _reward(self, vectors: np.ndarray) -> np.ndarray:
        return scalarize(vectors, self.weights)
