"""Stable-Baselines3 adapters: the registry's ``ppo`` and ``a2c`` agents.

The factories return plain SB3 / sb3-contrib models, so everything SB3 offers (``learn``,
``predict``, ``save``, ``load``, callbacks, TensorBoard) works unchanged:

- :func:`make_ppo` builds sb3-contrib's ``MaskablePPO`` when the (unwrapped) env exposes
  ``action_masks()`` -- masked envs raise on invalid actions, so an unmasked PPO would
  crash them -- and SB3's ``PPO`` otherwise.
- :func:`make_a2c` builds SB3's ``A2C`` (SB3 has no maskable A2C; use it on unmasked envs).

The policy is ``"MultiInputPolicy"`` for ``Dict`` observation spaces and ``"MlpPolicy"``
otherwise. ``MaskablePPO.predict`` accepts ``action_masks=``, which the benchmark runner
passes on masked envs.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
from stable_baselines3 import A2C, PPO
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv


def _policy_for(env: gym.Env) -> str:
    return "MultiInputPolicy" if isinstance(env.observation_space, gym.spaces.Dict) else "MlpPolicy"


def _has_action_masks(env: gym.Env) -> bool:
    return callable(getattr(env.unwrapped, "action_masks", None))


def _copies(env: gym.Env, n_envs: int) -> gym.Env | DummyVecEnv:
    """``env`` itself, or ``n_envs`` copies rebuilt from its spec in a DummyVecEnv, each in a
    ``Monitor`` as SB3's ``make_vec_env`` does: batching the policy forward pass over copies is
    what makes SB3 fast on cheap envs."""
    if n_envs < 1:
        raise ValueError(f"n_envs must be >= 1, got {n_envs}")
    if n_envs == 1:
        return env
    if env.spec is None:
        raise ValueError("n_envs > 1 needs an env made with gym.make (it is rebuilt from env.spec)")
    spec = env.spec
    return DummyVecEnv([lambda: Monitor(gym.make(spec.id, **spec.kwargs))] * n_envs)


def make_ppo(
    env: gym.Env,
    seed: int = 0,
    tensorboard_log: str | None = None,
    verbose: int = 0,
    n_envs: int = 1,
    **hyperparameters: Any,
) -> BaseAlgorithm:
    """PPO for ``env``: ``MaskablePPO`` when the env has ``action_masks()``, else SB3 ``PPO``.

    ``n_envs > 1`` trains on that many copies (``n_steps`` is then per copy, as in SB3).
    ``hyperparameters`` are passed to the model's constructor unchanged (``n_steps``,
    ``learning_rate``, ``policy_kwargs``, ...).
    """
    masked = _has_action_masks(env)
    env = _copies(env, n_envs)
    if masked:
        from sb3_contrib import MaskablePPO

        return MaskablePPO(
            _policy_for(env), env, seed=seed, tensorboard_log=tensorboard_log, verbose=verbose, **hyperparameters
        )
    return PPO(_policy_for(env), env, seed=seed, tensorboard_log=tensorboard_log, verbose=verbose, **hyperparameters)


def make_a2c(
    env: gym.Env,
    seed: int = 0,
    tensorboard_log: str | None = None,
    verbose: int = 0,
    n_envs: int = 1,
    **hyperparameters: Any,
) -> A2C:
    """SB3 ``A2C`` for ``env`` (``n_envs`` copies as in :func:`make_ppo`); ``hyperparameters`` go
    to its constructor unchanged."""
    env = _copies(env, n_envs)
    return A2C(_policy_for(env), env, seed=seed, tensorboard_log=tensorboard_log, verbose=verbose, **hyperparameters)
