"""The ``gauntlet`` command: list, run, sweep, tune, submit, leaderboard, demo."""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import sys
from pathlib import Path
from typing import Any, Sequence

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from gauntlet.data.fetch import DataChecksumError
from gauntlet.registry import AGENTS, TASKS, UnknownNameError, get_agent, get_task

# Piped output (files, CI logs) gets wide tables instead of rich's 80-column default.
console = Console(width=None if sys.stdout.isatty() else 160)

DEMO_TASK = "gauntlet/LotSizing-15x5-v0"
DEMO_BASELINES = ("random", "newsvendor", "base-stock")


_JSON_EXAMPLE = """'{"learning_rate": 0.001, "n_steps": 256}'"""


def _json_arg(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(
            f"not valid JSON ({exc}): {text!r}; expected a JSON object such as {_JSON_EXAMPLE}"
        ) from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object such as {_JSON_EXAMPLE}, got {text!r}")
    return value


def _integer(text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {value}")
    return value


def _positive(text: str) -> int:
    return _integer(text, 1)


def _non_negative(text: str) -> int:
    return _integer(text, 0)


def _resolve_tasks(patterns: str) -> list[str]:
    """Comma-separated ids or globs (``gauntlet/LotSizing-*``) -> benchmarked task ids."""
    out: list[str] = []
    for pattern in (p.strip() for p in patterns.split(",") if p.strip()):
        if any(ch in pattern for ch in "*?["):
            matches = [t for t in TASKS if fnmatch.fnmatchcase(t, pattern) and TASKS[t].benchmark]
            if not matches:
                known = ", ".join(t for t in TASKS if TASKS[t].benchmark)
                raise ValueError(f"no benchmarked task matches {pattern!r}; benchmarked tasks: {known}")
            out += matches
        else:
            get_task(pattern)
            out.append(pattern)
    return list(dict.fromkeys(out))


def _resolve_agents(names: str, tasks: Sequence[str]) -> list[str]:
    if names == "all":
        return [a.name for a in AGENTS.values() if all(a.supports(t) for t in tasks)]
    out = [n.strip() for n in names.split(",") if n.strip()]
    for name in out:
        get_agent(name)
    return out


# ----------------------------------------------------------------------------- list
def cmd_list(args: argparse.Namespace) -> int:
    if not args.agents_only:
        table = Table(title="Tasks")
        table.add_column("id", no_wrap=True)
        for col in ("family", "benchmark", "vector", "extra"):
            table.add_column(col)
        for t in TASKS.values():
            bench = f"{t.benchmark.primary_metric} ({t.benchmark.train_timesteps:,} steps)" if t.benchmark else "–"
            extra = escape(f"[{t.extra[0]}]") if t.extra else ""  # unescaped, rich reads [scip] as a style
            table.add_row(t.id, t.family, bench, "yes" if t.vector_entry_point else "", extra)
        console.print(table)
    if not args.tasks_only:
        table = Table(title="Agents")
        table.add_column("name", no_wrap=True)
        for col in ("kind", "learns", "tasks", "description"):
            table.add_column(col)
        for a in AGENTS.values():
            table.add_row(a.name, a.kind, "yes" if a.learns else "", ", ".join(a.tasks), escape(a.description))
        console.print(table)
    return 0


# ------------------------------------------------------------------------------ run
def cmd_run(args: argparse.Namespace) -> int:
    from gauntlet.bench import leaderboard, runner

    task = get_task(args.task)
    agent = get_agent(args.agent)
    if task.benchmark is None:
        raise ValueError(f"task {args.task!r} has no benchmark spec; use one of its variants (gauntlet list)")
    if not agent.supports(args.task):
        supported = [t for t in TASKS if agent.supports(t)]
        raise ValueError(f"agent {args.agent!r} does not support {args.task!r}; it supports: {', '.join(supported)}")
    eval_seeds = _eval_seeds(task.benchmark, args.eval, args.eval_episodes)
    records = []
    for seed in range(args.seeds):
        console.print(f"[bold]{args.agent}[/] on {args.task}, train seed {seed}")
        rec = runner.run(
            args.task, args.agent, train_seed=seed, total_timesteps=args.timesteps, eval_seeds=eval_seeds,
            env_kwargs=args.env_kwargs, agent_kwargs=args.agent_kwargs, out_dir=args.out, save_dir=args.save,
            progress_bar=not args.no_progress, tensorboard_log=args.tensorboard_log,
        )
        records.append(rec)
        if rec.artifact_path:
            console.print(f"weights: {rec.artifact_path} (sha256 {rec.artifact_sha256})")
    _print_runs(records, task.benchmark)
    if args.leaderboard:
        path = leaderboard.record(records, kind=args.kind or agent.kind, submitter=args.submitter,
                                  directory=args.leaderboard, replace=args.replace)
        console.print(f"leaderboard entry written to {path}")
    elif args.replace:
        raise ValueError("--replace replaces a leaderboard entry: it needs --leaderboard DIR")
    return 0


def _eval_seeds(spec, which: str, episodes: int | None) -> list[int]:
    seeds = spec.eval_seeds(official=(which == "official"))
    if episodes is not None:
        if which == "official" and episodes != len(seeds):
            raise ValueError(f"official evaluation uses all {len(seeds)} episodes; use --eval dev to change the count")
        start = seeds[0]
        seeds = list(range(start, start + episodes))
    return seeds


def _print_runs(records, spec) -> None:
    import numpy as np

    from gauntlet.bench.formatting import format_number

    table = Table(title=f"{records[0].agent} on {records[0].task}")
    names = [m.name for m in spec.metrics]
    for col in ("train seed", *names, "train steps", "trained", "wall s"):
        table.add_column(col, justify="right")
    for rec in records:
        cells = []
        for name in names:
            if rec.mo_metrics is not None and name in rec.mo_metrics:
                cells.append(format_number(rec.mo_metrics[name]))
                continue
            values = [m.get(name) for m in rec.episode_metrics if m.get(name) is not None]
            cells.append(format_number(np.nanmean(values)) if values else "–")
        table.add_row(str(rec.train_seed), *cells, format_number(rec.train_timesteps),
                      format_number(rec.trained_timesteps), f"{rec.wall_time_s:.1f}")
    console.print(table)


# ---------------------------------------------------------------------------- sweep
def cmd_sweep(args: argparse.Namespace) -> int:
    from gauntlet.bench import leaderboard, sweep

    tasks = _resolve_tasks(args.tasks)
    agents = _resolve_agents(args.agents, tasks)
    seeds = range(args.seeds)
    jobs = sweep.plan(tasks, agents, seeds, args.out, total_timesteps=args.timesteps,
                      command=" ".join(["gauntlet", *sys.argv[1:]]), save_dir=args.save)
    if args.replace and not args.leaderboard:
        raise ValueError("--replace replaces leaderboard entries: it needs --leaderboard DIR")
    executor = _executor(args.executor, args.workers, args.address)
    sweep.check_resumable(jobs)
    todo = [j for j in jobs if not sweep.is_done(j)]
    console.print(f"{len(jobs)} jobs: {len(jobs) - len(todo)} already done, {len(todo)} to run "
                  f"on {args.executor} x{args.workers}")
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, disable=args.no_progress) as progress:
        bar = progress.add_task("sweep", total=len(todo))

        def done(job, result) -> None:
            status = "[red]failed[/]" if isinstance(result, BaseException) else "done"
            progress.console.print(f"{status}: {job.agent} on {job.task} seed {job.train_seed}")
            progress.advance(bar)

        outcome = sweep.sweep(jobs, executor, on_done=done)
    for job, error in outcome["failed"]:
        console.print(f"[red]FAILED[/] {job.agent} on {job.task} seed {job.train_seed}: {escape(error)}")
    if args.leaderboard:
        for (task_id, agent), records in sweep.load_runs(jobs).items():
            path = leaderboard.record(records, kind=get_agent(agent).kind, submitter=args.submitter,
                                      directory=args.leaderboard, replace=args.replace)
            console.print(f"{agent} on {task_id}: {len(records)} runs -> {path}")
    return 1 if outcome["failed"] else 0


def _executor(name: str, workers: int, address: str | None = None):
    from gauntlet.bench import sweep

    if address is not None and name != "ray":
        raise ValueError(f"--address is the Ray cluster's address: it needs --backend ray, not {name!r}")
    if name == "ray":
        from gauntlet.bench.executors import RayExecutor

        return RayExecutor(address, num_cpus=workers)
    if name == "local":
        return sweep.LocalPoolExecutor(workers)
    if name == "serial":
        return sweep.SerialExecutor()
    raise ValueError(f"unknown executor {name!r}; known: local, serial, ray")


# ----------------------------------------------------------------------------- tune
def cmd_tune(args: argparse.Namespace) -> int:
    from gauntlet.bench.tuning import TuningError, tune_agent  # imports Ray only once the input is checked

    try:
        best = tune_agent(args.task, args.agent, samples=args.samples, out=args.out, timesteps=args.timesteps,
                          eval_episodes=args.eval_episodes, num_cpus=args.workers, seed=args.seed,
                          **{k: getattr(args, k) for k in ("rungs", "grace_period", "reduction_factor")
                             if getattr(args, k) is not None})
    except TuningError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    metric = get_task(args.task).benchmark.primary_metric
    console.print(f"best of {args.samples} on dev seeds {best['eval_seeds']}: {metric} {best[metric]:.4g} "
                  f"with {json.dumps(best['config'])}; ASHA stopped {best['stopped_early']} trial(s) early, "
                  f"{best['failed_trials']} failed")
    console.print(f"best config in {Path(args.out) / 'best_config.json'}, trials in {Path(args.out) / 'trials.csv'}")
    return 0


# --------------------------------------------------------------------------- submit
def cmd_submit(args: argparse.Namespace) -> int:
    from gauntlet.bench import leaderboard, submission

    path = submission.submit(
        args.agent, args.task, submitter=args.submitter, name=args.name, directory=args.leaderboard,
        train_timesteps=args.train_timesteps, artifact=args.artifact,
        command=" ".join(["gauntlet", *sys.argv[1:]]), replace=args.replace,
        episode_time_limit_s=args.episode_time_limit, memory_limit_mb=args.memory_limit,
    )
    console.print(_board_table(leaderboard.load(path)))
    console.print(f"submission added to {path}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    """One agent over a suite: per-task normalized scores, their IQM with a CI, a performance profile."""
    import json

    from gauntlet.bench import runner, suite

    tasks = suite.suite_tasks(args.suite, args.agent, [p.strip() for p in (args.tasks or "").split(",") if p.strip()])
    command = " ".join(["gauntlet", *sys.argv[1:]])

    def run_one(task_id: str, agent: str, train_seed: int):
        return runner.run(task_id, agent, train_seed=train_seed, out_dir=Path(args.out) / "runs",
                          progress_bar=not args.no_progress, command=command)

    scores = []
    for task_id in tasks:
        console.print(f"{task_id}: {args.seeds} run(s) of {args.agent}")
        scores.append(suite.score_task(task_id, args.agent, range(args.seeds), args.dir, run_one))
    total = suite.aggregate(scores)
    from gauntlet.bench.formatting import format_interval, format_over_runs

    table = Table(title=f"suite {args.suite}: {args.agent} ({args.seeds} seeds per task)")
    for col in ("task", "primary metric", "raw", "normalized", "anchors"):
        table.add_column(col, justify="left" if col in ("task", "primary metric", "anchors") else "right")
    for s in scores:
        table.add_row(s.task, s.primary_metric, format_over_runs(s.raw),
                      format_over_runs(s.normalized) if s.normalized else "–", suite.describe_anchors(s))
    console.print(table)
    console.print(f"IQM of normalized scores over {total['n_tasks']} tasks x {total['n_runs']} runs: "
                  f"{format_interval(total['iqm'], total['ci95'])} (95% stratified-bootstrap CI)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if total["n_tasks"]:
        plot = suite.plot_profile(scores, args.agent, args.suite, out / "performance_profile.png")
        console.print(f"performance profile: {plot}")
    summary = {"suite": args.suite, "agent": args.agent, "seeds": list(range(args.seeds)), "command": command,
               "aggregate": total, "tasks": [vars(s) for s in scores]}
    (out / "suite.json").write_text(json.dumps(summary, indent=1))
    console.print(f"scores and anchors: {out / 'suite.json'}")
    return 0


# ----------------------------------------------------------------------- leaderboard
def cmd_leaderboard(args: argparse.Namespace) -> int:
    from gauntlet.bench import leaderboard

    if args.action in ("validate", "refresh"):
        return _validate_or_refresh(args)
    if args.action == "site":
        return _site(args)
    if not args.task:
        raise ValueError(f"leaderboard {args.action} needs a task id or a board file")
    if args.action == "evaluate":
        return _evaluate_weights(args)
    if args.action == "verify":
        return _verify(args)
    path = _board_file(args.task, args.dir)
    board = leaderboard.load(path)
    if args.action == "show":
        console.print(_board_table(board))
        if leaderboard.bounds(board):
            console.print(_bounds_table(board))
        for problem in leaderboard.registry_problems(board, path):
            console.print(f"[yellow]warning:[/] {escape(problem)}", highlight=False)
        return 0
    if args.format == "markdown":
        text = leaderboard.to_markdown(board)
    else:
        if not args.agent:
            raise ValueError("--format model-index needs --agent NAME")
        text = leaderboard.to_model_index(board, args.agent)
    if args.output:
        Path(args.output).write_text(text)
        console.print(f"written to {args.output}")
    else:
        sys.stdout.write(text)
    return 0


def _board_file(task_or_file: str, directory: str) -> Path:
    from gauntlet.bench import leaderboard

    if task_or_file.endswith(".json"):
        path = Path(task_or_file)
        if not path.is_file():
            raise FileNotFoundError(f"no leaderboard file {path}")
        return path
    get_task(task_or_file)
    path = leaderboard.board_path(directory, task_or_file)
    if not path.exists():
        raise FileNotFoundError(f"no leaderboard for {task_or_file} at {path}")
    return path


def _validate_or_refresh(args: argparse.Namespace) -> int:
    """``validate``: every check, every board (all of ``--dir`` by default), each problem
    printed; ``refresh``: rewrite boards under the registry's current metrics, reference scores
    and constraints."""
    from gauntlet.bench import leaderboard

    paths = [Path(p) for p in args.paths] or sorted(
        p for p in Path(args.dir).glob("*.json") if p.name != "schema.json"
    )
    if not paths:
        raise ValueError(f"no leaderboard files in {args.dir}")
    failed = 0
    for path in paths:
        try:
            if args.action == "refresh":
                board = leaderboard.load(path)
                refreshed = leaderboard.refresh(board, path)
                if refreshed != board:
                    leaderboard.save(refreshed, path)
                console.print(f"{'refreshed' if refreshed != board else 'unchanged'}  {path}")
                continue
            board = leaderboard.read(path)
            leaderboard.validate(board, path)
        except (OSError, leaderboard.LeaderboardError) as exc:
            failed += 1
            print(f"error: {exc}", file=sys.stderr)
            continue
        console.print(f"ok  {path}  ({len(board['entries'])} entries)")
    if failed:
        print(f"error: {failed} of {len(paths)} boards failed", file=sys.stderr)
    return 2 if failed else 0


def _verify(args: argparse.Namespace) -> int:
    """Re-run an entry from its provenance; exit 0 when it reproduces, 1 when it does not."""
    from gauntlet.bench.verification import verify

    if not args.agent_name:
        raise ValueError("leaderboard verify needs the agent: gauntlet leaderboard verify TASK AGENT")
    seeds = None
    if args.seeds:
        try:
            seeds = [int(s) for s in args.seeds.split(",")]
        except ValueError:
            raise ValueError(f"--seeds must be comma-separated train seeds such as 0,1, got {args.seeds!r}") from None
    command = " ".join(["gauntlet", *sys.argv[1:]]) if sys.argv[1:2] == ["leaderboard"] else None
    result = verify(args.task, args.agent_name, directory=args.dir, submitter=args.submitter, models=args.models,
                    seeds=seeds, retrain=args.retrain, write=not args.dry_run, command=command)
    for line in result.lines:
        console.print(escape(line), highlight=False)
    return 0 if result.verified else 1


def _site(args: argparse.Namespace) -> int:
    """The static site from every board in ``--dir`` (each checked as it is read)."""
    import time

    from gauntlet.bench import leaderboard
    from gauntlet.bench.site import build_site

    if not args.out:
        raise ValueError("leaderboard site needs --out DIR (the directory to write the site into)")
    start = time.perf_counter()
    paths = sorted(p for p in Path(args.dir).glob("*.json") if p.name != "schema.json")
    if not paths:
        raise ValueError(f"no leaderboard files in {args.dir}")
    pages = build_site([leaderboard.load(p) for p in paths], args.out)
    console.print(f"{len(pages)} pages from {len(paths)} boards written to {args.out}/index.html "
                  f"in {time.perf_counter() - start:.1f} s")
    return 0


def _evaluate_weights(args: argparse.Namespace) -> int:
    """Re-evaluate saved weights on the official seeds and compare with the board's entry."""
    from gauntlet.bench import reevaluation

    if not args.weights:
        raise ValueError("leaderboard evaluate needs --weights FILE (written by gauntlet run --save)")
    if not args.agent_name:
        raise ValueError("leaderboard evaluate needs the agent: gauntlet leaderboard evaluate TASK AGENT --weights FILE")
    report = reevaluation.reevaluate(args.task, args.agent_name, args.weights, directory=args.dir,
                                     submitter=args.submitter)
    for line in report.lines:
        console.print(escape(line), highlight=False)
    return 0 if report.matches is not False else 1


def _board_table(board: dict) -> Table:
    """The ranked policies with the primary metric (``export`` gives every metric)."""
    from gauntlet.bench.formatting import format_interval, format_mean_std, format_number
    from gauntlet.bench.ranking import feasibility, interval, interval_label, is_constrained, ranked, ranking_statistic

    primary = board["protocol"]["primary_metric"]
    metric = next(m for m in board["protocol"]["metrics"] if m["name"] == primary)
    table = Table(title=f"{board['task']} ({primary}, {'higher' if metric['direction'] == 'max' else 'lower'} is better)")
    table.add_column("#", justify="right")
    table.add_column("agent", no_wrap=True)
    # Solver statistics (metrics with a shift) rank on their shifted geometric mean: show it.
    sgm = ranking_statistic(board) == "sgm"
    constrained = is_constrained(board)
    columns = ("kind", "submitter", *(("feasible",) if constrained else ()), *(("shifted geo. mean",) if sgm else ()),
               "mean ± std", interval_label(metric), "normalized", "train steps", "runs")
    for col in columns:
        table.add_column(col, justify="left" if col in ("kind", "submitter", "feasible") else "right")
    for rank, entry in enumerate(ranked(board), 1):
        stat = entry["results"].get(primary, {})
        table.add_row(
            str(rank), entry["agent"], entry["kind"], entry["submitter"],
            *((feasibility(board, entry),) if constrained else ()),
            *((format_number(stat.get("sgm")),) if sgm else ()),
            format_mean_std(stat.get("mean"), stat.get("std")),
            format_interval(*interval(stat, metric)),
            format_number(entry.get("normalized_score")), format_number(entry["config"]["train_timesteps"]),
            str(len(entry["runs"])),
        )
    return table


def _bounds_table(board: dict) -> Table:
    """Bounds beside the board: their own figures, never a rank."""
    from gauntlet.bench.formatting import format_mean_std
    from gauntlet.bench.ranking import bound_metrics, bounds

    names = bound_metrics(board)
    table = Table(title="bounds (not policies, not ranked)")
    for col in ("agent", "submitter", *names, "runs"):
        table.add_column(col, justify="left" if col in ("agent", "submitter") else "right")
    for entry in bounds(board):
        table.add_row(entry["agent"], entry["submitter"],
                      *[format_mean_std(entry["results"].get(n, {}).get("mean"), entry["results"].get(n, {}).get("std"))
                        for n in names], str(len(entry["runs"])))
    return table


# ----------------------------------------------------------------------------- demo
def cmd_demo(args: argparse.Namespace) -> int:
    """Baselines and a short PDPPO training on LotSizing-15x5, then the resulting leaderboard."""
    from gauntlet.bench import leaderboard, runner

    out = Path(args.out)
    board_dir = out / "leaderboards"
    console.print(f"[bold]Gauntlet demo[/] on {DEMO_TASK}: baselines, then PDPPO for {args.timesteps:,} steps")
    for name in DEMO_BASELINES:
        rec = runner.run(DEMO_TASK, name, out_dir=out / "runs", command="gauntlet demo")
        leaderboard.record([rec], kind="baseline", directory=board_dir)
        console.print(f"  {name:<12} mean cost {_mean_metric(rec, 'cost'):10.1f}  ({rec.wall_time_s:.1f} s)")
    rec = runner.run(DEMO_TASK, "pdppo", total_timesteps=args.timesteps, out_dir=out / "runs",
                     progress_bar=not args.no_progress, command="gauntlet demo")
    leaderboard.record([rec], kind="reference", directory=board_dir)
    console.print(f"  {'pdppo':<12} mean cost {_mean_metric(rec, 'cost'):10.1f}  ({rec.wall_time_s:.1f} s)")
    console.print(_board_table(leaderboard.load(leaderboard.board_path(board_dir, DEMO_TASK))))
    console.print(f"run records in {out / 'runs'}, leaderboard in {board_dir}")
    return 0


def _mean_metric(rec, name: str) -> float:
    return sum(m[name] for m in rec.episode_metrics) / len(rec.episode_metrics)


# ---------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gauntlet", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("list", help="tasks and agents")
    p.add_argument("--tasks", dest="tasks_only", action="store_true", help="only tasks")
    p.add_argument("--agents", dest="agents_only", action="store_true", help="only agents")
    p.set_defaults(fn=cmd_list)

    p = sub.add_parser("run", help="train (if learning) and evaluate one agent on one task")
    p.add_argument("--task", required=True)
    p.add_argument("--agent", required=True)
    p.add_argument("--seeds", type=_positive, default=1, help="training seeds 0..N-1")
    p.add_argument("--timesteps", type=_non_negative, default=None, help="training budget (default: the task's)")
    p.add_argument("--out", default="runs", help="directory for run records")
    p.add_argument("--eval", choices=("official", "dev"), default="official", help="evaluation seed set")
    p.add_argument("--eval-episodes", type=_positive, default=None, help="episodes (dev seeds only)")
    p.add_argument("--env-kwargs", type=_json_arg, default=None, help="JSON object of env kwargs")
    p.add_argument("--agent-kwargs", type=_json_arg, default=None, help="JSON object of agent hyperparameters")
    p.add_argument("--tensorboard-log", default=None)
    p.add_argument("--save", default=None, metavar="DIR",
                   help="write each learned agent's weights (its save()) under DIR and record their sha256")
    p.add_argument("--leaderboard", default=None, help="also merge an entry into this leaderboard directory")
    p.add_argument("--kind", choices=("reference", "baseline", "submission", "bound"), default=None)
    p.add_argument("--submitter", default="gauntlet")
    p.add_argument("--replace", action="store_true",
                   help="replace the board's entry of this (agent, kind, submitter) even if its config differs")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(fn=cmd_run)

    p = sub.add_parser("sweep", help="agents x tasks x seeds, resumable, in a process pool")
    p.add_argument("--tasks", required=True, help="comma-separated ids or globs")
    p.add_argument("--agents", required=True, help="comma-separated names, or 'all' (every agent supporting all tasks)")
    p.add_argument("--seeds", type=_positive, default=1)
    p.add_argument("--timesteps", type=_non_negative, default=None)
    p.add_argument("--out", default="runs")
    p.add_argument("--workers", type=_positive, default=2)
    p.add_argument("--executor", "--backend", dest="executor", choices=("local", "serial", "ray"), default="local",
                   help="local process pool, serial, or ray (the ray extra; --address ADDR for a cluster)")
    p.add_argument("--address", default=None, help="ray: the cluster's address (default: a local Ray with --workers CPUs)")
    p.add_argument("--save", default=None, metavar="DIR",
                   help="write each learned agent's weights (its save()) under DIR and record their sha256")
    p.add_argument("--leaderboard", default=None, help="merge one entry per (task, agent) into this directory")
    p.add_argument("--submitter", default="gauntlet")
    p.add_argument("--replace", action="store_true",
                   help="replace the boards' entries of these (agent, kind, submitter) even if their config differs")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(fn=cmd_sweep)

    p = sub.add_parser("tune", help="Ray Tune (ASHA) over an agent's search space, on the task's development seeds")
    p.add_argument("--task", required=True)
    p.add_argument("--agent", required=True)
    p.add_argument("--samples", type=_positive, default=8, help="trials (configs sampled from the search space)")
    p.add_argument("--timesteps", type=_positive, default=None,
                   help="training budget per trial (default: a tenth of the task's)")
    p.add_argument("--eval-episodes", type=_positive, default=None, help="dev seeds per trial (default: all)")
    p.add_argument("--workers", type=_positive, default=None, help="CPUs of the local Ray (default: all)")
    p.add_argument("--seed", type=_non_negative, default=0, help="the search's sampling seed")
    p.add_argument("--rungs", type=_positive, default=None,
                   help="train each trial in this many chunks, each evaluated and reported (default 4)")
    p.add_argument("--grace-period", type=_positive, default=None,
                   help="ASHA stops no trial before it reported this many rungs (default 1)")
    p.add_argument("--reduction-factor", type=float, default=None,
                   help="ASHA keeps the best 1/this of the trials at each milestone (> 1; default 2)")
    p.add_argument("--out", default="tune", help="directory for best_config.json, trials.csv and Ray's results")
    p.set_defaults(fn=cmd_tune)

    p = sub.add_parser("submit", help="evaluate your policy on the official seeds and add a leaderboard entry")
    p.add_argument("--agent", required=True, help="module:attr of a policy with predict(), or a callable(env) returning one; "
                   "or a TorchScript file (obs -> action), played in a child process under the limits below")
    p.add_argument("--task", required=True)
    p.add_argument("--submitter", required=True)
    p.add_argument("--name", default=None, help="entry name (default: the attr, lowercased)")
    p.add_argument("--leaderboard", default="leaderboards", help="leaderboard directory")
    p.add_argument("--train-timesteps", type=_non_negative, default=0, help="the budget your agent was trained with")
    p.add_argument("--artifact", default=None, help="file to hash for provenance (e.g. saved weights)")
    p.add_argument("--replace", action="store_true",
                   help="replace your entry of this name even if its config (e.g. --train-timesteps) differs")
    p.add_argument("--episode-time-limit", type=float, default=60.0, help="TorchScript: seconds per episode")
    p.add_argument("--memory-limit", type=int, default=4096, help="TorchScript: the child process's memory in MB")
    p.set_defaults(fn=cmd_submit)

    p = sub.add_parser("bench", help="one agent over a suite of tasks: normalized scores, IQM with CI, profile")
    p.add_argument("--suite", default="core", help="the suite (core: every benchmarked task)")
    p.add_argument("--agent", required=True)
    p.add_argument("--tasks", default=None, help="only the suite's tasks matching these comma-separated globs")
    p.add_argument("--seeds", type=_positive, default=3, help="train seeds 0..N-1 per task")
    p.add_argument("--dir", default="leaderboards", help="boards for the normalization anchors")
    p.add_argument("--out", default="bench", help="run records, suite.json and performance_profile.png")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(fn=cmd_bench)

    p = sub.add_parser("leaderboard", help="show, validate, refresh, export leaderboards, or re-evaluate saved weights")
    p.add_argument("action", choices=("show", "validate", "refresh", "export", "evaluate", "verify", "site"))
    p.add_argument("task", nargs="?", default=None,
                   help="task id or board file (show/export/evaluate); a board file (validate/refresh)")
    p.add_argument("paths", nargs="*", default=[],
                   help="more board files (validate/refresh; default: every board in --dir); evaluate: the agent")
    p.add_argument("--dir", default="leaderboards")
    p.add_argument("--format", choices=("markdown", "model-index"), default="markdown")
    p.add_argument("--agent", default=None, help="agent for model-index export")
    p.add_argument("--output", default=None)
    p.add_argument("--out", default=None, help="site: the directory to write the static site into")
    p.add_argument("--weights", default=None, help="evaluate: the weights file (gauntlet run --save)")
    p.add_argument("--submitter", default=None, help="evaluate/verify: this submitter's entry")
    p.add_argument("--models", default="models", help="verify: where to look for the entry's weights (by sha256)")
    p.add_argument("--seeds", default=None, help="verify: only these train seeds, comma-separated")
    p.add_argument("--retrain", action="store_true", help="verify: retrain learned runs whose weights are not found")
    p.add_argument("--dry-run", action="store_true", help="verify: compare without writing the outcome into the entry")
    p.set_defaults(fn=cmd_leaderboard)

    p = sub.add_parser("demo", help="baselines + a short PDPPO run on LotSizing-15x5, then the leaderboard")
    p.add_argument("--out", default="gauntlet-demo")
    p.add_argument("--timesteps", type=_positive, default=20_000)
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(fn=cmd_demo)
    return parser


_USER_ERRORS = (UnknownNameError, ValueError, FileNotFoundError, DataChecksumError, ImportError)


def main(argv: Sequence[str] | None = None) -> int:
    # The agents' small networks train fastest on one thread, and sweep workers must not
    # oversubscribe the cores; torch reads this when it is first imported. Set it to override.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    args = build_parser().parse_args(argv)
    if args.command == "leaderboard" and args.action in ("validate", "refresh") and args.task:
        args.paths = [args.task, *args.paths]
    if args.command == "leaderboard" and args.action in ("evaluate", "verify"):
        args.agent_name = args.paths[0] if len(args.paths) == 1 else None
    try:
        return args.fn(args)
    except _USER_ERRORS as exc:
        # What the user can fix (a name, a value, a missing or corrupt file, an extra to install)
        # is one line; anything else is a bug and keeps its traceback.
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc  # str(KeyError) is its repr
        print(f"error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
