"""Gauntlet: applied decision-making environments from recent papers, with reference
agents, honest baselines and a benchmark runner that writes leaderboard JSON.

Importing the package registers every environment id with Gymnasium under the
``gauntlet/`` namespace (multi-agent ids with PettingZoo: ``gauntlet.make_parallel(id)`` or
``pettingzoo.make("parallel", id)``); heavy dependencies (torch, PySCIPOpt, ...) are imported only
when an environment or agent is first built.
"""

__version__ = "0.1.0"

from gauntlet.registry import make_parallel, make_parallel_vector, register_envs

register_envs()

__all__ = ["__version__", "make_parallel", "make_parallel_vector"]
