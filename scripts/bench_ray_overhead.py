"""The Ray executor against the local pool on the same sweep: each one's wall time (Ray's
start-up included, as ``gauntlet sweep --backend ray`` pays it), Ray's overhead per run, and
whether the two boards agree (every run's episode returns and metrics, every aggregate).

    GAUNTLET_DATA_HOME=tests/data python scripts/bench_ray_overhead.py \\
        --tasks gauntlet/FairThreshold-Synthetic-v0,gauntlet/FairThreshold-German-v0 \\
        --agents random,ucb,primal-dual,epsilon-greedy --seeds 3 --workers 2

Each backend runs the ``gauntlet sweep`` command in a child process, into its own directory (the
German task reads its data through ``GAUNTLET_DATA_HOME``, as the package fetches it).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gauntlet.bench.identity import differences, reproducible


def sweep_seconds(backend: str, args: argparse.Namespace, out: Path) -> float:
    command = [sys.executable, "-m", "gauntlet.cli", "sweep", "--tasks", args.tasks, "--agents", args.agents,
               "--seeds", str(args.seeds), "--workers", str(args.workers), "--backend", backend,
               "--out", str(out / "runs"), "--leaderboard", str(out / "boards"), "--no-progress"]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"the {backend} sweep failed (exit {done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return time.perf_counter() - start


def board_differences(a: Path, b: Path) -> list[str]:
    """Where two board directories disagree on what was measured (commands and times aside)."""
    out = []
    for path in sorted(a.glob("*.json")):
        left, right = json.loads(path.read_text()), json.loads((b / path.name).read_text())
        entries = {e["agent"]: e for e in right["entries"]}
        for entry in left["entries"]:
            other = entries[entry["agent"]]
            measured = [(reproducible(r, left["task"]), r["train_seed"]) for r in entry["runs"]]
            measured_other = [(reproducible(r, left["task"]), r["train_seed"]) for r in other["runs"]]
            found = differences([entry["results"], measured], [other["results"], measured_other])
            out += [f"{path.name} {entry['agent']}: {field}" for field, _, _ in found]
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tasks", default="gauntlet/FairThreshold-Synthetic-v0,gauntlet/FairThreshold-German-v0")
    p.add_argument("--agents", default="random,ucb,primal-dual,epsilon-greedy")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args()
    runs = len(args.tasks.split(",")) * len(args.agents.split(",")) * args.seeds
    with tempfile.TemporaryDirectory() as tmp:
        seconds = {backend: sweep_seconds(backend, args, Path(tmp) / backend) for backend in ("local", "ray")}
        problems = board_differences(Path(tmp) / "local" / "boards", Path(tmp) / "ray" / "boards")
    print(f"{runs} runs, {args.workers} workers: local pool {seconds['local']:.1f} s, Ray {seconds['ray']:.1f} s, "
          f"Ray's overhead {(seconds['ray'] - seconds['local']) / runs:.2f} s per run (start-up included)")
    print("boards identical" if not problems else "boards differ:\n  " + "\n  ".join(problems))


if __name__ == "__main__":
    main()
