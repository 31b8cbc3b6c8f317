"""QMIX's core, shared by MO-MIX, outer-loop QMIX and independent scalarized Q-learning.

QMIX (Rashid et al. 2018) with EPyMARL's defaults (Papoudakis et al. 2021, ``qmix.yaml``): one
MLP agent network shared by all agents (input: the agent's observation and a one-hot agent id;
EPyMARL's ``use_rnn: False``), a monotonic mixer whose weights come from hypernetworks on the
global state::

    w1 = |hyper_w1(s)|   (n_agents x 32, hypernetwork 2 layers x 64)
    h  = ELU(Q_agents w1 + hyper_b1(s))
    Q_tot = h |hyper_wf(s)| + V(s)

Double Q targets, Adam lr 5e-4, gradient norm clipped at 10, epsilon-greedy 1.0 -> 0.05 over
50k steps, hard target updates every 200 updates, gamma 0.99. EPyMARL trains on batches of 32
episodes, one update per episode collected, from a buffer of 5000 episodes; with an MLP agent and
one-step targets that is the same as a batch of ``32 x episode length`` transitions every
``episode length`` steps from a buffer of ``5000 x episode length`` transitions, which is how
:class:`QCore` counts (transitions are collected from several worlds of the native batched env
at once).

Generalized for the multi-objective agents (``reward_dim = d``):

- ``q_dim``: each agent network outputs ``q_dim`` values per action: 1 for a scalar Q of
  ``w . r`` (QMIX, IQL), ``d`` for a vector Q, one per objective (MO-MIX);
- ``conditioned``: the preference ``w`` is appended to every agent's input and to the state the
  hypernetworks see;
- ``mixer``: ``"qmix"`` gives ``q_dim`` parallel monotonic mixers (one per output objective);
  ``None`` trains every agent's Q on the team reward independently (IQL).

Agents act greedily on the utility ``w . Q`` (``q_dim = d``) or on ``Q`` (``q_dim = 1``).
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from gauntlet.agents.progress import TrainingProgress
from gauntlet.agents.tensorboard import ScalarLog
from gauntlet.envs.mo_coop.base import MOCoopParallelEnv, build_core
from gauntlet.envs.mo_coop.vector import MOCoopVectorEnv
from gauntlet.envs.validation import check_int

EPYMARL_QMIX = dict(
    lr=5e-4, gamma=0.99, batch_episodes=32, buffer_episodes=5000, epsilon_start=1.0, epsilon_finish=0.05,
    epsilon_anneal_steps=50_000, target_update_interval=200, grad_norm_clip=10.0, hidden_dim=64,
    mixing_embed_dim=32, hypernet_embed=64,
)
"""EPyMARL's QMIX settings (``src/config/algs/qmix.yaml`` and ``default.yaml``)."""


class AgentNetwork(nn.Module):
    """EPyMARL's MLP agent: fc(in, 64) - ReLU - fc(64, 64) - ReLU - fc(64, n_actions x q_dim)."""

    def __init__(self, input_dim: int, n_actions: int, q_dim: int, hidden_dim: int) -> None:
        super().__init__()
        self.n_actions, self.q_dim = n_actions, q_dim
        self.net = nn.Sequential(nn.Linear(input_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, hidden_dim), nn.ReLU(),
                                 nn.Linear(hidden_dim, n_actions * q_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).unflatten(-1, (self.n_actions, self.q_dim))


class QMixer(nn.Module):
    """The monotonic mixer: ``dQ_tot / dQ_i >= 0`` for every agent, by absolute hypernetwork weights."""

    def __init__(self, state_dim: int, n_agents: int, embed_dim: int, hypernet_embed: int) -> None:
        super().__init__()
        self.n_agents, self.embed_dim = n_agents, embed_dim
        self.hyper_w1 = nn.Sequential(nn.Linear(state_dim, hypernet_embed), nn.ReLU(), nn.Linear(hypernet_embed, n_agents * embed_dim))
        self.hyper_wf = nn.Sequential(nn.Linear(state_dim, hypernet_embed), nn.ReLU(), nn.Linear(hypernet_embed, embed_dim))
        self.hyper_b1 = nn.Linear(state_dim, embed_dim)
        self.value = nn.Sequential(nn.Linear(state_dim, embed_dim), nn.ReLU(), nn.Linear(embed_dim, 1))

    def forward(self, agent_qs: torch.Tensor, states: torch.Tensor) -> torch.Tensor:
        """``agent_qs`` (B, n_agents), ``states`` (B, state_dim) -> Q_tot (B,)."""
        w1 = self.hyper_w1(states).abs().view(-1, self.n_agents, self.embed_dim)
        hidden = F.elu(torch.bmm(agent_qs.unsqueeze(1), w1).squeeze(1) + self.hyper_b1(states))
        wf = self.hyper_wf(states).abs()
        return (hidden * wf).sum(-1) + self.value(states).squeeze(-1)


@dataclass
class Batch:
    obs: torch.Tensor        # (B, n, obs_dim)
    actions: torch.Tensor    # (B, n)
    rewards: torch.Tensor    # (B, d)
    next_obs: torch.Tensor   # (B, n, obs_dim)
    states: torch.Tensor     # (B, state_dim)
    next_states: torch.Tensor
    terminated: torch.Tensor  # (B,)
    weights: torch.Tensor    # (B, d)


class ReplayBuffer:
    """A ring buffer of joint transitions with the preference each was collected under."""

    def __init__(self, capacity: int, n_agents: int, obs_dim: int, state_dim: int, reward_dim: int) -> None:
        self.capacity, self.size, self.pos = capacity, 0, 0
        self.obs = np.zeros((capacity, n_agents, obs_dim), dtype=np.float32)
        self.next_obs = np.zeros_like(self.obs)
        self.actions = np.zeros((capacity, n_agents), dtype=np.int64)
        self.rewards = np.zeros((capacity, reward_dim), dtype=np.float32)
        self.states = np.zeros((capacity, state_dim), dtype=np.float32)
        self.next_states = np.zeros_like(self.states)
        self.terminated = np.zeros(capacity, dtype=np.float32)
        self.weights = np.zeros((capacity, reward_dim), dtype=np.float32)

    def add(self, **columns: np.ndarray) -> None:
        k = len(columns["obs"])
        idx = (self.pos + np.arange(k)) % self.capacity
        for name, values in columns.items():
            getattr(self, name)[idx] = values
        self.pos = (self.pos + k) % self.capacity
        self.size = min(self.size + k, self.capacity)

    def sample(self, batch_size: int, rng: np.random.Generator) -> Batch:
        idx = rng.integers(0, self.size, size=batch_size)
        return Batch(*(torch.from_numpy(getattr(self, name)[idx]) for name in
                       ("obs", "actions", "rewards", "next_obs", "states", "next_states", "terminated", "weights")))


class QCore(nn.Module):
    """Agent network (+ mixers) and their targets, acting and one-step double-Q updates (see module docstring)."""

    def __init__(self, n_agents: int, obs_dim: int, state_dim: int, n_actions: int, reward_dim: int, *, q_dim: int,
                 conditioned: bool, mixer: str | None, hp: dict[str, Any]) -> None:
        super().__init__()
        self.n_agents, self.n_actions, self.reward_dim, self.q_dim = n_agents, n_actions, reward_dim, q_dim
        self.conditioned, self.hp = conditioned, dict(hp)
        extra = reward_dim if conditioned else 0
        self.agent = AgentNetwork(obs_dim + n_agents + extra, n_actions, q_dim, hp["hidden_dim"])
        self.mixers = nn.ModuleList(
            [QMixer(state_dim + extra, n_agents, hp["mixing_embed_dim"], hp["hypernet_embed"]) for _ in range(q_dim)]
        ) if mixer == "qmix" else nn.ModuleList()
        self.target = copy.deepcopy(nn.ModuleList([self.agent, self.mixers]))
        self.optimizer = torch.optim.Adam(list(self.agent.parameters()) + list(self.mixers.parameters()), lr=hp["lr"])
        self.register_buffer("agent_ids", torch.eye(n_agents))
        self.updates = 0

    def _inputs(self, obs: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        ids = self.agent_ids.expand(obs.shape[0], -1, -1)
        parts = [obs, ids] + ([weights.unsqueeze(1).expand(-1, self.n_agents, -1)] if self.conditioned else [])
        return torch.cat(parts, dim=-1)

    def q_values(self, obs: torch.Tensor, weights: torch.Tensor, network: nn.Module | None = None) -> torch.Tensor:
        """(B, n, n_actions, q_dim) agent values for observations (B, n, obs_dim) under preferences (B, d)."""
        return (network or self.agent)(self._inputs(obs, weights))

    def utility(self, q: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """(B, n, n_actions): ``w . Q`` for vector values, ``Q`` for scalar ones."""
        return (q * weights[:, None, None, :]).sum(-1) if self.q_dim > 1 else q[..., 0]

    @torch.no_grad()
    def act(self, obs: np.ndarray, weights: np.ndarray, epsilon: float, rng: np.random.Generator) -> np.ndarray:
        """Epsilon-greedy joint actions (B, n) for observations (B, n, obs_dim), preferences (B, d)."""
        w = torch.as_tensor(weights, dtype=torch.float32)
        greedy = self.utility(self.q_values(torch.as_tensor(obs), w), w).argmax(-1).numpy()
        if epsilon <= 0:
            return greedy
        explore = rng.random(greedy.shape) < epsilon
        return np.where(explore, rng.integers(0, self.n_actions, size=greedy.shape), greedy)

    def mix(self, agent_qs: torch.Tensor, states: torch.Tensor, weights: torch.Tensor, mixers: nn.ModuleList) -> torch.Tensor:
        """(B, n, q_dim) chosen agent values -> (B, q_dim) joint values, one mixer per output objective."""
        s = torch.cat([states, weights], -1) if self.conditioned else states
        return torch.stack([mixer(agent_qs[..., k], s) for k, mixer in enumerate(mixers)], dim=-1)

    def update(self, batch: Batch) -> float:
        """One double-Q TD step; returns the loss."""
        w, gamma = batch.weights, self.hp["gamma"]
        rewards = batch.rewards if self.q_dim > 1 else (batch.rewards * w).sum(-1, keepdim=True)
        q = self.q_values(batch.obs, w)
        chosen = q.gather(2, batch.actions[:, :, None, None].expand(-1, -1, 1, self.q_dim)).squeeze(2)
        with torch.no_grad():
            best = self.utility(self.q_values(batch.next_obs, w), w).argmax(-1)
            target_agent, target_mixers = self.target
            next_q = self.q_values(batch.next_obs, w, target_agent)
            next_chosen = next_q.gather(2, best[:, :, None, None].expand(-1, -1, 1, self.q_dim)).squeeze(2)
            alive = (1.0 - batch.terminated)[:, None]
            if len(self.mixers):
                y = rewards + gamma * alive * self.mix(next_chosen, batch.next_states, w, target_mixers)
            else:
                y = rewards[:, None, :] + gamma * alive[:, :, None] * next_chosen
        prediction = self.mix(chosen, batch.states, w, self.mixers) if len(self.mixers) else chosen
        loss = F.mse_loss(prediction, y)
        self.optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(self.optimizer.param_groups[0]["params"], self.hp["grad_norm_clip"])
        self.optimizer.step()
        self.updates += 1
        if self.updates % self.hp["target_update_interval"] == 0:
            self.target.load_state_dict(nn.ModuleList([self.agent, self.mixers]).state_dict())
        return loss.item()


def training_worlds(env: MOCoopParallelEnv, num_worlds: int) -> MOCoopVectorEnv:
    """The native batched version of ``env``'s task with ``env``'s arguments, for collecting experience."""
    core = env.core
    return MOCoopVectorEnv(build_core(type(core), num_worlds, core.n_agents, core.half_size, core.objectives, env.max_cycles))


def check_parallel_env(env: Any, agent: str) -> MOCoopParallelEnv:
    if not isinstance(getattr(env, "unwrapped", env), MOCoopParallelEnv):
        raise ValueError(f"{agent} needs a MOCoop env (gauntlet.make_parallel('gauntlet/MOCoopNavigation-v0'), ...), "
                         f"got {type(env).__name__}")
    return env.unwrapped


def epsilon_at(step: int, hp: dict[str, Any]) -> float:
    frac = min(step / hp["epsilon_anneal_steps"], 1.0)
    return hp["epsilon_start"] + frac * (hp["epsilon_finish"] - hp["epsilon_start"])


def train_on_worlds(core: QCore, venv: MOCoopVectorEnv, total_timesteps: int, rng: np.random.Generator,
                    sample_weights: Callable[[int], np.ndarray], *, seed: int, step_offset: int = 0,
                    progress: TrainingProgress | None = None, log: ScalarLog | None = None,
                    on_episodes: Callable[[np.ndarray, np.ndarray], None] | None = None) -> int:
    """Collect ``total_timesteps`` joint steps from ``venv``'s worlds with epsilon-greedy actions,
    each world under its own preference (``sample_weights(k)`` gives ``k`` new ones at every
    episode start), and train ``core`` as EPyMARL does (module docstring). ``on_episodes(w, returns)``
    sees the (undiscounted) team return vectors of the episodes that ended. Returns the steps taken."""
    hp, horizon = core.hp, venv.max_cycles
    buffer = ReplayBuffer(hp["buffer_episodes"] * horizon, venv.n_agents, venv.single_observation_space.shape[0],
                          venv.single_state_space.shape[0], venv.reward_dim)
    batch_size = hp["batch_episodes"] * horizon
    obs, _ = venv.reset(seed=seed)
    states = venv.state()
    weights = sample_weights(venv.num_worlds)
    returns = np.zeros((venv.num_worlds, venv.reward_dim))
    steps, since_update, losses = 0, 0, []
    while steps < total_timesteps:
        epsilon = epsilon_at(step_offset + steps, hp)
        actions = core.act(obs, weights, epsilon, rng)
        next_obs, rewards, terminated, truncated, infos = venv.step(actions)
        done = terminated | truncated
        final_obs, final_states = (infos["final_obs"], infos["final_state"]) if done.any() else (next_obs, venv.state())
        buffer.add(obs=obs, actions=actions, rewards=rewards, next_obs=final_obs, states=states, next_states=final_states,
                   terminated=terminated.astype(np.float32), weights=weights.astype(np.float32))
        returns += rewards
        if done.any():
            if on_episodes is not None:
                on_episodes(weights[done].copy(), returns[done].copy())
            if log is not None and log.enabled:
                log.write({"rollout/epsilon": epsilon, **{f"rollout/return_{o}": float(v) for o, v in
                                                          zip(venv.objectives, returns[done].mean(0))}}, step_offset + steps)
            returns[done] = 0.0
            weights[done] = sample_weights(int(done.sum()))
        obs, states = next_obs, venv.state()
        steps += venv.num_worlds
        since_update += venv.num_worlds
        if progress is not None:
            progress.advance(venv.num_worlds)
        while since_update >= horizon and buffer.size >= batch_size:
            since_update -= horizon
            losses.append(core.update(buffer.sample(batch_size, rng)))
            if log is not None and log.enabled and core.updates % 50 == 0:
                log.write({"train/loss": float(np.mean(losses[-50:]))}, step_offset + steps)
    return steps


def uniform_simplex(rng: np.random.Generator, d: int) -> Callable[[int], np.ndarray]:
    """Preferences drawn uniformly from the simplex (Dirichlet(1, ..., 1))."""
    return lambda k: rng.dirichlet(np.ones(d), size=k)


class MOCoopQAgent:
    """What the three learners share: SB3's ``predict`` over dict observations, the preference
    from the runner's reset info (``on_reset``, or ``set_weights``), ``save``/``load``.
    Subclasses hold ``self.cores`` and pick one (and the preference it is given) in ``_core_for``."""

    name = "MOCoopQAgent"

    def __init__(self, env: Any, seed: int, hp: dict[str, Any], n_worlds: int, tensorboard_log: str | None) -> None:
        self.env = check_parallel_env(env, type(self).__name__)
        core = self.env.core
        self.n_agents, self.reward_dim = core.n_agents, self.env.reward_dim
        self.obs_dim, self.state_dim = self.env.observation_space(self.env.possible_agents[0]).shape[0], self.env.state_space.shape[0]
        self.seed, self.hp, self.n_worlds = seed, dict(hp), check_int("n_worlds", n_worlds, 1)
        self.tensorboard_log = tensorboard_log
        self._tensorboard = ScalarLog(tensorboard_log, self.name)
        self.rng = np.random.default_rng(seed)
        torch.manual_seed(seed)
        self.num_timesteps = 0
        self.weights = np.full(self.reward_dim, 1.0 / self.reward_dim)
        self.cores: list[QCore] = []

    def new_core(self, q_dim: int, conditioned: bool, mixer: str | None) -> QCore:
        return QCore(self.n_agents, self.obs_dim, self.state_dim, 5, self.reward_dim, q_dim=q_dim, conditioned=conditioned,
                     mixer=mixer, hp=self.hp)

    def set_weights(self, weights: Any) -> None:
        """The preference ``predict`` acts for until the next reset."""
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != (self.reward_dim,):
            raise ValueError(f"weights={weights!r} must hold {self.reward_dim} numbers, one per objective")
        self.weights = w

    def on_reset(self, env: Any, observation: Any, info: dict) -> None:
        first = next(iter(info.values()), {}) if info else {}
        if "weights" in first:
            self.set_weights(first["weights"])

    def _core_for(self, weights: np.ndarray) -> QCore:
        raise NotImplementedError

    def predict(self, observation: dict[str, np.ndarray], state: Any = None, episode_start: Any = None,
                deterministic: bool = True) -> tuple[dict[str, int], Any]:
        """Joint action (a dict) of the agents in ``observation`` for the current preference."""
        agents = list(observation)
        index = [self.env.possible_agents.index(a) for a in agents]
        obs = np.zeros((1, self.n_agents, self.obs_dim), dtype=np.float32)
        obs[0, index] = np.stack([observation[a] for a in agents])
        core = self._core_for(self.weights)
        epsilon = 0.0 if deterministic else self.hp["epsilon_finish"]
        actions = core.act(obs, self.weights[None].astype(np.float32), epsilon, self.rng)[0]
        return {a: int(actions[i]) for a, i in zip(agents, index)}, state

    def save(self, path: str | os.PathLike) -> None:
        torch.save({"format": self.name, "hp": self.hp, "n_worlds": self.n_worlds, "seed": self.seed,
                    "num_timesteps": self.num_timesteps, "extra": self._extra_state(),
                    "cores": [c.state_dict() for c in self.cores]}, path)

    def _extra_state(self) -> dict[str, Any]:
        return {}

    @classmethod
    def load(cls, path: str | os.PathLike, env: Any = None) -> "MOCoopQAgent":
        """Weights saved by :meth:`save`; ``env`` is the task's env (its spaces size the networks)."""
        if env is None:
            raise ValueError(f"{cls.__name__}.load needs env=, the MOCoop env the agent was trained on")
        data = torch.load(path, weights_only=False)
        if data.get("format") != cls.name:
            raise ValueError(f"{path} holds {data.get('format')!r} weights, not {cls.name!r}")
        agent = cls._from_saved(env, data)
        for core, state in zip(agent.cores, data["cores"], strict=True):
            core.load_state_dict(state)
        agent.num_timesteps = data["num_timesteps"]
        return agent

    @classmethod
    def _from_saved(cls, env: Any, data: dict[str, Any]) -> "MOCoopQAgent":
        raise NotImplementedError
