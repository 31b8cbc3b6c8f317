"""Reference trajectories of LotSizing, FairThreshold and ESGPortfolio, recorded from the envs
before their step and reset moved into numba kernels (issue 25), so the leaderboards measured on
the old code stand: the replay tests require the current single and native vector envs to
reproduce every recorded value bit for bit.

A trajectory is one env copy driven by a fixed action sequence, laid out as Gymnasium's
NEXT_STEP autoreset lays out a vector env's rows: row 0 is ``reset(seed=seed)``; after a row that
terminated or truncated, the next row is ``reset()`` (its action is ignored, reward 0, not done)
instead of a step. Every info value (nested dicts flattened to ``"cost.dp"``) is stored per row,
zero where the row does not report the key, with a ``"_" + key`` presence mask.

Recording (only ever against the code the boards were measured on)::

    GAUNTLET_DATA_HOME=tests/data python -m tests.envs.light_env_trajectories
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np

DIR = Path(__file__).resolve().parents[1] / "data" / "trajectories"

# name -> (env class path, kwargs, seeds, rows). The ids' defaults first, then variants that
# reach every branch of the dynamics (short horizons so episodes end inside the recording).
CASES: dict[str, tuple[str, dict[str, Any], tuple[int, ...], int]] = {
    "lot_sizing_15x5": ("lot_sizing", {"n_items": 15, "n_machines": 5}, (0, 1), 230),
    "lot_sizing_25x15": ("lot_sizing", {"n_items": 25, "n_machines": 15}, (3,), 120),
    "lot_sizing_variant": ("lot_sizing", {
        "n_items": 6, "n_machines": 3, "horizon": 12, "demand": "seasonal", "overflow": "cost", "overflow_cost": 0.7,
        "idle_keeps_setup": True, "forecast_horizon": 2, "observe_time": True, "max_inventory": 30,
    }, (5, 6), 40),
    "lot_sizing_poisson_fixed_start": ("lot_sizing", {
        "n_items": 4, "n_machines": 4, "horizon": 9, "demand": "poisson", "random_initial_state": False,
        "instance_seed": 7, "max_inventory": 20,
    }, (2,), 30),
    "fair_threshold_synthetic": ("fair_threshold", {"dataset": "synthetic"}, (0, 1), 150),
    "fair_threshold_german": ("fair_threshold", {"dataset": "german"}, (4,), 80),
    "fair_threshold_compas": ("fair_threshold", {"dataset": "compas"}, (5,), 80),
    "fair_threshold_drift": ("fair_threshold", {"impact_rate": 0.05, "rho": 0.3, "horizon": 40}, (2, 3), 90),
    "fair_threshold_continuous": ("fair_threshold", {
        "continuous": True, "impact_rate": 0.5, "initial_share": 0.3, "batch_size": 37, "n_score_bins": 17,
        "n_thresholds": 7, "horizon": 25, "eta": 0.3, "beta": 5.0, "eps": 0.05, "default_cost": 2.5,
    }, (8,), 60),
    "fair_threshold_tiny_batch": ("fair_threshold", {"batch_size": 1, "horizon": 10, "n_thresholds": 3}, (9,), 30),
    "esg_regulated": ("esg_portfolio", {"data": "sp500", "regulation": "esg", "esg_in_state": True}, (0,), 120),
    "esg_unregulated_noesg_test": ("esg_portfolio", {
        "data": "sp500", "regulation": "none", "esg_in_state": False, "period": "test",
    }, (0,), 80),
    "esg_synthetic_cash_episodes": ("esg_portfolio", {
        "data": "synthetic", "synthetic_assets": 5, "synthetic_days": 300, "lookback": 4, "cash": True,
        "episode_length": 15, "flat_tax": 0.002, "grant_rate": 0.3, "tax_rate": 0.2, "transaction_cost": 0.01,
        "action_scale": 12.0,
    }, (1, 2), 50),
}

_ENTRY = {
    "lot_sizing": "gauntlet.envs.lot_sizing.env:LotSizingEnv",
    "fair_threshold": "gauntlet.envs.fair_threshold.env:FairThresholdEnv",
    "esg_portfolio": "gauntlet.envs.esg_portfolio.env:ESGPortfolioEnv",
}
_ACTION_SEED = 20251207


def make_env(name: str) -> Any:
    family, kwargs, _, _ = CASES[name]
    module, attr = _ENTRY[family].split(":")
    cls = getattr(__import__(module, fromlist=[attr]), attr)
    return cls(**kwargs)


def actions_for(name: str, env: Any, seed: int) -> list[Any]:
    """The fixed action sequence of one trajectory (valid under LotSizing's mask; every
    FairThreshold index or threshold, including the ends; ESG actions at and inside the box)."""
    family, _, _, rows = CASES[name]
    rng = np.random.default_rng([_ACTION_SEED, seed, len(name)])
    if family == "lot_sizing":
        allowed = env.action_space.allowed
        out = []
        for _ in range(rows):
            out.append(np.array([rng.choice(np.flatnonzero(row)) for row in allowed], dtype=np.int64))
        return out
    if family == "fair_threshold":
        if env.continuous:
            values = rng.uniform(0.0, 1.0, rows)
            values[:4] = (0.0, 1.0, 0.5, 1.0 / 17)
            return [np.array([v], dtype=np.float32) for v in values]
        return [int(k) for k in rng.integers(0, env.n_thresholds, rows)]
    values = rng.uniform(-1.0, 1.0, (rows, env.action_space.shape[0])).astype(np.float32)
    values[1] = 1.0
    values[2] = -1.0
    values[3, 0] = 1.0
    return list(values)


def _flatten(info: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in info.items():
        if key.startswith("_"):
            continue
        if isinstance(value, dict):
            out.update(_flatten(value, prefix + key + "."))
        else:
            out[prefix + key] = value
    return out


def rollout(name: str, seed: int, env: Any | None = None) -> dict[str, np.ndarray]:
    """One trajectory of case ``name`` as arrays (see the module docstring)."""
    env = make_env(name) if env is None else env
    actions = actions_for(name, env, seed)
    rows: list[dict[str, Any]] = []
    done = True
    for k, action in enumerate(actions):
        if done:
            obs, info = env.reset(seed=seed) if k == 0 else env.reset()
            reward, terminated, truncated = 0.0, False, False
        else:
            obs, reward, terminated, truncated, info = env.step(action)
        done = terminated or truncated
        rows.append({"obs": np.array(obs), "reward": float(reward), "terminated": terminated,
                     "truncated": truncated, "info": _flatten(info)})
    return stack(rows)


def stack(rows: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    out = {
        "obs": np.stack([r["obs"] for r in rows]),
        "reward": np.array([r["reward"] for r in rows], dtype=np.float64),
        "terminated": np.array([r["terminated"] for r in rows]),
        "truncated": np.array([r["truncated"] for r in rows]),
    }
    keys = sorted({key for r in rows for key in r["info"]})
    for key in keys:
        present = np.array([key in r["info"] for r in rows])
        sample = np.asarray(next(r["info"][key] for r in rows if key in r["info"]))
        if sample.dtype.kind in "US":
            values = np.array([str(r["info"].get(key, "")) for r in rows])
        else:
            zero = np.zeros_like(sample, dtype=np.float64 if sample.dtype.kind in "fiub" else sample.dtype)
            values = np.stack([np.asarray(r["info"][key], dtype=zero.dtype) if key in r["info"] else zero for r in rows])
        out["info." + key] = values
        out["_info." + key] = present
    return out


def path(name: str, seed: int) -> Path:
    return DIR / f"{name}_seed{seed}.npz"


def record(names: list[str] | None = None, check: Callable[[str], None] = print) -> None:
    DIR.mkdir(parents=True, exist_ok=True)
    for name in names or list(CASES):
        for seed in CASES[name][2]:
            np.savez_compressed(path(name, seed), **rollout(name, seed))
            check(f"recorded {path(name, seed).name}")


if __name__ == "__main__":
    record()


_VECTOR = {
    "lot_sizing": "gauntlet.envs.lot_sizing.vector:LotSizingVectorEnv",
    "fair_threshold": "gauntlet.envs.fair_threshold.vector:FairThresholdVectorEnv",
    "esg_portfolio": "gauntlet.envs.esg_portfolio.vector:ESGPortfolioVectorEnv",
}


def vector_rollouts(name: str) -> list[dict[str, np.ndarray]]:
    """The trajectories of all of case ``name``'s seeds at once, one copy per seed of the
    family's native vector env (NEXT_STEP autoreset lays its rows out as :func:`rollout` does)."""
    family, kwargs, seeds, rows = CASES[name]
    module, attr = _VECTOR[family].split(":")
    envs = getattr(__import__(module, fromlist=[attr]), attr)(num_envs=len(seeds), **kwargs)
    actions = [actions_for(name, make_env(name), seed) for seed in seeds]
    per_copy: list[list[dict[str, Any]]] = [[] for _ in seeds]
    for k in range(rows):
        if k == 0:
            obs, infos = envs.reset(seed=list(seeds))
            reward, terminated, truncated = np.zeros(len(seeds)), np.zeros(len(seeds), bool), np.zeros(len(seeds), bool)
        else:
            batch = np.stack([np.asarray(a[k]) for a in actions])
            obs, reward, terminated, truncated, infos = envs.step(batch)
        for i, trajectory in enumerate(per_copy):
            trajectory.append({"obs": np.array(obs[i]), "reward": float(reward[i]), "terminated": bool(terminated[i]),
                               "truncated": bool(truncated[i]), "info": _unbatch(infos, i)})
    return [stack(trajectory) for trajectory in per_copy]


def _unbatch(infos: dict[str, Any], i: int, prefix: str = "") -> dict[str, Any]:
    """Copy ``i``'s info from batched infos (only the keys its ``"_" + key`` mask reports)."""
    out: dict[str, Any] = {}
    for key, value in infos.items():
        if key.startswith("_") or not infos.get("_" + key, np.ones(i + 1, bool))[i]:
            continue
        if isinstance(value, dict):
            out.update(_unbatch(value, i, prefix + key + "."))
        else:
            out[prefix + key] = value[i]
    return out
