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
from typing import Any

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


def differences(old: Any, new: Any, prefix: str = "") -> list[tuple[str, Any, Any]]:
    """Field-by-field differences between two JSON values as ``(path, old, new)``: paths are
    ``/``-separated into objects and into lists of the same length; a missing key is ``UNSET``."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in sorted(set(old) | set(new), key=str):
            path = f"{prefix}/{key}" if prefix else str(key)
            out += differences(old.get(key, UNSET), new.get(key, UNSET), path)
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [d for i, (a, b) in enumerate(zip(old, new)) for d in differences(a, b, f"{prefix}/{i}" if prefix else str(i))]
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
