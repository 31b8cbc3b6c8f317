"""``gauntlet leaderboard evaluate TASK AGENT --weights FILE``: saved weights re-evaluated on the
official seeds, without retraining, and compared with the board's entry.

The weights are matched to a run of the entry by their sha256 (``gauntlet run --save`` records
it in every run). Weights whose sha256 is not any run's are refused: they are not the weights
the entry was measured with. A matched run is compared episode by episode.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gauntlet.bench import leaderboard
from gauntlet.bench.artifacts import load_weights
from gauntlet.bench.formatting import format_number
from gauntlet.bench.identity import REPRODUCTION_RTOL, describe, identity, reproducible
from gauntlet.bench.runner import RunRecord, evaluate_run, make_task_env
from gauntlet.data.fetch import sha256_of
from gauntlet.registry import get_agent, get_task


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    matches: bool | None = None
    """True/False when compared with the entry's run of these weights; None when there was none."""
    record: RunRecord | None = None


def reevaluate(task_id: str, agent: str, weights: str | Path, *, directory: str | Path = "leaderboards",
               submitter: str | None = None) -> Report:
    task, spec = get_task(task_id), get_agent(agent)
    if task.benchmark is None:
        raise ValueError(f"task {task_id!r} has no benchmark spec")
    weights = Path(weights)
    if not weights.is_file():
        raise FileNotFoundError(f"no weights file {weights}")
    sha = sha256_of(weights)
    report = Report([f"weights {weights} (sha256 {sha})"])
    board_file = leaderboard.board_path(directory, task_id)
    entries: list[tuple[int, dict[str, Any]]] = []
    if board_file.exists():
        board = leaderboard.load(board_file)
        entries = [(i, e) for i, e in enumerate(board["entries"])
                   if e["agent"] == agent and (submitter is None or e["submitter"] == submitter)]
    recorded = [(i, j, e, r) for i, e in entries for j, r in enumerate(e["runs"]) if r["artifact_sha256"]]
    matched = [(i, j, e, r) for i, j, e, r in recorded if r["artifact_sha256"] == sha]
    if recorded and not matched:
        known = "; ".join(f"entries/{i}/runs/{j}/artifact_sha256 = {r['artifact_sha256']} (train seed {r['train_seed']})"
                          for i, j, e, r in recorded)
        raise leaderboard.LeaderboardError(
            f"{weights}: sha256 {sha} is not the weights of any run of {agent!r} on {board_file}, which records: "
            f"{known}. These weights are not what the entry was measured with; pass the file its run saved."
        )

    env = make_task_env(task_id, **{**task.kwargs, **task.benchmark.train_env_kwargs})
    model = load_weights(spec, weights, env, task_id)
    env.close()
    seed = matched[0][3]["train_seed"] if matched else 0
    record = evaluate_run(task_id, agent, model, train_seed=seed, command=f"gauntlet leaderboard evaluate {task_id} {agent}")
    report.record = record
    primary = task.benchmark.primary_metric
    report.lines.append(f"evaluated on the {len(record.eval_seeds)} official seeds from {record.eval_seeds[0]}: "
                        + ", ".join(f"{m.name} {format_number(_mean(record, m.name))}" for m in task.benchmark.metrics
                                    if _mean(record, m.name) is not None))
    if matched:
        i, j, entry, run = matched[0]
        differences = _episode_differences(record, run)
        report.matches = not differences
        where = f"run {j} (train seed {run['train_seed']}) of {describe(identity(entry))}"
        report.lines.append(f"reproduces {where} on every episode" if not differences
                            else f"differs from {where}: " + "; ".join(differences[:5]))
    elif entries:
        for i, entry in entries:
            mean = entry["results"].get(primary, {}).get("mean")
            report.lines.append(f"{describe(identity(entry))} records no weights sha256, so these weights cannot be "
                                f"matched to one of its runs; its {primary} mean over {len(entry['runs'])} runs is "
                                f"{format_number(mean)}")
    else:
        report.lines.append(f"no entry of {agent!r} on {board_file} to compare with")
    return report


def _mean(record: RunRecord, name: str) -> float | None:
    if record.mo_metrics is not None and name in record.mo_metrics:
        return float(record.mo_metrics[name])
    values = [m[name] for m in record.episode_metrics if m.get(name) is not None]
    return float(np.mean(values)) if values else None


def _episode_differences(record: RunRecord, run: dict[str, Any]) -> list[str]:
    out = []
    for k, (a, b) in enumerate(zip(run["episode_returns"], record.episode_returns)):
        if not np.allclose(a, b, rtol=REPRODUCTION_RTOL, atol=REPRODUCTION_RTOL):
            out.append(f"episode_returns/{k}: {a} on the board, {b} now")
            break
    for name, values in reproducible(run, record.task)["metrics"].items():
        now = [m.get(name) for m in record.episode_metrics]
        for k, (a, b) in enumerate(zip(values, now)):
            if (a is None) != (b is None) or (
                    a is not None and not np.isclose(a, b, rtol=REPRODUCTION_RTOL, atol=REPRODUCTION_RTOL)):
                out.append(f"metrics/{name}/{k}: {a} on the board, {b} now")
                break
    return out
