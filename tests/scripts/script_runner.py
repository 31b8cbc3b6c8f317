"""Running a ``scripts/`` file as a user does (a subprocess from the repository root) or importing
it to call its ``main`` and helpers in-process."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def run_script(name: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """``python scripts/<name> args...`` from the repository root, output captured as text."""
    return subprocess.run([sys.executable, str(ROOT / "scripts" / name), *args], capture_output=True, text=True,
                          check=check, cwd=ROOT)


def import_script(name: str) -> ModuleType:
    """``scripts/<name>`` imported as a module (its ``__main__`` block not run)."""
    spec = importlib.util.spec_from_file_location(Path(name).stem, ROOT / "scripts" / name)
    module = importlib.util.module_from_spec(spec)
    # Registered before running, as importlib's recipe does, so whatever looks the module up by
    # name (pickle, numba) finds it.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
