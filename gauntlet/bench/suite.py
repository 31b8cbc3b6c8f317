"""``gauntlet bench --suite core --agent A``: one agent over every task of a suite that accepts it,
each at its own budget, scored on one scale.

Normalization anchors, per task and stated with the result: 0 is the trivial policy and 1 the
best baseline. The registry's ``reference_scores`` (random, best) are used where the task has
them; otherwise both come from the task's board: 0 = the ``random`` entry's primary-metric mean,
1 = the best-ranked entry of kind ``baseline`` (within the constraint budgets first). A task with
neither is reported unnormalized and left out of the aggregate.

Aggregate (rliable, Agarwal et al. 2021): the IQM of the normalized scores of all runs of all
tasks, with a 95% stratified-bootstrap CI (tasks as strata, runs resampled within each), and a
performance profile: the fraction of runs whose normalized score exceeds tau, averaged over
tasks, with its bootstrap band.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from gauntlet.bench import leaderboard
from gauntlet.bench.aggregate import iqm, stratified_bootstrap_ci
from gauntlet.bench.entries import protocol, results_from_runs, run_to_json
from gauntlet.bench.formatting import format_number
from gauntlet.bench.ranking import ranked
from gauntlet.registry import TASKS, get_agent

SUITES: dict[str, Callable[[str], bool]] = {
    "core": lambda task_id: TASKS[task_id].benchmark is not None,
}
"""Suite name -> which registered tasks belong to it (``core``: every task with a benchmark)."""


@dataclass
class TaskScore:
    task: str
    primary_metric: str
    raw: list[float]
    """The agent's primary-metric mean per run (one per train seed)."""
    anchors: dict[str, Any] | None
    """``{"zero": value, "one": value, "source": text}``, or None when the task has no anchors."""
    normalized: list[float] = field(default_factory=list)


def suite_tasks(suite: str, agent: str, patterns: Sequence[str] = ()) -> list[str]:
    """The suite's tasks that accept ``agent`` (and match one of ``patterns``, when given)."""
    if suite not in SUITES:
        raise ValueError(f"unknown suite {suite!r}; suites: {sorted(SUITES)}")
    spec = get_agent(agent)
    tasks = [t for t in TASKS if SUITES[suite](t) and spec.supports(t)
             and (not patterns or any(fnmatch.fnmatchcase(t, p) for p in patterns))]
    if not tasks:
        raise ValueError(f"no task of suite {suite!r}{f' matching {list(patterns)}' if patterns else ''} accepts "
                         f"agent {agent!r}, which supports {list(spec.tasks)}")
    return tasks


def anchors(task_id: str, directory: str | Path, agent: str) -> dict[str, Any] | None:
    """The task's 0 and 1 (see the module docstring), or None."""
    prot = protocol(TASKS[task_id].benchmark)
    refs = prot.get("reference_scores")
    if refs:
        return {"zero": refs["random"], "one": refs["best"], "source": "registry reference scores (random = 0, best = 1)"}
    path = leaderboard.board_path(directory, task_id)
    if not path.exists():
        return None
    board = leaderboard.load(path)
    primary = prot["primary_metric"]
    trivial = next((e for e in board["entries"] if e["agent"] == "random"), None)
    best = next((e for e in ranked(board) if e["kind"] == "baseline" and e["agent"] not in ("random", agent)), None)
    if trivial is None or best is None:
        return None
    zero, one = trivial["results"][primary]["mean"], best["results"][primary]["mean"]
    if zero is None or one is None or zero == one:
        return None
    return {"zero": zero, "one": one, "source": f"board: random = 0, best baseline {best['agent']} = 1"}


def score_task(task_id: str, agent: str, seeds: Sequence[int], directory: str | Path,
               run_one: Callable[..., Any]) -> TaskScore:
    """Train (at the task's budget) and evaluate ``agent`` once per seed and normalize."""
    prot = protocol(TASKS[task_id].benchmark)
    primary = prot["primary_metric"]
    raw = []
    for seed in seeds:
        record = run_one(task_id, agent, train_seed=seed)
        raw.append(results_from_runs([run_to_json(record)], prot["metrics"])[primary]["mean"])
    score = TaskScore(task_id, primary, raw, anchors(task_id, directory, agent))
    if score.anchors is not None:
        zero, one = score.anchors["zero"], score.anchors["one"]
        score.normalized = [(x - zero) / (one - zero) for x in raw]
    return score


def aggregate(scores: Sequence[TaskScore]) -> dict[str, Any]:
    """IQM of the normalized scores with its stratified-bootstrap CI (tasks as strata)."""
    matrix = np.array([s.normalized for s in scores if s.normalized], dtype=float).T  # runs x tasks
    if matrix.size == 0:
        return {"iqm": None, "ci95": [None, None], "n_tasks": 0, "n_runs": 0}
    low, high = stratified_bootstrap_ci(matrix, iqm)
    finite = [None if np.isnan(x) else x for x in (low, high)]
    return {"iqm": iqm(matrix), "ci95": finite, "n_tasks": matrix.shape[1], "n_runs": matrix.shape[0]}


def performance_profile(scores: Sequence[TaskScore], taus: np.ndarray, n_boot: int = 2000,
                        seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(profile, low, high) at each tau: the fraction of runs scoring above tau, averaged over
    tasks, and its 95% stratified-bootstrap band."""
    matrix = np.array([s.normalized for s in scores if s.normalized], dtype=float).T
    profile = (matrix[None, :, :] > taus[:, None, None]).mean(axis=(1, 2))
    rng = np.random.default_rng(seed)
    n_runs, n_tasks = matrix.shape
    resampled = matrix[rng.integers(0, n_runs, size=(n_boot, n_runs, n_tasks)), np.arange(n_tasks)]
    boot = (resampled[:, None] > taus[None, :, None, None]).mean(axis=(2, 3))
    low, high = np.quantile(boot, [0.025, 0.975], axis=0)
    return profile, low, high


def plot_profile(scores: Sequence[TaskScore], agent: str, suite: str, path: str | Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    values = np.concatenate([s.normalized for s in scores if s.normalized])
    taus = np.linspace(min(0.0, values.min()) - 0.05, max(1.0, values.max()) + 0.05, 201)
    profile, low, high = performance_profile(scores, taus)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(taus, profile, color="C0", label=agent)
    ax.fill_between(taus, low, high, color="C0", alpha=0.2, label="95% stratified-bootstrap band")
    ax.axvline(0.0, color="0.6", linestyle=":", label="trivial policy (0)")
    ax.axvline(1.0, color="0.3", linestyle="--", label="best baseline (1)")
    ax.set_xlabel("normalized score tau")
    ax.set_ylabel("fraction of runs with score > tau")
    ax.set_title(f"suite {suite}: {agent}, {len([s for s in scores if s.normalized])} tasks", fontsize=10)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def describe_anchors(score: TaskScore) -> str:
    if score.anchors is None:
        return "no anchors (no reference scores, and no random and baseline entries on a board)"
    a = score.anchors
    return f"0 = {format_number(a['zero'])}, 1 = {format_number(a['one'])} ({a['source']})"
