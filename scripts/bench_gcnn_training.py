"""Seconds per GCNN training batch, eager vs ``compile_messages=True``, on set-cover-sized graphs.

Builds ``--batch`` random bipartite graphs the size of a train-size set-cover node state
(1,000 columns, 500 rows, 25,000 edges, 60 candidates; ``--columns``/``--rows``/``--edges``
change it), then times ``--steps`` Adam steps of :class:`gauntlet.agents.gcnn.GCNNImitation`
after ``--warmup`` untimed ones (the first compiled step includes the compilation). The
batch sizes vary by one graph between steps, as real batches vary in edges, so a compiled
model that recompiled per shape would show it. One thread, as the other scripts use.

    python scripts/bench_gcnn_training.py
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from gauntlet.agents.gcnn import N_ROW, N_VAR, GCNNImitation, Sample  # noqa: E402


def random_state(rng: np.random.Generator, n_cols: int, n_rows: int, n_edges: int, n_cands: int) -> Sample:
    scores = rng.random(n_cands)
    return Sample(
        rng.standard_normal((n_cols, N_VAR)).astype(np.float32), rng.standard_normal((n_rows, N_ROW)).astype(np.float32),
        np.stack([rng.integers(0, n_rows, n_edges), rng.integers(0, n_cols, n_edges)]),
        rng.standard_normal((n_edges, 1)).astype(np.float32), rng.choice(n_cols, n_cands, replace=False),
        int(np.argmax(scores)), scores,
    )


def seconds_per_step(agent: GCNNImitation, batches: list[list[Sample]], warmup: int) -> np.ndarray:
    times = []
    for i, batch in enumerate(batches):
        start = time.perf_counter()
        loss, _, _ = agent._loss_acc(batch)
        agent.optimizer.zero_grad()
        loss.backward()
        agent.optimizer.step()
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return np.array(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--columns", type=int, default=1000)
    p.add_argument("--rows", type=int, default=500)
    p.add_argument("--edges", type=int, default=25000)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    rng = np.random.default_rng(0)
    states = [random_state(rng, args.columns, args.rows, args.edges, 60) for _ in range(args.batch)]
    batches = [states[: args.batch - (i % 2)] for i in range(args.warmup + args.steps)]
    print(f"batches of {args.batch} graphs x {args.edges:,} edges, {torch.get_num_threads()} thread(s)")
    result = {}
    for compiled in (False, True):
        torch.manual_seed(0)
        agent = GCNNImitation(None, seed=0, compile_messages=compiled)
        start = time.perf_counter()
        times = seconds_per_step(agent, batches, args.warmup)
        name = "compiled" if compiled else "eager"
        result[name] = float(np.median(times))
        print(f"  {name:<9} median {result[name]:.2f} s/step (min {times.min():.2f}, max {times.max():.2f}); "
              f"total with warm-up {time.perf_counter() - start:.1f} s")
    print(f"  speed-up {result['eager'] / result['compiled']:.2f}x")


if __name__ == "__main__":
    main()
