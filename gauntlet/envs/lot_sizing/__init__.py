"""LotSizing: stochastic capacitated lot-sizing (PDPPO). ``env`` is the single env, ``vector`` the native
batched one, ``kernels`` their compiled period."""

from gauntlet.envs.lot_sizing.env import LotSizingEnv, LotSizingInstance, episode_metrics

__all__ = ["LotSizingEnv", "LotSizingInstance", "episode_metrics"]
