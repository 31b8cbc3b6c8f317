"""GCNN imitation of full strong branching (Gasse et al., NeurIPS 2019) for ``gauntlet/MILPBranching-*``.

Paper: M. Gasse, D. Chetelat, N. Ferroni, L. Charlin, A. Lodi, "Exact Combinatorial
Optimization with Graph Convolutional Neural Networks", NeurIPS 2019.

Model (as in the paper): the node state is the variable-constraint bipartite graph; row,
edge and column features are standardized per feature (BatchNorm, standing in for the paper's
pre-trained "prenorm" layers) and embedded to 64 dimensions (two
ReLU layers); one half-convolution columns -> rows, then one rows -> columns, each

    h_i' = g([ LN( sum_{j in N(i)} f(W_l h_i + W_e e_ij + W_r h_j) ), h_i ]),

``f`` = LayerNorm -> ReLU -> Linear and ``g`` a two-layer ReLU MLP; a two-layer head gives
one logit per column; the policy is the softmax over the branching candidates. Trained by
cross-entropy against the expert's choice (Adam, lr 1e-3). Evaluation, as in Gasse et al.'s
code: top-1 / top-5 agreement with strong branching on held-out states, where a prediction
agrees when its expert score equals the best one (ties count). Two held-out splits of whole
instances: the validation split picks the epoch that is kept, the test split (never seen
during training or selection) gives the reported agreement (:meth:`GCNNImitation.split`).

What differs: the expert (Gasse et al.'s vanilla full strong branching, see
:func:`gauntlet.envs.milp_branching.env.strong_branching_scores`) is queried at every node, and the
behaviour policy during collection is the expert itself with probability
``expert_probability`` and SCIP's pseudocost rule otherwise (Gasse et al. run SCIP's
relpscost and query the expert at random nodes); the features are
:mod:`gauntlet.envs.milp_branching.observation`'s (Ecole-style); no prenorm pre-training;
early stopping on the validation loss is replaced by keeping the best validation-accuracy epoch;
the loss credits every tied best candidate (``-log`` of their total probability, not of the
first one's) and states where all candidates tie are skipped in training (they carry no
gradient);
the last linear layer of each message function is applied after the sum over neighbours
(mathematically identical, much cheaper on CPU).

``compile_messages=True`` fuses the per-edge work with ``torch.compile`` (about 2.5x faster
training on set-cover graphs on one CPU core; needs a C++ compiler).

``learn(total_timesteps)`` collects ``total_timesteps`` expert decisions on the env
(``timesteps`` = labelled nodes), holds out ``valid_fraction`` of the instances for validation
and ``test_fraction`` for the test, trains for ``n_epochs`` and stores both splits' agreement
in ``held_out`` (saved with the model). ``fit(train, valid)`` trains on pre-collected samples
(see ``scripts/collect_strong_branching.py``); :meth:`GCNNImitation.evaluate` measures any set.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from gauntlet.agents.progress import TrainingProgress
from gauntlet.agents.tensorboard import ScalarLog
from gauntlet.envs.validation import check, check_range

N_VAR, N_ROW, EMB = 19, 5, 64


# ------------------------------------------------------------------------------- data
@dataclass
class Sample:
    """One unpadded node state; ``candidates`` are column indices, ``target`` the expert's
    position in ``candidates`` (-1 when unlabelled) and ``scores`` the expert's scores."""

    variable_features: np.ndarray
    row_features: np.ndarray
    edge_index: np.ndarray
    edge_features: np.ndarray
    candidates: np.ndarray
    target: int = -1
    scores: np.ndarray | None = None
    group: int = 0  # instance id, for splits by instance


def sample_from_obs(obs: dict[str, np.ndarray], target: int = -1, scores: np.ndarray | None = None, group: int = 0) -> Sample:
    """Cut the env's padding off an observation."""
    n_vars, n_rows, n_edges, n_cands = (int(x) for x in obs["sizes"])
    return Sample(
        obs["variable_features"][:n_vars].copy(), obs["row_features"][:n_rows].copy(),
        obs["edge_index"][:, :n_edges].copy(), obs["edge_features"][:n_edges].copy(),
        obs["candidates"][:n_cands].copy(), target, scores, group,
    )


def save_samples(path: str | os.PathLike, samples: Sequence[Sample]) -> None:
    """All samples in one compressed ``.npz`` (concatenated arrays plus offsets)."""
    def cat(name: str, axis: int = 0) -> np.ndarray:
        return np.concatenate([getattr(s, name) for s in samples], axis=axis)

    sizes = np.array([[s.variable_features.shape[0], s.row_features.shape[0], s.edge_index.shape[1],
                       len(s.candidates)] for s in samples], dtype=np.int64)
    np.savez_compressed(
        path, sizes=sizes, variable_features=cat("variable_features"), row_features=cat("row_features"),
        edge_index=cat("edge_index", 1), edge_features=cat("edge_features"), candidates=cat("candidates"),
        targets=np.array([s.target for s in samples], dtype=np.int64),
        groups=np.array([s.group for s in samples], dtype=np.int64),
        scores=np.concatenate([s.scores if s.scores is not None else np.full(len(s.candidates), np.nan) for s in samples]),
    )


def load_samples(path: str | os.PathLike) -> list[Sample]:
    with np.load(path) as npz:
        data = {k: npz[k] for k in npz.files}  # NpzFile decompresses on every item access
    sizes = data["sizes"]
    offsets = np.vstack([np.zeros(4, np.int64), np.cumsum(sizes, axis=0)])
    out = []
    for i in range(len(sizes)):
        (v0, r0, e0, c0), (v1, r1, e1, c1) = offsets[i], offsets[i + 1]
        out.append(Sample(
            data["variable_features"][v0:v1], data["row_features"][r0:r1], data["edge_index"][:, e0:e1],
            data["edge_features"][e0:e1], data["candidates"][c0:c1], int(data["targets"][i]),
            data["scores"][c0:c1], int(data["groups"][i]),
        ))
    return out


def best_candidates(sample: Sample) -> np.ndarray:
    """Mask of the candidates with the expert's best score (the labelled choice alone when the
    scores are unknown). Ties are common: e.g. every candidate whose children are both infeasible."""
    scores = sample.scores
    if scores is None or np.isnan(scores).all():
        mask = np.zeros(len(sample.candidates), dtype=bool)
        mask[sample.target] = True
        return mask
    return scores == np.nanmax(scores)


def is_informative(sample: Sample) -> bool:
    """Whether imitation can learn from the sample: labelled, and not every candidate is best."""
    return sample.target >= 0 and not best_candidates(sample).all()


@dataclass
class GraphBatch:
    """Disjoint union of graphs: node indices are offset per graph."""

    var: torch.Tensor
    row: torch.Tensor
    edge_index: torch.Tensor  # (2, E): row, column
    edge_attr: torch.Tensor
    cand: torch.Tensor  # global column index of every candidate
    cand_graph: torch.Tensor  # graph index of every candidate
    n_graphs: int


def collate(samples: Sequence[Sample], device: str | torch.device = "cpu") -> GraphBatch:
    n_vars = np.array([s.variable_features.shape[0] for s in samples])
    n_rows = np.array([s.row_features.shape[0] for s in samples])
    v_off = np.concatenate([[0], np.cumsum(n_vars)[:-1]])
    r_off = np.concatenate([[0], np.cumsum(n_rows)[:-1]])
    ei = np.concatenate([s.edge_index + np.array([[r_off[i]], [v_off[i]]]) for i, s in enumerate(samples)], axis=1)
    cand = np.concatenate([s.candidates + v_off[i] for i, s in enumerate(samples)])
    cand_graph = np.repeat(np.arange(len(samples)), [len(s.candidates) for s in samples])

    def t(x: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
        return torch.as_tensor(x, dtype=dtype, device=device)

    return GraphBatch(
        t(np.concatenate([s.variable_features for s in samples]), torch.float32),
        t(np.concatenate([s.row_features for s in samples]), torch.float32),
        t(ei, torch.long), t(np.concatenate([s.edge_features for s in samples]), torch.float32),
        t(cand, torch.long), t(cand_graph, torch.long), len(samples),
    )


# ------------------------------------------------------------------------------ model
class HalfConvolution(nn.Module):
    """Message passing from ``source`` nodes to ``target`` nodes along the bipartite edges."""

    def __init__(self, emb: int = EMB) -> None:
        super().__init__()
        self.left = nn.Linear(emb, emb)
        self.edge = nn.Linear(1, emb, bias=False)
        self.right = nn.Linear(emb, emb, bias=False)
        self.final_norm = nn.LayerNorm(emb)
        self.final = nn.Linear(emb, emb)
        self.post = nn.LayerNorm(emb)
        self.out = nn.Sequential(nn.Linear(2 * emb, emb), nn.ReLU(), nn.Linear(emb, emb))
        self.sum_messages = self._sum_messages

    def _sum_messages(self, target: torch.Tensor, source: torch.Tensor, t_idx: torch.Tensor, s_idx: torch.Tensor,
                      edge_attr: torch.Tensor) -> torch.Tensor:
        hidden = torch.relu(self.final_norm(self.left(target)[t_idx] + self.edge(edge_attr) + self.right(source)[s_idx]))
        return torch.zeros_like(target).index_add_(0, t_idx, hidden)

    def compile_messages(self) -> None:
        """Fuse the per-edge work (gathers, LayerNorm, ReLU, scatter-add) with ``torch.compile``:
        it is memory-bound on (edges x emb) tensors, and fused a training step on set-cover graphs
        runs about 2.5x faster on CPU (``scripts/bench_gcnn_training.py``).
        Needs a C++ compiler; the first batch pays about half a minute of compilation."""
        self.sum_messages = torch.compile(self._sum_messages, dynamic=True)

    def forward(self, target: torch.Tensor, source: torch.Tensor, t_idx: torch.Tensor, s_idx: torch.Tensor,
                edge_attr: torch.Tensor) -> torch.Tensor:
        # sum_j (W h_j + b) = W sum_j h_j + deg * b: the final linear layer is applied after the
        # sum (exactly the paper's messages, without a 64x64 product per edge)
        summed = self.sum_messages(target, source, t_idx, s_idx, edge_attr)
        degree = torch.zeros(target.shape[0], 1, dtype=target.dtype, device=target.device)
        degree.index_add_(0, t_idx, torch.ones(t_idx.shape[0], 1, dtype=target.dtype, device=target.device))
        agg = summed @ self.final.weight.T + degree * self.final.bias
        return self.out(torch.cat([self.post(agg), target], dim=-1))


class BipartiteGCN(nn.Module):
    """Gasse et al.'s GCNN: embeddings, columns->rows and rows->columns convolutions, per-column head."""

    def __init__(self, emb: int = EMB) -> None:
        super().__init__()
        # BatchNorm on the raw inputs plays the role of the paper's "prenorm" layers (per-feature
        # standardization with statistics of the training data, frozen in eval mode)
        self.row_emb = nn.Sequential(nn.BatchNorm1d(N_ROW), nn.Linear(N_ROW, emb), nn.ReLU(), nn.Linear(emb, emb), nn.ReLU())
        self.edge_norm = nn.BatchNorm1d(1)
        self.var_emb = nn.Sequential(nn.BatchNorm1d(N_VAR), nn.Linear(N_VAR, emb), nn.ReLU(), nn.Linear(emb, emb), nn.ReLU())
        self.conv_v_to_c = HalfConvolution(emb)
        self.conv_c_to_v = HalfConvolution(emb)
        self.head = nn.Sequential(nn.Linear(emb, emb), nn.ReLU(), nn.Linear(emb, 1, bias=False))

    def embed(self, g: GraphBatch) -> torch.Tensor:
        """Column embeddings after both convolutions, shape (total columns, emb)."""
        rows, cols = g.edge_index
        edge = self.edge_norm(g.edge_attr)
        c = self.row_emb(g.row)
        v = self.var_emb(g.var)
        c = self.conv_v_to_c(c, v, rows, cols, edge)
        return self.conv_c_to_v(v, c, cols, rows, edge)

    def compile_messages(self) -> None:
        """See :meth:`HalfConvolution.compile_messages`."""
        self.conv_v_to_c.compile_messages()
        self.conv_c_to_v.compile_messages()

    def forward(self, g: GraphBatch) -> torch.Tensor:
        """One logit per candidate (in ``g.cand`` order)."""
        return self.head(self.embed(g)[g.cand]).squeeze(-1)


def first_candidates(cand_graph: torch.Tensor, n_graphs: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per graph of a batch: the index of its first candidate in the batch's candidate order, and
    its number of candidates (``cand_graph`` is sorted, as :func:`collate` builds it)."""
    counts = torch.bincount(cand_graph, minlength=n_graphs)
    return torch.cumsum(counts, 0) - counts, counts


def candidate_softmax_targets(g: GraphBatch, logits: torch.Tensor) -> torch.Tensor:
    """(n_graphs, max candidates) logits padded with -inf, for a per-graph softmax."""
    starts, counts = first_candidates(g.cand_graph, g.n_graphs)
    pos = torch.arange(len(g.cand_graph), device=logits.device) - starts[g.cand_graph]
    out = torch.full((g.n_graphs, int(counts.max())), -torch.inf, device=logits.device)
    out[g.cand_graph, pos] = logits
    return out


# ------------------------------------------------------------------------------ agent
class GCNNImitation:
    """Behavioural cloning of strong branching with Gasse et al.'s bipartite GCNN (SB3-shaped API)."""

    def __init__(
        self,
        env: gym.Env | None = None,
        seed: int = 0,
        learning_rate: float = 1e-3,
        batch_size: int = 32,
        n_epochs: int = 20,
        valid_fraction: float = 0.2,
        test_fraction: float = 0.2,
        expert_probability: float = 1.0,
        emb_size: int = EMB,
        compile_messages: bool = False,
        device: str = "cpu",
        tensorboard_log: str | None = None,
        verbose: int = 0,
    ) -> None:
        check_range("valid_fraction", valid_fraction, 0, 1, open_low=True, open_high=True)
        check_range("test_fraction", test_fraction, 0, 1, open_high=True)
        check("test_fraction", test_fraction, valid_fraction + test_fraction < 1,
              f"[0, 1 - valid_fraction) = [0, {1 - valid_fraction:g}): some instances must be left to train on")
        check_range("expert_probability", expert_probability, 0, 1)
        self.env = env
        self.seed = int(seed)
        self.learning_rate, self.batch_size, self.n_epochs = float(learning_rate), int(batch_size), int(n_epochs)
        self.valid_fraction, self.test_fraction = float(valid_fraction), float(test_fraction)
        self.expert_probability = float(expert_probability)
        self.emb_size, self.device, self.verbose = int(emb_size), device, verbose
        self.tensorboard_log = tensorboard_log
        torch.manual_seed(self.seed)
        self.rng = np.random.default_rng(self.seed)
        self.policy = BipartiteGCN(self.emb_size).to(device)
        if compile_messages:
            self.policy.compile_messages()
        self.optimizer = torch.optim.Adam(self.policy.parameters(), lr=self.learning_rate)
        self.num_timesteps = 0
        self.history: list[dict[str, float]] = []
        # the epoch fit() kept (best validation top-1), the agreement on each held-out split
        # ("valid", "test") and the instance ids of each split, as learn() or the caller set them
        self.best_epoch: int | None = None
        self.held_out: dict[str, dict[str, float]] = {}
        self.split_groups: dict[str, list[int]] = {}
        self._log = ScalarLog(tensorboard_log, "GCNN")

    # -------------------------------------------------------------- collection
    def collect(self, env: gym.Env, n_samples: int, seed: int = 0, progress_bar: bool = False,
                max_per_episode: int | None = None) -> list[Sample]:
        """Run episodes on ``env`` (instance seeds ``seed, seed + 1, ...``) and label every node
        with the strong branching choice. ``max_per_episode`` ends an episode after that many
        nodes, so that the samples come from many instances (one strong-branching tree can have
        thousands of nodes)."""
        if max_per_episode is not None and max_per_episode < 1:
            raise ValueError(f"max_per_episode={max_per_episode!r} is invalid; allowed: None or >= 1")
        base = env.unwrapped
        samples: list[Sample] = []
        episode = 0
        with TrainingProgress(progress_bar, n_samples, "collect") as bar:
            while len(samples) < n_samples:
                obs, _ = env.reset(seed=seed + episode)
                for _ in range(max_per_episode or n_samples):
                    scores = base.candidate_scores("strong")
                    cands = obs["candidates"][: int(obs["sizes"][3])]
                    cand_scores = scores[cands]
                    target = int(np.argmax(cand_scores))
                    samples.append(sample_from_obs(obs, target, cand_scores, group=seed + episode))
                    bar.advance()
                    if self.rng.random() < self.expert_probability:
                        action = int(cands[target])
                    else:
                        pc = base.candidate_scores("pseudocost")
                        action = int(np.nanargmax(np.where(np.isnan(pc), -np.inf, pc)))
                    obs, _, terminated, truncated, _ = env.step(action)
                    if terminated or truncated or len(samples) >= n_samples:
                        break
                episode += 1
        return samples

    # ---------------------------------------------------------------- training
    def _loss_acc(self, batch: Sequence[Sample]) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
        g = collate(batch, self.device)
        logits = candidate_softmax_targets(g, self.policy(g))
        best = torch.as_tensor(np.stack([np.pad(best_candidates(s), (0, logits.shape[1] - len(s.candidates)))
                                         for s in batch]), device=self.device)
        # every candidate the expert scores best is a correct answer: maximise their total probability
        loss = (torch.logsumexp(logits, 1) - torch.logsumexp(logits.masked_fill(~best, -torch.inf), 1)).mean()
        k = min(5, logits.shape[1])
        topk_best = best.gather(1, logits.topk(k, dim=1).indices)
        return loss, topk_best[:, 0].cpu().numpy(), topk_best.any(1).cpu().numpy()

    def evaluate(self, samples: Sequence[Sample], batch_size: int = 64) -> dict[str, float]:
        """Cross-entropy and top-1 / top-5 agreement with the expert on labelled samples."""
        self.policy.eval()
        losses, top1, top5 = [], [], []
        with torch.no_grad():
            for i in range(0, len(samples), batch_size):
                batch = samples[i : i + batch_size]
                loss, a1, a5 = self._loss_acc(batch)
                losses.append(float(loss) * len(batch))
                top1.append(a1)
                top5.append(a5)
        if not samples:
            return {"loss": float("nan"), "acc@1": float("nan"), "acc@5": float("nan")}
        n = len(samples)
        return {"loss": sum(losses) / n, "acc@1": float(np.concatenate(top1).mean()), "acc@5": float(np.concatenate(top5).mean())}

    def fit(self, train: Sequence[Sample], valid: Sequence[Sample] = (), n_epochs: int | None = None,
            callback: Callable[[dict[str, float]], bool | None] | None = None) -> "GCNNImitation":
        """Minibatch Adam on the cross-entropy; keeps the parameters of the epoch with the best
        top-1 agreement on ``valid`` (its index goes to ``best_epoch``)."""
        informative = [s for s in train if is_informative(s)]
        if not informative:
            raise ValueError(f"none of the {len(train)} training samples is informative: each is unlabelled "
                             "(target -1) or has every candidate tied for the best expert score, so there is "
                             "nothing to imitate; collect more states (e.g. larger instances)")
        train = informative
        best, best_state = -1.0, None
        self.best_epoch = None
        for epoch in range(self.n_epochs if n_epochs is None else n_epochs):
            self.policy.train()
            order = self.rng.permutation(len(train))
            losses, accs = [], []
            for i in range(0, len(order), self.batch_size):
                loss, a1, _ = self._loss_acc([train[j] for j in order[i : i + self.batch_size]])
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
                losses.append(float(loss.detach()))
                accs.append(a1.mean())
            stats = {"epoch": epoch, "train/loss": float(np.mean(losses)), "train/acc@1": float(np.mean(accs))}
            if valid:
                v = self.evaluate(valid)
                stats.update({f"valid/{k}": val for k, val in v.items()})
                if v["acc@1"] > best:
                    best, best_state = v["acc@1"], {k: x.detach().clone() for k, x in self.policy.state_dict().items()}
                    self.best_epoch = epoch
            self.history.append(stats)
            self._log.write({k: v for k, v in stats.items() if k != "epoch"}, epoch)
            if self.verbose:
                print(" ".join(f"{k}={v:.4g}" for k, v in stats.items()))
            if callback is not None and callback(stats) is False:
                break
        if best_state is not None:
            self.policy.load_state_dict(best_state)
        return self

    def split(self, samples: Sequence[Sample]) -> tuple[list[Sample], list[Sample], list[Sample]]:
        """Training, validation and test states, by whole instances (``group``), so that both
        held-out splits come from instances the training never saw and the test split also from
        instances the epoch selection never saw.

        The instances are shuffled once: the first ``valid_fraction`` of them (at least one, when
        there are two or more) are the validation split, the next ``test_fraction`` (at least
        one when ``test_fraction > 0``, as long as an instance is left to train on) the test split.
        The validation split is the one earlier versions held out alone."""
        groups = np.unique([s.group for s in samples])
        n_valid = max(1, int(round(self.valid_fraction * len(groups)))) if len(groups) > 1 else 0
        n_test = max(1, int(round(self.test_fraction * len(groups)))) if self.test_fraction > 0 else 0
        n_test = min(n_test, len(groups) - n_valid - 1) if len(groups) > n_valid else 0
        order = self.rng.permutation(groups).tolist()
        valid, test = set(order[:n_valid]), set(order[n_valid : n_valid + n_test])
        self.split_groups = {"train": sorted(set(order) - valid - test), "valid": sorted(valid), "test": sorted(test)}
        return ([s for s in samples if s.group not in valid and s.group not in test],
                [s for s in samples if s.group in valid], [s for s in samples if s.group in test])

    def learn(self, total_timesteps: int, callback: Callable | None = None, progress_bar: bool = False) -> "GCNNImitation":
        """Collect ``total_timesteps`` labelled nodes on the env, then train (see the module docstring)."""
        if self.env is None:
            raise ValueError("learn() needs the env: pass env= to the constructor, or use fit(samples)")
        samples = self.collect(self.env, int(total_timesteps), seed=self.seed * 100_000, progress_bar=progress_bar)
        self.num_timesteps += len(samples)
        train, valid, test = self.split(samples)
        self.fit(train, valid, callback=callback)
        self.record_held_out(valid, test)
        return self

    def record_held_out(self, valid: Sequence[Sample], test: Sequence[Sample]) -> dict[str, dict[str, float]]:
        """Measure the kept parameters on both held-out splits into ``held_out`` (and TensorBoard):
        loss, top-1 and top-5 agreement, and how many states and instances each split has."""
        self.held_out = {split: self.held_out_metrics(part) for split, part in (("valid", valid), ("test", test))}
        self._log.write({f"{split}/{k}": v for split, m in self.held_out.items() for k, v in m.items()
                         if k not in ("states", "instances")}, len(self.history))
        return self.held_out

    def held_out_metrics(self, samples: Sequence[Sample]) -> dict[str, float]:
        """:meth:`evaluate` plus the number of states and of instances."""
        return {**self.evaluate(samples), "states": len(samples), "instances": len({s.group for s in samples})}

    # ------------------------------------------------------------------ acting
    def predict(self, observation: dict[str, np.ndarray], state: Any = None, episode_start: Any = None,
                deterministic: bool = True, action_masks: np.ndarray | None = None) -> tuple[int, Any]:
        """The candidate column with the largest logit (sampled from the softmax if not deterministic)."""
        sample = sample_from_obs(observation)
        self.policy.eval()
        with torch.no_grad():
            logits = self.policy(collate([sample], self.device)).cpu().numpy()
        if deterministic:
            k = int(np.argmax(logits))
        else:
            p = np.exp(logits - logits.max())
            k = int(self.rng.choice(len(p), p=p / p.sum()))
        return int(sample.candidates[k]), state

    # --------------------------------------------------------------- utilities
    def save(self, path: str | os.PathLike) -> None:
        """Tensors and plain Python data only, so that ``torch.load(weights_only=True)`` reads it."""
        config = dict(seed=self.seed, learning_rate=self.learning_rate, batch_size=self.batch_size,
                      n_epochs=self.n_epochs, valid_fraction=self.valid_fraction, test_fraction=self.test_fraction,
                      expert_probability=self.expert_probability, emb_size=self.emb_size)
        torch.save({"config": config, "policy": self.policy.state_dict(), "history": self.history,
                    "num_timesteps": self.num_timesteps, "best_epoch": self.best_epoch, "held_out": self.held_out,
                    "split_groups": self.split_groups}, path)

    @classmethod
    def load(cls, path: str | os.PathLike, env: gym.Env | None = None, device: str = "cpu") -> "GCNNImitation":
        """Read a :meth:`save` file (``weights_only=True``: no pickled code runs). Files written
        before the test split existed keep their validation record: the kept epoch is the first
        with the best validation top-1, as fit() chose it."""
        data = torch.load(path, map_location=device, weights_only=True)
        agent = cls(env, device=device, **data["config"])
        agent.policy.load_state_dict(data["policy"])
        agent.history, agent.num_timesteps = data["history"], data["num_timesteps"]
        agent.best_epoch = data.get("best_epoch", _best_epoch(agent.history))
        agent.held_out = data.get("held_out") or _validation_record(agent.history, agent.best_epoch)
        agent.split_groups = data.get("split_groups", {})
        return agent


def _best_epoch(history: Sequence[dict[str, float]]) -> int | None:
    scored = [h for h in history if "valid/acc@1" in h]
    return int(max(scored, key=lambda h: (h["valid/acc@1"], -h["epoch"]))["epoch"]) if scored else None


def _validation_record(history: Sequence[dict[str, float]], epoch: int | None) -> dict[str, dict[str, float]]:
    if epoch is None:
        return {}
    row = next(h for h in history if h["epoch"] == epoch)
    return {"valid": {k.removeprefix("valid/"): v for k, v in row.items() if k.startswith("valid/")}}
