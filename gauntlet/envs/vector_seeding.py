"""Seeding shared by the native vector envs, matching Gymnasium's SyncVectorEnv."""

from __future__ import annotations

from typing import Sequence

import numpy as np


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
