"""Leaderboard files (schema ``gauntlet-leaderboard/2``): record runs as entries, merge them by
identity without ever replacing one silently, read and write atomically, export.

An entry is identified by (agent, kind, submitter, config) (:mod:`gauntlet.bench.identity`).
Recording runs whose (agent, kind, submitter) is on the board with another config is refused
with the differences, field by field; ``replace=True`` (``--replace``) replaces that entry, and
another submitter keeps both. Runs with the same config are merged into the entry: a train
seed the entry already has is kept as it is when the new run measured exactly the same, and
refused otherwise (the same seed and config should reproduce; a difference means the runs are
not comparable). A refused write changes nothing on disk.

Reading checks the board's integrity (:mod:`gauntlet.bench.integrity`); ``validate`` also
compares it with the registry. Writes are atomic (temp file + rename) under a lock.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

from gauntlet.bench.entries import (
    KINDS,
    SCHEMA_ID,
    LeaderboardError,
    build_entry,
    entry_from_runs,
    primary_normalized,
    protocol,
    protocol_differences,
)
from gauntlet.bench.formatting import format_interval, format_mean_std, format_number
from gauntlet.bench.identity import (
    REPRODUCTION_RTOL,
    describe,
    differences,
    entry_sha256,
    identity,
    reproducible,
    shown,
)
from gauntlet.bench.integrity import registry_problems, schema, validate
from gauntlet.bench.ranking import (
    bound_metrics,
    bounds,
    feasibility,
    BOUND,
    interval,
    interval_label,
    is_constrained,
    ranked,
    ranking_statistic,
)
from gauntlet.bench.runner import RunRecord, jsonable
from gauntlet.file_mode import new_file_mode
from gauntlet.registry import get_task

__all__ = [
    "KINDS", "SCHEMA_ID", "LeaderboardError", "board_path", "bounds", "entry_from_runs", "load", "merge", "new_board",
    "protocol", "ranked", "ranking_statistic", "read", "record", "refresh", "registry_problems", "save", "schema",
    "to_markdown", "to_model_index", "validate",
]

_REPLACE_HINT = ("To keep both, record the new runs under another submitter (--submitter NAME); "
                 "to replace the entry, pass --replace.")


def board_path(directory: str | Path, task_id: str) -> Path:
    """``leaderboards/LotSizing-15x5-v0.json`` for ``gauntlet/LotSizing-15x5-v0``."""
    return Path(directory) / f"{task_id.split('/', 1)[-1]}.json"


def new_board(task_id: str) -> dict[str, Any]:
    task = get_task(task_id)
    if task.benchmark is None:
        raise LeaderboardError(f"task {task_id!r} has no benchmark spec, so it has no leaderboard")
    return {"schema": SCHEMA_ID, "task": task_id, "env_kwargs": jsonable(task.kwargs),
            "protocol": protocol(task.benchmark), "entries": []}


# ------------------------------------------------------------------- merge and record
def merge(board: dict[str, Any], entry: dict[str, Any], *, replace: bool = False,
          path: str | Path = "<memory>") -> dict[str, Any]:
    """A new board with ``entry`` added, merged into the entry of the same identity, or (with
    ``replace``) replacing it; see the module docstring for what is refused."""
    key = identity(entry)
    index = next((i for i, e in enumerate(board["entries"]) if identity(e) == key), None)
    entries = list(board["entries"])
    if replace:
        if index is None:
            known = ", ".join(describe(identity(e)) for e in entries) or "none"
            raise LeaderboardError(f"{path}: --replace: there is no entry {describe(key)} to replace "
                                   f"(entries: {known}); nothing was written. Drop --replace to add it.")
        entries[index] = entry
    elif index is None:
        entries.append(entry)
    else:
        entries[index] = _merged(board, entries[index], entry, path)
    return {**board, "entries": entries}


def _merged(board: dict[str, Any], old: dict[str, Any], new: dict[str, Any], path: str | Path) -> dict[str, Any]:
    key = describe(identity(old))
    if old["config_sha256"] != new["config_sha256"]:
        lines = "\n".join(f"  config/{field}: {shown(a)} on the board, {shown(b)} in the new runs"
                          for field, a, b in differences(old["config"], new["config"]))
        raise LeaderboardError(f"{path}: the entry {key} exists with another config; nothing was written:\n"
                               f"{lines}\n{_REPLACE_HINT}")
    runs = {r["train_seed"]: r for r in old["runs"]}
    for run in new["runs"]:
        seed = run["train_seed"]
        if seed in runs:
            changed = differences(reproducible(runs[seed], board["task"]), reproducible(run, board["task"]),
                                  rel_tol=REPRODUCTION_RTOL)
            if changed:
                field, a, b = changed[0]
                raise LeaderboardError(
                    f"{path}: train seed {seed} of the entry {key} was measured with other results "
                    f"(first difference runs/{field}: {shown(a)} on the board, {shown(b)} now; the same seed and "
                    f"config should reproduce them); nothing was written. {_REPLACE_HINT}"
                )
        else:
            runs[seed] = run
    return build_entry(agent=old["agent"], kind=old["kind"], submitter=old["submitter"], created=old["created"],
                       config=old["config"], runs=list(runs.values()), board_protocol=board["protocol"])


def record(
    runs: Sequence[RunRecord],
    *,
    kind: str,
    submitter: str = "gauntlet",
    directory: str | Path = "leaderboards",
    agent: str | None = None,
    artifact_sha256: str | None = None,
    replace: bool = False,
) -> Path:
    """Aggregate ``runs`` into an entry and merge it into the task's board under ``directory``.

    The runs must have been evaluated on the official seeds and produced under the task's
    protocol (its env kwargs for training and for evaluation)."""
    entry = entry_from_runs(runs, kind=kind, submitter=submitter, agent=agent, artifact_sha256=artifact_sha256)
    task_id = runs[0].task
    if runs[0].eval_seeds != get_task(task_id).benchmark.eval_seeds(official=True):
        raise LeaderboardError(
            f"runs were evaluated on seeds {runs[0].eval_seeds[:3]}..., not on the official seeds; "
            "leaderboard entries use the official evaluation seeds"
        )
    off_protocol = [f"  config/{field}: {shown(a)} in the runs, the protocol has {shown(b)}"
                    for field, a, b in protocol_differences(task_id, entry["config"])]
    if off_protocol:
        raise LeaderboardError(f"runs of {entry['agent']!r} on {task_id} were not produced under the task's protocol:\n"
                               + "\n".join(off_protocol)
                               + "\nA board holds entries of its task's protocol only (drop --env-kwargs).")
    path = board_path(directory, task_id)
    if replace and not path.exists():
        raise LeaderboardError(f"{path}: --replace: there is no board, so no entry {describe(identity(entry))} "
                               "to replace; nothing was written. Drop --replace to add it.")
    with _locked(path):
        board = refresh(load(path), path) if path.exists() else new_board(task_id)
        return save(merge(board, entry, replace=replace, path=path), path)


# The parts of a protocol that only describe or rank (units, descriptions, directions, shifts,
# reference scores, constraint budgets): a board follows the registry when they change, its
# entries recomputed from their runs. Anything else changing (seeds, episodes, env kwargs,
# weights, reference point) means a new board.
_REFRESHABLE = ("metrics", "reference_scores", "constraints")


def refresh(board: dict[str, Any], path: str | Path = "<memory>") -> dict[str, Any]:
    """The board under the registry's current metrics, reference scores and constraints, every
    entry recomputed from its runs (and rehashed); ``board`` must have passed the integrity check."""
    task = get_task(board["task"])
    current = protocol(task.benchmark)
    if board["protocol"] == current:
        return board
    fixed = [(f, a, b) for f, a, b in differences(board["protocol"], current) if f.split("/")[0] not in _REFRESHABLE]
    fixed += [(f"env_kwargs/{f}", a, b) for f, a, b in differences(board["env_kwargs"], jsonable(task.kwargs))]
    if fixed:
        lines = "\n".join(f"  {f}: {shown(a)} on the board, {shown(b)} in the registry" for f, a, b in fixed)
        raise LeaderboardError(f"{path}: the board's protocol differs from the task's benchmark spec:\n{lines}\n"
                               "entries are never mixed across protocols (bump the env version or start a new board)")
    def aggregated(p: dict[str, Any]) -> list[tuple[str, Any]]:
        return [(m["name"], m.get("shift")) for m in p["metrics"]]

    if aggregated(board["protocol"]) == aggregated(current):
        # Same metrics and shifts: the results stand as stored; only the normalized score and the hash follow.
        entries = []
        for e in board["entries"]:
            entry = {**e, "normalized_score": primary_normalized(e["results"], current)}
            entries.append({**entry, "sha256": entry_sha256(entry)})
    else:
        entries = [build_entry(agent=e["agent"], kind=e["kind"], submitter=e["submitter"], created=e["created"],
                               config=e["config"], runs=e["runs"], board_protocol=current)
                   for e in board["entries"]]
    return {**board, "protocol": current, "entries": entries}


# ------------------------------------------------------------------------------- io
def read(path: str | Path) -> Any:
    """The JSON in ``path``, unchecked."""
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise LeaderboardError(f"{path}: not valid JSON: {exc}") from None


def load(path: str | Path) -> dict[str, Any]:
    """Read a board and check its integrity (``validate`` also compares it with the registry)."""
    board = read(path)
    validate(board, path, registry=False)
    return board


def save(board: dict[str, Any], path: str | Path) -> Path:
    """Check integrity, then write atomically: the old file stays intact if anything fails."""
    path = Path(path)
    validate(board, path, registry=False)
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
def to_markdown(board: dict[str, Any]) -> str:
    """The ranked policies with every metric, then the bounds apart."""
    metrics = board["protocol"]["metrics"]
    primary = next(m for m in metrics if m["name"] == board["protocol"]["primary_metric"])
    others = [m for m in metrics if m is not primary]
    constrained = is_constrained(board)

    def shown_stat(m: dict[str, Any]) -> str:
        # Metrics with a shift show their shifted geometric mean, the others their mean.
        return "sgm" if "shift" in m else "mean"

    sgm = ranking_statistic(board) == "sgm"
    header = ["#", "agent", "kind", "submitter", *(["feasible"] if constrained else []),
              *([f"{primary['name']} (sgm)"] if sgm else []), f"{primary['name']} (mean ± std)", interval_label(primary),
              *[m["name"] + (" (sgm)" if shown_stat(m) == "sgm" else "") for m in others],
              "normalized", "train steps", "runs"]
    lines = [f"### {board['task']}", "", _md_row(header), "|" + "---|" * len(header)]
    for rank, e in enumerate(ranked(board), 1):
        p = e["results"].get(primary["name"], {})
        cells = [
            str(rank), e["agent"], e["kind"], e["submitter"], *([feasibility(board, e)] if constrained else []),
            *([format_number(p.get("sgm"))] if sgm else []), format_mean_std(p.get("mean"), p.get("std")), format_interval(*interval(p, primary)),
            *[format_number(e["results"].get(m["name"], {}).get(shown_stat(m))) for m in others],
            format_number(e.get("normalized_score")), format_number(e["config"]["train_timesteps"]), str(len(e["runs"])),
        ]
        lines.append(_md_row(cells))
    if bounds(board):
        names = bound_metrics(board)
        lines += ["", "Bounds (not policies, not ranked):", "",
                  _md_row(["agent", "submitter", *[f"{n} (mean ± std)" for n in names], "runs"]),
                  "|" + "---|" * (3 + len(names))]
        for e in bounds(board):
            lines.append(_md_row([e["agent"], e["submitter"],
                                  *[format_mean_std(e["results"].get(n, {}).get("mean"), e["results"].get(n, {}).get("std"))
                                    for n in names], str(len(e["runs"]))]))
    return "\n".join(lines) + "\n"


def _md_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


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
                f"      value: {json.dumps(format_mean_std(stat['mean'], stat['std']).replace('±', '+/-'))}",
                f"      name: {name} ({e['kind']}, {e['submitter']})",
                "      verified: false",
            ]
        if is_constrained(board) and e["kind"] != BOUND:
            lines += [
                "    - type: feasible",
                f"      value: {json.dumps(feasibility(board, e))}",
                f"      name: within every constraint budget ({e['kind']}, {e['submitter']})",
                "      verified: false",
            ]
    return "\n".join(lines) + "\n"
