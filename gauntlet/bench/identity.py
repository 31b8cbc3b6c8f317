"""What makes two board entries the same entry, and the hashes that pin an entry's content.

An entry is identified by (agent, kind, submitter, config), where the config is everything a
user chooses that changes what is measured: the training budget, the agent's keyword arguments
(on top of the registry's defaults for the task) and the kwargs of the training and of the
evaluation env. ``config_sha256`` is the hash of the config; ``sha256`` the hash of the entry's
whole canonical content, so that any edit after it was written (a number, a wall time, a
command) is caught by ``gauntlet leaderboard validate``.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

from gauntlet.registry import get_task

# Re-measuring a run reproduces its trajectories bit for bit, but a return summed in another
# order (earlier versions added rewards one by one, the runner now takes a dot product) can
# differ in the last digit; results equal to this relative tolerance count as the same.
REPRODUCTION_RTOL = 1e-9


def reproducible(run: dict[str, Any], task_id: str) -> dict[str, Any]:
    """What a re-measured run must reproduce: its episode returns, metrics and MO figures, less
    the task's wall-clock metrics (machine- and load-dependent, see ``Metric.wall_clock``)."""
    clock = {m.name for m in get_task(task_id).benchmark.metrics if m.wall_clock}
    out = {k: run[k] for k in ("episode_returns", "metrics", "mo_metrics") if k in run}
    if "metrics" in out:
        out["metrics"] = {name: values for name, values in out["metrics"].items() if name not in clock}
    return out


def canonical_json(obj: Any) -> str:
    """Sorted keys, no whitespace, no NaN: the same text for the same content in any process."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def content_sha256(obj: Any) -> str:
    return hashlib.sha256(canonical_json(obj).encode()).hexdigest()


def entry_sha256(entry: dict[str, Any]) -> str:
    """The hash of everything in the entry but its own ``sha256`` field."""
    return content_sha256({k: v for k, v in entry.items() if k != "sha256"})


def identity(entry: dict[str, Any]) -> tuple[str, str, str]:
    return entry["agent"], entry["kind"], entry["submitter"]


def describe(key: tuple[str, str, str]) -> str:
    agent, kind, submitter = key
    return f"({agent}, {kind}, submitter {submitter})"


def differences(old: Any, new: Any, prefix: str = "", rel_tol: float = 0.0) -> list[tuple[str, Any, Any]]:
    """Field-by-field differences between two JSON values as ``(path, old, new)``: paths are
    ``/``-separated into objects and into lists of the same length; a missing key is ``UNSET``.
    With ``rel_tol`` two floats within that relative tolerance are not a difference."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in sorted(set(old) | set(new), key=str):
            path = f"{prefix}/{key}" if prefix else str(key)
            out += differences(old.get(key, UNSET), new.get(key, UNSET), path, rel_tol)
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [d for i, (a, b) in enumerate(zip(old, new))
                for d in differences(a, b, f"{prefix}/{i}" if prefix else str(i), rel_tol)]
    if (rel_tol and isinstance(old, float) and isinstance(new, float)
            and math.isclose(old, new, rel_tol=rel_tol, abs_tol=rel_tol)):
        return []
    if old is UNSET or new is UNSET or canonical_json(old) != canonical_json(new):
        return [(prefix, old, new)]
    return []


class _Unset:
    def __repr__(self) -> str:
        return "(unset)"


UNSET: Any = _Unset()


def shown(value: Any) -> str:
    """A JSON value as a message shows it."""
    return repr(value) if value is UNSET else canonical_json(value)
