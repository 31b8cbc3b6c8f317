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

``make_ppo(..., normalize_reward=True)`` trains on rewards scaled by SB3's ``VecNormalize``
(``norm_obs=False, norm_reward=True``, its ``gamma`` the model's): each reward is divided by a
running std of the discounted return, as the SB3 zoo does on envs whose rewards are in the tens
or thousands (LotSizing's are about -80 per step). Only the training signal is scaled: episode
returns in a ``Monitor`` inside the wrapper, every evaluation and ``predict`` see the raw
rewards and observations. The return statistics are kept in the saved file (the model's
``reward_normalization`` attribute) and ``load(path, env=...)`` wraps the env again with them, so
training resumes on the same scale; ``predict`` does not need them.

``make_ppo`` / ``make_a2c(..., turnover_penalty=lam)`` train on ``reward - lam * info["turnover"]``
(:class:`gauntlet.envs.esg_portfolio.turnover_penalty.TurnoverPenalty`, ESGPortfolio's remedy for
churn); 0, the default, leaves the task's reward as it is, and evaluation never sees the penalty.

The policy is ``"MultiInputPolicy"`` for ``Dict`` observation spaces and ``"MlpPolicy"``
otherwise. ``MaskablePPO.predict`` accepts ``action_masks=``, which the benchmark runner
passes on masked envs.
"""

from __future__ import annotations

import inspect
from typing import Any

import gymnasium as gym
from sb3_contrib import MaskablePPO
from stable_baselines3 import A2C, PPO
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback, ConvertCallback
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv, VecNormalize

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


class RewardNormalization:
    """Mixin for SB3 algorithms trained in a reward-only ``VecNormalize``: ``save`` keeps its
    return statistics in ``reward_normalization`` and ``load(path, env=...)`` restores them."""

    reward_normalization: dict[str, Any] | None = None

    def save(self, path: Any, *args: Any, **kwargs: Any) -> None:
        normalizer = self.get_vec_normalize_env()
        if normalizer is not None:
            rms = normalizer.ret_rms
            self.reward_normalization = {"gamma": float(normalizer.gamma), "clip_reward": float(normalizer.clip_reward),
                                         "mean": float(rms.mean), "var": float(rms.var), "count": float(rms.count)}
        super().save(path, *args, **kwargs)

    @classmethod
    def load(cls, path: Any, env: Any = None, *args: Any, **kwargs: Any) -> BaseAlgorithm:
        model = super().load(path, env, *args, **kwargs)
        stats = model.reward_normalization
        if stats is not None and model.env is not None and model.get_vec_normalize_env() is None:
            normalizer = _normalize_rewards(model.env, stats["gamma"], stats["clip_reward"])
            normalizer.ret_rms.mean, normalizer.ret_rms.var, normalizer.ret_rms.count = stats["mean"], stats["var"], stats["count"]
            model.set_env(normalizer)
        return model


class BudgetPPO(RewardNormalization, BudgetProgressBar, PPO):
    """SB3 ``PPO`` with :class:`BudgetProgressBar` and :class:`RewardNormalization`."""


class BudgetMaskablePPO(RewardNormalization, BudgetProgressBar, MaskablePPO):
    """sb3-contrib ``MaskablePPO`` with :class:`BudgetProgressBar` and :class:`RewardNormalization`."""


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


def _normalize_rewards(env: gym.Env | VecEnv, gamma: float, clip_reward: float = 10.0) -> VecNormalize:
    vec_env = env if isinstance(env, VecEnv) else DummyVecEnv([lambda: env])
    return VecNormalize(vec_env, norm_obs=False, norm_reward=True, gamma=gamma, clip_reward=clip_reward)


def make_ppo(
    env: gym.Env,
    seed: int = 0,
    tensorboard_log: str | None = None,
    verbose: int = 0,
    n_envs: int = 1,
    normalize_reward: bool = False,
    turnover_penalty: float = 0.0,
    **hyperparameters: Any,
) -> BaseAlgorithm:
    """PPO for ``env``: ``MaskablePPO`` when the env has ``action_masks()``, else SB3 ``PPO``.

    ``n_envs > 1`` trains on that many copies (``n_steps`` is then per copy, as in SB3).
    ``normalize_reward=True`` trains in a reward-only ``VecNormalize`` (see the module docstring):
    rewards are scaled for training only, evaluation and ``predict`` see raw costs.
    ``turnover_penalty`` > 0 trains on ``reward - turnover_penalty * info["turnover"]`` (ESGPortfolio's
    churn remedy, see the module docstring; ``n_envs`` must then be 1).
    ``hyperparameters`` are passed to the model's constructor unchanged (``n_steps``,
    ``learning_rate``, ``policy_kwargs``, ...).
    """
    algorithm = BudgetMaskablePPO if _has_action_masks(env) else BudgetPPO
    env = _penalize_turnover(env, turnover_penalty, n_envs)
    return _build(algorithm, env, seed, tensorboard_log, verbose, n_envs, hyperparameters, normalize_reward)


def make_a2c(
    env: gym.Env,
    seed: int = 0,
    tensorboard_log: str | None = None,
    verbose: int = 0,
    n_envs: int = 1,
    turnover_penalty: float = 0.0,
    **hyperparameters: Any,
) -> BudgetA2C:
    """SB3 ``A2C`` for ``env`` (``n_envs`` copies and ``turnover_penalty`` as in :func:`make_ppo`);
    ``hyperparameters`` go to its constructor unchanged."""
    env = _penalize_turnover(env, turnover_penalty, n_envs)
    return _build(BudgetA2C, env, seed, tensorboard_log, verbose, n_envs, hyperparameters)


def _penalize_turnover(env: gym.Env, penalty: float, n_envs: int) -> gym.Env:
    """``env`` in a :class:`TurnoverPenalty` when ``penalty`` is not 0 (a ValueError names bad values)."""
    if penalty == 0:
        return env
    # imported here: the other families' agents need not load the ESG package
    from gauntlet.envs.esg_portfolio.turnover_penalty import with_turnover_penalty

    return with_turnover_penalty(env, penalty, n_envs)


def _build(algorithm: type[BaseAlgorithm], env: gym.Env, seed: int, tensorboard_log: str | None, verbose: int,
           n_envs: int, hyperparameters: dict[str, Any], normalize_reward: bool = False) -> BaseAlgorithm:
    """``algorithm`` on ``env`` (or its copies), once ``hyperparameters`` are known to be its own."""
    own = ("tensorboard_log", "verbose", "n_envs")
    accepted = [*own, *hyperparameter_names(algorithm, exclude=("policy", "env", "seed", *own))]
    check_hyperparameters(algorithm.__bases__[-1].__name__, hyperparameters, accepted)  # the SB3 class's name
    env = _copies(env, n_envs)
    if normalize_reward:
        # VecNormalize's gamma must be the model's, else it scales by the wrong return.
        gamma = hyperparameters.get("gamma", inspect.signature(algorithm.__bases__[-1]).parameters["gamma"].default)
        env = _normalize_rewards(env, gamma)
    return algorithm(_policy_for(env), env, seed=seed, tensorboard_log=tensorboard_log, verbose=verbose,
                     **hyperparameters)
