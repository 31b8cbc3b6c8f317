"""The Stable-Baselines3 one-liners a new user types, on one id of every family, and the
``rgb_array`` picture of every registered id (SB3 asks every env it makes for ``rgb_array``).

Training runs are a handful of steps: they prove that the env, the policy and the rollout
buffer fit together (spaces, masks, dtypes), not that anything is learned.
"""

from __future__ import annotations

import importlib.util

import gymnasium as gym
import numpy as np
import pytest
from sb3_contrib import MaskablePPO
from sb3_contrib.common.maskable.utils import get_action_masks
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env

import gauntlet  # noqa: F401  (registers the ids)
from gauntlet.data.fairness import COMPAS, GERMAN
from gauntlet.data.fetch import data_home
from gauntlet.registry import TASKS

TINY = {"n_steps": 8, "batch_size": 8, "n_epochs": 1, "seed": 0}
HAS_SKFOLIO = importlib.util.find_spec("skfolio") is not None
HAS_SCIP = importlib.util.find_spec("pyscipopt") is not None

# (id, env kwargs for the runs that can take them, policy, has action masks)
FAMILIES = [
    ("gauntlet/LotSizing-15x5-v0", {}, "MlpPolicy", True),
    ("gauntlet/FairThreshold-Synthetic-v0", {}, "MlpPolicy", False),
    ("gauntlet/AGVWarehouse-SimpleStatic-v1", {}, "MlpPolicy", False),
    pytest.param("gauntlet/ESGPortfolio-Regulated-v0", {}, "MlpPolicy", False,
                 marks=pytest.mark.skipif(not HAS_SKFOLIO, reason='needs pip install "gauntlet-rl[data]"')),
    ("gauntlet/MECOffloading-v0", {}, "MlpPolicy", True),
    ("gauntlet/MECOffloading-v1", {}, "MlpPolicy", True),
    ("gauntlet/UAMFleet-Small-v0", {}, "MultiInputPolicy", True),
    ("gauntlet/Driving-Intersection-Medium-v0", {}, "MlpPolicy", False),
    pytest.param("gauntlet/MILPBranching-SetCover-v0", {"size": "small"}, "MultiInputPolicy", True,
                 marks=pytest.mark.skipif(not HAS_SCIP, reason='needs pip install "gauntlet-rl[scip]"')),
]


def valid_actions(venv) -> np.ndarray:
    """One random action per copy, inside the action mask where the env has one."""
    space = venv.action_space
    if not venv.env_method("has_wrapper_attr", "action_masks")[0]:
        return np.stack([space.sample() for _ in range(venv.num_envs)])
    masks = get_action_masks(venv)
    rng = np.random.default_rng(0)
    if isinstance(space, gym.spaces.Discrete):
        return np.array([rng.choice(np.flatnonzero(m)) for m in masks])
    splits = np.cumsum(space.nvec)[:-1]
    return np.array([[rng.choice(np.flatnonzero(part)) for part in np.split(m, splits)] for m in masks])


@pytest.mark.parametrize("env_id, kwargs, policy, masked", FAMILIES)
def test_make_vec_env(env_id, kwargs, policy, masked):
    venv = make_vec_env(env_id, n_envs=2, seed=0, env_kwargs=kwargs)
    try:
        assert venv.get_attr("render_mode") == ["rgb_array", "rgb_array"]
        obs = venv.reset()
        for _ in range(3):
            obs, rewards, dones, infos = venv.step(valid_actions(venv))
        assert rewards.shape == (2,) and np.isfinite(rewards).all()
        first = obs[next(iter(obs))] if isinstance(obs, dict) else obs
        assert first.shape[0] == 2
    finally:
        venv.close()


@pytest.mark.parametrize("env_id, kwargs, policy, masked", FAMILIES)
def test_ppo_with_the_env_id(env_id, kwargs, policy, masked):
    """``PPO(policy, id)`` builds (SB3 makes the env with ``render_mode="rgb_array"``); envs
    without masks also train a few steps from the bare id."""
    if kwargs:  # the id's default size is slow to solve: build from the id, train on the small size
        model = PPO(policy, env_id, **TINY)
        assert model.env.get_attr("render_mode") == ["rgb_array"]
        return
    model = PPO(policy, env_id, **TINY)
    if not masked:
        model.learn(total_timesteps=16)
        assert model.num_timesteps >= 16


@pytest.mark.parametrize("env_id, kwargs, policy, masked", [f for f in FAMILIES if getattr(f, "values", f)[3]])
def test_maskable_ppo_learns_a_few_steps(env_id, kwargs, policy, masked):
    env = make_vec_env(env_id, n_envs=1, seed=0, env_kwargs=kwargs) if kwargs else env_id
    model = MaskablePPO(policy, env, **TINY)
    model.learn(total_timesteps=16)
    assert model.num_timesteps >= 16


def test_mo_env_through_mo_gymnasium_linear_reward():
    from mo_gymnasium.wrappers import LinearReward

    def make():
        return LinearReward(gym.make("gauntlet/mo-MECOffloading-v0", render_mode="rgb_array"), weight=np.array([0.5, 0.5]))

    venv = make_vec_env(make, n_envs=2, seed=0)
    try:
        venv.reset()
        _, rewards, _, infos = venv.step(valid_actions(venv))
        assert rewards.shape == (2,) and infos[0]["vector_reward"].shape == (2,)
    finally:
        venv.close()
    model = MaskablePPO("MlpPolicy", make(), **TINY)
    model.learn(total_timesteps=16)


def test_a_bad_env_id_is_a_clear_error():
    with pytest.raises(gym.error.Error, match=r"`LotSizing-3x3` doesn't exist in namespace gauntlet. Did you mean: `LotSizing`"):
        PPO("MlpPolicy", "gauntlet/LotSizing-3x3-v0")


# ----------------------------------------------------------------------- pictures
def _needs(env_id: str) -> str | None:
    """Why this id cannot be built here (a missing extra or data file), or None."""
    kwargs = TASKS[env_id].kwargs
    if kwargs.get("data") == "sp500" and not HAS_SKFOLIO:
        return 'needs pip install "gauntlet-rl[data]"'
    if env_id.startswith("gauntlet/MILPBranching") and not HAS_SCIP:
        return 'needs pip install "gauntlet-rl[scip]"'
    remote = {"german": GERMAN, "compas": COMPAS}.get(kwargs.get("dataset"))
    if remote is not None and not (data_home() / remote.relpath).is_file():
        return f"{remote.relpath} is not in the data home {data_home()}"
    return None


# MILP ids default to training-size instances; the small size renders the same way, faster.
_RENDER_KWARGS = {env_id: {"size": "small"} for env_id in TASKS if env_id.startswith("gauntlet/MILPBranching")}


@pytest.mark.parametrize("env_id", sorted(t for t in TASKS if not TASKS[t].multi_agent))  # PettingZoo ids: their family's tests
def test_every_id_draws_an_rgb_picture(env_id):
    reason = _needs(env_id)
    if reason:
        pytest.skip(reason)
    env = gym.make(env_id, render_mode="rgb_array", **_RENDER_KWARGS.get(env_id, {}))
    try:
        assert "rgb_array" in env.metadata["render_modes"]
        env.reset(seed=0)
        env.action_space.seed(0)
        frames = [env.render()]
        env.step(env.action_space.sample())
        frames.append(env.render())
        for frame in frames:
            assert isinstance(frame, np.ndarray) and frame.dtype == np.uint8
            assert frame.ndim == 3 and frame.shape[2] == 3 and min(frame.shape[:2]) >= 100
            assert frame.min() != frame.max(), "a constant image"
    finally:
        env.close()
