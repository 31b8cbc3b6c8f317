"""MILPBranching: variable selection in SCIP's branch-and-bound (ReviBranch). ``env`` is the env,
``instances`` the Ecole-style generators, ``observation`` the bipartite node graph, ``solver_thread``
the SCIP solve the env steps through, ``render`` the ``rgb_array`` picture. PySCIPOpt is imported
only when an env is made, matplotlib only when it draws."""

from gauntlet.envs.milp_branching.env import MILPBranchingEnv, episode_metrics

__all__ = ["MILPBranchingEnv", "episode_metrics"]
