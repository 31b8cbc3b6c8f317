"""What the native vector envs of FairThreshold and ESGPortfolio share: a single env built from
the vector env's keyword arguments (its prototype) validates them and lends its spaces, and a
``reset`` that knows only Gymnasium's ``reset_mask`` option resolves which copies it resets."""

from __future__ import annotations

from typing import Any, Callable, Mapping

import gymnasium as gym
import numpy as np
from gymnasium.vector import VectorEnv
from gymnasium.vector.utils import batch_space

from gauntlet.envs.validation import check, check_int
from gauntlet.envs.vector_seeding import reset_rows


def build_prototype(envs: VectorEnv, single: Callable[..., gym.Env], num_envs: int, kwargs: dict[str, Any]) -> Any:
    """Check ``num_envs`` (int >= 1) and ``render_mode`` (None: rendering is per single env), build
    ``single(**kwargs)``, and set ``envs``' ``num_envs``, ``render_mode`` and its single and
    batched observation and action spaces from it. Returns the single env."""
    check_int("num_envs", num_envs, 1)
    check("render_mode", kwargs.get("render_mode"), kwargs.get("render_mode") is None,
          f"None (render a single {single.__name__})")
    proto = single(**kwargs)
    envs.num_envs = n = int(num_envs)
    envs.render_mode = None
    envs.single_observation_space = proto.observation_space
    envs.single_action_space = proto.action_space
    envs.observation_space = batch_space(proto.observation_space, n)
    envs.action_space = batch_space(proto.action_space, n)
    return proto


def reset_mask_rows(options: Mapping[str, Any] | None, num_envs: int) -> np.ndarray:
    """The indices of the copies a ``reset(options=...)`` resets (all without ``reset_mask``);
    any other option is an error."""
    rows, rest = reset_rows(options, num_envs)
    if rest:
        raise ValueError(f"unknown reset options {sorted(rest)}; allowed: 'reset_mask'")
    return np.arange(num_envs) if rows is None else rows
