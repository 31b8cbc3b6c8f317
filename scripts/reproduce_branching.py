"""Learning to branch on SCIP: every baseline and agent on fixed test sets, per problem class.

For each ``gauntlet/MILPBranching-<Class>-v0`` task the official evaluation seeds
(10000..10019: 20 instances per class at the ``train`` size unless ``--size`` says otherwise)
fix the test instances. Baselines are evaluated directly; ``gcnn`` is trained by imitation
of strong branching (from ``--gcnn-data`` files written by
``scripts/collect_strong_branching.py``, or by collecting ``--gcnn-samples`` states on the
task's env) and reports its top-1/top-5 agreement with strong branching on two held-out
splits of unseen instances: the validation split, which picks the epoch that is kept, and the
test split, which nothing in training or selection saw (``--gcnn-test-data`` gives the test
states from separately collected instances instead); ``--gcnn-model`` with ``--gcnn-test-data``
prints a saved model's recorded validation agreement and measures its test agreement;
``revibranch`` is trained for ``--revibranch-timesteps`` decisions, its encoder
warm-started from the trained GCNN. Printed per class: shifted geometric means of nodes
(shift 1), LP iterations (shift 10) and solving time (shift 1 s), how many instances finished
within the protocol's time limit, and nodes relative to SCIP default and to strong branching on
the instances every policy solved. Run records go to ``--out``, leaderboard entries to
``--leaderboard-dir`` (only for the official seeds, default env kwargs and ``--seed 0``); the summary also
reads the records that earlier invocations left in ``--out`` and, for the official seeds, the
per-instance results of the leaderboard's entries, so the policies of a class can be run in
separate (parallel) invocations and compared with those on the board.

    python scripts/reproduce_branching.py                         # all classes, train size (hours on a CPU)
    python scripts/reproduce_branching.py --problems setcover --size small \\
        --gcnn-data data/sb_a.npz data/sb_b.npz --revibranch-timesteps 600 --leaderboard-dir /tmp/boards
    python scripts/reproduce_branching.py --problems indset --agents    # the board's comparison only
    python scripts/reproduce_branching.py --problems indset --agents --no-leaderboard \
        --gcnn-model models/branching/indset_gcnn.pt --gcnn-test-data runs/sb_test/indset_test.npz
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402

import gauntlet  # noqa: E402,F401  (registers the env ids)
from gauntlet.agents.gcnn import GCNNImitation, Sample, load_samples  # noqa: E402
from gauntlet.bench import leaderboard  # noqa: E402
from gauntlet.bench.aggregate import shifted_geometric_mean  # noqa: E402
from gauntlet.bench.runner import RunRecord, evaluate_run, make_agent, run_path  # noqa: E402
from gauntlet.registry import get_agent, get_task  # noqa: E402

TASKS = {
    "setcover": "gauntlet/MILPBranching-SetCover-v0",
    "cauction": "gauntlet/MILPBranching-CombAuction-v0",
    "facility": "gauntlet/MILPBranching-FacilityLocation-v0",
    "indset": "gauntlet/MILPBranching-IndependentSet-v0",
}
BASELINES = ("scip-default", "pseudocost", "most-fractional", "random", "strong-branching")
AGENTS = ("gcnn", "revibranch")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--problems", nargs="+", default=list(TASKS), choices=list(TASKS))
    p.add_argument("--agents", nargs="*", default=[*BASELINES, *AGENTS], choices=[*BASELINES, *AGENTS],
                   help="policies to run (default: all); none prints the comparison of the earlier runs and "
                        "leaderboard entries only")
    p.add_argument("--compare", nargs="+", default=None, choices=[*BASELINES, *AGENTS],
                   help="policies in the comparison on commonly solved instances (default: every one with results)")
    p.add_argument("--seed", type=int, default=0,
                   help="training seed of the agents (and the random baseline's seed); run records are kept per "
                        "seed, and only seed 0 writes leaderboard entries (an entry would otherwise be replaced by "
                        "another seed's single run)")
    p.add_argument("--size", default="train", choices=["small", "train", "transfer"])
    p.add_argument("--instances", type=int, default=None, help="number of test instances (default: the task's 20)")
    p.add_argument("--time-limit", type=float, default=None,
                   help="SCIP time limit per instance in s for training and data collection (a learner's "
                        "choice the protocol allows, recorded in its config; evaluation always uses the protocol's limit)")
    p.add_argument("--gcnn-data", nargs="*", type=Path, default=[], help="sample files from collect_strong_branching.py")
    p.add_argument("--gcnn-test-data", nargs="*", type=Path, default=[],
                   help="sample files of instances the GCNN is neither trained nor validated on: its test split "
                        "(then only the validation split is held out of the training data)")
    p.add_argument("--gcnn-samples", type=int, default=2000, help="states to collect when no --gcnn-data is given")
    p.add_argument("--gcnn-epochs", type=int, default=20)
    p.add_argument("--gcnn-minutes", type=float, default=None,
                   help="stop GCNN training after the first epoch that ends past this wall-clock budget")
    p.add_argument("--compile", action="store_true",
                   help="fuse the per-edge work of the GCNN and of ReviBranch's encoder with torch.compile "
                        "(needs a C++ compiler; about 2.5x faster training on large graphs)")
    p.add_argument("--gcnn-model", type=Path, default=None,
                   help="a saved GCNN (GCNNImitation.save) to evaluate instead of training one")
    p.add_argument("--revibranch-timesteps", type=int, default=2000)
    p.add_argument("--revibranch-gradient-steps", type=float, default=None,
                   help="ReviBranch gradient steps per branching decision (default: the agent's 0.5); a "
                        "minibatch of 16 train-size graphs costs about 2 s on one CPU core")
    p.add_argument("--revibranch-initial-eps", type=float, default=None,
                   help="ReviBranch's exploration rate at the start (default: the agent's 0.5); a policy "
                        "warm-started from the GCNN gains little from exploring half of its decisions at random")
    p.add_argument("--revibranch-imitation-coef", type=float, default=None,
                   help="weight of ReviBranch's large-margin loss towards the warm-start GCNN's choices "
                        "(default: the agent's 1.0; 0 turns it off)")
    p.add_argument("--revibranch-q-scale", type=float, default=None,
                   help="ReviBranch's initial Q-values as this multiple of the GCNN's logits (default: the agent's 0.01)")
    p.add_argument("--save", type=Path, default=None,
                   help="directory for ReviBranch's trained weights (<problem>_revibranch.pt), referenced by path and "
                        "sha256 in its run, so that `gauntlet leaderboard evaluate` can re-evaluate it")
    p.add_argument("--out", type=Path, default=Path("runs/reproduce_branching"))
    p.add_argument("--leaderboard-dir", type=Path, default=Path("leaderboards"))
    p.add_argument("--no-leaderboard", action="store_true")
    p.add_argument("--replace", action="store_true", help="replace the agents' existing board entries")
    return p.parse_args()


def load_test_data(paths: list[Path], seen: set[int] | None = None) -> list[Sample]:
    """The ``--gcnn-test-data`` states; refuses instances in ``seen`` (trained or validated on)."""
    test = [s for path in paths for s in load_samples(path)]
    overlap = sorted({s.group for s in test} & (seen or set()))
    if overlap:
        raise SystemExit(f"error: --gcnn-test-data holds instances the GCNN was trained or validated on "
                         f"(instance seeds {overlap[:10]}); collect the test states with other seeds")
    return test


def print_agreement(agent: GCNNImitation) -> None:
    """The agreement with strong branching on the validation and the test split (``held_out``)."""
    for split, label in (("valid", "validation (picks the epoch)"), ("test", "test (unseen by training and selection)")):
        m = agent.held_out.get(split)
        if not m:
            print(f"  gcnn: no {label} split")
            continue
        size = f"{m['states']} states of {m['instances']} instances" if "states" in m else "size not recorded"
        print(f"  gcnn: {label}, {size}: top-1 agreement with strong branching {m['acc@1']:.3f}, "
              f"top-5 {m['acc@5']:.3f}")


def train_gcnn(task: str, env_kwargs: dict, args: argparse.Namespace) -> tuple[Any, int]:
    env = gym.make(task, **env_kwargs)
    kwargs: dict[str, Any] = {"n_epochs": args.gcnn_epochs, "compile_messages": args.compile}
    if args.gcnn_test_data:
        kwargs["test_fraction"] = 0.0
    agent = make_agent(get_agent("gcnn"), env, task, seed=args.seed, agent_kwargs=kwargs)
    if args.gcnn_data:
        samples = [s for path in args.gcnn_data for s in load_samples(path)]
    else:
        samples = agent.collect(env, args.gcnn_samples, seed=args.seed * 100_000)
    train, valid, test = agent.split(samples)
    if args.gcnn_test_data:
        test = load_test_data(args.gcnn_test_data, {s.group for s in samples})
        agent.split_groups["test"] = sorted({s.group for s in test})
    deadline = None if args.gcnn_minutes is None else time.perf_counter() + 60.0 * args.gcnn_minutes
    agent.fit(train, valid, callback=lambda stats: deadline is None or time.perf_counter() < deadline)
    agent.num_timesteps = len(samples)
    env.close()
    agent.record_held_out(valid, test)
    print(f"  gcnn: {len(train)} training states of {len({s.group for s in train})} instances; kept epoch "
          f"{agent.best_epoch} of {len(agent.history)}")
    print_agreement(agent)
    # whether the budget, not the data, ended training: a validation loss still falling says so
    print("  gcnn: validation loss by epoch: "
          + " ".join(f"{h['valid/loss']:.3f}" for h in agent.history if "valid/loss" in h))
    return agent, len(samples)


def measure_saved_gcnn(path: Path, test_paths: list[Path]) -> None:
    """A saved model's recorded validation agreement and its agreement on ``test_paths``."""
    agent = GCNNImitation.load(path)
    seen = set(agent.split_groups.get("train", [])) | set(agent.split_groups.get("valid", []))
    test = load_test_data(test_paths, seen)
    agent.held_out = {**agent.held_out, "test": agent.held_out_metrics(test)}
    print(f"  gcnn {path}: kept epoch {agent.best_epoch} of {len(agent.history)}; validation figures as recorded "
          "in the model" + ("" if seen else " (a model saved before the test split existed: its instance ids were "
                                            "not recorded, so the test data cannot be checked against them)"))
    print_agreement(agent)


def main() -> None:
    args = parse_args()
    env_kwargs: dict[str, Any] = {} if args.size == "train" else {"size": args.size}
    for problem in args.problems:
        task = TASKS[problem]
        spec = get_task(task).benchmark
        train_kwargs = {**env_kwargs, **spec.train_env_kwargs,
                        **({"time_limit": args.time_limit} if args.time_limit is not None else {})}
        # the shifts the task's leaderboard uses for its shifted geometric means
        shifts = {m.name: m.shift for m in spec.metrics if m.shift is not None}
        seeds = spec.eval_seeds(official=True)[: args.instances] if args.instances else spec.eval_seeds(official=True)
        official = seeds == spec.eval_seeds(official=True) and not env_kwargs
        print(f"\n== {task} size={args.size} instances={len(seeds)} (seeds {seeds[0]}..{seeds[-1]})")
        records: dict[str, RunRecord] = {}
        gcnn_path = None
        if args.gcnn_model is not None and args.gcnn_test_data:
            measure_saved_gcnn(args.gcnn_model, args.gcnn_test_data)
        for name in args.agents:
            start = time.perf_counter()
            trained, agent_kwargs = 0, {}
            if name == "gcnn" and args.gcnn_model is not None:
                model = GCNNImitation.load(args.gcnn_model)
                trained, gcnn_path = model.num_timesteps, args.gcnn_model
            elif name == "gcnn":
                model, trained = train_gcnn(task, train_kwargs, args)
                gcnn_path = args.out / f"{problem}_gcnn.pt"
                gcnn_path.parent.mkdir(parents=True, exist_ok=True)
                model.save(gcnn_path)
            elif name == "revibranch":
                gcnn_path = gcnn_path or args.gcnn_model
                if gcnn_path is None and (args.out / f"{problem}_gcnn.pt").exists():
                    gcnn_path = args.out / f"{problem}_gcnn.pt"
                if gcnn_path is not None:
                    agent_kwargs["pretrained_gcnn"] = str(gcnn_path)
                for flag, kwarg in (("gradient_steps", "gradient_steps_per_decision"),
                                    ("initial_eps", "exploration_initial_eps"),
                                    ("imitation_coef", "imitation_coef"), ("q_scale", "warm_start_q_scale")):
                    if getattr(args, f"revibranch_{flag}") is not None:
                        agent_kwargs[kwarg] = getattr(args, f"revibranch_{flag}")
                env = gym.make(task, **train_kwargs)
                model = make_agent(get_agent(name), env, task, seed=args.seed,
                                   agent_kwargs={**agent_kwargs, "compile_messages": args.compile})
                model.learn(args.revibranch_timesteps)
                trained = args.revibranch_timesteps
                env.close()
                if args.save is not None:
                    args.save.mkdir(parents=True, exist_ok=True)
                    weights = args.save / f"{problem}_revibranch.pt"
                    model.save(weights)
            else:
                model = make_agent(get_agent(name), gym.make(task, **env_kwargs), task, seed=args.seed)
            train_time = time.perf_counter() - start
            # What a learner trained on is recorded as such (a board refuses another protocol); a
            # GCNN loaded from a file and the baselines were built under the protocol.
            trained_on = ({**get_task(task).kwargs, **train_kwargs}
                          if name == "revibranch" or (name == "gcnn" and args.gcnn_model is None) else None)
            record = evaluate_run(task, name, model, train_seed=args.seed, train_timesteps=trained, train_time_s=train_time,
                                  eval_seeds=seeds, env_kwargs=env_kwargs, train_env_kwargs=trained_on,
                                  agent_kwargs=agent_kwargs)
            if name == "gcnn" and gcnn_path is not None:
                record.attach_weights(gcnn_path)
            elif name == "revibranch" and args.save is not None:
                record.attach_weights(weights)
            record.save(run_path(args.out, task, name, args.seed))
            records[name] = record
            sgm = {k: shifted_geometric_mean([e[k] for e in record.episode_metrics], shift) for k, shift in shifts.items()}
            solved = np.array([e["solved"] for e in record.episode_metrics])
            print(f"  {name:<17} nodes {sgm['nodes']:9.1f}  lp_iter {sgm['lp_iterations']:10.1f}  "
                  f"time {sgm['solving_time']:7.2f} s  "
                  f"solved {int(solved.sum())}/{len(solved)}   "
                  f"(train {train_time:.0f} s, eval {record.eval_time_s:.0f} s)", flush=True)
            if official and args.seed == 0 and not args.no_leaderboard:
                kind = get_agent(name).kind
                leaderboard.record([record], kind=kind, directory=args.leaderboard_dir, replace=args.replace)
        per_instance = {name: nodes_and_solved(r) for name, r in records.items()}
        board = leaderboard.board_path(args.leaderboard_dir, task)
        board_runs = {e["agent"]: e["runs"][0]["metrics"] for e in leaderboard.load(board)["entries"]
                      if e["submitter"] == "gauntlet"} if official and board.exists() else {}
        for name in (*BASELINES, *AGENTS):
            path = run_path(args.out, task, name, args.seed)
            if name in per_instance:
                continue
            if path.exists():
                print(f"  {name}: from the run record of an earlier invocation ({path})")
                per_instance[name] = nodes_and_solved(RunRecord.load(path))
            elif name in board_runs:
                print(f"  {name}: from its entry on {board}")
                per_instance[name] = board_runs[name]
        if args.compare:
            per_instance = {name: per_instance[name] for name in args.compare if name in per_instance}
        summary(per_instance, shifts["nodes"])


def nodes_and_solved(record: RunRecord) -> dict[str, list[float]]:
    """Per test instance, as the summary (and a leaderboard run's ``metrics``) holds them."""
    return {k: [e[k] for e in record.episode_metrics] for k in ("nodes", "solved")}


def summary(per_instance: dict[str, dict[str, list[float]]], node_shift: float) -> None:
    """Nodes relative to the references, on the instances every policy solved (a solve stopped
    by the time limit has an unfinished tree, so its node count is not comparable; Gasse et al.
    compare node counts the same way). ``per_instance[agent]`` holds ``nodes`` and ``solved``
    per test instance."""
    if not per_instance:
        return
    solved = np.logical_and.reduce([np.asarray(m["solved"]) == 1.0 for m in per_instance.values()])
    print(f"  instances solved by every policy: {int(solved.sum())}/{len(solved)}")
    if not solved.any():
        return
    sgm = {name: shifted_geometric_mean(np.asarray(m["nodes"])[solved], node_shift) for name, m in per_instance.items()}
    print("  nodes on those (sgm): " + ", ".join(f"{n} {v:.1f}" for n, v in sgm.items()))
    for ref in ("scip-default", "strong-branching"):
        if ref not in sgm or len(sgm) == 1:
            continue
        ratios = ", ".join(f"{n} {v / sgm[ref]:.2f}x" for n, v in sgm.items() if n != ref)
        print(f"  nodes relative to {ref}: {ratios}")


if __name__ == "__main__":
    main()
