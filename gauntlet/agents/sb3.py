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


def _policy_for(env: gym.Env) -> str:
    return "MultiInputPolicy" if isinstance(env.observation_space, gym.spaces.Dict) else "MlpPolicy"


def _has_action_masks(env: gym.Env) -> bool:
    return callable(getattr(env.unwrapped, "action_masks", None))


def make_ppo(
    env: gym.Env,
    seed: int = 0,
    tensorboard_log: str | None = None,
    verbose: int = 0,
    **hyperparameters: Any,
) -> BaseAlgorithm:
    """PPO for ``env``: ``MaskablePPO`` when the env has ``action_masks()``, else SB3 ``PPO``.

    ``hyperparameters`` are passed to the model's constructor unchanged (``n_steps``,
    ``learning_rate``, ``policy_kwargs``, ...).
    """
    if _has_action_masks(env):
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
    **hyperparameters: Any,
) -> A2C:
    """SB3 ``A2C`` for ``env``; ``hyperparameters`` go to its constructor unchanged."""
    return A2C(_policy_for(env), env, seed=seed, tensorboard_log=tensorboard_log, verbose=verbose, **hyperparameters)
