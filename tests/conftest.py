import os
from pathlib import Path

import pytest

# Tests read the fairness datasets from the shared copy next to the repository unless the
# caller points GAUNTLET_DATA_HOME elsewhere; the package itself never looks there.
_SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
if "GAUNTLET_DATA_HOME" not in os.environ and _SHARED_DATA.is_dir():
    os.environ["GAUNTLET_DATA_HOME"] = str(_SHARED_DATA)
os.environ.setdefault("OMP_NUM_THREADS", "1")


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
