"""How long ``gauntlet leaderboard site`` takes to build from every official board: wall and
CPU time of reading (integrity-checked) and rendering all ``leaderboards/*.json``.

    python scripts/bench_site_build.py [--dir leaderboards]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from gauntlet.bench import leaderboard
from gauntlet.bench.site import build_site


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dir", type=Path, default=Path("leaderboards"))
    args = p.parse_args()
    paths = sorted(path for path in args.dir.glob("*.json") if path.name != "schema.json")
    wall, cpu = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory() as out:
        pages = build_site([leaderboard.load(path) for path in paths], out)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{len(paths)} boards, {len(pages)} pages: {wall:.1f} s wall, {cpu:.1f} s CPU")


if __name__ == "__main__":
    main()
