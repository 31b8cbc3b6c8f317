"""MOCoop: multi-objective cooperative multi-agent particle worlds (MO-MIX). ``navigation`` and
``predator_prey`` hold the PettingZoo envs, ``base`` their shared dict interface over a batched
core, ``physics`` the MPE-style integration, ``vector`` the native batched envs, ``render`` the picture."""

from gauntlet.envs.mo_coop.navigation import MOCoopNavigationEnv
from gauntlet.envs.mo_coop.predator_prey import MOPredatorPreyEnv

__all__ = ["MOCoopNavigationEnv", "MOPredatorPreyEnv"]
