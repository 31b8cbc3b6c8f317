"""MECOffloading: multi-objective task offloading in mobile edge computing (GMORL). ``env`` holds the
single envs, ``vector`` the native batched one, ``kernels`` the numba step both call."""

from gauntlet.envs.mec_offloading.env import MECOffloadingEnv, MOMECOffloadingEnv, episode_metrics

__all__ = ["MECOffloadingEnv", "MOMECOffloadingEnv", "episode_metrics"]
