import pytest
from conftest import LOT, fake_run

from gauntlet.bench import leaderboard
from gauntlet.bench.formatting import format_interval, format_mean_std, format_number
from gauntlet.bench.ranking import bound_metrics, feasibility, interval, ranked, violation
from gauntlet.registry import get_task


@pytest.fixture
def fair_board(tmp_path, fair_run):
    # (return, violation): ucb earns most but ignores the budget of 20; ofs and eg keep it.
    for agent, ret, viol in (("ucb", 1190.0, 258.0), ("ofs", 1136.0, 5.5), ("eg", 1140.0, 19.0),
                             ("primal-dual", 1143.0, 83.0)):
        path = leaderboard.record([fair_run(agent, s, ret + s, viol + s) for s in range(2)],
                                  kind="baseline", directory=tmp_path)
    return leaderboard.load(path)


def test_feasible_entries_rank_first_then_by_violation(fair_board):
    assert [e["agent"] for e in ranked(fair_board)] == ["eg", "ofs", "primal-dual", "ucb"]
    by_agent = {e["agent"]: e for e in fair_board["entries"]}
    assert violation(fair_board, by_agent["ofs"]) == 0.0
    # excess over the budget in units of the budget: (258.5 - 20) / 20
    assert violation(fair_board, by_agent["ucb"]) == pytest.approx((258.5 - 20.0) / 20.0)
    assert feasibility(fair_board, by_agent["ofs"]) == "yes"
    assert feasibility(fair_board, by_agent["ucb"]) == "no: violation 258.5 (budget <= 20)"


def test_exports_print_the_feasibility_column(fair_board):
    md = leaderboard.to_markdown(fair_board)
    assert "| feasible |" in md
    assert "| 1 | eg | baseline | gauntlet | yes |" in md
    assert "| 4 | ucb | baseline | gauntlet | no: violation 258.5 (budget <= 20) |" in md
    yaml = leaderboard.to_model_index(fair_board, "ucb")
    assert '- type: feasible\n      value: "no: violation 258.5 (budget <= 20)"' in yaml


def test_the_fair_threshold_spec_names_its_constraint():
    (constraint,) = get_task("gauntlet/FairThreshold-Synthetic-v0").benchmark.constraints
    assert (constraint.metric, constraint.budget) == ("violation", 20.0)


def test_a_constraint_on_an_unknown_metric_is_an_error():
    from gauntlet.registry.specs import BenchmarkSpec, Constraint, Metric

    with pytest.raises(ValueError, match="names metric 'cost'"):
        BenchmarkSpec(metrics=(Metric("return", "max"),), primary_metric="return", train_timesteps=0,
                      constraints=(Constraint("cost", 1.0),))


def test_bounds_are_apart_and_never_ranked(tmp_path, lot_run):
    n = len(get_task(LOT).benchmark.eval_seeds(official=True))
    # The bound's policy (a fallback) has the lowest cost; its own figure is the lower bound.
    metrics = [{"cost": 100.0, "return": -100.0, "fill_rate": 1.0, "setups_per_period": 1.0, "cost_lower_bound": 633.0}
               for _ in range(n)]
    leaderboard.record([fake_run(LOT, "perfect-info", 0, metrics)], kind="bound", directory=tmp_path)
    path = leaderboard.record([lot_run(0)], kind="baseline", directory=tmp_path)
    board = leaderboard.load(path)
    assert [e["agent"] for e in ranked(board)] == ["random"]
    assert bound_metrics(board) == ["cost_lower_bound"]
    md = leaderboard.to_markdown(board)
    assert "Bounds (not policies, not ranked)" in md
    assert "| perfect-info | gauntlet | 633 ± – | 1 |" in md
    assert "| 1 | perfect-info" not in md


def test_perfect_info_is_a_bound_in_the_registry():
    from gauntlet.registry import get_agent

    assert get_agent("perfect-info").kind == "bound"


def test_proportions_are_read_by_their_mean_not_their_iqm(tmp_path):
    # AGV success: 1 in 4 episodes succeeds in every run, so the IQM is 0 and the mean 0.25.
    task = "gauntlet/AGVWarehouse-SimpleStatic-v1"
    n = len(get_task(task).benchmark.eval_seeds(official=True))
    runs = []
    for seed in range(3):
        success = [1.0 if (k + seed) % 4 == 0 else 0.0 for k in range(n)]
        metrics = [{"success": s, "return": s, "collision": 0.0, "path_length": 3.0, "length": 50.0} for s in success]
        runs.append(fake_run(task, "astar", seed, metrics))
    board = leaderboard.load(leaderboard.record(runs, kind="baseline", directory=tmp_path))
    stat = board["entries"][0]["results"]["success"]
    assert stat["iqm"] == 0.0 and stat["mean"] == pytest.approx(0.25)
    metric = next(m for m in board["protocol"]["metrics"] if m["name"] == "success")
    value, ci = interval(stat, metric)
    assert value == pytest.approx(0.25) and ci[0] <= 0.25 <= ci[1]
    assert "| mean [95% CI] |" in leaderboard.to_markdown(board)


@pytest.mark.parametrize("value, text", [
    (None, "–"), (0.0, "0"), (-0.0, "0"), (-1e-12, "-1e-12"), (12004.31, "12,004"), (1136.624, "1,137"),
    (633.47, "633.5"), (0.8954321, "0.8954"), (999.96, "1,000"), (-2.5e-7, "-2.5e-07"), (-0.00004, "-4e-05"),
])
def test_number_formatting(value, text):
    assert format_number(value) == text


def test_formatting_never_prints_negative_zero():
    assert format_mean_std(-0.0, -0.0) == "0 ± 0"
    assert format_interval(-0.0, [-0.0, 0.0]) == "0 [0, 0]"


def test_one_run_prints_dashes_for_spread():
    assert format_mean_std(1136.6, None) == "1,137 ± –"
    assert format_interval(1136.6, [None, None]) == "1,137 [–]"
    assert format_interval(0.25, [0.125, 0.375]) == "0.25 [0.125, 0.375]"
