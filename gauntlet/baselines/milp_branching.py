"""Classical branching rules as policies over ``gauntlet/MILPBranching-*``.

- ``ScipDefaultAgent``: SCIP decides (``env.let_scip_branch()``; SCIP 10 default = reliability
  pseudocost branching, relpscost). The episode then has a single step.
- ``PseudocostAgent``: argmax of SCIP's pseudocost product score (``env.candidate_scores("pseudocost")``).
- ``MostFractionalAgent``: argmax of ``min(f, 1 - f)`` over the candidates, ``f`` the fractional
  part of the LP value (observation feature ``solution_frac``); first candidate on ties.
- ``StrongBranchingAgent``: vanilla full strong branching as in Gasse et al. (2019): a
  candidate whose children are both infeasible, else the best feasible-child gain among
  candidates with one infeasible child, else the best product score
  ``max(down_gain, 1e-6) * max(up_gain, 1e-6)`` (``env.candidate_scores("strong")``).
- Random: the generic ``gauntlet.baselines.random.RandomAgent`` samples from ``info["action_mask"]``.

The score-based agents need the env itself (the scores come from SCIP at the current node):
the runner's ``on_reset`` hook hands it over, or pass ``env`` to the constructor.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from gauntlet.envs.milp_branching.env import most_fractional_column


class _BranchingAgent:
    def __init__(self, env: gym.Env | None = None, seed: int = 0) -> None:
        self.env = env.unwrapped if env is not None else None
        self.seed = seed

    def on_reset(self, env: gym.Env, observation: Any, info: dict) -> None:
        self.env = env.unwrapped

    def _require_env(self) -> Any:
        if self.env is None or not hasattr(self.env, "candidate_scores"):
            raise RuntimeError(f"{type(self).__name__} needs the MILPBranching env: pass env= or call on_reset(env, ...)")
        return self.env

    def _argmax_score(self, kind: str) -> int:
        scores = self._require_env().candidate_scores(kind)
        return int(np.nanargmax(np.where(np.isnan(scores), -np.inf, scores)))


class MostFractionalAgent(_BranchingAgent):
    """Branch on the most fractional candidate (needs only the observation)."""

    def predict(self, observation: dict, state: Any = None, episode_start: Any = None, deterministic: bool = True,
                action_masks: np.ndarray | None = None) -> tuple[int, Any]:
        return most_fractional_column(observation["variable_features"], observation["candidates"]), state


class PseudocostAgent(_BranchingAgent):
    """Branch on the candidate with the largest SCIP pseudocost score."""

    def predict(self, observation: dict, state: Any = None, episode_start: Any = None, deterministic: bool = True,
                action_masks: np.ndarray | None = None) -> tuple[int, Any]:
        return self._argmax_score("pseudocost"), state


class StrongBranchingAgent(_BranchingAgent):
    """Branch on the candidate with the best full strong branching score."""

    def predict(self, observation: dict, state: Any = None, episode_start: Any = None, deterministic: bool = True,
                action_masks: np.ndarray | None = None) -> tuple[int, Any]:
        return self._argmax_score("strong"), state


class ScipDefaultAgent(_BranchingAgent):
    """Hand every decision to SCIP's own branching rules (relpscost in SCIP 10)."""

    def on_reset(self, env: gym.Env, observation: Any, info: dict) -> None:
        super().on_reset(env, observation, info)
        self.env.let_scip_branch()

    def predict(self, observation: dict, state: Any = None, episode_start: Any = None, deterministic: bool = True,
                action_masks: np.ndarray | None = None) -> tuple[int, Any]:
        # the env validates then ignores this action once SCIP decides
        return int(observation["candidates"][0]), state
