"""Gauntlet: applied decision-making environments from recent papers, with reference
agents, honest baselines and a benchmark runner that writes leaderboard JSON.

Importing the package registers every environment id with Gymnasium under the
``gauntlet/`` namespace; heavy dependencies (torch, PySCIPOpt, ...) are imported only
when an environment or agent is first built.
"""

__version__ = "0.1.0"

from gauntlet.registry import register_envs

register_envs()

__all__ = ["__version__"]
