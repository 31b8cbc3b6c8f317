"""TorchScript submissions: played in a child process under a per-episode time limit and a memory
limit, recorded with the file's sha256; pickles refused unread; crashes and hangs reported."""

from __future__ import annotations

import hashlib
import pickle

import gymnasium as gym
import numpy as np
import pytest
import torch

from gauntlet.bench import leaderboard
from gauntlet.bench.sandbox import SubmissionError, TorchScriptPolicy, check_torchscript
from gauntlet.bench.submission import submit
from gauntlet.cli import main

FAIR = "gauntlet/FairThreshold-Synthetic-v0"  # one episode, Discrete(51) thresholds


class Threshold(torch.nn.Module):
    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return torch.tensor(25)


class Hang(torch.nn.Module):
    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        x = obs.sum()
        while bool(x > -1.0):
            x = x + 1.0
        return torch.tensor(25)


class Crash(torch.nn.Module):
    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        if bool(obs.sum() >= 0):
            raise RuntimeError("policy bug")
        return torch.tensor(25)


class Hog(torch.nn.Module):
    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        big = torch.ones(2_000_000_000, dtype=torch.float32)  # 8 GB
        return big[0].long()


class TwoActions(torch.nn.Module):
    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return torch.tensor([1, 2])


def _script(module: torch.nn.Module, path) -> str:
    torch.jit.script(module).save(str(path))
    return str(path)


def test_torchscript_policy_gets_an_entry_with_its_sha256(tmp_path):
    policy = _script(Threshold(), tmp_path / "threshold.pt")
    path = submit(policy, FAIR, submitter="alice", directory=tmp_path / "boards", command="gauntlet submit ...")
    board = leaderboard.load(path)
    (entry,) = board["entries"]
    assert (entry["agent"], entry["kind"], entry["submitter"]) == ("threshold", "submission", "alice")
    assert entry["runs"][0]["artifact_sha256"] == hashlib.sha256((tmp_path / "threshold.pt").read_bytes()).hexdigest()
    assert entry["runs"][0]["provenance"]["command"] == "gauntlet submit ..."
    assert entry["results"]["return"]["mean"] > 0


def test_an_episode_past_its_time_limit_is_stopped(tmp_path):
    policy = _script(Hang(), tmp_path / "hang.pt")
    with pytest.raises(SubmissionError, match="episode 0 did not finish within 1 s per episode"):
        submit(policy, FAIR, submitter="alice", directory=tmp_path / "boards", episode_time_limit_s=1)
    assert not (tmp_path / "boards").exists()


def test_a_crash_and_an_allocation_over_the_memory_limit_are_reported(tmp_path, capsys):
    policy = _script(Crash(), tmp_path / "crash.pt")
    assert main(["submit", "--agent", policy, "--task", FAIR, "--submitter", "alice",
                 "--leaderboard", str(tmp_path / "boards")]) == 2
    err = capsys.readouterr().err
    assert "crash.pt: the policy crashed: " in err and "policy bug" in err
    hog = _script(Hog(), tmp_path / "hog.pt")
    with pytest.raises(SubmissionError, match="can't allocate memory.*over the memory limit of 3000 MB"):
        submit(hog, FAIR, submitter="alice", directory=tmp_path / "boards", memory_limit_mb=3000)


def test_actions_are_typed_for_the_action_space_and_a_wrong_shape_is_explained():
    obs = np.zeros(14, dtype=np.float32)
    action, _ = TorchScriptPolicy(torch.jit.script(Threshold()), gym.spaces.Discrete(51)).predict(obs)
    assert action == 25 and isinstance(action, int)
    box = gym.spaces.Box(-1.0, 1.0, (2,), dtype=np.float32)
    action, _ = TorchScriptPolicy(torch.jit.script(TwoActions()), box).predict(obs)
    assert action.dtype == np.float32 and action.tolist() == [1.0, 2.0]
    with pytest.raises(SubmissionError, match=r"action of shape \(2,\); Discrete\(51\) needs one integer"):
        TorchScriptPolicy(torch.jit.script(TwoActions()), gym.spaces.Discrete(51)).predict(obs)
    with pytest.raises(SubmissionError, match="Box or \\(Multi\\)Discrete action spaces"):
        TorchScriptPolicy(torch.jit.script(Threshold()), gym.spaces.Text(5))


def test_pickles_are_refused_without_being_read(tmp_path):
    torch.save(Threshold(), tmp_path / "module.pt")
    with pytest.raises(SubmissionError, match="without TorchScript code .* a pickle, which is never loaded"):
        check_torchscript(tmp_path / "module.pt")
    (tmp_path / "policy.pkl").write_bytes(pickle.dumps({"not": "a policy"}))
    with pytest.raises(SubmissionError, match="not TorchScript \\(not a zip archive"):
        submit(str(tmp_path / "policy.pkl"), FAIR, submitter="alice", directory=tmp_path / "boards")
    with pytest.raises(FileNotFoundError, match="module:attr or a TorchScript file"):
        submit(str(tmp_path / "missing.pt"), FAIR, submitter="alice", directory=tmp_path / "boards")
    assert not (tmp_path / "boards").exists()
