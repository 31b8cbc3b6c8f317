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
