"""Thresholded lexicographic DQN (the ``lex-dqn`` baseline of the Driving family).

After Skalse et al., "Lexicographic Multi-Objective Reinforcement Learning" (IJCAI 2022): one
Q-value per action and objective (an MLP with ``n_actions x n_objectives`` outputs); the greedy
action filters the actions objective by objective in the preorder, keeping
``{a in A_k : Q_k(s, a) >= max_{a' in A_k} Q_k(s, a') - slack}`` (additive ``slack`` = 0.04, in
the units of each objective's return), and takes the best of the last objective among the
survivors. The TD target of every objective uses that action at ``s'`` under the target network
(Huber loss). Exploration, replay and the training loop are :class:`~gauntlet.agents.pr_iqn.PrIQN`'s
(epsilon-greedy, hard target updates), so the two differ only in what the network learns
(expectations vs quantiles) and how actions are filtered (slack on means vs quantile dominance).
"""

from __future__ import annotations

from typing import Any, Sequence

import gymnasium as gym
import torch
import torch.nn.functional as F
from torch import nn

from gauntlet.agents.pr_iqn import PrIQN


class QNetwork(nn.Module):
    """``Q(s)`` of shape (batch, n_actions, n_objectives)."""

    def __init__(self, obs_dim: int, n_actions: int, n_objectives: int, hidden: int) -> None:
        super().__init__()
        self.n_actions, self.n_objectives = n_actions, n_objectives
        self.body = nn.Sequential(nn.Linear(obs_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                  nn.Linear(hidden, n_actions * n_objectives))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.body(obs).view(obs.shape[0], self.n_actions, self.n_objectives)


def lexicographic_action(q: torch.Tensor, preorder: Sequence[int], slack: float) -> torch.Tensor:
    """The thresholded lexicographic greedy action (batch,) for ``q`` (batch, n_actions, n_objectives)."""
    alive = torch.ones(q.shape[:2], dtype=torch.bool)
    for k in preorder[:-1]:
        qk = q[..., k].masked_fill(~alive, -torch.inf)
        alive = alive & (qk >= qk.max(dim=-1, keepdim=True).values - slack)
    return q[..., preorder[-1]].masked_fill(~alive, -torch.inf).argmax(dim=-1)


class LexDQN(PrIQN):
    """Thresholded lexicographic DQN on ``info["reward_vector"]``; :class:`PrIQN`'s arguments plus
    ``slack`` (the quantile arguments ``eps``, ``n_quantiles*`` have no effect)."""

    name = "LexDQN"

    def __init__(self, env: gym.Env | None, seed: int = 0, slack: float = 0.04, **kwargs: Any) -> None:
        if not slack >= 0.0:
            raise ValueError(f"slack={slack!r} is out of range; allowed: numbers >= 0")
        self.slack = float(slack)
        super().__init__(env, seed=seed, **kwargs)
        self.hp["slack"] = self.slack

    def _network(self) -> nn.Module:
        return QNetwork(self.obs_dim, self.n_actions, self.n_objectives, self.hp["hidden"])

    def _greedy(self, net: nn.Module, obs: torch.Tensor) -> torch.Tensor:
        return lexicographic_action(net(obs), self.preorder, self.slack)

    def _update(self, obs, actions, rewards, next_obs, terminated) -> dict[str, float]:
        b = obs.shape[0]
        with torch.no_grad():
            next_q = self.q_target(next_obs)[torch.arange(b), self._greedy(self.q_target, next_obs)]
            target = rewards + self.hp["gamma"] * (1.0 - terminated)[:, None] * next_q
        q = self.q_net(obs)[torch.arange(b), actions]
        loss = F.smooth_l1_loss(q, target)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return {"loss": loss.item(), **{f"q_mean_{k}": q[:, k].mean().item() for k in range(self.n_objectives)}}
