"""MILPBranching: variable selection in SCIP's branch-and-bound (ReviBranch). ``env`` is the env,
``instances`` the Ecole-style generators, ``observation`` the bipartite node graph, ``solver_thread``
the SCIP solve the env steps through. PySCIPOpt is imported only when an env is made."""

from gauntlet.envs.milp_branching.env import MILPBranchingEnv, episode_metrics

__all__ = ["MILPBranchingEnv", "episode_metrics"]
