"""ReviBranch-style deep Q-learning for variable selection on ``gauntlet/MILPBranching-*``.

Paper: "ReviBranch: Deep Reinforcement Learning for Branch-and-Bound with Revived
Trajectories" (arXiv 2508.17452). Reproduced from its description:

- Q-network over bipartite-graph (GCNN) embeddings: ``Q(s, a) = MLP([h_a, PE(depth)])`` with
  ``h_a`` the candidate column's embedding after Gasse et al.'s two half-convolutions
  (:class:`gauntlet.agents.gcnn.BipartiteGCN`; the "action embedding") and ``PE`` a
  sinusoidal positional encoding of the node depth along the search-tree path.
- Revived trajectories: the env visits nodes in SCIP's node-selection order, which
  interleaves unrelated subtrees. At the end of an episode the decisions are re-linked by
  ``info["node_id"]``/``info["parent_id"]`` into the search tree, and every decision ``i``
  becomes ONE transition ``(s_i, a_i, r_i, {s_j : j in C(i)})`` with ``C(i)`` its decided
  children (the children SCIP branched on again, whose states are those at their own
  decisions). Children that were pruned, infeasible, integral or still open when the solve
  ended are leaves of the tree.
- Tree-MDP target (Scavuzzo et al. 2022): a decision's return is its own reward plus the
  returns of ALL its children's subtrees, not of one of them, so

      y_i = r_i + gamma * sum_{j in C(i)} Q_target(s_j, argmax_a Q(s_j, a))    (Double DQN)

  and ``y_i = r_i`` for a decision without decided children.
- Importance-weighted reward redistribution, per decision: the sparse terminal reward
  ``R = -N`` (B&B nodes of the solve) is split as ``r_i = reward_scale * R * l_i / sum_k l_k``
  with ``l_i = 1 + |leaf children of i|`` (SCIP's variable branching makes two children, so
  ``2 - |C(i)|`` leaves): the node itself and the terminal reward of each of its leaf
  children, which no later decision accounts for. ``sum_i r_i = reward_scale * R``, and
  ``sum_k l_k`` counts the nodes of the recorded tree (``N`` when it is SCIP's whole tree), so
  with ``gamma = 1`` the target's fixed point is ``Q(s_i, a_i) = reward_scale * R *
  |subtree(i)| / sum_k l_k``: minus ``reward_scale`` times the number of nodes in the subtree
  of decision ``i`` (itself included), the quantity a branching decision controls, and the
  whole tree's ``reward_scale * R`` at the root. ``revive`` therefore refuses a tree with a
  child that was never visited (a decision whose parent never asked for one): that child's
  subtree would silently count as a leaf.
- Double DQN with a target network, Huber loss, Adam, epsilon-greedy exploration over the
  candidates, uniform replay of revived transitions. The target network runs in eval mode
  (its input BatchNorms use their running statistics); a warm-started encoder keeps its
  input normalization frozen, as Gasse et al.'s prenorm layers are fitted once and then fixed,
  so acting, learning and the targets all see the same standardized features.
- Warm start from imitation (``pretrained_gcnn=path``): the encoder is the GCNN's, and the Q
  head outputs ``warm_start_q_scale`` times its logits, so the first greedy policy is the
  imitation policy with Q-values on the scale of the returns (the logits themselves range
  over tens of units where a return is ``reward_scale`` times a subtree size). The frozen
  imitation policy then acts as the demonstrator of DQfD (Hester et al. 2018): its choice
  ``a_E`` at every stored state adds the large-margin loss
  ``imitation_coef * (max_a [Q(s, a) + imitation_margin * (a != a_E)] - Q(s, a_E))``, which
  keeps the candidates Q-learning has not tried (their values are never corrected by a TD
  target) from overtaking the imitation choice unless the returns of tried ones justify it.

What differs / is simplified: the paper's exact network sizes, its positional encoding of
the whole path (we encode the depth only), its prioritisation and its schedule are not
public in enough detail; the imitation warm start and the margin loss above are ours, not
in the paper's description; the training budgets here are CPU minutes.
``learn(total_timesteps)``: timesteps = branching decisions.
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from typing import Any, Callable, NamedTuple

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from gauntlet.agents.gcnn import EMB, BipartiteGCN, GCNNImitation, Sample, collate, first_candidates, sample_from_obs
from gauntlet.agents.progress import TrainingProgress
from gauntlet.agents.tensorboard import ScalarLog

PE_DIM = 16


class Transition(NamedTuple):
    """A revived transition: decision ``i``'s state, action and redistributed reward, and the
    states (with their depths) of its decided children, empty when it has none; ``expert`` is
    the imitation policy's choice at ``state`` (a position in its candidates, -1 without a warm
    start)."""

    state: Sample
    action: int
    reward: float
    depth: float
    next_states: tuple[Sample, ...] = ()
    next_depths: tuple[float, ...] = ()
    expert: int = -1


def depth_encoding(depth: torch.Tensor, dim: int = PE_DIM) -> torch.Tensor:
    """Sinusoidal encoding ``[sin(d / 10000^(2k/dim)), cos(...)]`` of node depths (n,) -> (n, dim)."""
    k = torch.arange(dim // 2, dtype=torch.float32, device=depth.device)
    angles = depth.float()[:, None] / torch.pow(10000.0, 2 * k / dim)
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)


class QNetwork(nn.Module):
    """``Q(s, a)`` for every candidate ``a`` of every graph in a batch."""

    def __init__(self, emb: int = EMB) -> None:
        super().__init__()
        self.encoder = BipartiteGCN(emb)
        self.q_head = nn.Sequential(nn.Linear(emb + PE_DIM, emb), nn.ReLU(), nn.Linear(emb, 1))

    def init_from_imitation(self, policy: BipartiteGCN, scale: float = 1.0) -> None:
        """Start from a trained imitation policy: its encoder, and a Q head that outputs ``scale``
        times its logits (the depth inputs start with zero weight), so the first greedy policy is
        the imitation policy."""
        self.encoder.load_state_dict(policy.state_dict())
        first, last = self.q_head[0], self.q_head[2]
        emb = policy.head[0].in_features
        with torch.no_grad():
            first.weight.zero_()
            first.weight[:, :emb] = policy.head[0].weight
            first.bias.copy_(policy.head[0].bias)
            last.weight.copy_(scale * policy.head[2].weight)
            last.bias.zero_()

    def forward(self, g: Any, depths: torch.Tensor) -> torch.Tensor:
        h = self.encoder.embed(g)[g.cand]
        return self.q_head(torch.cat([h, depth_encoding(depths[g.cand_graph])], dim=1)).squeeze(-1)


def _per_graph_max(values: torch.Tensor, graph: torch.Tensor, n: int) -> torch.Tensor:
    out = torch.full((n,), -torch.inf, device=values.device)
    return out.scatter_reduce(0, graph, values, reduce="amax")


def _per_graph_argmax(values: torch.Tensor, graph: torch.Tensor, n: int) -> torch.Tensor:
    """Index into ``values`` of each graph's maximum."""
    best = _per_graph_max(values, graph, n)
    is_best = values == best[graph]
    idx = torch.arange(len(values), device=values.device)
    return torch.full((n,), len(values), device=values.device).scatter_reduce(
        0, graph[is_best], idx[is_best], reduce="amin")


def large_margin_loss(q: torch.Tensor, graph: torch.Tensor, expert: torch.Tensor, margin: float) -> torch.Tensor:
    """DQfD's supervised loss ``max_a [Q(s, a) + margin * (a != a_E)] - Q(s, a_E)``, averaged over
    the graphs with an expert choice (``expert`` >= 0, a position among the graph's candidates);
    ``q`` holds every candidate's value, ``graph`` its graph index (sorted)."""
    n = len(expert)
    demonstrated = expert >= 0
    at_expert = (first_candidates(graph, n)[0] + expert)[demonstrated]
    bonus = torch.full_like(q, margin)
    bonus[at_expert] = 0.0
    return (_per_graph_max(q + bonus, graph, n)[demonstrated] - q[at_expert]).mean()


def revive(decisions: list[dict], total_nodes: float, reward_scale: float) -> list[tuple[int, float, tuple[int, ...]]]:
    """One revived transition ``(i, r_i, decided children of i)`` per decision of an episode (see
    the module docstring). ``decisions[i]`` holds ``node_id`` and ``parent_id`` (0 at the root).

    Raises ``ValueError`` when a node id repeats or a decision's parent never asked for a
    decision: that parent was branched outside the recorded tree, so the subtree it heads could
    not enter any target."""
    index: dict[int, int] = {}
    for i, d in enumerate(decisions):
        if d["node_id"] in index:
            raise ValueError(f"decisions[{i}] has node_id={d['node_id']!r}, already the node of decisions"
                             f"[{index[d['node_id']]}]: every decision must be at its own node")
        index[d["node_id"]] = i
    children: dict[int, list[int]] = defaultdict(list)
    for i, d in enumerate(decisions):
        if d["parent_id"] in index:
            children[index[d["parent_id"]]].append(i)
        elif d["parent_id"] != 0:
            raise ValueError(f"decisions[{i}] (node {d['node_id']}) has parent_id={d['parent_id']!r}, a node that "
                             f"never asked for a decision: the tree has a child that was never visited, so its "
                             f"subtree's value is unknown; pass every branched node (parent_id=0 marks the root)")
    local = np.array([1.0 + max(0, 2 - len(children[i])) for i in range(len(decisions))])
    rewards = reward_scale * (-total_nodes) * local / local.sum()
    return [(i, float(rewards[i]), tuple(children[i])) for i in range(len(decisions))]


def tree_targets(rewards: torch.Tensor, child_values: torch.Tensor, parent: torch.Tensor, gamma: float) -> torch.Tensor:
    """``y_i = r_i + gamma * sum_{j: parent[j] = i} V_j``: each transition's reward plus the values of
    ALL its children (``parent[j]`` is the transition that child ``j`` belongs to)."""
    return rewards + gamma * torch.zeros_like(rewards).index_add_(0, parent, child_values)


class ReviBranch:
    """DQN on revived search-tree trajectories with importance-weighted rewards (SB3-shaped API)."""

    def __init__(
        self,
        env: gym.Env | None = None,
        seed: int = 0,
        learning_rate: float = 1e-4,
        buffer_size: int = 5000,
        batch_size: int = 16,
        gamma: float = 0.99,
        reward_scale: float = 0.01,
        target_update_interval: int = 200,
        gradient_steps_per_decision: float = 0.5,
        learning_starts: int = 64,
        exploration_initial_eps: float = 0.5,
        exploration_final_eps: float = 0.05,
        exploration_fraction: float = 0.5,
        max_grad_norm: float = 10.0,
        pretrained_gcnn: str | None = None,
        warm_start_q_scale: float = 0.01,
        imitation_margin: float = 0.1,
        imitation_coef: float = 1.0,
        emb_size: int = EMB,
        compile_messages: bool = False,
        device: str = "cpu",
        tensorboard_log: str | None = None,
        verbose: int = 0,
    ) -> None:
        for name, value, ok, allowed in (
                ("gamma", gamma, 0 <= gamma <= 1, "in [0, 1]"),
                ("batch_size", batch_size, batch_size >= 1, ">= 1"),
                ("buffer_size", buffer_size, buffer_size >= batch_size, f">= batch_size ({batch_size})"),
                ("exploration_initial_eps", exploration_initial_eps, 0 <= exploration_initial_eps <= 1, "in [0, 1]"),
                ("exploration_final_eps", exploration_final_eps, 0 <= exploration_final_eps <= 1, "in [0, 1]"),
                ("warm_start_q_scale", warm_start_q_scale, warm_start_q_scale > 0, "> 0"),
                ("imitation_margin", imitation_margin, imitation_margin >= 0, ">= 0"),
                ("imitation_coef", imitation_coef, imitation_coef >= 0, ">= 0 (0 turns the margin loss off)")):
            if not ok:
                raise ValueError(f"{name}={value!r} is invalid: it must be {allowed}")
        self.env = env
        self.seed = int(seed)
        self.hp = dict(learning_rate=learning_rate, buffer_size=buffer_size, batch_size=batch_size, gamma=gamma,
                       reward_scale=reward_scale, target_update_interval=target_update_interval,
                       gradient_steps_per_decision=gradient_steps_per_decision, learning_starts=learning_starts,
                       exploration_initial_eps=exploration_initial_eps, exploration_final_eps=exploration_final_eps,
                       exploration_fraction=exploration_fraction, max_grad_norm=max_grad_norm, emb_size=emb_size,
                       warm_start_q_scale=warm_start_q_scale, imitation_margin=imitation_margin,
                       imitation_coef=imitation_coef)
        self.device, self.verbose, self.tensorboard_log = device, verbose, tensorboard_log
        torch.manual_seed(self.seed)
        self.rng = np.random.default_rng(self.seed)
        self.q = QNetwork(emb_size).to(device)
        # the frozen imitation policy: the demonstrator of the margin loss
        self.expert: BipartiteGCN | None = None
        if pretrained_gcnn is not None:
            self.expert = GCNNImitation.load(pretrained_gcnn, device=device).policy.eval().requires_grad_(False)
            self.q.init_from_imitation(self.expert, scale=warm_start_q_scale)
        self.freeze_input_norm = pretrained_gcnn is not None
        self.q_target = QNetwork(emb_size).to(device)
        self.q_target.load_state_dict(self.q.state_dict())
        self.q_target.eval()
        if compile_messages:  # see BipartiteGCN.compile_messages; a runtime choice, not saved
            for net in (self.q.encoder, self.q_target.encoder, self.expert):
                if net is not None:
                    net.compile_messages()
        self.optimizer = torch.optim.Adam(self.q.parameters(), lr=learning_rate)
        self.buffer: list[Transition] = []
        self._buffer_pos = 0
        self.num_timesteps = 0
        self.n_updates = 0
        self._log = ScalarLog(tensorboard_log, "ReviBranch")
        self._depth = 0.0

    # --------------------------------------------------------------- the update
    def _q_values(self, net: QNetwork, samples: list[Sample], depths: list[float]) -> tuple[torch.Tensor, Any]:
        g = collate(samples, self.device)
        return net(g, torch.as_tensor(depths, dtype=torch.float32, device=self.device)), g

    def _online_train_mode(self) -> None:
        self.q.train()
        if self.freeze_input_norm:
            for module in self.q.modules():
                if isinstance(module, nn.BatchNorm1d):
                    module.eval()

    def targets(self, rewards: tuple[float, ...], next_states: tuple[tuple[Sample, ...], ...],
                next_depths: tuple[tuple[float, ...], ...]) -> torch.Tensor:
        """The tree-MDP Double-DQN targets ``y_i = r_i + gamma * sum_j Q_target(s_j, argmax_a Q(s_j, a))``
        over the children ``j`` of each transition ``i``, evaluated in one batch (the online network in
        the mode the caller set)."""
        target = torch.as_tensor(rewards, dtype=torch.float32, device=self.device)
        children = [s for ns in next_states for s in ns]
        if not children:
            return target
        parent = torch.as_tensor([k for k, ns in enumerate(next_states) for _ in ns], device=self.device)
        child_depths = [d for nd in next_depths for d in nd]
        with torch.no_grad():
            q_online, g = self._q_values(self.q, children, child_depths)
            best = _per_graph_argmax(q_online, g.cand_graph, g.n_graphs)
            q_next, _ = self._q_values(self.q_target, children, child_depths)
        return tree_targets(target, q_next[best], parent, self.hp["gamma"])

    def train_step(self) -> float:
        """One double-DQN update (plus the margin loss when warm-started) on a uniform minibatch
        of revived transitions; returns the total loss."""
        hp = self.hp
        self._online_train_mode()
        batch = [self.buffer[i] for i in self.rng.integers(len(self.buffer), size=hp["batch_size"])]
        states, actions, rewards, depths, nexts, next_depths, experts = zip(*batch)
        q_all, g = self._q_values(self.q, list(states), list(depths))
        starts, _ = first_candidates(g.cand_graph, g.n_graphs)
        q_taken = q_all[starts + torch.as_tensor(actions, device=self.device)]
        target = self.targets(rewards, nexts, next_depths)
        loss = nn.functional.smooth_l1_loss(q_taken, target)
        expert = torch.as_tensor(experts, device=self.device)
        if hp["imitation_coef"] > 0 and bool((expert >= 0).any()):
            loss = loss + hp["imitation_coef"] * large_margin_loss(q_all, g.cand_graph, expert, hp["imitation_margin"])
        self.optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(self.q.parameters(), hp["max_grad_norm"])
        self.optimizer.step()
        self.n_updates += 1
        if self.n_updates % hp["target_update_interval"] == 0:
            self.q_target.load_state_dict(self.q.state_dict())
        return float(loss.detach())

    # ----------------------------------------------------------------- learning
    def _epsilon(self, total: int) -> float:
        hp = self.hp
        frac = min(1.0, self.num_timesteps / max(1.0, hp["exploration_fraction"] * total))
        return hp["exploration_initial_eps"] + frac * (hp["exploration_final_eps"] - hp["exploration_initial_eps"])

    def _store(self, item: Transition) -> None:
        if len(self.buffer) < self.hp["buffer_size"]:
            self.buffer.append(item)
        else:
            self.buffer[self._buffer_pos] = item
            self._buffer_pos = (self._buffer_pos + 1) % self.hp["buffer_size"]

    def learn(self, total_timesteps: int, callback: Callable[[dict], bool | None] | None = None,
              progress_bar: bool = False) -> "ReviBranch":
        """Run epsilon-greedy episodes; after each, revive its trajectories into the buffer and train."""
        if self.env is None:
            raise ValueError("learn() needs the env: pass env= to the constructor")
        env, hp = self.env, self.hp
        total = int(total_timesteps)
        episode = 0
        with TrainingProgress(progress_bar, total, "ReviBranch") as bar:
            while self.num_timesteps < total:
                obs, info = env.reset(seed=self.seed * 1_000_003 + episode)
                decisions: list[dict] = []
                while True:
                    sample = sample_from_obs(obs)
                    if self.rng.random() < self._epsilon(total):
                        k = int(self.rng.integers(len(sample.candidates)))
                    else:
                        k = self._greedy_position(sample, info["depth"])
                    decisions.append(dict(sample=sample, k=k, depth=info["depth"], node_id=info["node_id"],
                                          parent_id=info["parent_id"]))
                    obs, _, terminated, truncated, info = env.step(int(sample.candidates[k]))
                    self.num_timesteps += 1
                    bar.advance()
                    if terminated or truncated:
                        break
                experts = self._expert_positions([d["sample"] for d in decisions])
                for i, r, kids in revive(decisions, info["nodes"], hp["reward_scale"]):
                    d = decisions[i]
                    self._store(Transition(d["sample"], d["k"], r, d["depth"],
                                           tuple(decisions[j]["sample"] for j in kids),
                                           tuple(decisions[j]["depth"] for j in kids), experts[i]))
                losses = []
                if len(self.buffer) >= hp["learning_starts"]:
                    for _ in range(max(1, int(round(hp["gradient_steps_per_decision"] * len(decisions))))):
                        losses.append(self.train_step())
                # how far the behaviour has moved from the imitation policy it started as
                agreement = np.mean([d["k"] == e for d, e in zip(decisions, experts)]) if self.expert is not None else math.nan
                stats = {"rollout/ep_nodes": float(info["nodes"]), "rollout/ep_decisions": float(len(decisions)),
                         "rollout/imitation_agreement": float(agreement), "rollout/epsilon": self._epsilon(total),
                         "train/loss": float(np.mean(losses)) if losses else math.nan}
                self._log.write(stats, self.num_timesteps)
                if self.verbose:
                    print(f"episode {episode}: " + " ".join(f"{k}={v:.4g}" for k, v in stats.items()))
                episode += 1
                if callback is not None and callback(stats) is False:
                    break
        return self

    def _expert_positions(self, samples: list[Sample], batch_size: int = 64) -> list[int]:
        """The imitation policy's choice (position in the candidates) at each state; -1 without one."""
        if self.expert is None:
            return [-1] * len(samples)
        out: list[int] = []
        with torch.no_grad():
            for i in range(0, len(samples), batch_size):
                g = collate(samples[i : i + batch_size], self.device)
                best = _per_graph_argmax(self.expert(g), g.cand_graph, g.n_graphs)
                out.extend((best - first_candidates(g.cand_graph, g.n_graphs)[0]).tolist())
        return out

    # ------------------------------------------------------------------- acting
    def _greedy_position(self, sample: Sample, depth: float) -> int:
        self.q.eval()
        with torch.no_grad():
            q, _ = self._q_values(self.q, [sample], [depth])
        return int(torch.argmax(q))

    def predict(self, observation: dict[str, np.ndarray], state: Any = None, episode_start: Any = None,
                deterministic: bool = True, action_masks: np.ndarray | None = None) -> tuple[int, Any]:
        """The candidate with the largest Q-value; the node depth comes from the ``on_step`` /
        ``on_reset`` hooks (0 when they are not called)."""
        sample = sample_from_obs(observation)
        if not deterministic and self.rng.random() < self.hp["exploration_final_eps"]:
            return int(sample.candidates[self.rng.integers(len(sample.candidates))]), state
        return int(sample.candidates[self._greedy_position(sample, self._depth)]), state

    def on_reset(self, env: gym.Env, observation: Any, info: dict) -> None:
        self._depth = float(info.get("depth", 0))

    def on_step(self, observation: Any, reward: Any, terminated: bool, truncated: bool, info: dict) -> None:
        self._depth = float(info.get("depth", 0))

    # ---------------------------------------------------------------- utilities
    def save(self, path: str | os.PathLike) -> None:
        """Tensors and plain Python data only, so that ``torch.load(weights_only=True)`` reads it."""
        torch.save({"hp": self.hp, "seed": self.seed, "q": self.q.state_dict(),
                    "expert": self.expert.state_dict() if self.expert is not None else None,
                    "num_timesteps": self.num_timesteps, "freeze_input_norm": self.freeze_input_norm}, path)

    @classmethod
    def load(cls, path: str | os.PathLike, env: gym.Env | None = None, device: str = "cpu") -> "ReviBranch":
        data = torch.load(path, map_location=device, weights_only=True)
        agent = cls(env, seed=data["seed"], device=device, **data["hp"])
        agent.q.load_state_dict(data["q"])
        agent.q_target.load_state_dict(data["q"])
        agent.num_timesteps = data["num_timesteps"]
        agent.freeze_input_norm = data.get("freeze_input_norm", False)
        if data.get("expert") is not None:
            agent.expert = BipartiteGCN(agent.hp["emb_size"]).to(device)
            agent.expert.load_state_dict(data["expert"])
            agent.expert.eval().requires_grad_(False)
        return agent
