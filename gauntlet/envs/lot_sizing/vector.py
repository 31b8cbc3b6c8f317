"""Native batched :class:`~gauntlet.envs.lot_sizing.env.LotSizingEnv`: ``num_envs`` copies stepped in one
array operation.

Registered as the ``vector_entry_point`` of every ``gauntlet/LotSizing-*`` id, so
``gym.make_vec(id, num_envs=N, vectorization_mode="vector_entry_point")`` builds it. It takes the
same keyword arguments as the single env and runs the same dynamics code (the compiled period
:func:`gauntlet.envs.lot_sizing.kernels._step`, here over all copies in one call of
:func:`~gauntlet.envs.lot_sizing.kernels.step_rows`; resets draw the single env's reset words
and turn them into episodes in :func:`~gauntlet.envs.lot_sizing.kernels.reset_rows`, integer
arithmetic identical to ``_initial_state``'s), so it matches ``SyncVectorEnv`` of single envs
step for step, bit for bit:

* ``reset(seed=s)`` seeds copy ``i`` with ``s + i`` (a list gives one seed per copy, ``None``
  keeps or randomly creates each copy's generator), each copy drawing from its own
  ``numpy.random.Generator`` exactly what a single env draws;
* autoreset mode NEXT_STEP (Gymnasium 1.x): the step after a copy terminates resets it, ignores
  its action, and returns reward 0, ``terminated=False`` and its reset observation;
* infos are batched as ``SyncVectorEnv`` batches them: ``info[key]`` has a leading axis of size
  ``num_envs`` and ``info["_" + key]`` says which copies report it (copies that reset in a step
  report only ``action_mask``); ``info["cost"]`` is a dict of such arrays.

The action space is a batched :class:`~gauntlet.envs.lot_sizing.env.MaskedMultiDiscrete` of shape
``(num_envs, M)`` whose ``sample()`` respects the action mask (``SyncVectorEnv`` would batch the
single space into an int ``Box`` of the same shape and bounds).

Reset options are those of the single env (``demand`` (T, I), ``inventory`` (I,), ``setup``
(M,)), each either shared by all copies or with a leading ``num_envs`` axis, plus Gymnasium's
``reset_mask`` (bool (num_envs,)) to reset only some copies.

``render()`` returns one text (``render_mode="ansi"``) or one picture (``"rgb_array"``) per copy,
a tuple as ``SyncVectorEnv`` returns it, each the same as the single env's in the same state.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from gauntlet.envs.lot_sizing import kernels
from gauntlet.envs.lot_sizing.env import (
    LotSizingEnv,
    LotSizingInstance,
    MaskedMultiDiscrete,
    _as_action,
    _encode_prefix,
    _period_of_state,
    _parse_reset_options,
    _raise_invalid,
    _render_text,
    _reset_uniforms,
    post_decision,
)
from gauntlet.envs.vector_seeding import per_copy_seeds, reset_rows, seed_generators

_STEP_KEYS = ("cost", "demand", "lost_sales_units", "setups", "post_decision_state")
_COSTS = ("setup", "lost_sales", "holding", "overflow")


class LotSizingVectorEnv(VectorEnv):
    """``num_envs`` copies of :class:`LotSizingEnv` (same keyword arguments) as one batched env."""

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": ["ansi", "rgb_array"]}

    def __init__(self, num_envs: int = 1, **kwargs: Any) -> None:
        if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ValueError(f"num_envs must be an integer >= 1, got {num_envs!r}")
        # A single env validates the arguments and builds the instance, tables and templates.
        self._proto = proto = LotSizingEnv(**kwargs)
        self.num_envs = n = int(num_envs)
        self.render_mode = proto.render_mode
        self.instance: LotSizingInstance = proto.instance
        self.horizon = proto.horizon
        self.overflow, self.overflow_cost = proto.overflow, proto.overflow_cost
        self.idle_keeps_setup = proto.idle_keeps_setup
        self.random_initial_state = proto.random_initial_state
        self.forecast_horizon, self.observe_time = proto.forecast_horizon, proto.observe_time
        self.single_observation_space = proto.observation_space
        self.single_action_space = proto.action_space
        self.observation_space = batch_space(self.single_observation_space, n)
        self.action_space = MaskedMultiDiscrete(np.tile(proto.action_space.nvec, (n, 1)), proto._tables.allowed)

        tables = self._tables = proto._tables
        inst = self.instance
        self._templates = proto._templates
        self._statics = proto._statics
        self._reset_tables = kernels.reset_tables(proto)
        self._layout = layout = proto._layout
        self._action_shape = (n, inst.n_machines)
        self._rows = np.arange(n)
        self._masks = np.broadcast_to(tables.mask_flat, (n, tables.mask_flat.size)).copy()
        self._masks.setflags(write=False)
        self._all = np.ones(n, dtype=bool)
        self._all.setflags(write=False)

        self._rngs: list[np.random.Generator | None] = [None] * n
        # One state row per copy (layout: gauntlet.envs.lot_sizing.kernels.state_layout).
        self._state = np.zeros((n, layout["size"]))
        self._autoreset = np.zeros(n, dtype=bool)
        self._last_cost: dict[str, np.ndarray] | None = None

    # ------------------------------------------------------------------ public state
    @property
    def inventory(self) -> np.ndarray:
        """(num_envs, I) int64."""
        return self._state[:, self._layout["inventory"]].astype(np.int64)

    @property
    def setup(self) -> np.ndarray:
        """(num_envs, M) int64: 0 idle, k = item k - 1."""
        return self._state[:, self._layout["setup"]].astype(np.int64)

    @property
    def t(self) -> np.ndarray:
        """(num_envs,) periods completed in each copy's episode."""
        return self._state[:, self._layout["t"]].astype(np.int64)

    @property
    def demand_scenario(self) -> np.ndarray:
        """(num_envs, T, I) int64 demand of each copy's episode, read-only."""
        scenario = self._state[:, self._layout["demand"]].astype(np.int64).reshape(self.num_envs, self.horizon, -1)
        scenario.setflags(write=False)
        return scenario

    @property
    def np_random(self) -> tuple[np.random.Generator | None, ...]:
        return tuple(self._rngs)

    def expected_demand(self) -> np.ndarray:
        """Mean demand (T, I), the same for every copy."""
        return self.instance.expected_demand(self.horizon)

    def action_masks(self) -> np.ndarray:
        """(num_envs, M * (I + 1)) bool masks in sb3-contrib's MultiDiscrete layout."""
        return self._masks.copy()

    def post_decision(self, states: np.ndarray, actions: Any) -> np.ndarray:
        """:func:`~gauntlet.envs.lot_sizing.env.post_decision` with this env's instance and idle rule
        (states (N, D) or (D,), actions (N, M) or (M,))."""
        return post_decision(states, actions, self.instance, idle_keeps_setup=self.idle_keeps_setup)

    # --------------------------------------------------------------------- gym api
    def reset(
        self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        n = self.num_envs
        seeds = per_copy_seeds(seed, n)
        masked, options = reset_rows(options, n)
        rows = self._rows if masked is None else masked
        seed_generators(self._rngs, rows, seeds)
        overrides = _parse_reset_options(options, self.instance, self.horizon, batch=n)
        obs = self._reset_rows(rows, overrides)
        self._autoreset[rows] = False
        if masked is None:
            return obs, {"action_mask": self._masks.copy(), "_action_mask": self._all.copy()}
        # The other copies keep their current observation, a function of their state.
        out = self._templates[self.t]
        _encode_prefix(out, self._state[:, self._layout["inventory"]], self._tables.onehot(self.setup), self._tables)
        present = np.zeros(n, dtype=bool)
        present[rows] = True
        masks = np.zeros_like(self._masks)
        masks[rows] = self._masks[rows]
        return out, {"action_mask": masks, "_action_mask": present}

    def _reset_rows(self, rows: np.ndarray, overrides: dict[str, np.ndarray]) -> np.ndarray:
        """Reset copies ``rows`` (each drawing from its own generator) and return their observations."""
        words = np.stack([_reset_uniforms(self._rngs[i], self.instance, self.horizon) for i in rows])
        kernels.reset_rows(words, rows, self._state, self._statics, self._reset_tables)
        for key, given in overrides.items():
            batched = given.ndim == (3 if key == "demand" else 2)
            self._state[rows, self._layout[key]] = given[rows].reshape(len(rows), -1) if batched else given.reshape(-1)
        state = self._state[rows]
        setup = state[:, self._layout["setup"]].astype(np.int64)
        obs = self._templates[np.zeros(len(rows), dtype=np.int64)]
        _encode_prefix(obs, state[:, self._layout["inventory"]], self._tables.onehot(setup), self._tables)
        return obs

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        n = self.num_envs
        act = _as_action(actions, self._action_shape)
        resetting = self._autoreset
        any_reset = bool(resetting.any())
        dim = self._templates.shape[1]
        # The kernel writes every entry of the copies it steps; copies that reset are zeroed below.
        obs = np.empty((n, dim), dtype=np.float32)
        pds = np.empty((n, dim), dtype=np.float32)
        lost = np.empty((n, self.instance.n_items), dtype=np.int64)
        demand = np.empty((n, self.instance.n_items), dtype=np.int64)
        out = np.empty((n, 6))
        bad = kernels.step_rows(act, resetting, self._state, self._statics, obs, pds, lost, demand, out)
        if bad >= 0:
            try:
                _raise_invalid(act[bad], self._tables)
            except ValueError as err:
                raise type(err)(f"sub-env {bad}: {err}") from None
        rewards = out[:, 5].copy()
        terminated = self._state[:, self._layout["t"]] == self.horizon
        cost = {name: out[:, j].copy() for j, name in enumerate(_COSTS)}
        self._last_cost = dict(cost)
        infos: dict[str, Any] = {
            "cost": cost,
            "demand": demand,
            "lost_sales_units": lost,
            "setups": out[:, 4].astype(np.int64),
            "post_decision_state": pds,
        }
        if any_reset:
            rows = np.flatnonzero(resetting)
            for values in (pds, lost, demand, out):
                values[rows] = 0
            rewards[rows] = 0.0
            infos["setups"][rows] = 0
            for values in cost.values():
                values[rows] = 0.0
            obs[rows] = self._reset_rows(rows, {})
            terminated[rows] = False
            present = ~resetting
        else:
            present = self._all
        if present.any():
            cost.update({"_" + name: present for name in list(cost)})
            infos.update({"_" + key: present for key in _STEP_KEYS})
        else:
            # Like SyncVectorEnv: a key that no copy reports is absent.
            infos = {}
        infos["action_mask"] = self._masks.copy()
        infos["_action_mask"] = self._all.copy()
        self._autoreset = terminated.copy()
        return obs, rewards, terminated, np.zeros(n, dtype=bool), infos

    def render(self) -> tuple[str, ...] | tuple[np.ndarray, ...] | None:
        """One text or picture per copy, as :meth:`LotSizingEnv.render` draws it (a tuple, like
        Gymnasium's ``SyncVectorEnv``)."""
        if self.render_mode not in ("ansi", "rgb_array"):
            return None
        inventory, setup, t = self.inventory, self.setup, self.t
        costs = [None if self._last_cost is None else {k: float(v[i]) for k, v in self._last_cost.items()}
                 for i in range(self.num_envs)]
        if self.render_mode == "ansi":
            return tuple(_render_text(int(t[i]), self.horizon, inventory[i], setup[i], costs[i])
                         for i in range(self.num_envs))
        from gauntlet.envs.lot_sizing import render

        frames = []
        for i in range(self.num_envs):
            state = self._state[i]
            period = None if costs[i] is None or t[i] == 0 else _period_of_state(self._tables, self._layout, state, costs[i])
            frames.append(render.draw(self.instance, int(t[i]), self.horizon, state[self._layout["inventory"]],
                                      setup[i], period))
        return tuple(frames)
