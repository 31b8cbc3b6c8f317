"""Board entries (schema ``gauntlet-leaderboard/2``) from runs: the protocol a board records,
one run as board JSON, the aggregated results, and a complete entry with its hashes.

The same functions build an entry and recompute it in ``validate``, so what a board shows is
what its raw runs give.
"""

from __future__ import annotations

import inspect
import json
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Iterable, Sequence

import numpy as np

from gauntlet.bench.aggregate import normalized_score, summarize
from gauntlet.bench.identity import canonical_json, content_sha256, differences, entry_sha256
from gauntlet.bench.runner import RunRecord, downsample_curve, jsonable
from gauntlet.registry import BenchmarkSpec, get_task, load_object

SCHEMA_ID = "gauntlet-leaderboard/2"
KINDS = ("reference", "baseline", "submission", "bound")
MO_RUN_METRICS = ("hypervolume", "eum", "cardinality")
MO_SHAPE_METRICS = ("sparsity", "spacing", "spread")
"""Front-shape metrics a run stores only when its task's protocol lists them (older boards lack them)."""


class LeaderboardError(ValueError):
    """A leaderboard file or entry is malformed, tampered with, or inconsistent with its protocol."""


def protocol(spec: BenchmarkSpec) -> dict[str, Any]:
    """The protocol a board of this benchmark spec records (and ``validate`` compares with)."""
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
        "train_env_kwargs": jsonable(spec.train_env_kwargs),
        "eval_env_kwargs": jsonable(spec.eval_env_kwargs),
        "constraints": [{"metric": c.metric, "budget": float(c.budget)} for c in spec.constraints],
    }
    if spec.reference_scores:
        out["reference_scores"] = {k: float(v) for k, v in spec.reference_scores.items()}
    if spec.is_multi_objective:
        out["hv_ref_point"] = list(spec.hv_ref_point)
        out["gamma"] = spec.gamma if spec.gamma is not None else 1.0
        out["preference_weights"] = [list(w) for w in spec.preference_weights]
    return out


def protocol_differences(task_id: str, config: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """How an entry's training and evaluation env kwargs differ from the task's protocol, as
    ``("train_env_kwargs/<kwarg>", recorded, expected)``. A kwarg set to the env's own default
    is the same env as one left unset (``period="train"`` is ESGPortfolio's default), and an
    unset kwarg is shown by its default. The spec's ``train_env_choices`` are the learner's to
    set for training and never differ."""
    task = get_task(task_id)
    spec = task.benchmark
    defaults = _env_defaults(task.entry_point)
    out = []
    for part, extra in (("train_env_kwargs", spec.train_env_kwargs), ("eval_env_kwargs", spec.eval_env_kwargs)):
        recorded, expected = {**defaults, **config[part]}, {**defaults, **jsonable({**task.kwargs, **extra})}
        free = spec.train_env_choices if part == "train_env_kwargs" else ()
        out += [(f"{part}/{field}", a, b) for field, a, b in differences(recorded, expected) if field not in free]
    return out


@lru_cache(maxsize=None)
def _env_defaults_json(entry_point: str) -> str:
    params = inspect.signature(load_object(entry_point)).parameters
    return canonical_json({name: jsonable(p.default) for name, p in params.items()
                           if p.default is not inspect.Parameter.empty and _is_json(p.default)})


def _is_json(value: Any) -> bool:
    try:
        canonical_json(jsonable(value))
    except (TypeError, ValueError):
        return False
    return True


def _env_defaults(entry_point: str) -> dict[str, Any]:
    """The env constructor's default kwargs; none when the env's optional dependency is
    missing, so that kwargs are then compared as written."""
    try:
        return json.loads(_env_defaults_json(entry_point))
    except ImportError:
        return {}


def run_to_json(run: RunRecord, artifact_sha256: str | None = None) -> dict[str, Any]:
    """One run as a board stores it; ``artifact_sha256`` applies when the run records none."""
    names = sorted({k for m in run.episode_metrics for k in m})
    out: dict[str, Any] = {
        "train_seed": run.train_seed,
        "train_timesteps": int(run.train_timesteps),
        "trained_timesteps": None if run.trained_timesteps is None else int(run.trained_timesteps),
        "episode_returns": jsonable(run.episode_returns),
        "metrics": {k: jsonable([m.get(k) for m in run.episode_metrics]) for k in names},
        "wall_time_s": float(run.wall_time_s),
        "steps_per_s": jsonable(run.steps_per_s),
        "artifact_sha256": run.artifact_sha256 or artifact_sha256,
        "provenance": {
            "command": run.command,
            "git_commit": run.git_commit,
            "versions": {k: str(v) for k, v in run.versions.items()},
        },
    }
    if run.learning_curve:
        # Only when there is one: entries written before curves existed keep their content and hash.
        out["learning_curve"] = downsample_curve(run.learning_curve)
    if run.mo_metrics is not None:
        out["mo_metrics"] = {
            "hypervolume": float(run.mo_metrics["hypervolume"]),
            "eum": float(run.mo_metrics["eum"]),
            "cardinality": int(run.mo_metrics["cardinality"]),
            "front": jsonable(run.mo_metrics["front"]),
        }
        listed = {m.name for m in get_task(run.task).benchmark.metrics}
        out["mo_metrics"].update({k: float(run.mo_metrics[k]) for k in MO_SHAPE_METRICS
                                  if k in listed and k in run.mo_metrics})
    return out


def results_from_runs(runs: Sequence[dict[str, Any]], metrics: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Aggregated statistics per protocol metric (``{"name", "shift"?}``), recomputed from the raw
    runs; a metric that some run does not report is left out."""
    results = {}
    for metric in metrics:
        name = metric["name"]
        if name in MO_RUN_METRICS or name in MO_SHAPE_METRICS:
            if not all(name in r.get("mo_metrics", {}) for r in runs):
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


def primary_normalized(results: dict[str, Any], board_protocol: dict[str, Any]) -> float | None:
    mean = results.get(board_protocol["primary_metric"], {}).get("mean")
    return None if mean is None else normalized_score(mean, board_protocol.get("reference_scores", {}))


def combined_front(runs: Sequence[dict[str, Any]]) -> list[list[float]]:
    """The non-dominated points of every run's front (multi-objective entries)."""
    from gauntlet.bench.multi_objective import pareto_front

    points = [p for r in runs for p in r["mo_metrics"]["front"]]
    return jsonable(pareto_front(np.asarray(points, dtype=float))) if points else []


def build_entry(
    *,
    agent: str,
    kind: str,
    submitter: str,
    created: str,
    config: dict[str, Any],
    runs: Sequence[dict[str, Any]],
    board_protocol: dict[str, Any],
) -> dict[str, Any]:
    """An entry from board-JSON runs: results, normalized score and (MO) front recomputed, runs
    sorted by train seed, ``config_sha256`` and ``sha256`` set."""
    runs = sorted(runs, key=lambda r: r["train_seed"])
    results = results_from_runs(runs, board_protocol["metrics"])
    if board_protocol["primary_metric"] not in results:
        raise LeaderboardError(f"runs of {agent!r} do not report the primary metric {board_protocol['primary_metric']!r}")
    entry: dict[str, Any] = {
        "agent": agent,
        "kind": kind,
        "submitter": submitter,
        "created": created,
        "config": config,
        "config_sha256": content_sha256(config),
        "train_seeds": [r["train_seed"] for r in runs],
        "results": results,
        "normalized_score": primary_normalized(results, board_protocol),
        "runs": list(runs),
    }
    if "preference_weights" in board_protocol:
        entry["front"] = combined_front(runs)
    entry["sha256"] = entry_sha256(entry)
    return entry


def entry_from_runs(
    runs: Sequence[RunRecord],
    *,
    kind: str,
    submitter: str = "gauntlet",
    agent: str | None = None,
    artifact_sha256: str | None = None,
) -> dict[str, Any]:
    """One leaderboard entry aggregating runs of one (task, agent, config) over training seeds.

    ``artifact_sha256`` is recorded for runs that carry none of their own (a submission's file).
    """
    if not runs:
        raise LeaderboardError("no runs to aggregate")
    if kind not in KINDS:
        raise LeaderboardError(f"kind must be one of {KINDS}, got {kind!r}")
    first = runs[0]
    for r in runs:
        if r.train_env_kwargs is None or r.eval_env_kwargs is None:
            raise LeaderboardError(
                f"run {r.agent!r} seed {r.train_seed} does not record the env kwargs it was trained and evaluated "
                "with (a run file of an older gauntlet); rerun it"
            )
        for attr in ("task", "agent", "config", "eval_seeds"):
            if getattr(r, attr) != getattr(first, attr):
                raise LeaderboardError(
                    f"runs disagree on {attr}: {getattr(first, attr)!r} vs {getattr(r, attr)!r}; "
                    "an entry aggregates runs of one agent on one task with one config"
                )
    seeds = [r.train_seed for r in runs]
    if len(set(seeds)) != len(seeds):
        raise LeaderboardError(f"duplicate train seeds in runs: {seeds}")
    spec = get_task(first.task).benchmark
    return build_entry(
        agent=agent or first.agent,
        kind=kind,
        submitter=submitter,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        config=first.config,
        runs=[run_to_json(r, artifact_sha256) for r in runs],
        board_protocol=protocol(spec),
    )
