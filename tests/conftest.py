import os
from pathlib import Path

import pytest

from gauntlet.data import fetch as _fetch

# The data files tests need are in the repository (tests/data/<relpath>, sources and licences in
# tests/data/*/SOURCES.md). The data home is set here, not by the caller, so every test process
# (xdist workers import this file too, subprocesses inherit it) reads these verified copies and
# never a user's cache or the network.
TEST_DATA_HOME = Path(__file__).resolve().parent / "data"
os.environ[_fetch.DATA_HOME_ENV] = str(TEST_DATA_HOME)
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(autouse=True)
def _no_downloads(monkeypatch):
    """Fail any test that would download a data file (tests that simulate a network patch it back)."""

    def refuse(url, destination):
        pytest.fail(f"a test tried to download {url}; tests must read {TEST_DATA_HOME} only")

    monkeypatch.setattr(_fetch, "_download", refuse)


@pytest.fixture
def repo_data_home() -> Path:
    """tests/data: the verified copies of the data files (the data home every test runs with)."""
    return TEST_DATA_HOME


@pytest.fixture(autouse=True)
def _single_torch_thread():
    """Keep torch to one thread so parallel test workers do not oversubscribe the cores."""
    import sys

    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)
    yield


# ------------------------------------------------------------------ MILPBranching instances
# No presolve, cuts or propagation: the root LP of disjoint odd cycles is x = 1/2 everywhere, so
# every column is a branching candidate and tiny solves take milliseconds.
BARE_SCIP_PARAMS = {"presolving/maxrounds": 0, "separating/maxroundsroot": 0, "propagating/maxroundsroot": 0}


def _write_odd_cycles_lp(path, n_cycles: int = 4, length: int = 5) -> str:
    """A maximum independent set LP on ``n_cycles`` disjoint odd cycles, written to ``path``."""
    n = n_cycles * length
    lines = ["Maximize", " obj: " + " + ".join(f"x{i}" for i in range(n)), "Subject To"]
    for c in range(n_cycles):
        for k in range(length):
            u, v = c * length + k, c * length + (k + 1) % length
            lines.append(f" e{u}_{v}: x{u} + x{v} <= 1")
    lines += ["Binary", " " + " ".join(f"x{i}" for i in range(n)), "End"]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@pytest.fixture
def odd_cycles_lp():
    """Writer of odd-cycle instances: ``odd_cycles_lp(path, n_cycles=4, length=5) -> str``."""
    return _write_odd_cycles_lp


@pytest.fixture
def cycles_env(tmp_path):
    """A MILPBranching env on three 5-cycles with SCIP's presolve, cuts and propagation off."""
    pytest.importorskip("pyscipopt")
    from gauntlet.envs.milp_branching.env import MILPBranchingEnv

    env = MILPBranchingEnv(instance_path=_write_odd_cycles_lp(tmp_path / "cycles.lp", n_cycles=3),
                           scip_params=BARE_SCIP_PARAMS)
    yield env
    env.close()
