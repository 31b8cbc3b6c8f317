"""``gauntlet leaderboard verify TASK AGENT``: re-run a board entry from its provenance and mark
it verified only when its numbers reproduce.

Each run of the entry is re-measured from what the board records: its train seed, the entry's
config (training budget, agent kwargs, env kwargs; refused if the registry's protocol would no
longer produce that config) and, for a learned run, its saved weights, found under ``models``
by their sha256 and re-evaluated without retraining. A run that trained nothing (a baseline) is
simply run again; a learned run whose weights are not found is retrained only on request
(``retrain=True``), since that costs its whole budget.

- **exact**: on a deterministic protocol, runs re-evaluated from weights or re-run without
  training must reproduce every episode's return and metrics (to the boards' reproduction
  tolerance). The entry is verified when every compared run does.
- **within CI**: for retrained runs or a stochastic protocol, the re-measured mean of every
  metric must lie in the entry's 95% CI of the mean (an entry of one run has none, so it can
  only be verified exactly).

The outcome, verified or not, is written into the entry as ``verification`` (mode, each run's
source and first differences, each metric's board and re-measured mean), and the entry is
re-hashed, so ``gauntlet leaderboard validate`` keeps covering it. New runs merged into the entry
later rebuild it without the verification, which no longer applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from gauntlet.bench import leaderboard
from gauntlet.bench.artifacts import load_weights
from gauntlet.bench.entries import results_from_runs, run_to_json
from gauntlet.bench.formatting import format_interval, format_number
from gauntlet.bench.identity import (
    REPRODUCTION_RTOL,
    describe,
    differences,
    entry_sha256,
    identity,
    reproducible,
    shown,
)
from gauntlet.bench.runner import RunRecord, evaluate_run, make_task_env, run, run_config
from gauntlet.data.fetch import sha256_of
from gauntlet.registry import get_agent, get_task



@dataclass
class Verification:
    record: dict[str, Any]
    """What is written into the entry as ``verification``."""
    lines: list[str]
    """The comparison, for a reader."""

    @property
    def verified(self) -> bool:
        return self.record["status"] == "verified"


def verify(task_id: str, agent: str, *, directory: str | Path = "leaderboards", submitter: str | None = None,
           models: str | Path = "models", seeds: Sequence[int] | None = None, retrain: bool = False,
           write: bool = True, command: str | None = None) -> Verification:
    """Re-measure the entry of ``agent`` (of ``submitter``) on the task's board and record the
    outcome in it (unless ``write=False``); ``seeds`` limits the runs compared."""
    task = get_task(task_id)
    path = leaderboard.board_path(directory, task_id)
    if not path.exists():
        raise FileNotFoundError(f"no leaderboard for {task_id} at {path}")
    board = leaderboard.load(path)
    entry = _entry(board, agent, submitter, path)
    runs = [r for r in entry["runs"] if seeds is None or r["train_seed"] in seeds]
    if not runs:
        raise ValueError(f"seeds={list(seeds or [])}: the entry {describe(identity(entry))} has runs for train "
                         f"seeds {entry['train_seeds']} only")
    env_kwargs = _env_kwargs(task_id, agent, entry["config"])
    command = command or f"gauntlet leaderboard verify {task_id} {agent}"
    compared, records = [], []
    for board_run in runs:
        record, source = _remeasure(task_id, agent, entry, board_run, env_kwargs, models, retrain, command)
        changed = differences(reproducible(board_run, task_id), reproducible(run_to_json(record), task_id),
                              rel_tol=REPRODUCTION_RTOL)
        compared.append({"train_seed": board_run["train_seed"], "source": source,
                         "artifact_sha256": board_run["artifact_sha256"], "exact": not changed,
                         "differences": [f"{f}: {shown(a)} on the board, {shown(b)} now" for f, a, b in changed[:3]]})
        records.append(record)
    exact_mode = board["protocol"]["deterministic"] and all(c["source"] != "retrained" for c in compared)
    now = results_from_runs([run_to_json(r) for r in records], board["protocol"]["metrics"])
    metrics = {}
    for name, stat in entry["results"].items():
        low, high = stat["mean_ci95"]
        mean = now.get(name, {}).get("mean")
        within = (mean is not None and low is not None and high is not None
                  and low - REPRODUCTION_RTOL * abs(low) <= mean <= high + REPRODUCTION_RTOL * abs(high))
        metrics[name] = {"board_mean": stat["mean"], "board_mean_ci95": [low, high], "mean_now": mean,
                         "within_ci": bool(within)}
    all_exact = all(c["exact"] for c in compared)
    verified = all_exact if exact_mode else all_exact or all(m["within_ci"] for m in metrics.values())
    first = records[0]
    result = {
        "status": "verified" if verified else "not reproduced",
        "mode": "exact" if exact_mode else "within CI",
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": command,
        "git_commit": first.git_commit,
        "versions": {k: str(v) for k, v in first.versions.items()},
        "runs": compared,
        "metrics": metrics,
    }
    if write:
        _write(path, entry, result)
    return Verification(result, _lines(entry, result, path, write))


def _entry(board: dict[str, Any], agent: str, submitter: str | None, path: Path) -> dict[str, Any]:
    found = [e for e in board["entries"] if e["agent"] == agent and submitter in (None, e["submitter"])]
    if not found:
        known = ", ".join(describe(identity(e)) for e in board["entries"]) or "none"
        raise ValueError(f"{path}: no entry of agent {agent!r}"
                         f"{'' if submitter is None else f' by submitter {submitter!r}'}; entries: {known}")
    if len(found) > 1:
        raise ValueError(f"{path}: {len(found)} entries of agent {agent!r} (submitters "
                         f"{[e['submitter'] for e in found]}); choose one with --submitter NAME")
    return found[0]


def _env_kwargs(task_id: str, agent: str, config: dict[str, Any]) -> dict[str, Any]:
    """The user env kwargs that make the runner produce ``config`` again: none under the task's
    protocol (every official entry); refused when the registry would now produce another config."""
    expected = run_config(task_id, agent, total_timesteps=config["train_timesteps"], agent_kwargs=config["agent_kwargs"])
    changed = differences(config, expected)
    if changed:
        lines = "; ".join(f"config/{f}: {shown(a)} on the board, {shown(b)} now" for f, a, b in changed[:5])
        raise ValueError(f"the entry's config cannot be reproduced under the registry's current protocol ({lines}); "
                         "it can be re-evaluated from its weights with gauntlet leaderboard evaluate")
    return {}


def _remeasure(task_id: str, agent: str, entry: dict[str, Any], board_run: dict[str, Any], env_kwargs: dict[str, Any],
               models: str | Path, retrain: bool, command: str) -> tuple[RunRecord, str]:
    seed, config = board_run["train_seed"], entry["config"]
    spec = get_agent(agent)
    sha = board_run["artifact_sha256"]
    if spec.learns and config["train_timesteps"] > 0 and sha is not None:
        weights = find_weights(models, task_id, agent, sha)
        if weights is not None:
            task = get_task(task_id)
            env = make_task_env(task_id, **{**task.kwargs, **task.benchmark.train_env_kwargs})
            model = load_weights(spec, weights, env, task_id)
            env.close()
            return evaluate_run(task_id, agent, model, train_seed=seed, train_timesteps=config["train_timesteps"],
                                trained_timesteps=board_run["trained_timesteps"], env_kwargs=env_kwargs,
                                agent_kwargs=config["agent_kwargs"], command=command), "weights"
    learned = spec.learns and config["train_timesteps"] > 0
    if learned and not retrain:
        where = f"no weights with sha256 {sha} under {models}" if sha else "no saved weights recorded"
        raise FileNotFoundError(f"train seed {seed} of {describe(identity(entry))}: {where}; pass --models DIR where "
                                f"they are, or --retrain to train it again ({config['train_timesteps']} steps)")
    record = run(task_id, agent, train_seed=seed, total_timesteps=config["train_timesteps"],
                 agent_kwargs=config["agent_kwargs"], env_kwargs=env_kwargs, command=command)
    return record, "retrained" if learned else "re-run"


def find_weights(models: str | Path, task_id: str, agent: str, sha256: str) -> Path | None:
    """The file under ``models`` with this sha256, looked for where ``gauntlet run --save`` and the
    reproduce scripts put an agent's weights (``[<family>/]<task>/<agent>/seed<k>.*``)."""
    root = Path(models)
    slug = task_id.replace("/", "__")
    candidates = sorted({*root.glob(f"{slug}/{agent}/*"), *root.glob(f"*/{slug}/{agent}/*")})
    return next((p for p in candidates if p.is_file() and sha256_of(p) == sha256), None)


def _write(path: Path, entry: dict[str, Any], result: dict[str, Any]) -> None:
    with leaderboard._locked(path):
        board = leaderboard.load(path)
        index = next((i for i, e in enumerate(board["entries"]) if e["sha256"] == entry["sha256"]), None)
        if index is None:
            raise leaderboard.LeaderboardError(f"{path}: the entry {describe(identity(entry))} changed while it was "
                                               "being verified; nothing was written, verify it again")
        updated = {k: v for k, v in entry.items() if k not in ("sha256", "verification")}
        updated["verification"] = result
        updated["sha256"] = entry_sha256(updated)
        entries = list(board["entries"])
        entries[index] = updated
        leaderboard.save({**board, "entries": entries}, path)


def _lines(entry: dict[str, Any], result: dict[str, Any], path: Path, written: bool) -> list[str]:
    out = [f"{describe(identity(entry))} on {path}, compared {result['mode']}:"]
    for c in result["runs"]:
        out.append(f"  train seed {c['train_seed']} ({c['source']}): "
                   + ("every episode reproduced" if c["exact"] else "differs: " + "; ".join(c["differences"])))
    for name, m in result["metrics"].items():
        ci = format_interval(m["board_mean"], m["board_mean_ci95"])
        out.append(f"  {name}: mean {ci} on the board, {format_number(m['mean_now'])} now"
                   + ("" if result["mode"] == "exact" else f" ({'within' if m['within_ci'] else 'outside'} the CI)"))
    out.append(result["status"] + ("; recorded in the entry's verification" if written else " (not written)"))
    return out
