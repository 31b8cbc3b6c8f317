"""CapTAIN-style graph-attention PPO for UAMFleet (``gauntlet/UAMFleet-v0``, ``-Small-v0``).

What it reproduces from the paper (Paul et al., arXiv 2401.04851): a policy that encodes the
vertiport graph and the fleet graph, a transformer over the demand / fare / electricity-cost
series, and a multi-head attention decoder that gives each destination of the deciding aircraft
its probability, with infeasible destinations masked; trained with PPO. One set of weights
serves any number of vertiports and aircraft (every layer works on sets of nodes), so a policy
trained on the 4 x 10 instance runs on the 8 x 40 one.

What differs:

* Graph encoder: attention over the route graph (graph-transformer layers whose attention is
  restricted to routes and biased per head by the route's features: miles, fare, closure,
  waiting passengers), not the paper's graph capsule convolutions (GCAPS: Laplacian polynomial
  filters of an adjacency ``A = 1/distance``). Why: the route features that change every
  decision (closures, queues) enter the attention directly, while a Laplacian filter on
  ``1/distance`` sees only the static geometry; and attention layers are the lineage of the
  paper's own decoder (Kool et al.), so encoder and decoder share one mechanism.
* Fleet graph: aircraft tokens (features plus the embedding of the vertiport they are at or
  flying to) in a self-attention layer (the fleet as a complete graph), pooled back per vertiport.
* Series: per vertiport, its expected departures, the fare multiplier, the electricity price
  and the time of day over the look-ahead window are tokens of a transformer encoder (shared
  across vertiports); the pooled result joins the vertiport's input embedding.
* Decoder: Kool-style: context (graph mean, deciding aircraft, its vertiport) -> multi-head
  glimpse over the vertiport embeddings -> single-head compatibility logits ``10 tanh(q.k/sqrt d)``.
* PPO (CleanRL's clipped objective, GAE, value clipping off) with dense per-trip profit
  rewards, gamma 0.99, lr 3e-4: the prototype's settings (gamma 1, lr 1e-6, 4M steps, sparse
  end-of-day reward) are beyond a CPU budget.
"""

from __future__ import annotations

import os
import time
from typing import Any, Callable

import gymnasium as gym
import numpy as np
import torch
from torch import nn
from torch.distributions import Categorical

from gauntlet.agents.decision_timer import DecisionTimer
from gauntlet.agents.progress import TrainingProgress
from gauntlet.agents.tensorboard import ScalarLog

_FORMAT = "gauntlet-captain/1"
_KEYS = ("vertiports", "aircraft", "routes", "series", "action_mask")
TANH_CLIP = 10.0


class CaptainPolicy(nn.Module):
    """Actor-critic over UAMFleet's Dict observation (batched tensors, any V and A)."""

    def __init__(self, vertiport_features: int, aircraft_features: int, route_features: int, lookahead: int,
                 embed_dim: int = 32, n_heads: int = 4, graph_layers: int = 2) -> None:
        super().__init__()
        d = embed_dim
        self.n_heads, self.graph_layers = n_heads, graph_layers
        self.node_in = nn.Linear(vertiport_features, d)
        self.route_bias = nn.Linear(route_features, n_heads * graph_layers)
        self.graph = nn.ModuleList(nn.TransformerEncoderLayer(d, n_heads, 2 * d, dropout=0.0, batch_first=True,
                                                              norm_first=True) for _ in range(graph_layers))
        # Series tokens: (expected departures of this vertiport, fare multiplier, price, time of day).
        self.series_in = nn.Linear(4, d)
        self.series_pos = nn.Parameter(torch.zeros(lookahead, d))
        self.series = nn.TransformerEncoderLayer(d, n_heads, 2 * d, dropout=0.0, batch_first=True, norm_first=True)
        self.aircraft_in = nn.Linear(aircraft_features, d)
        self.fleet = nn.TransformerEncoderLayer(d, n_heads, 2 * d, dropout=0.0, batch_first=True, norm_first=True)
        self.supply = nn.Linear(d, d)
        self.context = nn.Linear(3 * d, d)
        self.glimpse = nn.MultiheadAttention(d, n_heads, batch_first=True)
        self.query = nn.Linear(d, d, bias=False)
        self.key = nn.Linear(d, d, bias=False)
        self.critic = nn.Sequential(nn.Linear(2 * d, d), nn.Tanh(), nn.Linear(d, 1))

    def encode(self, obs: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Vertiport embeddings (B, V, d), aircraft embeddings (B, A, d) and each aircraft's vertiport (B, A)."""
        ports, routes, series = obs["vertiports"], obs["routes"], obs["series"]
        b, v, _ = ports.shape
        # The series, one sequence per vertiport: (B * V, L, 4).
        length = series.shape[1]
        shared = series[:, :, v:].unsqueeze(1).expand(b, v, length, 3)
        tokens = torch.cat([series[:, :, :v].transpose(1, 2).unsqueeze(-1), shared], dim=-1).reshape(b * v, length, 4)
        future = self.series(self.series_in(tokens) + self.series_pos[:length]).mean(dim=1).reshape(b, v, -1)
        h = self.node_in(ports) + future
        # Attention along routes (and to itself), biased per head by the route's features.
        allowed = (routes[..., 4] > 0) | torch.eye(v, dtype=torch.bool, device=ports.device)
        bias = self.route_bias(routes).reshape(b, v, v, self.graph_layers, self.n_heads)
        for k, layer in enumerate(self.graph):
            mask = bias[..., k, :].permute(0, 3, 1, 2).masked_fill(~allowed.unsqueeze(1), float("-inf"))
            h = layer(h, src_mask=mask.reshape(b * self.n_heads, v, v))
        # Each aircraft is at (or flying to) the vertiport whose position its features repeat.
        fleet_xy, port_xy = obs["aircraft"][..., :2], ports[..., :2]
        where = torch.cdist(fleet_xy, port_xy).argmin(dim=-1)
        f = self.aircraft_in(obs["aircraft"]) + torch.gather(h, 1, where.unsqueeze(-1).expand(-1, -1, h.shape[-1]))
        f = self.fleet(f)
        at = nn.functional.one_hot(where, v).float()  # (B, A, V)
        supply = at.transpose(1, 2) @ f / at.sum(dim=1).clamp(min=1.0).unsqueeze(-1)
        return h + self.supply(supply), f, where

    def forward(self, obs: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Masked logits over destinations (B, V) and state values (B,)."""
        h, f, _ = self.encode(obs)
        deciding = obs["aircraft"][..., 7:8]  # one-hot over aircraft
        home = obs["vertiports"][..., 6:7]  # one-hot over vertiports
        aircraft = (deciding * f).sum(dim=1)
        context = self.context(torch.cat([h.mean(dim=1), aircraft, (home * h).sum(dim=1)], dim=-1)).unsqueeze(1)
        invalid = obs["action_mask"] < 0.5
        glimpse, _ = self.glimpse(context, h, h, key_padding_mask=invalid)
        scores = (self.query(glimpse) @ self.key(h).transpose(1, 2)).squeeze(1) / np.sqrt(h.shape[-1])
        logits = (TANH_CLIP * torch.tanh(scores)).masked_fill(invalid, float("-inf"))
        value = self.critic(torch.cat([context.squeeze(1), glimpse.squeeze(1)], dim=-1)).squeeze(-1)
        return logits, value


def _to_tensors(batch: list[dict[str, np.ndarray]]) -> dict[str, torch.Tensor]:
    return {k: torch.as_tensor(np.stack([o[k] for o in batch])) for k in _KEYS}


class Captain(DecisionTimer):
    """Graph-attention PPO (see the module docstring) with SB3's ``learn/predict/save/load``;
    reports ``decision_latency_ms`` per evaluation episode.

    Args:
        env: a UAMFleet env (``gym.make("gauntlet/UAMFleet-Small-v0")``); ``n_envs`` copies of it
            are rebuilt from its spec to collect rollouts (one forward pass for all of them).
        seed: seeds torch, the rollout envs (``seed + i``) and action sampling.
        n_envs: env copies stepped together (one batched forward pass per step: on a CPU the
            network's cost per call, not per sample, dominates).
        n_steps: steps per copy per rollout; ``batch_size``, ``n_epochs``: PPO's minibatches.
        reward_scale: multiplies the env's reward for learning (the env's is in hundreds of $).
        embed_dim, n_heads, graph_layers: network width, attention heads, route-graph layers.
        tensorboard_log: directory for TensorBoard scalars (SB3's layout), or None.
    """

    def __init__(self, env: gym.Env, seed: int = 0, learning_rate: float = 3e-4, n_envs: int = 16,
                 n_steps: int = 64, batch_size: int = 256, n_epochs: int = 4, gamma: float = 0.99,
                 gae_lambda: float = 0.95, clip_range: float = 0.2, ent_coef: float = 0.01, vf_coef: float = 0.5,
                 max_grad_norm: float = 0.5, reward_scale: float = 0.1, embed_dim: int = 32, n_heads: int = 4,
                 graph_layers: int = 2, tensorboard_log: str | None = None, verbose: int = 0) -> None:
        for name, value in (("n_envs", n_envs), ("n_steps", n_steps), ("batch_size", batch_size),
                            ("n_epochs", n_epochs), ("embed_dim", embed_dim), ("n_heads", n_heads),
                            ("graph_layers", graph_layers)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}={value!r} is invalid; allowed: integers >= 1")
        if embed_dim % n_heads:
            raise ValueError(f"embed_dim={embed_dim!r} is invalid; allowed: a multiple of n_heads={n_heads}")
        self.hyperparameters = dict(
            learning_rate=learning_rate, n_envs=n_envs, n_steps=n_steps, batch_size=batch_size, n_epochs=n_epochs,
            gamma=gamma, gae_lambda=gae_lambda, clip_range=clip_range, ent_coef=ent_coef, vf_coef=vf_coef,
            max_grad_norm=max_grad_norm, reward_scale=reward_scale, embed_dim=embed_dim, n_heads=n_heads,
            graph_layers=graph_layers)
        self.env, self.seed, self.verbose = env, seed, verbose
        self.num_timesteps = 0
        torch.manual_seed(seed)
        self._rng = np.random.default_rng(seed)
        space = env.observation_space
        self.policy = CaptainPolicy(space["vertiports"].shape[-1], space["aircraft"].shape[-1],
                                    space["routes"].shape[-1], space["series"].shape[0], embed_dim, n_heads,
                                    graph_layers)
        self.optimizer = torch.optim.Adam(self.policy.parameters(), lr=learning_rate, eps=1e-5)
        self._tensorboard = ScalarLog(tensorboard_log, "Captain")
        self._envs: list[gym.Env] | None = None
        self._start_episode()

    # ------------------------------------------------------------------ acting
    def on_reset(self, env: gym.Env, observation: Any, info: dict) -> None:
        self._start_episode()

    def predict(self, observation: dict[str, np.ndarray], state: Any = None, episode_start: Any = None,
                deterministic: bool = True, action_masks: np.ndarray | None = None) -> tuple[int, Any]:
        """The destination for one observation (the most probable one if ``deterministic``)."""
        start = time.perf_counter()
        obs = dict(observation)
        if action_masks is not None:
            obs["action_mask"] = np.asarray(action_masks, dtype=np.float32)
        with torch.no_grad():
            logits, _ = self.policy(_to_tensors([obs]))
        action = int(logits.argmax(dim=-1)) if deterministic else int(Categorical(logits=logits).sample())
        self._add(time.perf_counter() - start, 1)
        return action, state

    # ------------------------------------------------------------------ training
    def learn(self, total_timesteps: int, callback: Callable[[dict[str, Any]], bool | None] | None = None,
              progress_bar: bool = False) -> "Captain":
        """Train for ``total_timesteps`` more env steps (whole rollouts of ``n_steps * n_envs``).
        ``callback(stats)`` after every update; returning ``False`` stops training."""
        if int(total_timesteps) < 1:
            raise ValueError(f"total_timesteps={total_timesteps!r} is out of range; allowed: an integer >= 1")
        if callback is not None and not callable(callback):
            raise TypeError(f"callback must be a callable taking a dict of rollout stats, got {type(callback).__name__}")
        if self._envs is None:
            self._start()
        start = self.num_timesteps
        with TrainingProgress(progress_bar, int(total_timesteps), "Captain") as progress:
            while self.num_timesteps < start + int(total_timesteps):
                rollout, returns = self._collect()
                stats = self._update(rollout)
                if returns:
                    stats["episode_profit_mean"] = float(np.mean(returns))
                self._tensorboard.write({f"{'rollout' if k.startswith('episode') else 'train'}/{k}": v
                                         for k, v in stats.items()}, self.num_timesteps)
                if self.verbose:
                    print(f"[Captain] steps={self.num_timesteps} " + " ".join(f"{k}={v:.4g}" for k, v in stats.items()))
                progress.update(self.num_timesteps - start)
                if callback is not None and callback({**stats, "num_timesteps": self.num_timesteps}) is False:
                    break
        return self

    def _start(self) -> None:
        spec = self.env.spec
        n = self.hyperparameters["n_envs"]
        if n > 1 and spec is None:
            raise ValueError("n_envs > 1 needs an env made with gym.make (copies are rebuilt from env.spec)")
        self._envs = [self.env] + [gym.make(spec.id, **spec.kwargs) for _ in range(n - 1)]
        self._obs = [e.reset(seed=self.seed + i)[0] for i, e in enumerate(self._envs)]
        self._profit = np.zeros(n)

    def _collect(self) -> tuple[dict[str, Any], list[float]]:
        hp = self.hyperparameters
        t_max, n = hp["n_steps"], hp["n_envs"]
        observations, actions, logprobs, values = [], np.zeros((t_max, n), np.int64), np.zeros((t_max, n)), np.zeros((t_max, n))
        rewards, dones = np.zeros((t_max, n)), np.zeros((t_max, n))
        finished = []
        for t in range(t_max):
            batch = _to_tensors(self._obs)
            with torch.no_grad():
                logits, value = self.policy(batch)
            dist = Categorical(logits=logits)
            action = dist.sample()
            observations.append(batch)
            actions[t], logprobs[t], values[t] = action.numpy(), dist.log_prob(action).numpy(), value.numpy()
            for i, env in enumerate(self._envs):
                obs, reward, terminated, truncated, info = env.step(int(action[i]))
                rewards[t, i] = reward * hp["reward_scale"]
                if terminated or truncated:
                    finished.append(info["profit"])
                    dones[t, i] = 1.0
                    obs, _ = env.reset()
                self._obs[i] = obs
        self.num_timesteps += t_max * n
        with torch.no_grad():
            _, last_value = self.policy(_to_tensors(self._obs))
        advantages = np.zeros((t_max, n))
        gae, next_value = np.zeros(n), last_value.numpy()
        for t in reversed(range(t_max)):
            keep = 1.0 - dones[t]
            delta = rewards[t] + hp["gamma"] * next_value * keep - values[t]
            gae = delta + hp["gamma"] * hp["gae_lambda"] * keep * gae
            advantages[t], next_value = gae, values[t]
        rollout = {
            "obs": {k: torch.cat([o[k] for o in observations]) for k in _KEYS},
            "actions": torch.as_tensor(actions.reshape(-1)),
            "logprobs": torch.as_tensor(logprobs.reshape(-1), dtype=torch.float32),
            "advantages": torch.as_tensor(advantages.reshape(-1), dtype=torch.float32),
            "returns": torch.as_tensor((advantages + values).reshape(-1), dtype=torch.float32),
        }
        return rollout, finished

    def _update(self, rollout: dict[str, Any]) -> dict[str, float]:
        hp = self.hyperparameters
        size = len(rollout["actions"])
        losses: dict[str, list[float]] = {"policy_loss": [], "value_loss": [], "entropy": [], "approx_kl": []}
        for _ in range(hp["n_epochs"]):
            for idx in np.array_split(self._rng.permutation(size), max(size // hp["batch_size"], 1)):
                idx = torch.as_tensor(idx)
                logits, value = self.policy({k: v[idx] for k, v in rollout["obs"].items()})
                dist = Categorical(logits=logits)
                logprob = dist.log_prob(rollout["actions"][idx])
                ratio = torch.exp(logprob - rollout["logprobs"][idx])
                adv = rollout["advantages"][idx]
                adv = (adv - adv.mean()) / (adv.std() + 1e-8)
                policy_loss = torch.max(-adv * ratio, -adv * ratio.clamp(1 - hp["clip_range"], 1 + hp["clip_range"])).mean()
                value_loss = 0.5 * (value - rollout["returns"][idx]).pow(2).mean()
                entropy = dist.entropy().mean()
                loss = policy_loss + hp["vf_coef"] * value_loss - hp["ent_coef"] * entropy
                self.optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(self.policy.parameters(), hp["max_grad_norm"])
                self.optimizer.step()
                for key, val in (("policy_loss", policy_loss), ("value_loss", value_loss), ("entropy", entropy),
                                 ("approx_kl", (ratio - 1 - ratio.log()).mean())):
                    losses[key].append(float(val.detach()))
        return {k: float(np.mean(v)) for k, v in losses.items()}

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike) -> None:
        """One file (``torch.save`` of plain data): hyperparameters, spaces' sizes, weights, optimizer."""
        space = self.env.observation_space
        torch.save({"format": _FORMAT, "hyperparameters": dict(self.hyperparameters), "seed": self.seed,
                    "lookahead": int(space["series"].shape[0]), "num_timesteps": self.num_timesteps,
                    "policy": self.policy.state_dict(), "optimizer": self.optimizer.state_dict()}, path)

    @classmethod
    def load(cls, path: str | os.PathLike, env: gym.Env | None = None) -> "Captain":
        """Rebuild a saved agent on ``env`` (any UAMFleet env with the saved look-ahead window:
        the weights do not depend on the numbers of vertiports and aircraft)."""
        data = torch.load(path, map_location="cpu", weights_only=True)
        if data.get("format") != _FORMAT:
            raise ValueError(f"{path} is not a Captain file (format {data.get('format')!r}, expected {_FORMAT!r})")
        if env is None:
            raise ValueError("Captain.load needs the env to act in: Captain.load(path, env=gym.make(...))")
        if env.observation_space["series"].shape[0] != data["lookahead"]:
            raise ValueError(f"env has lookahead_bins={env.observation_space['series'].shape[0]}, the saved agent "
                             f"{data['lookahead']}")
        agent = cls(env, seed=data["seed"], **data["hyperparameters"])
        agent.policy.load_state_dict(data["policy"])
        agent.optimizer.load_state_dict(data["optimizer"])
        agent.num_timesteps = int(data["num_timesteps"])
        return agent
