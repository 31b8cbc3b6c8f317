"""AGVWarehouse: AGV path planning with sparse rewards (PPO+RND). ``env`` is the single env, ``vector``
the native batched one; ``geometry`` and ``kernels`` hold the layouts and the numba step shared by both."""

from gauntlet.envs.agv_warehouse.env import AGVWarehouseEnv, episode_metrics

__all__ = ["AGVWarehouseEnv", "episode_metrics"]
