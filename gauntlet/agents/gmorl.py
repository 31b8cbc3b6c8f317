"""GMORL: one preference-conditioned Discrete SAC policy for every delay/energy trade-off.

Paper: N. Yang, J. Wen, M. Zhang, M. Tang, "Generalizable Pareto-Optimal Offloading with
Reinforcement Learning in Mobile Edge Computing", IEEE TSC 2025 (arXiv 2509.10474).

The policy ``pi(a | s, w)`` and twin critics ``Q(s, w, a)`` take the preference ``w`` as
input, so one network serves the whole Pareto front. Every server row of the observation
(task size, uplink rate, CPU frequency, running tasks, E, histogram of remaining sizes) goes
through the same *histogram encoder* (an MLP shared across servers); each server's output
head sees its own embedding, the masked mean embedding of all servers and ``w``, and emits
one logit (actor) or one Q-value (critic) for "offload to this server". The networks are
therefore permutation-equivariant over servers and work for any number of edges up to
``max_edges``; absent edges are masked (logit -1e8, probability 0).

The critics are vector-valued (one Q per objective, ``Q_k(s, w, a) in R^2``) and the
policy maximizes the scalarization ``w . Q``, which makes the critic's dependence on ``w``
exactly linear in the returns. Core update (Discrete SAC, Christodoulou 2019, fixed
temperature)::

    y      = r + gamma * (1 - terminated) * sum_a' pi(a'|s',w) [min_k Qbar_k(s',w,a') - alpha log pi(a'|s',w)]   (per objective)
    L_Q    = sum_k Huber(Q_k(s,w,a), y)
    L_pi   = E_s sum_a pi(a|s,w) [alpha log pi(a|s,w) - min_k w' . Q_k(s,w,a)]

with ``r = max(r_vector, -reward_clip) / scale`` per objective and ``w'`` the normalized
preference below; since ``w'`` sums to 1, subtracting ``alpha log pi`` from every objective
adds exactly ``-alpha log pi`` to ``w' . Q``.

Reproduced from the paper: one preference-conditioned Discrete SAC, action masking,
histogram state encoding, fixed entropy coefficient alpha = 0.05, gamma = 0.95, training
preferences spread evenly over the simplex (each training episode draws ``w0 ~ U[0, 1]``).

What differs from the paper:

- Vector-valued critics scalarized by ``w`` (the paper's critics output ``w . r`` values).
- Preference relabeling: the reward vector is stored, and every minibatch is re-labelled
  with preferences stratified evenly over the simplex (``w0 = (i + u_i) / B``), so every
  transition trains every preference (as in Envelope/PD-MORL style conditioned learners).
- Each objective's reward is divided by the median magnitude ``scale_i`` of its non-zero
  rewards in the warm-up data, so the critics learn normalized returns and the small delay
  rewards are learned as precisely as the energy rewards. The policy maximizes
  ``w' . Q`` with ``w'_i = w_i scale_i / sum_j w_j scale_j``: the same argmax as the env's
  ``w . r`` scalarization, but on a scale that does not depend on ``w``, so the fixed
  entropy coefficient means the same for every preference (alpha is in normalized units).
- Each reward component is clipped at ``-reward_clip`` and the critic uses a Huber loss:
  with the physically correct uplink rates, offloading to the cloud costs thousands of
  reward units per task; clipping keeps it the worst action without dominating the scale.
- Experience is collected from ``n_envs`` copies of the native vector env
  (:class:`~gauntlet.envs.mec_offloading.vector.MOMECOffloadingVectorEnv`) built with the
  training env's arguments; ``gradient_steps`` updates follow every vector step.
- ``predict(deterministic=True)`` takes ``argmax_a min_k w' . Q_k(s, w, a)`` by default
  (``greedy_critic=True``): the mode of the soft-optimal policy ``softmax(w' . Q / alpha)``
  the actor is trained towards, without the actor's approximation lag. Training and
  ``deterministic=False`` sample from the actor.
- Network sizes and the optimizer settings are ours (the paper gives no complete list).

The env must be a MECOffloading env with ``preference_in_obs=True`` (the preference is the
last two observation entries); the registry's tasks set it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from gauntlet.agents.progress import TrainingProgress
from gauntlet.agents.tensorboard import ScalarLog
from gauntlet.envs.mec_offloading.env import N_OBJECTIVES, N_SERVER_FEATURES
from gauntlet.envs.mec_offloading.vector import MOMECOffloadingVectorEnv

_FORMAT = "gauntlet-gmorl/1"
_MASKED_LOGIT = -1e8


class ServerNet(nn.Module):
    """Histogram encoder shared across server rows + per-server head on (row, mean, w)."""

    def __init__(self, n_servers: int, row_features: int, hidden: int, out: int = 1) -> None:
        super().__init__()
        self.out = out
        self.n_servers, self.row_features = n_servers, row_features
        self.encoder = nn.Sequential(nn.Linear(row_features, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.head = nn.Sequential(nn.Linear(2 * hidden + N_OBJECTIVES, hidden), nn.ReLU(), nn.Linear(hidden, out))

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(per-server outputs (B, servers[, out]), present mask (B, servers))."""
        b = obs.shape[0]
        rows = obs[:, : self.n_servers * self.row_features].reshape(b, self.n_servers, self.row_features)
        w = obs[:, -N_OBJECTIVES:]
        mask = rows[..., 2] > 0
        # Counts and sizes span orders of magnitude: compress them; absent rows are zeroed.
        x = torch.cat([torch.log1p(rows[..., :1].clamp(min=0)), rows[..., 1:3], torch.log1p(rows[..., 3:4].clamp(min=0)),
                       rows[..., 4:5] / 10.0, torch.log1p(rows[..., N_SERVER_FEATURES:].clamp(min=0))], dim=-1)
        x = x * mask.unsqueeze(-1)
        emb = self.encoder(x)
        pooled = (emb * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True).clamp(min=1)
        h = torch.cat([emb, pooled.unsqueeze(1).expand_as(emb), w.unsqueeze(1).expand(b, self.n_servers, N_OBJECTIVES)], -1)
        y = self.head(h)
        return (y.squeeze(-1) if self.out == 1 else y), mask


def _policy(actor: ServerNet, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    logits, mask = actor(obs)
    logp = torch.log_softmax(logits.masked_fill(~mask, _MASKED_LOGIT), dim=-1)
    return logp.exp(), logp


class GMORL:
    """Preference-conditioned Discrete SAC (see the module docstring).

    Args:
        env: a MECOffloading env (``gym.make`` of either id) with ``preference_in_obs=True``.
        seed: seeds torch, the replay sampling and the training envs.
        learning_rate, buffer_size, batch_size, gamma, alpha, tau: usual SAC settings.
        learning_starts: transitions collected with the uniform masked policy first.
        n_envs: copies of the native vector env used to collect experience.
        gradient_steps: updates after every vector step (all copies step once).
        hidden: width of the encoder and heads.
        reward_clip: lower clip of each reward component (positive number).
        greedy_critic: deterministic actions maximize ``min_k w' . Q_k`` (the mode of the
            soft-optimal policy) instead of the actor's logits.
        tensorboard_log: directory for TensorBoard scalars (``None`` = off).
    """

    def __init__(
        self,
        env: gym.Env,
        seed: int = 0,
        learning_rate: float = 1e-3,
        buffer_size: int = 100_000,
        batch_size: int = 128,
        gamma: float = 0.95,
        alpha: float = 0.05,
        tau: float = 0.005,
        learning_starts: int = 1_000,
        n_envs: int = 8,
        gradient_steps: int = 1,
        hidden: int = 64,
        reward_clip: float = 100.0,
        greedy_critic: bool = True,
        tensorboard_log: str | None = None,
        verbose: int = 0,
    ) -> None:
        base = env.unwrapped if env is not None else None
        if base is not None and not hasattr(base, "core"):
            raise ValueError(f"GMORL needs a MECOffloading env, got {type(base).__name__}")
        if base is not None and not base.preference_in_obs:
            raise ValueError("GMORL needs the preference in the observation: make the env with preference_in_obs=True")
        for name, value in (("buffer_size", buffer_size), ("batch_size", batch_size), ("n_envs", n_envs),
                            ("gradient_steps", gradient_steps), ("hidden", hidden)):
            if not (isinstance(value, (int, np.integer)) and value >= 1):
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if not 0 <= gamma <= 1:
            raise ValueError(f"gamma must be in [0, 1], got {gamma!r}")
        if not (alpha >= 0 and reward_clip > 0 and learning_rate > 0 and 0 < tau <= 1):
            raise ValueError(f"need alpha >= 0, reward_clip > 0, learning_rate > 0, 0 < tau <= 1; got "
                             f"{alpha!r}, {reward_clip!r}, {learning_rate!r}, {tau!r}")
        self.env = env
        self.seed = int(seed)
        self.hp = dict(learning_rate=learning_rate, buffer_size=int(buffer_size), batch_size=int(batch_size),
                       gamma=float(gamma), alpha=float(alpha), tau=float(tau), learning_starts=int(learning_starts),
                       n_envs=int(n_envs), gradient_steps=int(gradient_steps), hidden=int(hidden),
                       reward_clip=float(reward_clip), greedy_critic=bool(greedy_critic))
        self.tensorboard_log = tensorboard_log
        self.verbose = verbose
        self.env_kwargs = dict(base.init_kwargs) if base is not None else {}
        self.n_servers = base.core.n_servers if base is not None else 0
        self.row_features = base.core.row_features if base is not None else 0
        self.num_timesteps = 0
        self.reward_scale: np.ndarray | None = None
        self._tensorboard = ScalarLog(tensorboard_log, "GMORL")
        if base is not None:
            self._build()

    def _build(self) -> None:
        torch.manual_seed(self.seed)
        h = self.hp["hidden"]
        self.actor = ServerNet(self.n_servers, self.row_features, h)
        self.critics = nn.ModuleList([ServerNet(self.n_servers, self.row_features, h, N_OBJECTIVES) for _ in range(2)])
        self.targets = nn.ModuleList([ServerNet(self.n_servers, self.row_features, h, N_OBJECTIVES) for _ in range(2)])
        self.targets.load_state_dict(self.critics.state_dict())
        self.actor_opt = torch.optim.Adam(self.actor.parameters(), lr=self.hp["learning_rate"])
        self.critic_opt = torch.optim.Adam(self.critics.parameters(), lr=self.hp["learning_rate"])

    # ------------------------------------------------------------------ update
    def _update(self, obs: torch.Tensor, actions: torch.Tensor, rvec: torch.Tensor, next_obs: torch.Tensor,
                terminated: torch.Tensor) -> dict[str, float]:
        hp = self.hp
        n = obs.shape[0]
        w0 = (torch.arange(n) + torch.rand(n)) / n
        w = torch.stack([w0, 1 - w0], 1)[torch.randperm(n)]
        obs, next_obs = obs.clone(), next_obs.clone()
        obs[:, -N_OBJECTIVES:], next_obs[:, -N_OBJECTIVES:] = w, w
        scale = torch.as_tensor(self.reward_scale, dtype=torch.float32)
        r = rvec.clamp(min=-hp["reward_clip"]) / scale
        with torch.no_grad():
            p_next, logp_next = _policy(self.actor, next_obs)
            q_next = torch.min(self.targets[0](next_obs)[0], self.targets[1](next_obs)[0])
            v_next = (p_next.unsqueeze(-1) * (q_next - hp["alpha"] * logp_next.unsqueeze(-1))).sum(1)
            y = r + hp["gamma"] * (1 - terminated).unsqueeze(-1) * v_next
        idx = actions[:, None, None].expand(-1, 1, N_OBJECTIVES)
        q = [c(obs)[0].gather(1, idx).squeeze(1) for c in self.critics]
        critic_loss = F.smooth_l1_loss(q[0], y) + F.smooth_l1_loss(q[1], y)
        self.critic_opt.zero_grad()
        critic_loss.backward()
        self.critic_opt.step()
        p, logp = _policy(self.actor, obs)
        with torch.no_grad():
            ws = w * scale
            ws = (ws / ws.sum(1, keepdim=True)).unsqueeze(1)
            q_all = torch.min(*[(c(obs)[0] * ws).sum(-1) for c in self.critics])
        actor_loss = (p * (hp["alpha"] * logp - q_all)).sum(1).mean()
        self.actor_opt.zero_grad()
        actor_loss.backward()
        self.actor_opt.step()
        with torch.no_grad():
            for t, c in zip(self.targets.parameters(), self.critics.parameters()):
                t.lerp_(c, hp["tau"])
        return {"critic_loss": critic_loss.item(), "actor_loss": actor_loss.item(),
                "entropy": -(p * logp).sum(1).mean().item(), "q_delay": q[0][:, 0].mean().item(),
                "q_energy": q[0][:, 1].mean().item()}

    # ------------------------------------------------------------------ learn
    def learn(self, total_timesteps: int, callback: Callable[[dict[str, Any]], Any] | None = None,
              progress_bar: bool = False) -> "GMORL":
        """Collect ``total_timesteps`` transitions (over all copies) and train. ``callback``
        (a plain callable) receives a dict of locals after every vector step; returning
        ``False`` stops training."""
        hp = self.hp
        n_envs = hp["n_envs"]
        venv = MOMECOffloadingVectorEnv(num_envs=n_envs, **{**self.env_kwargs, "preference_in_obs": True})
        rng = np.random.default_rng(self.seed)
        dim = venv.single_observation_space.shape[0]
        size = hp["buffer_size"]
        buf_obs = np.zeros((size, dim), np.float32)
        buf_next = np.zeros((size, dim), np.float32)
        buf_act = np.zeros(size, np.int64)
        buf_rew = np.zeros((size, N_OBJECTIVES), np.float32)
        buf_term = np.zeros(size, np.float32)
        pos, full = 0, False
        obs, info = venv.reset(seed=self.seed * 1_000_003 % (2**31))
        w = self._draw_weights(rng, n_envs)
        obs[:, -N_OBJECTIVES:] = w
        skip = np.zeros(n_envs, dtype=bool)
        ep_ret = np.zeros((n_envs, N_OBJECTIVES))
        with TrainingProgress(progress_bar, total_timesteps, "GMORL") as progress:
            collected = 0
            while collected < total_timesteps:
                if self.num_timesteps < hp["learning_starts"]:
                    mask = info["action_mask"]
                    actions = np.array([rng.choice(np.flatnonzero(m)) for m in mask])
                else:
                    actions = self._act(obs, deterministic=False)
                next_obs, rvec, terminated, truncated, info = venv.step(actions)
                next_obs[:, -N_OBJECTIVES:] = w
                keep = ~skip
                idx = (pos + np.arange(keep.sum())) % size
                buf_obs[idx], buf_next[idx], buf_act[idx] = obs[keep], next_obs[keep], actions[keep]
                buf_rew[idx], buf_term[idx] = rvec[keep], terminated[keep]
                full = full or pos + keep.sum() >= size
                pos = int((pos + keep.sum()) % size)
                ep_ret += np.where(keep[:, None], rvec, 0.0)
                collected += int(keep.sum())
                self.num_timesteps += int(keep.sum())
                done = terminated | truncated
                if done.any():
                    for i in np.flatnonzero(done):
                        self._log_episode(ep_ret[i], w[i])
                    ep_ret[done] = 0.0
                    w[done] = self._draw_weights(rng, int(done.sum()))
                skip = done
                obs = next_obs
                obs[:, -N_OBJECTIVES:] = w
                n_stored = size if full else pos
                if self.num_timesteps >= hp["learning_starts"] and n_stored >= hp["batch_size"]:
                    if self.reward_scale is None:
                        self.reward_scale = self._scale_from(buf_rew[:n_stored])
                    for _ in range(hp["gradient_steps"]):
                        j = rng.integers(0, n_stored, size=hp["batch_size"])
                        stats = self._update(torch.from_numpy(buf_obs[j]), torch.from_numpy(buf_act[j]),
                                             torch.from_numpy(buf_rew[j]), torch.from_numpy(buf_next[j]),
                                             torch.from_numpy(buf_term[j]))
                    if self._tensorboard.enabled and (self.num_timesteps // n_envs) % 50 == 0:
                        self._tensorboard.write({f"train/{k}": v for k, v in stats.items()}, self.num_timesteps)
                progress.update(collected)
                if callback is not None and callback(locals()) is False:
                    break
        venv.close()
        return self

    @staticmethod
    def _scale_from(rewards: np.ndarray) -> np.ndarray:
        """Median magnitude of each objective's non-zero rewards (robust to the cloud's outliers)."""
        mags = np.abs(rewards[np.any(rewards != 0, axis=1)])
        if len(mags) == 0:
            return np.ones(N_OBJECTIVES)
        return np.maximum(np.median(mags, axis=0), 1e-6)

    @staticmethod
    def _draw_weights(rng: np.random.Generator, n: int) -> np.ndarray:
        w0 = rng.uniform(0.0, 1.0, size=n)
        return np.stack([w0, 1.0 - w0], axis=1).astype(np.float32)

    def _log_episode(self, ret: np.ndarray, w: np.ndarray) -> None:
        self._tensorboard.write({"rollout/return_delay": float(ret[0]), "rollout/return_energy": float(ret[1]),
                                 "rollout/return_scalarized": float(w @ ret)}, self.num_timesteps)

    # ------------------------------------------------------------------ inference
    def _act(self, obs: np.ndarray, deterministic: bool, action_masks: np.ndarray | None = None) -> np.ndarray:
        with torch.no_grad():
            logits, mask = self.actor(torch.as_tensor(obs, dtype=torch.float32))
            if action_masks is not None:
                mask = mask & torch.as_tensor(np.asarray(action_masks, dtype=bool).reshape(mask.shape))
            if deterministic and self.hp["greedy_critic"] and self.reward_scale is not None:
                x = torch.as_tensor(obs, dtype=torch.float32)
                ws = x[:, -N_OBJECTIVES:] * torch.as_tensor(self.reward_scale, dtype=torch.float32)
                ws = (ws / ws.sum(1, keepdim=True).clamp(min=1e-12)).unsqueeze(1)
                q = torch.min(*[(c(x)[0] * ws).sum(-1) for c in self.critics])
                return q.masked_fill(~mask, -torch.inf).argmax(-1).numpy()
            logits = logits.masked_fill(~mask, _MASKED_LOGIT)
            if deterministic:
                return logits.argmax(-1).numpy()
            return torch.distributions.Categorical(logits=logits).sample().numpy()

    def predict(self, observation: Any, state: Any = None, episode_start: Any = None, deterministic: bool = True,
                action_masks: np.ndarray | None = None) -> tuple[Any, Any]:
        """Action(s) for one observation ``(D,)`` or a batch ``(N, D)``; the preference is
        read from the observation's last two entries."""
        obs = np.asarray(observation, dtype=np.float32)
        expected = self.n_servers * self.row_features + N_OBJECTIVES
        if obs.shape[-1] != expected:
            raise ValueError(f"observation must have {expected} entries (servers x features + preference), got {obs.shape}")
        single = obs.ndim == 1
        actions = self._act(obs.reshape(-1, expected), deterministic, action_masks)
        return (int(actions[0]) if single else actions), state

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike) -> None:
        """One file of tensors and Python builtins, so :meth:`load` reads it with ``weights_only=True``."""
        torch.save({
            "format": _FORMAT, "seed": self.seed, "hp": _builtins(self.hp), "env_kwargs": _builtins(self.env_kwargs),
            "n_servers": self.n_servers, "row_features": self.row_features, "num_timesteps": self.num_timesteps,
            "reward_scale": _builtins(self.reward_scale),
            "actor": self.actor.state_dict(), "critics": self.critics.state_dict(), "targets": self.targets.state_dict(),
        }, Path(path))

    @classmethod
    def load(cls, path: str | os.PathLike, env: gym.Env | None = None) -> "GMORL":
        data = torch.load(Path(path), weights_only=True)
        if data.get("format") != _FORMAT:
            raise ValueError(f"{path} is not a GMORL checkpoint (format {data.get('format')!r})")
        agent = cls(None, seed=data["seed"], **data["hp"])  # type: ignore[arg-type]
        agent.env = env
        agent.env_kwargs = data["env_kwargs"]
        agent.n_servers, agent.row_features = data["n_servers"], data["row_features"]
        agent.num_timesteps = data["num_timesteps"]
        agent.reward_scale = None if data["reward_scale"] is None else np.asarray(data["reward_scale"])
        agent._build()
        agent.actor.load_state_dict(data["actor"])
        agent.critics.load_state_dict(data["critics"])
        agent.targets.load_state_dict(data["targets"])
        return agent


def _builtins(value: Any) -> Any:
    """``value`` with numpy scalars and arrays turned into Python numbers and lists."""
    if isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    if isinstance(value, dict):
        return {k: _builtins(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_builtins(v) for v in value)
    return value
