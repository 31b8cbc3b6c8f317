"""The static leaderboard site: pages from board files, and the same pages opened in headless
Chromium (tables sorted by the page's script, every figure loaded)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from gauntlet.bench import leaderboard
from gauntlet.bench.ranking import bounds, is_constrained, ranked
from gauntlet.bench.site import build_site, page_name
from gauntlet.cli import main

BOARDS = Path(__file__).resolve().parents[2] / "leaderboards"
# A board with a bound, a constrained one and a multi-objective one with fronts.
TASKS = ("LotSizing-15x5-v0", "FairThreshold-Synthetic-v0", "mo-MECOffloading-v0")


@pytest.fixture(scope="module")
def boards() -> list[dict]:
    return [leaderboard.read(BOARDS / f"{t}.json") for t in TASKS]


@pytest.fixture(scope="module")
def site(boards, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    build_site(boards, out)
    return out


def _rows(page: str, table: str) -> list[str]:
    body = re.search(rf'<table class="sortable" id="{table}"[^>]*>.*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    return re.findall(r"<tr>(.*?)</tr>", body, re.S)


def _agents(rows: list[str]) -> list[str]:
    return [re.findall(r"<td[^>]*>(.*?)</td>", row)[1] for row in rows]


def test_index_links_every_task_page(site, boards):
    index = (site / "index.html").read_text()
    for board in boards:
        assert f'href="{page_name(board["task"])}"' in index
        assert (site / page_name(board["task"])).is_file()
    assert len(_rows(index, "tasks")) == len(boards)


def test_task_page_ranks_policies_and_shows_bounds_apart(site, boards):
    lot = boards[0]
    page = (site / page_name(lot["task"])).read_text()
    assert _agents(_rows(page, "ranking")) == [e["agent"] for e in ranked(lot)]
    assert [e["agent"] for e in bounds(lot)] == ["perfect-info"]
    assert "perfect-info" not in _agents(_rows(page, "ranking"))
    assert [re.findall(r"<td[^>]*>(.*?)</td>", row)[0] for row in _rows(page, "bounds")] == ["perfect-info"]
    assert 'data-key="feasible"' not in page  # LotSizing has no constraints


def test_constrained_page_has_feasibility_and_provenance(site, boards):
    fair = boards[1]
    assert is_constrained(fair)
    page = (site / page_name(fair["task"])).read_text()
    assert 'data-key="feasible"' in page
    ranking = _rows(page, "ranking")
    assert all(re.search(r">(yes|no: [^<]+)</td>", row) for row in ranking)
    provenance = _rows(page, "provenance")
    assert len(provenance) == sum(len(e["runs"]) for e in fair["entries"])
    assert fair["entries"][0]["runs"][0]["provenance"]["command"].split()[0] in page


def test_figures_written_for_primary_metric_and_pareto_fronts(site, boards):
    lot, fair, mec = boards
    for board in boards:
        assert (site / f"{page_name(board['task'])[:-5]}-{board['protocol']['primary_metric']}.png").stat().st_size > 1000
    assert (site / "mo-MECOffloading-v0-pareto.png").stat().st_size > 1000
    assert not (site / "LotSizing-15x5-v0-pareto.png").exists()
    assert '<img src="mo-MECOffloading-v0-pareto.png"' in (site / "mo-MECOffloading-v0.html").read_text()


def test_cli_builds_site_and_requires_out(tmp_path, capsys):
    for task in TASKS[:1]:
        shutil.copy(BOARDS / f"{task}.json", tmp_path / f"{task}.json")
    assert main(["leaderboard", "site", "--dir", str(tmp_path), "--out", str(tmp_path / "site")]) == 0
    assert (tmp_path / "site" / "LotSizing-15x5-v0.html").is_file()
    assert main(["leaderboard", "site", "--dir", str(tmp_path)]) == 2
    assert "--out DIR" in capsys.readouterr().err


@pytest.fixture(scope="module")
def curves_site(tmp_path_factory) -> tuple[Path, dict]:
    """A board made through the runner with a tiny budget: PPO on LotSizing-15x5, 2 train seeds,
    1,600 steps each (16 training episodes per run), beside the random policy (no curve)."""
    from gauntlet.bench import runner

    boards = tmp_path_factory.mktemp("boards")
    runs = [runner.run("gauntlet/LotSizing-15x5-v0", "ppo", train_seed=seed, total_timesteps=1600) for seed in (0, 1)]
    leaderboard.record(runs, kind="reference", directory=boards)
    path = leaderboard.record([runner.run("gauntlet/LotSizing-15x5-v0", "random")], kind="baseline", directory=boards)
    board = leaderboard.load(path)
    out = tmp_path_factory.mktemp("curves_site")
    build_site([board], out)
    return out, board


def test_learning_curves_drawn_where_runs_have_them(curves_site, site, boards):
    out, board = curves_site
    ppo = next(e for e in board["entries"] if e["agent"] == "ppo")
    assert all(len(run["learning_curve"]) == 16 for run in ppo["runs"])
    page = (out / "LotSizing-15x5-v0.html").read_text()
    assert '<img src="LotSizing-15x5-v0-curves.png"' in page and "Learning curves" in page
    assert (out / "LotSizing-15x5-v0-curves.png").stat().st_size > 1000
    for official in boards:  # a figure where some run has a curve, and no empty one elsewhere
        stem = page_name(official["task"])[:-5]
        has_curves = any(run.get("learning_curve") for entry in official["entries"] for run in entry["runs"])
        assert (site / f"{stem}-curves.png").exists() == has_curves, stem
        assert ("Learning curves" in (site / f"{stem}.html").read_text()) == has_curves, stem
    assert any(run.get("learning_curve") for official in boards for entry in official["entries"]
               for run in entry["runs"]), "the LotSizing boards' 1M-step runs carry their curves"


def test_mean_curve_is_the_mean_and_sample_std_at_common_timesteps():
    from gauntlet.bench.site_figures import CURVE_GRID_POINTS, mean_curve

    x, mean, std = mean_curve([[[0, 0.0], [100, 10.0], [200, 20.0]], [[50, 0.0], [150, 0.0]], [[0, 1.0]]])
    assert x[0] == 50 and x[-1] == 150 and len(x) == CURVE_GRID_POINTS  # the one-point run is left out
    assert mean[0] == pytest.approx((5.0 + 0.0) / 2) and mean[-1] == pytest.approx((15.0 + 0.0) / 2)
    assert std[-1] == pytest.approx(np.std([15.0, 0.0], ddof=1))
    x, mean, std = mean_curve([[[0, 1.0], [10, 3.0], [10, 5.0]]])  # two episodes ending at step 10: their mean
    assert std is None and mean[0] == 1.0 and mean[-1] == 4.0
    assert mean_curve([[[0, 1.0], [10, 3.0]], [[20, 0.0], [30, 1.0]]]) is None  # no common span


# ----------------------------------------------------------------------- in a browser
def _chromium(*args: str, profile: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [shutil.which("chromium"), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--virtual-time-budget=5000", *args],
        capture_output=True, text=True, timeout=60, check=True)


@pytest.mark.skipif(shutil.which("chromium") is None,
                    reason="headless browser check needs Debian's chromium (apt-get install chromium; .ci/run does)")
def test_pages_render_in_headless_chromium(site, boards, curves_site, tmp_path):
    mec = boards[2]
    metric = "mean_delay"  # lower is better: the page's script must sort it ascending, best first
    url = (site / page_name(mec["task"])).as_uri() + f"#sort={metric}"
    dom = _chromium("--dump-dom", url, profile=tmp_path / "profile").stdout
    assert f'id="ranking" data-sorted-by="{metric}"' in dom
    images = re.findall(r"<img [^>]*>", dom)
    assert len(images) == 2 and all('data-loaded="yes"' in img for img in images)
    means = {e["agent"]: e["results"][metric]["iqm"] for e in ranked(mec)}
    assert _agents(_rows(dom, "ranking")) == sorted(means, key=means.get)

    curves_page = (curves_site[0] / "LotSizing-15x5-v0.html").as_uri()
    images = re.findall(r"<img [^>]*>", _chromium("--dump-dom", curves_page, profile=tmp_path / "profile").stdout)
    curves = [img for img in images if "-curves.png" in img]
    assert len(curves) == 1 and 'data-loaded="yes"' in curves[0]

    shot = tmp_path / "index.png"
    _chromium(f"--screenshot={shot}", "--window-size=1200,800", (site / "index.html").as_uri(),
              profile=tmp_path / "profile")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_verified_entries_show_their_verification(tmp_path, boards):
    mec = json.loads(json.dumps(boards[2]))
    entry = next(e for e in mec["entries"] if e["agent"] == "random")
    entry["verification"] = {"status": "verified", "mode": "exact", "created": "2026-12-07T04:00:00+00:00",
                             "command": "gauntlet leaderboard verify", "git_commit": None, "versions": {},
                             "runs": [{"train_seed": 0, "source": "re-run", "artifact_sha256": None, "exact": True,
                                       "differences": []}], "metrics": {}}
    build_site([mec], tmp_path)
    row = next(r for r in _rows((tmp_path / page_name(mec["task"])).read_text(), "ranking") if ">random<" in r)
    assert "verified (exact, seeds 0, 2026-12-07)" in row
