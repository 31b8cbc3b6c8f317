"""Pr-IQN: implicit quantile networks with preordered objectives (the Driving paper's reference agent).

From "Beyond Scalar Rewards: Distributional Reinforcement Learning with Preordered Objectives
for Safe and Reliable Autonomous Driving" (arXiv 2603.20230), built on IQN (Dabney et al.,
"Implicit Quantile Networks for Distributional RL", ICML 2018):

- IQN: a state embedding ``psi(s)`` (MLP), a quantile-level embedding
  ``phi(tau) = ReLU(W [cos(pi i tau)]_{i<64} + b)``, their elementwise product fed to a head
  that outputs one quantile per action **and per objective** (``Z_k(s, a, tau)``, one head per
  reward component of ``info["reward_vector"]``); trained with the quantile Huber loss
  (``kappa = 1``) on ``N = N' = 8`` sampled levels, summed over objectives; a hard-updated
  target network; epsilon-greedy exploration on a replay buffer.
- Quantile dominance (QD), our reading (the paper's formula is not public): on a shared grid of
  quantile levels ``tau_i = (i - 0.5) / K`` (``K = n_quantiles_act``, 32),
  ``QD_k(b, a) = (1/K) sum_i [Z_k(s, b, tau_i) >= Z_k(s, a, tau_i)]``; ``b`` dominates ``a`` on
  objective ``k`` when ``QD_k(b, a) >= 1 - eps`` and not ``QD_k(a, b) >= 1 - eps`` (so equal
  distributions do not remove each other). With ``eps = 0`` this is first-order stochastic
  dominance on the grid.
- Preorder subset extraction: starting from all actions, for each objective of ``preorder``
  except the last, keep the actions no surviving action dominates (if that would remove every
  action, e.g. through a dominance cycle when ``eps > 0``, the set is kept); the action is the
  one of the surviving set with the largest mean of the last objective's quantiles.
- Targets: the same extraction, applied to the target network's quantiles at ``s'``, picks
  ``a*``; every objective's target is ``r_k + gamma (1 - done) Z'_k(s', a*, tau'_j)``.

``IQN`` (the ``iqn`` baseline) is the same network with one head trained on the env's scalar
reward (``w . r`` on ``gauntlet/Driving-*``), acting greedily on the mean quantile: plain IQN.
Differs from the paper: MLP instead of their network, our QD and tie rules above, a single
environment, no risk-sensitive sampling of tau when acting.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Callable, Sequence

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from gauntlet.agents.progress import TrainingProgress
from gauntlet.agents.tensorboard import ScalarLog

_FORMAT = "gauntlet-pr-iqn/1"
N_COS = 64


class QuantileNetwork(nn.Module):
    """``Z(s, tau)`` of shape (batch, n_tau, n_actions, n_objectives) from observations
    (batch, obs_dim) and quantile levels (batch, n_tau)."""

    def __init__(self, obs_dim: int, n_actions: int, n_objectives: int, hidden: int) -> None:
        super().__init__()
        self.n_actions, self.n_objectives = n_actions, n_objectives
        self.psi = nn.Sequential(nn.Linear(obs_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.phi = nn.Sequential(nn.Linear(N_COS, hidden), nn.ReLU())
        self.head = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, n_actions * n_objectives))
        self.register_buffer("i_pi", torch.arange(N_COS, dtype=torch.float32) * math.pi)

    def forward(self, obs: torch.Tensor, taus: torch.Tensor) -> torch.Tensor:
        state = self.psi(obs).unsqueeze(1)
        level = self.phi(torch.cos(taus.unsqueeze(-1) * self.i_pi))
        out = self.head(state * level)
        return out.view(obs.shape[0], taus.shape[1], self.n_actions, self.n_objectives)


def quantile_huber_loss(pred: torch.Tensor, target: torch.Tensor, taus: torch.Tensor, kappa: float = 1.0) -> torch.Tensor:
    """IQN's loss: ``pred`` (B, N, K) quantiles at levels ``taus`` (B, N), ``target`` (B, N', K)
    samples; ``rho_tau(u) = |tau - 1{u < 0}| L_kappa(u) / kappa`` with ``u = target - pred``,
    averaged over target samples, summed over levels and objectives, averaged over the batch."""
    return quantile_huber_terms(pred, target, taus, kappa).sum(dim=1).mean()


def quantile_huber_terms(pred: torch.Tensor, target: torch.Tensor, taus: torch.Tensor, kappa: float = 1.0) -> torch.Tensor:
    """The loss of :func:`quantile_huber_loss` per sample and objective, shape (B, K)."""
    u = target.unsqueeze(1) - pred.unsqueeze(2)
    huber = torch.where(u.abs() <= kappa, 0.5 * u.pow(2), kappa * (u.abs() - 0.5 * kappa))
    weight = (taus[:, :, None, None] - (u.detach() < 0).float()).abs()
    return (weight * huber / kappa).mean(dim=2).sum(dim=1)


def quantile_dominance(z: torch.Tensor) -> torch.Tensor:
    """``QD[..., b, a]``: the share of quantile levels at which action ``b``'s quantile is at least
    action ``a``'s; ``z`` (..., n_tau, n_actions) on a shared grid of levels."""
    return (z.unsqueeze(-1) >= z.unsqueeze(-2)).float().mean(dim=-3)


def preorder_subset(z: torch.Tensor, preorder: Sequence[int], eps: float) -> torch.Tensor:
    """The surviving actions (batch, n_actions) bool after filtering by every objective of
    ``preorder`` but the last; ``z`` (batch, n_tau, n_actions, n_objectives)."""
    alive = torch.ones(z.shape[0], z.shape[2], dtype=torch.bool)
    for k in preorder[:-1]:
        qd = quantile_dominance(z[..., k])
        beats = qd >= 1.0 - eps - 1e-6
        dominates = beats & ~beats.transpose(-1, -2) & alive.unsqueeze(-1)
        kept = alive & ~dominates.any(dim=-2)
        empty = ~kept.any(dim=-1, keepdim=True)
        alive = torch.where(empty, alive, kept)
    return alive


def preorder_action(z: torch.Tensor, preorder: Sequence[int], eps: float) -> torch.Tensor:
    """The action (batch,) with the largest mean of the last objective's quantiles among the
    actions that survive :func:`preorder_subset`."""
    alive = preorder_subset(z, preorder, eps)
    score = z[..., preorder[-1]].mean(dim=1).masked_fill(~alive, -torch.inf)
    return score.argmax(dim=-1)


class PrIQN:
    """Pr-IQN on a Driving env (see the module docstring); learns from ``info["reward_vector"]``.

    Args:
        env: a Gymnasium env with a Discrete action space and a flat Box observation whose step
            info holds ``"reward_vector"`` (every Driving id).
        seed: seeds torch, the replay sampling, exploration and the env.
        preorder: objective indices by priority (default: ``env.unwrapped.preorder``, else 0..K-1).
        eps: QD tolerance: ``b`` dominates ``a`` when ``QD(b, a) >= 1 - eps``.
        n_quantiles_act: ``K``, size of the fixed tau grid used to act and extract subsets.
        n_quantiles: ``N = N'``, sampled levels in the loss.
        learning_rate, buffer_size, batch_size, gamma, learning_starts, train_freq,
        target_update_interval, exploration_fraction, exploration_final_eps: as SB3's DQN.
        hidden: width of the MLPs.
        tensorboard_log: directory for TensorBoard scalars (``None`` = off).
    """

    name = "PrIQN"

    def __init__(
        self,
        env: gym.Env | None,
        seed: int = 0,
        preorder: Sequence[int] | None = None,
        eps: float = 0.1,
        n_quantiles_act: int = 32,
        n_quantiles: int = 8,
        learning_rate: float = 1e-4,
        buffer_size: int = 100_000,
        batch_size: int = 32,
        gamma: float = 0.99,
        learning_starts: int = 1_000,
        train_freq: int = 4,
        target_update_interval: int = 1_000,
        exploration_fraction: float = 0.2,
        exploration_final_eps: float = 0.05,
        hidden: int = 128,
        tensorboard_log: str | None = None,
        verbose: int = 0,
    ) -> None:
        for name, value in (("n_quantiles_act", n_quantiles_act), ("n_quantiles", n_quantiles),
                            ("buffer_size", buffer_size), ("batch_size", batch_size), ("train_freq", train_freq),
                            ("target_update_interval", target_update_interval), ("hidden", hidden)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name}={value!r} is invalid; allowed: integers >= 1")
        if not 0.0 <= eps < 1.0:
            raise ValueError(f"eps={eps!r} is out of range; allowed: [0, 1)")
        if not 0.0 <= gamma <= 1.0:
            raise ValueError(f"gamma={gamma!r} is out of range; allowed: [0, 1]")
        self.env = env
        self.seed = int(seed)
        self.hp = dict(eps=float(eps), n_quantiles_act=int(n_quantiles_act), n_quantiles=int(n_quantiles),
                       learning_rate=float(learning_rate), buffer_size=int(buffer_size), batch_size=int(batch_size),
                       gamma=float(gamma), learning_starts=int(learning_starts), train_freq=int(train_freq),
                       target_update_interval=int(target_update_interval),
                       exploration_fraction=float(exploration_fraction),
                       exploration_final_eps=float(exploration_final_eps), hidden=int(hidden))
        self.verbose = verbose
        self.num_timesteps = 0
        self._tensorboard = ScalarLog(tensorboard_log, self.name)
        self.preorder: tuple[int, ...] = ()
        self.obs_dim = self.n_actions = 0
        if env is not None:
            if not isinstance(env.action_space, gym.spaces.Discrete):
                raise ValueError(f"{self.name} needs a Discrete action space, got {env.action_space}")
            if not (isinstance(env.observation_space, gym.spaces.Box) and len(env.observation_space.shape) == 1):
                raise ValueError(f"{self.name} needs a flat Box observation, got {env.observation_space}")
            self.obs_dim, self.n_actions = int(env.observation_space.shape[0]), int(env.action_space.n)
            self.preorder = self._preorder(env, preorder)
            self._build()

    # ------------------------------------------------------------------ objectives
    def _preorder(self, env: gym.Env, preorder: Sequence[int] | None) -> tuple[int, ...]:
        dim = int(getattr(env.unwrapped, "reward_dim", 1))
        order = tuple(getattr(env.unwrapped, "preorder", range(dim))) if preorder is None else tuple(preorder)
        if sorted(order) != list(range(dim)):
            raise ValueError(f"preorder={order!r} is invalid; allowed: a permutation of 0..{dim - 1}")
        return order

    def _reward(self, reward: Any, info: dict[str, Any]) -> np.ndarray:
        return np.asarray(info["reward_vector"], dtype=np.float32)

    @property
    def n_objectives(self) -> int:
        return len(self.preorder)

    def _network(self) -> nn.Module:
        return QuantileNetwork(self.obs_dim, self.n_actions, self.n_objectives, self.hp["hidden"])

    def _build(self) -> None:
        torch.manual_seed(self.seed)
        self.q_net, self.q_target = self._network(), self._network()
        self.q_target.load_state_dict(self.q_net.state_dict())
        self.optimizer = torch.optim.Adam(self.q_net.parameters(), lr=self.hp["learning_rate"])
        k = self.hp["n_quantiles_act"]
        self._grid = ((torch.arange(k, dtype=torch.float32) + 0.5) / k).unsqueeze(0)

    # ------------------------------------------------------------------ acting
    def _greedy(self, net: QuantileNetwork, obs: torch.Tensor) -> torch.Tensor:
        z = net(obs, self._grid.expand(obs.shape[0], -1))
        return preorder_action(z, self.preorder, self.hp["eps"])

    def predict(self, observation: Any, state: Any = None, episode_start: Any = None,
                deterministic: bool = True) -> tuple[Any, Any]:
        """The greedy action for one observation ``(D,)`` or a batch ``(N, D)``."""
        obs = np.asarray(observation, dtype=np.float32)
        if obs.shape[-1] != self.obs_dim:
            raise ValueError(f"observation must have {self.obs_dim} entries, got shape {obs.shape}")
        with torch.no_grad():
            actions = self._greedy(self.q_net, torch.as_tensor(obs.reshape(-1, self.obs_dim))).numpy()
        return (int(actions[0]) if obs.ndim == 1 else actions), state

    # ------------------------------------------------------------------ learning
    def _update(self, obs, actions, rewards, next_obs, terminated) -> dict[str, float]:
        hp = self.hp
        b, n = obs.shape[0], hp["n_quantiles"]
        with torch.no_grad():
            next_actions = self._greedy(self.q_target, next_obs)
            taus_next = torch.rand(b, n)
            z_next = self.q_target(next_obs, taus_next)[torch.arange(b), :, next_actions]
            target = rewards.unsqueeze(1) + hp["gamma"] * (1.0 - terminated)[:, None, None] * z_next
        taus = torch.rand(b, n)
        z = self.q_net(obs, taus)[torch.arange(b), :, actions]
        loss = self._loss(z, target, taus)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return {"loss": loss.item(), **{f"z_mean_{k}": z[..., k].mean().item() for k in range(self.n_objectives)}}

    def learn(self, total_timesteps: int, callback: Callable[[dict[str, Any]], Any] | None = None,
              progress_bar: bool = False) -> "PrIQN":
        """Train for ``total_timesteps`` env steps. ``callback`` (a plain callable) receives a
        dict of locals after every step; returning ``False`` stops training."""
        if self.env is None:
            raise ValueError("learn() needs the env: load(path, env=...) or build the agent with one")
        hp, env = self.hp, self.env
        rng = np.random.default_rng(self.seed)
        size, dim, k = hp["buffer_size"], self.obs_dim, self.n_objectives
        buf_obs, buf_next = np.zeros((size, dim), np.float32), np.zeros((size, dim), np.float32)
        buf_act, buf_rew = np.zeros(size, np.int64), np.zeros((size, k), np.float32)
        buf_term = np.zeros(size, np.float32)
        stored = pos = 0
        obs, _ = env.reset(seed=self.seed)
        ep_ret, ep_len = np.zeros(k), 0
        decay = max(1, int(hp["exploration_fraction"] * total_timesteps))
        with TrainingProgress(progress_bar, total_timesteps, self.name) as progress:
            for step in range(total_timesteps):
                explore = 1.0 + (hp["exploration_final_eps"] - 1.0) * min(1.0, step / decay)
                if self.num_timesteps < hp["learning_starts"] or rng.random() < explore:
                    action = int(rng.integers(self.n_actions))
                else:
                    action = self.predict(obs)[0]
                next_obs, reward, terminated, truncated, info = env.step(action)
                r = self._reward(reward, info)
                buf_obs[pos], buf_next[pos], buf_act[pos], buf_rew[pos], buf_term[pos] = obs, next_obs, action, r, terminated
                pos, stored = (pos + 1) % size, min(stored + 1, size)
                ep_ret += r
                ep_len += 1
                self.num_timesteps += 1
                obs = next_obs
                if terminated or truncated:
                    self._tensorboard.write({**{f"rollout/return_{i}": float(v) for i, v in enumerate(ep_ret)},
                                             "rollout/ep_len": float(ep_len),
                                             "rollout/success": float(info.get("is_success", np.nan))},
                                            self.num_timesteps)
                    obs, _ = env.reset()
                    ep_ret[:], ep_len = 0.0, 0
                if self.num_timesteps >= hp["learning_starts"] and self.num_timesteps % hp["train_freq"] == 0:
                    j = rng.integers(0, stored, size=hp["batch_size"])
                    stats = self._update(torch.from_numpy(buf_obs[j]), torch.from_numpy(buf_act[j]),
                                         torch.from_numpy(buf_rew[j]), torch.from_numpy(buf_next[j]),
                                         torch.from_numpy(buf_term[j]))
                    if self.num_timesteps % 1000 == 0:
                        self._tensorboard.write({f"train/{n}": v for n, v in stats.items()}
                                                | {"train/exploration": explore}, self.num_timesteps)
                if self.num_timesteps % hp["target_update_interval"] == 0:
                    self.q_target.load_state_dict(self.q_net.state_dict())
                progress.update(step + 1)
                if callback is not None and callback(locals()) is False:
                    break
        return self

    def _loss(self, z: torch.Tensor, target: torch.Tensor, taus: torch.Tensor) -> torch.Tensor:
        return quantile_huber_loss(z, target, taus)

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike) -> None:
        """One file of tensors and Python builtins (loads with ``torch.load(weights_only=True)``)."""
        torch.save({"format": _FORMAT, "class": self.name, "seed": self.seed, "hp": self.hp,
                    "preorder": list(self.preorder), "obs_dim": self.obs_dim, "n_actions": self.n_actions,
                    "num_timesteps": self.num_timesteps, "q_net": self.q_net.state_dict(),
                    "q_target": self.q_target.state_dict()}, Path(path))

    @classmethod
    def load(cls, path: str | os.PathLike, env: gym.Env | None = None) -> "PrIQN":
        data = torch.load(Path(path), weights_only=True)
        if data.get("format") != _FORMAT or data.get("class") != cls.name:
            raise ValueError(f"{path} is not a {cls.name} checkpoint (format {data.get('format')!r}, "
                             f"class {data.get('class')!r})")
        agent = cls(None, seed=data["seed"], **data["hp"])
        agent.env = env
        agent.preorder, agent.obs_dim, agent.n_actions = tuple(data["preorder"]), data["obs_dim"], data["n_actions"]
        agent.num_timesteps = data["num_timesteps"]
        agent._build()
        agent.q_net.load_state_dict(data["q_net"])
        agent.q_target.load_state_dict(data["q_target"])
        return agent


class IQN(PrIQN):
    """Plain IQN on the env's scalar reward (one head; greedy on the mean quantile); the same
    arguments as :class:`PrIQN` without ``preorder`` (``eps`` has no effect)."""

    name = "IQN"

    def _preorder(self, env: gym.Env, preorder: Sequence[int] | None) -> tuple[int, ...]:
        if preorder not in (None, (0,), [0]):
            raise ValueError(f"preorder={preorder!r} is invalid for IQN, which learns the scalar reward; allowed: None")
        return (0,)

    def _reward(self, reward: Any, info: dict[str, Any]) -> np.ndarray:
        if np.ndim(reward) != 0:
            raise ValueError("IQN learns a scalar reward: use a scalar id (gauntlet/Driving-*), not an mo- id")
        return np.array([reward], dtype=np.float32)


class EnsembleIQN(IQN):
    """An ensemble of ``n_members`` IQN heads on the scalar reward (the ``ensemble-iqn`` baseline):
    the heads share the state and tau embeddings (as Bootstrapped DQN's heads share a torso), each
    update trains each head on a Bernoulli(1/2) subset of the batch (bootstrapping, with masks
    drawn per update rather than stored per transition), and the agent acts greedily on the mean
    over heads of the mean quantile; every head's target uses that ensemble action at ``s'``."""

    name = "EnsembleIQN"

    def __init__(self, env: gym.Env | None, seed: int = 0, n_members: int = 5, **kwargs: Any) -> None:
        if isinstance(n_members, bool) or not isinstance(n_members, (int, np.integer)) or n_members < 2:
            raise ValueError(f"n_members={n_members!r} is invalid; allowed: integers >= 2")
        self.n_members = int(n_members)
        super().__init__(env, seed=seed, **kwargs)
        self.hp["n_members"] = self.n_members

    def _preorder(self, env: gym.Env, preorder: Sequence[int] | None) -> tuple[int, ...]:
        super()._preorder(env, preorder)
        return tuple(range(self.n_members))

    def _reward(self, reward: Any, info: dict[str, Any]) -> np.ndarray:
        return np.repeat(super()._reward(reward, info), self.n_members)

    def _greedy(self, net: QuantileNetwork, obs: torch.Tensor) -> torch.Tensor:
        return net(obs, self._grid.expand(obs.shape[0], -1)).mean(dim=(1, 3)).argmax(dim=-1)

    def _loss(self, z: torch.Tensor, target: torch.Tensor, taus: torch.Tensor) -> torch.Tensor:
        mask = (torch.rand(z.shape[0], self.n_members) < 0.5).float()
        return (quantile_huber_terms(z, target, taus) * mask).sum(dim=1).mean()
