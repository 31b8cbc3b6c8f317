"""FairThreshold: closed-loop fair threshold decisions (OFS). ``env`` is the env."""

from gauntlet.envs.fair_threshold.env import FairThresholdEnv, episode_metrics

__all__ = ["FairThresholdEnv", "episode_metrics"]
