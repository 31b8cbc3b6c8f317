"""Stable-Baselines3 adapters: the registry's ``ppo`` and ``a2c`` agents.

The factories return SB3 / sb3-contrib models, so everything SB3 offers (``learn``,
``predict``, ``save``, ``load``, callbacks, TensorBoard) works unchanged:

- :func:`make_ppo` builds sb3-contrib's ``MaskablePPO`` when the (unwrapped) env exposes
  ``action_masks()`` -- masked envs raise on invalid actions, so an unmasked PPO would
  crash them -- and SB3's ``PPO`` otherwise.
- :func:`make_a2c` builds SB3's ``A2C`` (SB3 has no maskable A2C; use it on unmasked envs).

The models are subclasses (:class:`BudgetPPO`, :class:`BudgetMaskablePPO`, :class:`BudgetA2C`)
that change one thing, the progress bar (:class:`BudgetProgressBar`); files they save load
with the SB3 classes and the other way round.

The policy is ``"MultiInputPolicy"`` for ``Dict`` observation spaces and ``"MlpPolicy"``
otherwise. ``MaskablePPO.predict`` accepts ``action_masks=``, which the benchmark runner
passes on masked envs.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
from sb3_contrib import MaskablePPO
from stable_baselines3 import A2C, PPO
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback, ConvertCallback
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv

from gauntlet.agents.hyperparameters import check_hyperparameters, hyperparameter_names
from gauntlet.agents.progress import TrainingProgress


class _BudgetProgressCallback(BaseCallback):
    """The bar of :class:`TrainingProgress` over one ``learn`` call, filled by ``num_timesteps``."""

    def _on_training_start(self) -> None:
        self._start = self.model.num_timesteps
        label = type(self.model).__name__.removeprefix("Budget")
        self._bar = TrainingProgress(True, self.locals["total_timesteps"] - self._start, label)
        self._bar.__enter__()

    def _on_step(self) -> bool:
        self._bar.update(self.model.num_timesteps - self._start)
        return True

    def _on_training_end(self) -> None:
        self._bar.__exit__(None, None, None)


class BudgetProgressBar:
    """Mixin for SB3 algorithms: ``learn(progress_bar=True)`` draws the bar every Gauntlet agent
    draws, which stops at the budget. SB3 trains in whole rollouts, so ``num_timesteps`` (the
    steps actually done) may pass ``total_timesteps``; SB3's own bar then reads 20,480/20,000."""

    def _init_callback(self, callback: Any, progress_bar: bool = False) -> BaseCallback:
        if progress_bar:
            if callback is None:
                callback = []
            elif not isinstance(callback, list):
                callback = [callback]
            callback = [c if isinstance(c, BaseCallback) else ConvertCallback(c) for c in callback]
            callback.append(_BudgetProgressCallback())
        return super()._init_callback(callback, progress_bar=False)


class BudgetPPO(BudgetProgressBar, PPO):
    """SB3 ``PPO`` with :class:`BudgetProgressBar`."""


class BudgetMaskablePPO(BudgetProgressBar, MaskablePPO):
    """sb3-contrib ``MaskablePPO`` with :class:`BudgetProgressBar`."""


class BudgetA2C(BudgetProgressBar, A2C):
    """SB3 ``A2C`` with :class:`BudgetProgressBar`."""


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
    algorithm = BudgetMaskablePPO if _has_action_masks(env) else BudgetPPO
    return _build(algorithm, env, seed, tensorboard_log, verbose, n_envs, hyperparameters)


def make_a2c(
    env: gym.Env,
    seed: int = 0,
    tensorboard_log: str | None = None,
    verbose: int = 0,
    n_envs: int = 1,
    **hyperparameters: Any,
) -> BudgetA2C:
    """SB3 ``A2C`` for ``env`` (``n_envs`` copies as in :func:`make_ppo`); ``hyperparameters`` go
    to its constructor unchanged."""
    return _build(BudgetA2C, env, seed, tensorboard_log, verbose, n_envs, hyperparameters)


def _build(algorithm: type[BaseAlgorithm], env: gym.Env, seed: int, tensorboard_log: str | None, verbose: int,
           n_envs: int, hyperparameters: dict[str, Any]) -> BaseAlgorithm:
    """``algorithm`` on ``env`` (or its copies), once ``hyperparameters`` are known to be its own."""
    own = ("tensorboard_log", "verbose", "n_envs")
    accepted = [*own, *hyperparameter_names(algorithm, exclude=("policy", "env", "seed", *own))]
    check_hyperparameters(algorithm.__bases__[-1].__name__, hyperparameters, accepted)  # the SB3 class's name
    env = _copies(env, n_envs)
    return algorithm(_policy_for(env), env, seed=seed, tensorboard_log=tensorboard_log, verbose=verbose,
                     **hyperparameters)
