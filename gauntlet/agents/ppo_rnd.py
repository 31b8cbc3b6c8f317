"""PPO + Random Network Distillation (RND), the AGVWarehouse paper's reference agent.

Reproduces from "Random Network Distillation Based Deep Reinforcement Learning for AGV Path
Planning" (arXiv 2404.12594), which follows Burda et al., "Exploration by Random Network
Distillation" (ICLR 2019):

- a fixed, randomly initialised target network ``f`` and a predictor ``f_hat`` trained to imitate
  it on the visited observations; the intrinsic reward of a transition is the prediction error on
  its next observation, ``r_int = mean_k (f_hat(s')_k - f(s')_k)^2``: large on rarely seen states;
- observations fed to both networks are whitened with running mean/std and clipped to [-5, 5];
- intrinsic rewards are divided by a running standard deviation of the discounted intrinsic
  return (``gamma_int = int_gamma``), so their scale stays stable while the predictor learns;
- the policy is SB3's PPO, unchanged: the rollout buffer's rewards become
  ``r_ext + (int_coef / ext_coef) * r_int_normalised`` before advantages are recomputed, which
  equals Burda et al.'s combined advantage ``ext_coef * A_ext + int_coef * A_int`` up to the
  global scale that PPO's per-minibatch advantage normalisation removes;
- the predictor is trained after every rollout for ``rnd_epochs`` passes over a random
  ``rnd_update_proportion`` of the rollout's next observations (Adam, ``rnd_lr``).

Differs from Burda et al.: one value head learns the combined return (no separate intrinsic
critic), and intrinsic returns are episodic (cut at episode ends) like the extrinsic ones; MLPs
instead of CNNs; small single-environment rollouts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3 import PPO
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.callbacks import BaseCallback, ConvertCallback
from stable_baselines3.common.running_mean_std import RunningMeanStd
from stable_baselines3.common.utils import obs_as_tensor
from stable_baselines3.common.vec_env import VecEnv
from torch import nn


def _mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        linear = nn.Linear(a, b)
        nn.init.orthogonal_(linear.weight, gain=np.sqrt(2))
        nn.init.zeros_(linear.bias)
        layers.append(linear)
        if i < len(sizes) - 2:
            layers.append(nn.LeakyReLU())
    return nn.Sequential(*layers)


class RNDNetworks(nn.Module):
    """Fixed random target ``f`` and trained predictor ``f_hat`` (one hidden layer deeper)."""

    def __init__(self, obs_dim: int, hidden: int = 128, features: int = 64) -> None:
        super().__init__()
        self.target = _mlp([obs_dim, hidden, hidden, features])
        self.predictor = _mlp([obs_dim, hidden, hidden, hidden, features])
        self.target.requires_grad_(False)

    def forward(self, obs: th.Tensor) -> th.Tensor:
        """Per-sample prediction error ``mean_k (f_hat(s)_k - f(s)_k)^2``."""
        return (self.predictor(obs) - self.target(obs)).pow(2).mean(dim=-1)


class _NextObservations(BaseCallback):
    """Records each step's next observation (the true terminal one at episode ends)."""

    def __init__(self) -> None:
        super().__init__()
        self.buffer: list[np.ndarray] = []

    def _on_step(self) -> bool:
        obs = np.array(self.locals["new_obs"], dtype=np.float32, copy=True)
        for i, done in enumerate(self.locals["dones"]):
            if done and self.locals["infos"][i].get("terminal_observation") is not None:
                obs[i] = self.locals["infos"][i]["terminal_observation"]
        self.buffer.append(obs)
        return True


class PPORND(PPO):
    """SB3 PPO whose rewards get the RND intrinsic bonus (see the module docstring).

    ``PPORND(env, seed=0, tensorboard_log=None, int_coef=1.0, ext_coef=2.0, rnd_lr=1e-4, ...,
    **ppo_kwargs)``; everything else (``learn``, ``predict``, ``save``, ``load``, callbacks,
    TensorBoard scalars under ``rnd/``) is SB3's.
    """

    def __init__(
        self,
        env: Any,
        seed: int | None = 0,
        tensorboard_log: str | None = None,
        int_coef: float = 1.0,
        ext_coef: float = 2.0,
        rnd_lr: float = 1e-4,
        int_gamma: float = 0.99,
        rnd_epochs: int = 4,
        rnd_update_proportion: float = 0.25,
        rnd_hidden: int = 128,
        rnd_features: int = 64,
        policy: str | type = "MlpPolicy",
        verbose: int = 0,
        _init_setup_model: bool = True,
        **ppo_kwargs: Any,
    ) -> None:
        for name, value in (("int_coef", int_coef), ("rnd_lr", rnd_lr)):
            if not (np.isfinite(value) and value >= 0):
                raise ValueError(f"{name}={value!r} must be a finite number >= 0")
        if not (np.isfinite(ext_coef) and ext_coef > 0):
            raise ValueError(f"ext_coef={ext_coef!r} must be a finite number > 0")
        if not 0.0 <= int_gamma < 1.0:
            raise ValueError(f"int_gamma={int_gamma!r} must be in [0, 1)")
        if not 0.0 < rnd_update_proportion <= 1.0:
            raise ValueError(f"rnd_update_proportion={rnd_update_proportion!r} must be in (0, 1]")
        if int(rnd_epochs) < 1:
            raise ValueError(f"rnd_epochs={rnd_epochs!r} must be an integer >= 1")
        self.int_coef = float(int_coef)
        self.ext_coef = float(ext_coef)
        self.rnd_lr = float(rnd_lr)
        self.int_gamma = float(int_gamma)
        self.rnd_epochs = int(rnd_epochs)
        self.rnd_update_proportion = float(rnd_update_proportion)
        self.rnd_hidden = int(rnd_hidden)
        self.rnd_features = int(rnd_features)
        super().__init__(
            policy, env, seed=seed, tensorboard_log=tensorboard_log, verbose=verbose,
            _init_setup_model=_init_setup_model, **ppo_kwargs,
        )

    def _setup_model(self) -> None:
        super()._setup_model()
        if not isinstance(self.observation_space, spaces.Box):
            raise ValueError(f"PPORND needs a Box observation space, got {self.observation_space}")
        obs_dim = int(np.prod(self.observation_space.shape))
        self.rnd = RNDNetworks(obs_dim, self.rnd_hidden, self.rnd_features).to(self.device)
        self.rnd_optimizer = th.optim.Adam(self.rnd.predictor.parameters(), lr=self.rnd_lr)
        # Restored by ``load`` before ``_setup_model`` runs; only fresh models start new statistics.
        if getattr(self, "obs_rms", None) is None:
            self.obs_rms = RunningMeanStd(shape=(obs_dim,))
            self.int_rms = RunningMeanStd(shape=())
            self.int_return = np.zeros(self.n_envs)

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "rnd", "rnd_optimizer", "_rnd_recorder"]

    def _get_torch_save_params(self) -> tuple[list[str], list[str]]:
        state_dicts, tensors = super()._get_torch_save_params()
        return [*state_dicts, "rnd", "rnd_optimizer"], tensors

    def _init_callback(self, callback: Any, progress_bar: bool = False) -> BaseCallback:
        self._rnd_recorder = _NextObservations()
        if callback is None:
            user: list[BaseCallback] = []
        elif isinstance(callback, list):
            user = list(callback)
        else:
            user = [callback if isinstance(callback, BaseCallback) else ConvertCallback(callback)]
        return super()._init_callback([self._rnd_recorder, *user], progress_bar)

    def _normalise(self, obs: np.ndarray) -> th.Tensor:
        whitened = (obs - self.obs_rms.mean) / np.sqrt(self.obs_rms.var + 1e-8)
        return th.as_tensor(np.clip(whitened, -5.0, 5.0), dtype=th.float32, device=self.device)

    def collect_rollouts(
        self, env: VecEnv, callback: BaseCallback, rollout_buffer: RolloutBuffer, n_rollout_steps: int
    ) -> bool:
        self._rnd_recorder.buffer.clear()
        if not super().collect_rollouts(env, callback, rollout_buffer, n_rollout_steps):
            return False
        next_obs = np.stack(self._rnd_recorder.buffer).reshape(n_rollout_steps, self.n_envs, -1)
        flat = next_obs.reshape(-1, next_obs.shape[-1])
        self.obs_rms.update(flat)
        inputs = self._normalise(flat)
        with th.no_grad():
            r_int = self.rnd(inputs).cpu().numpy().reshape(n_rollout_steps, self.n_envs)
        discounted = np.empty_like(r_int)
        for t in range(n_rollout_steps):
            self.int_return = self.int_gamma * self.int_return + r_int[t]
            discounted[t] = self.int_return
        self.int_rms.update(discounted.ravel())
        r_int_norm = r_int / np.sqrt(self.int_rms.var + 1e-8)
        rollout_buffer.rewards += (self.int_coef / self.ext_coef) * r_int_norm.astype(np.float32)
        with th.no_grad():
            last_values = self.policy.predict_values(obs_as_tensor(self._last_obs, self.device))
        rollout_buffer.compute_returns_and_advantage(last_values=last_values, dones=self._last_episode_starts)

        losses = []
        for _ in range(self.rnd_epochs):
            order = th.randperm(len(inputs), device=self.device)
            order = order[: max(1, int(self.rnd_update_proportion * len(inputs)))]
            for batch in order.split(self.batch_size):
                loss = self.rnd(inputs[batch]).mean()
                self.rnd_optimizer.zero_grad()
                loss.backward()
                self.rnd_optimizer.step()
                losses.append(loss.item())
        self.logger.record("rnd/intrinsic_reward", float(r_int.mean()))
        self.logger.record("rnd/intrinsic_reward_normalised", float(r_int_norm.mean()))
        self.logger.record("rnd/predictor_loss", float(np.mean(losses)))
        return True
