import math

from gauntlet.agents.tensorboard import ScalarLog


def _scalars(run_dir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run_dir))
    events.Reload()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}


def test_disabled_log_writes_nothing(tmp_path):
    log = ScalarLog(None, "PDPPO")
    log.write({"train/loss": 1.0}, 10)
    assert not log.enabled and log.run_dir is None
    assert list(tmp_path.iterdir()) == []


def test_runs_follow_sb3_numbering_and_skip_nan(tmp_path):
    (tmp_path / "PDPPO_3").mkdir()
    (tmp_path / "PDPPO-1critic_7").mkdir()  # another run name does not count
    log = ScalarLog(tmp_path, "PDPPO")
    assert log.run_dir is None and list(tmp_path.glob("PDPPO_4")) == []  # opened on first write
    log.write({"train/loss": 0.5, "rollout/cost": math.nan}, 100)
    log.write({"train/loss": 0.25}, 200)
    assert log.run_dir == str(tmp_path / "PDPPO_4")
    assert _scalars(log.run_dir) == {"train/loss": [(100, 0.5), (200, 0.25)]}
    second = ScalarLog(tmp_path, "PDPPO")
    second.write({"train/loss": 1.0}, 0)
    assert second.run_dir == str(tmp_path / "PDPPO_5")


def test_same_numbering_as_sb3(tmp_path):
    from stable_baselines3.common.utils import configure_logger

    ScalarLog(tmp_path, "PPO").write({"x": 1.0}, 0)
    sb3_dir = configure_logger(tensorboard_log=str(tmp_path), tb_log_name="PPO").dir
    assert sb3_dir == str(tmp_path / "PPO_2")
