"""UAMFleet: urban-air-mobility fleet scheduling (CapTAIN). ``env`` holds the env, ``network`` the
vertiport network, ``demand`` the day's demand, prices and random draws, ``kernels`` the compiled
per-decision bookkeeping (ground state, mask, observation), ``render`` the map."""

from gauntlet.envs.uam_fleet.env import UAMFleetEnv, episode_metrics

__all__ = ["UAMFleetEnv", "episode_metrics"]
