"""Leaderboard files (schema ``gauntlet-leaderboard/1``): build entries from runs, validate,
merge by (agent, kind, submitter), write atomically, export to Markdown and model-index.

Validation has two layers: the JSON schema (shape and types) and an integrity check that
recomputes every entry's aggregated results from its raw runs, so an edited number is caught.
A file that fails either is rejected with its path and the failing field; the file on disk is
only ever replaced by a complete, valid one (temp file + rename).
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import tempfile
from contextlib import contextmanager
from datetime import datetime, timezone
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import jsonschema
import numpy as np

import gauntlet
from gauntlet.bench.aggregate import normalized_score, summarize
from gauntlet.bench.runner import RunRecord, jsonable
from gauntlet.file_mode import new_file_mode
from gauntlet.registry import BenchmarkSpec, get_task

SCHEMA_ID = "gauntlet-leaderboard/1"
KINDS = ("reference", "baseline", "submission")
MO_RUN_METRICS = ("hypervolume", "eum", "cardinality")


class LeaderboardError(ValueError):
    """A leaderboard file or entry is malformed, tampered with, or inconsistent with its protocol."""


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    return json.loads(resources.files("gauntlet.bench").joinpath("leaderboard_schema.json").read_text())


def board_path(directory: str | Path, task_id: str) -> Path:
    """``leaderboards/LotSizing-15x5-v0.json`` for ``gauntlet/LotSizing-15x5-v0``."""
    return Path(directory) / f"{task_id.split('/', 1)[-1]}.json"


def new_board(task_id: str, env_kwargs: dict[str, Any] | None = None) -> dict[str, Any]:
    task = get_task(task_id)
    if task.benchmark is None:
        raise LeaderboardError(f"task {task_id!r} has no benchmark spec, so it has no leaderboard")
    return {
        "schema": SCHEMA_ID,
        "task": task_id,
        "env_kwargs": jsonable({**task.kwargs, **(env_kwargs or {})}),
        "protocol": protocol(task.benchmark),
        "entries": [],
    }


def protocol(spec: BenchmarkSpec) -> dict[str, Any]:
    out: dict[str, Any] = {
        "train_seeds": spec.train_seeds,
        "eval_seeds": spec.eval_seeds(official=True),
        "eval_episodes": spec.eval_episodes,
        "deterministic": True,
        "primary_metric": spec.primary_metric,
        "metrics": [
            {"name": m.name, "direction": m.direction, "unit": m.unit, "description": m.description,
             **({"shift": m.shift} if m.shift is not None else {})}
            for m in spec.metrics
        ],
    }
    if spec.eval_env_kwargs:
        out["eval_env_kwargs"] = jsonable(spec.eval_env_kwargs)
    if spec.reference_scores:
        out["reference_scores"] = {k: float(v) for k, v in spec.reference_scores.items()}
    if spec.is_multi_objective:
        out["hv_ref_point"] = list(spec.hv_ref_point)
        out["gamma"] = spec.gamma if spec.gamma is not None else 1.0
        out["preference_weights"] = [list(w) for w in spec.preference_weights]
    return out


# ------------------------------------------------------------------ entries from runs
def run_to_json(run: RunRecord) -> dict[str, Any]:
    names = sorted({k for m in run.episode_metrics for k in m})
    out: dict[str, Any] = {
        "train_seed": run.train_seed,
        "episode_returns": jsonable(run.episode_returns),
        "metrics": {k: jsonable([m.get(k) for m in run.episode_metrics]) for k in names},
        "wall_time_s": float(run.wall_time_s),
        "steps_per_s": jsonable(run.steps_per_s),
    }
    if run.mo_metrics is not None:
        out["mo_metrics"] = {
            "hypervolume": float(run.mo_metrics["hypervolume"]),
            "eum": float(run.mo_metrics["eum"]),
            "cardinality": int(run.mo_metrics["cardinality"]),
            "front": jsonable(run.mo_metrics["front"]),
        }
    return out


def results_from_runs(runs: Sequence[dict[str, Any]], metrics: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Aggregated statistics per protocol metric (``{"name", "shift"?}``), recomputed from the raw
    runs (the one code path used both to build entries and to check them)."""
    results = {}
    for metric in metrics:
        name = metric["name"]
        if name in MO_RUN_METRICS:
            if not all("mo_metrics" in r for r in runs):
                continue
            matrix = np.array([[r["mo_metrics"][name]] for r in runs], dtype=float)
        else:
            if not all(name in r["metrics"] for r in runs):
                continue
            columns = [r["metrics"][name] for r in runs]
            if len({len(c) for c in columns}) != 1:
                raise LeaderboardError(f"metric {name!r}: runs have different numbers of episodes")
            matrix = np.array([[np.nan if v is None else v for v in c] for c in columns], dtype=float)
        results[name] = summarize(matrix, metric.get("shift"))
    return results


def entry_from_runs(
    runs: Sequence[RunRecord],
    *,
    kind: str,
    submitter: str = "gauntlet",
    agent: str | None = None,
    artifact_sha256: str | None = None,
) -> dict[str, Any]:
    """One leaderboard entry aggregating runs of the same (task, agent) over training seeds."""
    if not runs:
        raise LeaderboardError("no runs to aggregate")
    if kind not in KINDS:
        raise LeaderboardError(f"kind must be one of {KINDS}, got {kind!r}")
    first = runs[0]
    for r in runs[1:]:
        for attr in ("task", "agent", "train_timesteps", "eval_seeds"):
            if getattr(r, attr) != getattr(first, attr):
                raise LeaderboardError(
                    f"runs disagree on {attr}: {getattr(first, attr)!r} vs {getattr(r, attr)!r}; "
                    "an entry aggregates runs of one agent on one task with one budget"
                )
    if len({r.train_seed for r in runs}) != len(runs):
        raise LeaderboardError(f"duplicate train seeds in runs: {[r.train_seed for r in runs]}")
    spec = get_task(first.task).benchmark
    run_json = [run_to_json(r) for r in sorted(runs, key=lambda r: r.train_seed)]
    results = results_from_runs(run_json, protocol(spec)["metrics"])
    if spec.primary_metric not in results:
        raise LeaderboardError(f"runs do not report the primary metric {spec.primary_metric!r}")
    entry: dict[str, Any] = {
        "agent": agent or first.agent,
        "kind": kind,
        "submitter": submitter,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "gauntlet_version": gauntlet.__version__,
        "train_timesteps": int(first.train_timesteps),
        "agent_kwargs": jsonable(first.agent_kwargs),
        "results": results,
        "normalized_score": _primary_normalized(results, spec),
        "runs": run_json,
        "provenance": {
            "command": first.command,
            "git_commit": first.git_commit,
            "artifact_sha256": artifact_sha256,
            "versions": {k: str(v) for k, v in first.versions.items()},
        },
    }
    if spec.is_multi_objective:
        from gauntlet.bench.multi_objective import pareto_front

        points = [p for r in run_json for p in r["mo_metrics"]["front"]]
        entry["front"] = jsonable(pareto_front(np.asarray(points, dtype=float))) if points else []
    return entry


def _primary_normalized(results: dict[str, Any], spec: BenchmarkSpec) -> float | None:
    mean = results[spec.primary_metric]["mean"]
    return None if mean is None else normalized_score(mean, spec.reference_scores)


# ------------------------------------------------------------------ validation and io
def validate(board: dict[str, Any], path: str | Path = "<memory>") -> None:
    """Raise LeaderboardError naming ``path`` and the failing field if ``board`` is invalid."""
    validator = jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.FormatChecker())
    error = jsonschema.exceptions.best_match(validator.iter_errors(board))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "<root>"
        raise LeaderboardError(f"{path}: invalid field '{where}': {error.message}")
    metric_names = [m["name"] for m in board["protocol"]["metrics"]]
    if board["protocol"]["primary_metric"] not in metric_names:
        raise LeaderboardError(f"{path}: invalid field 'protocol/primary_metric': not among protocol/metrics")
    seen = set()
    for i, entry in enumerate(board["entries"]):
        key = (entry["agent"], entry["kind"], entry["submitter"])
        if key in seen:
            raise LeaderboardError(f"{path}: invalid field 'entries/{i}': duplicate entry for {key}")
        seen.add(key)
        n_eval = len(board["protocol"]["eval_seeds"])
        n_weights = len(board["protocol"].get("preference_weights", [None]))
        for j, run in enumerate(entry["runs"]):
            if len(run["episode_returns"]) != n_eval * n_weights:
                raise LeaderboardError(
                    f"{path}: invalid field 'entries/{i}/runs/{j}/episode_returns': "
                    f"{len(run['episode_returns'])} episodes, the protocol evaluates {n_eval * n_weights}"
                )
            logged = run["metrics"].get("return")
            if logged is not None and not all(_close(a, b) for a, b in zip(logged, run["episode_returns"])):
                raise LeaderboardError(
                    f"{path}: invalid field 'entries/{i}/runs/{j}/episode_returns': "
                    "does not match the run's per-episode 'return' metric"
                )
        recomputed = results_from_runs(entry["runs"], board["protocol"]["metrics"])
        for name, stat in entry["results"].items():
            if name not in recomputed:
                raise LeaderboardError(f"{path}: invalid field 'entries/{i}/results/{name}': no run data for it")
            for field_name in ("mean", "std", "iqm", "sgm"):
                if not _close(stat.get(field_name), recomputed[name].get(field_name)):
                    raise LeaderboardError(
                        f"{path}: invalid field 'entries/{i}/results/{name}/{field_name}': "
                        f"{stat[field_name]} does not match {recomputed[name][field_name]} recomputed from its runs"
                    )
        reference = board["protocol"].get("reference_scores", {})
        expected = None
        primary_mean = entry["results"].get(board["protocol"]["primary_metric"], {}).get("mean")
        if primary_mean is not None:
            expected = normalized_score(primary_mean, reference)
        if not _close(entry.get("normalized_score"), expected):
            raise LeaderboardError(
                f"{path}: invalid field 'entries/{i}/normalized_score': {entry.get('normalized_score')} does not "
                f"match {expected} from the protocol's reference_scores"
            )


def load(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        board = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise LeaderboardError(f"{path}: not valid JSON: {exc}") from None
    validate(board, path)
    return board


def save(board: dict[str, Any], path: str | Path) -> Path:
    """Validate, then write atomically: the old file stays intact if anything fails."""
    path = Path(path)
    validate(board, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes the file private (0600); a board is as readable as any file the user writes
        os.fchmod(fd, path.stat().st_mode & 0o777 if path.exists() else new_file_mode())
        with os.fdopen(fd, "w") as fh:
            json.dump(board, fh, indent=1, allow_nan=False)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def merge(board: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    """A new board with ``entry`` replacing any entry with the same (agent, kind, submitter)."""
    protocol_seeds = board["protocol"]["eval_seeds"]
    n_weights = len(board["protocol"].get("preference_weights", [None]))
    for run in entry["runs"]:
        if len(run["episode_returns"]) != len(protocol_seeds) * n_weights:
            raise LeaderboardError(
                f"entry for {entry['agent']!r} was not evaluated on this board's protocol "
                f"({len(protocol_seeds)} eval seeds starting at {protocol_seeds[0]})"
            )
    key = (entry["agent"], entry["kind"], entry["submitter"])
    kept = [e for e in board["entries"] if (e["agent"], e["kind"], e["submitter"]) != key]
    return {**board, "entries": [*kept, entry]}


def record(
    runs: Sequence[RunRecord],
    *,
    kind: str,
    submitter: str = "gauntlet",
    directory: str | Path = "leaderboards",
    agent: str | None = None,
    artifact_sha256: str | None = None,
) -> Path:
    """Aggregate ``runs`` into an entry and merge it into the task's board under ``directory``."""
    entry = entry_from_runs(runs, kind=kind, submitter=submitter, agent=agent, artifact_sha256=artifact_sha256)
    task_id = runs[0].task
    if runs[0].eval_seeds != get_task(task_id).benchmark.eval_seeds(official=True):
        raise LeaderboardError(
            f"runs were evaluated on seeds {runs[0].eval_seeds[:3]}..., not on the official seeds; "
            "leaderboard entries use the official evaluation seeds"
        )
    path = board_path(directory, task_id)
    with _locked(path):
        board = load(path) if path.exists() else new_board(task_id, runs[0].env_kwargs)
        board = refresh(board, path)
        if board["env_kwargs"] != jsonable({**get_task(task_id).kwargs, **runs[0].env_kwargs}):
            raise LeaderboardError(f"{path}: runs used env kwargs {runs[0].env_kwargs}, the board is for {board['env_kwargs']}")
        return save(merge(board, entry), path)


# Descriptive parts of a protocol: a board follows the registry when they change. Anything else
# (seeds, episodes, weights, reference point) changing means a new board.
_REFRESHABLE = ("metrics", "reference_scores")


def refresh(board: dict[str, Any], path: str | Path = "<memory>") -> dict[str, Any]:
    """The board under the registry's current metric list and reference scores, with every
    entry's normalized score recomputed from them."""
    spec = get_task(board["task"]).benchmark
    current = protocol(spec)
    stored = board["protocol"]

    def fixed(p: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in p.items() if k not in _REFRESHABLE}

    if fixed(stored) != fixed(current):
        raise LeaderboardError(
            f"{path}: the board's protocol differs from the task's current benchmark spec; "
            "entries are never mixed across protocols (bump the env version or start a new board)"
        )
    entries = [{**e, "normalized_score": _primary_normalized(e["results"], spec)} for e in board["entries"]]
    return {**board, "protocol": current, "entries": entries}


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Serialize read-merge-write cycles on one board across processes (sweeps and scripts
    recording into the same directory at once would otherwise lose each other's entries)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f".{path.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


# ------------------------------------------------------------------------- exports
def ranking_statistic(board: dict[str, Any]) -> str:
    """``"sgm"`` when the primary metric has a shift (solver statistics), else ``"mean"``."""
    primary = board["protocol"]["primary_metric"]
    metric = next(m for m in board["protocol"]["metrics"] if m["name"] == primary)
    return "sgm" if "shift" in metric else "mean"


def ranked(board: dict[str, Any]) -> list[dict[str, Any]]:
    """Entries sorted best-first on the primary metric's :func:`ranking_statistic` (entries
    without it last)."""
    primary = board["protocol"]["primary_metric"]
    direction = next(m["direction"] for m in board["protocol"]["metrics"] if m["name"] == primary)
    sign = -1.0 if direction == "max" else 1.0
    statistic = ranking_statistic(board)

    def key(entry: dict[str, Any]) -> float:
        value = entry["results"].get(primary, {}).get(statistic)
        return math.inf if value is None else sign * value

    return sorted(board["entries"], key=key)


def to_markdown(board: dict[str, Any]) -> str:
    primary = board["protocol"]["primary_metric"]
    metrics = board["protocol"]["metrics"]
    others = [m["name"] for m in metrics if m["name"] != primary]
    # Metrics with a shift show their shifted geometric mean, the others their mean.
    shown = {m["name"]: "sgm" if "shift" in m else "mean" for m in metrics}
    sgm_columns = [f"{name} (sgm)" for name, stat in shown.items() if stat == "sgm"]
    header = ["#", "agent", "kind", "submitter", f"{primary} (mean ± std)", "IQM [95% CI]",
              *[m for m in others if shown[m] == "mean"], *sgm_columns, "normalized", "train steps", "runs"]
    lines = [f"### {board['task']}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for rank, e in enumerate(ranked(board), 1):
        p = e["results"].get(primary, {})
        cells = [
            str(rank), e["agent"], e["kind"], e["submitter"],
            f"{_fmt(p.get('mean'))} ± {_fmt(p.get('std'))}",
            f"{_fmt(p.get('iqm'))} [{_fmt(p.get('ci95', [None])[0])}, {_fmt(p.get('ci95', [None, None])[1])}]",
            *[_fmt(e["results"].get(m, {}).get("mean")) for m in others if shown[m] == "mean"],
            *[_fmt(e["results"].get(m, {}).get("sgm")) for m, stat in shown.items() if stat == "sgm"],
            _fmt(e.get("normalized_score")), str(e["train_timesteps"]), str(len(e["runs"])),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def to_model_index(board: dict[str, Any], agent: str) -> str:
    """Hugging Face model-card ``model-index`` metadata (YAML) for one agent's entries."""
    entries = [e for e in board["entries"] if e["agent"] == agent]
    if not entries:
        known = sorted({e["agent"] for e in board["entries"]})
        raise LeaderboardError(f"no entry for agent {agent!r} on {board['task']}; entries: {known}")
    lines = ["model-index:", f"- name: {agent}", "  results:"]
    for e in entries:
        lines += [
            "  - task:",
            "      type: reinforcement-learning",
            "      name: reinforcement-learning",
            "    dataset:",
            f"      name: {board['task']}",
            f"      type: {board['task']}",
            "    metrics:",
        ]
        for name, stat in e["results"].items():
            lines += [
                f"    - type: {name}",
                f"      value: {_fmt(stat['mean'])} +/- {_fmt(stat['std'])}",
                f"      name: {name} ({e['kind']}, {e['submitter']})",
                "      verified: false",
            ]
    return "\n".join(lines) + "\n"


def _fmt(x: Any) -> str:
    if x is None:
        return "–"
    x = float(x)
    return f"{x:.4g}" if abs(x) < 1e5 else f"{x:.3e}"


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
