"""Driving: CARLA-style driving with preordered objectives (Pr-IQN). ``env`` holds the envs;
``road`` the procedural scenes, ``traffic`` the compiled IDM/MOBIL traffic and collision tests,
``lidar`` the analytic ray caster, ``bullet`` the optional PyBullet world, ``scoring`` the CARLA
leaderboard score and ``render`` the top-down picture."""

from gauntlet.envs.driving.env import DrivingEnv, MODrivingEnv, episode_metrics

__all__ = ["DrivingEnv", "MODrivingEnv", "episode_metrics"]
