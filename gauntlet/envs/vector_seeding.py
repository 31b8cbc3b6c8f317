"""Seeding shared by the native vector envs, matching Gymnasium's SyncVectorEnv."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
from gymnasium.utils import seeding


def per_copy_seeds(seed: int | Sequence[int | None] | None, num_envs: int) -> list[int | None]:
    """Copy ``i`` gets ``seed + i`` for an int seed (as SyncVectorEnv does), the given entry for a
    list of ``num_envs`` seeds, and ``None`` (no reseeding) without a seed."""
    if seed is None:
        return [None] * num_envs
    if isinstance(seed, (int, np.integer)):
        return [int(seed) + i for i in range(num_envs)]
    seeds = list(seed)
    if len(seeds) != num_envs:
        raise ValueError(f"seed list must have num_envs={num_envs} entries, got {len(seeds)}")
    return seeds


def reset_rows(options: Mapping[str, Any] | None, num_envs: int) -> tuple[np.ndarray | None, dict[str, Any]]:
    """The copies a ``reset(options=...)`` resets: None for all of them, or the indices Gymnasium's
    ``options["reset_mask"]`` (bool (num_envs,), at least one True) selects; and the other options."""
    rest = dict(options or {})
    mask = rest.pop("reset_mask", None)
    if mask is None:
        return None, rest
    mask = np.asarray(mask)
    if mask.shape != (num_envs,) or mask.dtype != np.bool_ or not mask.any():
        raise ValueError(f"reset_mask must be a bool array of shape ({num_envs},) with at least one True, got {mask!r}")
    return np.flatnonzero(mask), rest


def seed_generators(generators: list[np.random.Generator | None], rows: Sequence[int],
                    seeds: Sequence[int | None]) -> list[int]:
    """Give each copy of ``rows`` that has a seed, or no generator yet, a new generator (Gymnasium's
    ``np_random(seed)``, as a single env's ``reset(seed=...)`` makes); returns those copies."""
    renewed = [int(i) for i in rows if seeds[i] is not None or generators[i] is None]
    for i in renewed:
        generators[i] = seeding.np_random(seeds[i])[0]
    return renewed
