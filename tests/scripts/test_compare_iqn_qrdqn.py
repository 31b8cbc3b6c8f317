
import pytest

from .script_runner import import_script


@pytest.fixture(scope="module")
def script():
    return import_script("compare_iqn_qrdqn.py")


def test_both_learners_are_trained_per_seed_and_summarized_over_seeds(script, capsys):
    script.main(["--timesteps", "200", "--seeds", "0", "1", "--eval-episodes", "2"])
    out = capsys.readouterr().out
    per_run = [line for line in out.splitlines() if " seed " in line]
    assert [line.split(":")[0] for line in per_run] == ["iqn seed 0", "qrdqn seed 0", "iqn seed 1", "qrdqn seed 1"]
    assert "CartPole-v1, 200 steps per run, 2 evaluation episodes, mean ± sample std over 2 seeds" in out
    table = out.split("over 2 seeds\n")[1].splitlines()
    assert table[0].split()[:2] == ["learner", "runs"]
    rows = {line.split()[0]: line.split() for line in table[1:]}
    assert set(rows) == {"iqn", "qrdqn"}
    for row in rows.values():
        # name, runs, mean ± std, the mean again with its CI [low, high], the wall time per run
        assert row[1] == "2" and row[3] == "±"
        low, high = (float(x.strip("[],").replace(",", "")) for x in row[6:8])
        assert 1 <= low <= float(row[5].replace(",", "")) <= high <= 500  # a CartPole return lies in [1, 500]
        assert float(row[8]) > 0


def test_a_budget_below_one_step_is_refused(script, capsys):
    with pytest.raises(SystemExit) as exit_:
        script.main(["--timesteps", "0"])
    assert exit_.value.code == 2 and "--timesteps=0" in capsys.readouterr().err
