import subprocess

from PIL import Image

from .script_runner import run_script



def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return run_script("reproduce_priqn.py", *args, check=check)


def test_baselines_print_the_board_aggregation_and_the_strip_is_written_without_touching_a_board(tmp_path):
    out = run("--agents", "random", "idm-controller", "--seeds", "0", "--no-leaderboard",
              "--leaderboard-dir", str(tmp_path / "boards"), "--strip", str(tmp_path / "strip.png")).stdout
    table = out.split("mean ± sample std over runs")[1]
    for column in ("success", "collisions_per_km", "off_road_per_km", "route_completion", "driving_score"):
        assert column in table
    rows = {line.split()[0]: line.split() for line in table.splitlines() if line.startswith(("random", "idm-"))}
    assert rows["random"][1] == "1" and rows["idm-controller"][1] == "1"
    assert rows["random"][2:4] == ["0", "±"]  # random never completes a route
    assert rows["random"][4] == "–"  # one run: no spread
    assert not (tmp_path / "boards").exists()
    with Image.open(tmp_path / "strip.png") as image:
        assert image.width > image.height > 0


def test_an_agent_that_does_not_run_on_the_task_is_refused_naming_the_allowed_ones():
    result = run("--agents", "gmorl", "--no-leaderboard", check=False)
    assert result.returncode == 2
    assert "agents ['gmorl'] do not run on gauntlet/Driving-Intersection-Medium-v0" in result.stderr
    assert "idm-controller" in result.stderr
