"""``validate``: everything a board claims, checked against its raw runs and against the registry.

Two layers, each reporting every problem it finds as ``<file>: field '<path>': <what>``:

- :func:`integrity_problems` -- the board is what its writer produced: the JSON schema, every
  aggregate and CI recomputed from the raw runs, run counts, train seeds, training budgets,
  multi-objective figures, the normalized score, and the sha256 of each entry's config and of
  its whole content (so an edited wall time or command is caught too).
- :func:`registry_problems` -- the board belongs to the task as the registry defines it now:
  the task id (and so the env version) and the file name, the env kwargs, every field of the
  protocol (seeds, metrics and their directions, constraints, env kwargs of training and
  evaluation), and every entry's config produced under that protocol.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from gauntlet.bench.entries import (
    MO_RUN_METRICS,
    MO_SHAPE_METRICS,
    SCHEMA_ID,
    LeaderboardError,
    combined_front,
    primary_normalized,
    protocol,
    protocol_differences,
    results_from_runs,
)
from gauntlet.bench.identity import content_sha256, describe, differences, entry_sha256, identity, shown
from gauntlet.bench.runner import front_metrics, jsonable
from gauntlet.registry import TASKS

_STAT_FIELDS = ("mean", "std", "iqm", "ci95", "mean_ci95", "n_runs", "sgm")


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    return json.loads(resources.files("gauntlet.bench").joinpath("leaderboard_schema.json").read_text())


def validate(board: Any, path: str | Path = "<memory>", *, registry: bool = True) -> None:
    """Raise a LeaderboardError listing every problem (file, field, what was expected); with
    ``registry=False`` only the board's own integrity is checked."""
    found = integrity_problems(board, path)
    if registry and not found:
        found = registry_problems(board, path)
    if len(found) == 1:
        raise LeaderboardError(found[0])
    if found:
        raise LeaderboardError(f"{path}: {len(found)} problems:\n  " + "\n  ".join(found))


# ------------------------------------------------------------------------ integrity
def integrity_problems(board: Any, path: str | Path = "<memory>") -> list[str]:
    if not isinstance(board, dict):
        return [f"{path}: not a leaderboard (a JSON object with schema {SCHEMA_ID!r})"]
    if board.get("schema") != SCHEMA_ID:
        return [f"{path}: field 'schema': {board.get('schema')!r}, this gauntlet reads {SCHEMA_ID!r} boards"]
    validator = jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.FormatChecker())
    error = jsonschema.exceptions.best_match(validator.iter_errors(board))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "<root>"
        return [f"{path}: field '{where}': {error.message}"]
    prot = board["protocol"]
    names = [m["name"] for m in prot["metrics"]]
    out = []
    if prot["primary_metric"] not in names:
        out.append(f"{path}: field 'protocol/primary_metric': {prot['primary_metric']!r} is not among protocol/metrics {names}")
    for k, c in enumerate(prot["constraints"]):
        if c["metric"] not in names:
            out.append(f"{path}: field 'protocol/constraints/{k}/metric': {c['metric']!r} is not among protocol/metrics {names}")
    if out:
        return out
    seen: dict[tuple[str, str, str], int] = {}
    for i, entry in enumerate(board["entries"]):
        key = identity(entry)
        if key in seen:
            out.append(f"{path}: field 'entries/{i}': a second entry {describe(key)} (the first is entries/{seen[key]})")
        seen.setdefault(key, i)
        out += [f"{path}: field 'entries/{i}/{field}': {what}" for field, what in _entry_problems(entry, prot)]
    return out


def _entry_problems(entry: dict[str, Any], prot: dict[str, Any]) -> list[tuple[str, str]]:
    """(field inside the entry, what is wrong) for one entry; the hash checks come last so that
    an edit of a checkable field is reported by name."""
    out: list[tuple[str, str]] = []
    runs = entry["runs"]
    n_weights = len(prot.get("preference_weights", [None]))
    n_episodes = len(prot["eval_seeds"]) * n_weights
    seeds = [r["train_seed"] for r in runs]
    if entry["train_seeds"] != seeds:
        if len(entry["train_seeds"]) != len(seeds):
            out.append(("train_seeds", f"{entry['train_seeds']} lists {len(entry['train_seeds'])} seeds, the entry has {len(seeds)} runs {seeds}"))
        for j, (listed, run_seed) in enumerate(zip(entry["train_seeds"], seeds)):
            if listed != run_seed:
                out.append((f"runs/{j}/train_seed", f"{run_seed}, but the entry's train_seeds say {listed}"))
    if seeds != sorted(set(seeds)):
        out.append(("train_seeds", f"runs must have distinct train seeds in increasing order, got {seeds}"))
    for j, seed in enumerate(seeds):
        if seed not in prot["train_seeds"]:
            out.append((f"runs/{j}/train_seed", f"{seed} is not a training seed of the protocol {prot['train_seeds']}"))
    for j, run in enumerate(runs):
        out += [(f"runs/{j}/{field}", what) for field, what in _run_problems(run, entry["config"], prot, n_episodes)]
    if out:
        return out
    recomputed = results_from_runs(runs, prot["metrics"])
    for name in sorted(set(recomputed) - set(entry["results"])):
        out.append((f"results/{name}", "missing, though its runs report it"))
    for name, stat in entry["results"].items():
        if name not in recomputed:
            out.append((f"results/{name}", "no run reports this metric"))
            continue
        for field in _STAT_FIELDS:
            if not _close(stat.get(field), recomputed[name].get(field)):
                out.append((f"results/{name}/{field}",
                            f"{shown(stat.get(field))} does not match {shown(recomputed[name].get(field))} recomputed from its runs"))
    expected = primary_normalized(entry["results"], prot)
    if not _close(entry.get("normalized_score"), expected):
        out.append(("normalized_score", f"{entry.get('normalized_score')} does not match {expected} from the protocol's reference_scores"))
    if "preference_weights" in prot and not _close(entry.get("front"), combined_front(runs)):
        out.append(("front", "does not match the non-dominated points of its runs' fronts"))
    if out:
        return out
    if entry["config_sha256"] != content_sha256(entry["config"]):
        out.append(("config", f"does not hash to its config_sha256 {entry['config_sha256'][:12]}... (edited after it was written)"))
    elif entry["sha256"] != entry_sha256(entry):
        out.append(("sha256", "the entry's content does not match its sha256: a field was edited after it was written "
                              "(a number, a wall time, a command, ...)"))
    return out


def _run_problems(run: dict[str, Any], config: dict[str, Any], prot: dict[str, Any], n_episodes: int) -> list[tuple[str, str]]:
    out = []
    if len(run["episode_returns"]) != n_episodes:
        out.append(("episode_returns", f"{len(run['episode_returns'])} episodes, the protocol evaluates {n_episodes}"))
    for name, values in run["metrics"].items():
        if len(values) != len(run["episode_returns"]):
            out.append((f"metrics/{name}", f"{len(values)} values for {len(run['episode_returns'])} episodes"))
    logged = run["metrics"].get("return")
    if logged is not None and not all(_close(a, b) for a, b in zip(logged, run["episode_returns"])):
        out.append(("episode_returns", "does not match the run's per-episode 'return' metric"))
    if run["train_timesteps"] != config["train_timesteps"]:
        out.append(("train_timesteps", f"{run['train_timesteps']}, but the entry's config/train_timesteps is {config['train_timesteps']}"))
    if "preference_weights" in prot:
        if "mo_metrics" not in run:
            out.append(("mo_metrics", "missing: every run of a multi-objective task has its hypervolume, EUM, cardinality and front"))
        elif not out:
            expected = front_metrics(run["episode_returns"], prot["preference_weights"], prot["hv_ref_point"],
                                     len(prot["eval_seeds"]))
            shape = [name for name in MO_SHAPE_METRICS if name in run["mo_metrics"]]
            for name in (*MO_RUN_METRICS, "front", *shape):
                if not _close(run["mo_metrics"][name], expected[name]):
                    out.append((f"mo_metrics/{name}", f"{shown(run['mo_metrics'][name])} does not match "
                                                      f"{shown(expected[name])} recomputed from its episode returns"))
    return out


# ------------------------------------------------------------------------- registry
def registry_problems(board: dict[str, Any], path: str | Path = "<memory>") -> list[str]:
    task_id = board["task"]
    if task_id not in TASKS:
        stem = task_id.rsplit("-v", 1)[0]
        versions = sorted(t for t in TASKS if t.rsplit("-v", 1)[0] == stem)
        hint = (f"the registry has {versions}: a board of another env version (entries are never mixed across env versions)"
                if versions else "no task of that name is registered")
        return [f"{path}: field 'task': {task_id!r} is not a registered task; {hint}"]
    task = TASKS[task_id]
    if task.benchmark is None:
        return [f"{path}: field 'task': {task_id!r} has no benchmark spec, so it has no leaderboard"]
    out = []
    if Path(path).suffix == ".json":
        expected_name = f"{task_id.split('/', 1)[-1]}.json"
        if Path(path).name != expected_name:
            out.append(f"{path}: field 'task': {task_id!r}, but the file of that task's board is named {expected_name}")
    env_kwargs = jsonable(task.kwargs)
    out += [f"{path}: field 'env_kwargs/{field}': {shown(old)} on the board, the task's kwargs are {shown(new)}"
            for field, old, new in differences(board["env_kwargs"], env_kwargs)]
    expected = protocol(task.benchmark)
    out += [f"{path}: field 'protocol/{field}': {shown(old)} on the board, the task's protocol has {shown(new)}"
            for field, old, new in differences(board["protocol"], expected)]
    for i, entry in enumerate(board["entries"]):
        out += [f"{path}: field 'entries/{i}/config/{field}': {shown(old)}, the task's protocol "
                f"{'trains' if field.startswith('train') else 'evaluates'} with {shown(new)} "
                f"({describe(identity(entry))} was produced under another protocol: re-measure it)"
                for field, old, new in protocol_differences(task_id, entry["config"])]
    return out


def _close(a: Any, b: Any) -> bool:
    """Equal JSON values, floats up to rounding (recomputed aggregates may differ in the last bits)."""
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return a is b or a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b

