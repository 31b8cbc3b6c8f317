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
- two reward streams: SB3's PPO value head learns the extrinsic return (episodic, as usual),
  a separate intrinsic critic ``V_int`` learns the *non-episodic* intrinsic return (episode ends
  do not cut it, so the bonus never turns into a reward for surviving), each with its own GAE;
  the policy is trained on the combined advantage ``A = ext_coef * A_ext + int_coef * A_int``;
- the predictor and ``V_int`` are trained after every rollout for ``rnd_epochs`` passes over a
  random ``rnd_update_proportion`` of the rollout (Adam; ``rnd_lr`` for the predictor, PPO's
  initial learning rate for ``V_int``).

Differs from Burda et al.: the intrinsic critic is a separate MLP rather than a second head on a
shared trunk, networks are MLPs instead of CNNs, and rollouts come from a single environment.
Everything else -- the clipped objective, ``predict``, ``save``/``load``, callbacks, TensorBoard
(scalars under ``rnd/``) -- is SB3's PPO.
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
from stable_baselines3.common.vec_env import VecEnv
from torch import nn

from gauntlet.agents.sb3 import BudgetProgressBar


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


class PPORND(BudgetProgressBar, PPO):
    """SB3 PPO whose advantages get the RND intrinsic bonus (see the module docstring).

    ``PPORND(env, seed=0, tensorboard_log=None, int_coef=1.0, ext_coef=2.0, rnd_lr=1e-4, ...,
    **ppo_kwargs)``; everything else (``learn``, ``predict``, ``save``, ``load``, callbacks,
    TensorBoard scalars under ``rnd/``) is SB3's, except the progress bar, which ends at the
    budget (:class:`~gauntlet.agents.sb3.BudgetProgressBar`).
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
        self.int_critic = _mlp([obs_dim, 64, 64, 1]).to(self.device)
        self.int_critic_optimizer = th.optim.Adam(self.int_critic.parameters(), lr=self.lr_schedule(1.0))
        self.intrinsic: dict[str, np.ndarray] = {}
        # Restored by ``load`` before ``_setup_model`` runs; only fresh models start new statistics.
        if getattr(self, "obs_rms", None) is None:
            self.obs_rms = RunningMeanStd(shape=(obs_dim,))
            self.int_rms = RunningMeanStd(shape=())
            self.int_return = np.zeros(self.n_envs)

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "rnd", "rnd_optimizer", "int_critic", "int_critic_optimizer",
                "_rnd_recorder", "intrinsic"]

    def _get_torch_save_params(self) -> tuple[list[str], list[str]]:
        state_dicts, tensors = super()._get_torch_save_params()
        return [*state_dicts, "rnd", "rnd_optimizer", "int_critic", "int_critic_optimizer"], tensors

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

        # Non-episodic GAE on the intrinsic stream: the next state's value is always bootstrapped.
        obs = rollout_buffer.observations.reshape(-1, flat.shape[-1])
        states = self._normalise(np.concatenate([obs, np.asarray(self._last_obs).reshape(self.n_envs, -1)]))
        with th.no_grad():
            v_int = self.int_critic(states).cpu().numpy().reshape(n_rollout_steps + 1, self.n_envs)
        adv_int = np.zeros_like(r_int_norm)
        running = np.zeros(self.n_envs)
        for t in reversed(range(n_rollout_steps)):
            delta = r_int_norm[t] + self.int_gamma * v_int[t + 1] - v_int[t]
            running = delta + self.int_gamma * self.gae_lambda * running
            adv_int[t] = running
        ret_int = adv_int + v_int[:-1]
        rollout_buffer.advantages = (
            self.ext_coef * rollout_buffer.advantages + self.int_coef * adv_int
        ).astype(np.float32)
        self.intrinsic = {"raw_rewards": r_int, "rewards": r_int_norm, "values": v_int, "advantages": adv_int,
                          "returns": ret_int}

        targets = th.as_tensor(ret_int.reshape(-1), dtype=th.float32, device=self.device)
        states = states[: -self.n_envs]
        losses, critic_losses = [], []
        for _ in range(self.rnd_epochs):
            order = th.randperm(len(inputs), device=self.device)
            order = order[: max(1, int(self.rnd_update_proportion * len(inputs)))]
            for batch in order.split(self.batch_size):
                loss = self.rnd(inputs[batch]).mean()
                self.rnd_optimizer.zero_grad()
                loss.backward()
                self.rnd_optimizer.step()
                losses.append(loss.item())
                critic_loss = (self.int_critic(states[batch]).squeeze(-1) - targets[batch]).pow(2).mean()
                self.int_critic_optimizer.zero_grad()
                critic_loss.backward()
                self.int_critic_optimizer.step()
                critic_losses.append(critic_loss.item())
        self.logger.record("rnd/intrinsic_reward", float(r_int.mean()))
        self.logger.record("rnd/intrinsic_reward_normalised", float(r_int_norm.mean()))
        self.logger.record("rnd/predictor_loss", float(np.mean(losses)))
        self.logger.record("rnd/intrinsic_value_loss", float(np.mean(critic_losses)))
        return True
