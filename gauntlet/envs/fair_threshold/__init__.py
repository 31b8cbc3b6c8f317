"""FairThreshold: closed-loop fair threshold decisions (OFS). ``env`` is the single env, ``vector``
the native batched one, ``kernels`` (and ``random``, NumPy's multinomial) their compiled round."""

from gauntlet.envs.fair_threshold.env import FairThresholdEnv, episode_metrics

__all__ = ["FairThresholdEnv", "episode_metrics"]
