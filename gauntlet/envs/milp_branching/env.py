"""Learning to branch: pick the branching variable at every node of SCIP's branch-and-bound.

Description
-----------
The env solves one MILP per episode with SCIP (through PySCIPOpt >= 6, SCIP 10) and asks the
agent for the branching variable at every LP branching node. SCIP runs
``model.optimizeNogil()`` on a worker thread; a branching rule with priority 666666 (above
every built-in rule) extracts the node's bipartite graph, hands it to :meth:`step` through a
queue and branches on the column the agent chose. Instances are drawn from the four
generators of Gasse et al. (2019) (set cover, combinatorial auction, capacitated facility
location, maximum independent set; see :mod:`.instances`) or read from any ``.mps``/``.lp``
file. Reference agents: GCNN imitation of strong branching (Gasse et al. 2019) and a
ReviBranch-style DQN (arXiv 2508.17452).

Action Space
------------
``Discrete(max_vars)``: the LP column position of the variable to branch on. Only the LP
branching candidates (integer columns with fractional LP value) are valid; they are given by
``observation["action_mask"]``, ``info["action_mask"]`` and :meth:`action_masks`
(sb3-contrib layout). Any other action raises ``ValueError``. The space is a
:class:`~gauntlet.envs.masked_spaces.MaskedDiscrete` whose ``sample()`` draws among the candidates of
the node waiting for a decision (the env sets its mask at every node), so tools that act through
``action_space.sample()`` (random rollouts, SB3's env checker) send valid decisions; ``contains``
is the plain range check. Gymnasium's ``check_env`` draws one action *before* a
``reset(seed=123)`` and steps it after (``check_step_determinism``): no column is a candidate at
every node, so that action is usually not one at the new root and the step raises, as any
masked-out action does (every other check passes; see ``tests/envs/test_milp_branching.py``).

Observation Space
-----------------
A ``Dict`` of fixed-size, zero-padded arrays (SB3's ``MultiInputPolicy`` can consume it; graph
agents cut the padding with ``sizes``):

- ``variable_features``: ``Box(-inf, inf, (max_vars, 19), float32)``, one row per LP column;
- ``row_features``: ``Box(-inf, inf, (max_rows, 5), float32)``, one row per finite side of an LP row;
- ``edge_index``: ``Box(0, ..., (2, max_edges), int64)``: (row, column) of each non-zero;
- ``edge_features``: ``Box(-inf, inf, (max_edges, 1), float32)``: normalized coefficient;
- ``candidates``: ``Box(-1, max_vars - 1, (max_vars,), int64)``: candidate columns, then -1;
- ``action_mask``: ``MultiBinary(max_vars)``;
- ``sizes``: ``Box(0, inf, (4,), int64)``: number of columns, rows, edges and candidates.

The feature formulas are in :mod:`.observation`. If the LP has more rows or edges than the
padding (many cuts), the last ones are dropped and ``info["truncated_graph"]`` is True.
``max_vars``/``max_rows``/``max_edges`` default to bounds computed from the problem class
and size (or the file): ``max_rows = 1.5 R + 64`` and ``max_edges = 1.5 Z + 16 max_vars``
for ``R`` rows and ``Z`` non-zeros of the original problem (headroom for root cuts).

Rewards
-------
``reward="nodes"`` (default): minus the B&B nodes SCIP created since the previous decision;
``"lp_iterations"``: minus the LP iterations; ``"time"``: minus SCIP's solving time (wall
clock, includes the agent's decision time). The first step also counts the work done before
the first decision (presolve, root LP, cuts), so the undiscounted return is minus the
episode total: ``sum_t r_t = -nodes`` (resp. ``-lp_iterations``, ``-solving_time``).

Starting State
--------------
``reset`` draws an instance (from ``self.np_random``) and a SCIP random seed shift, starts the
solve and returns the first node that needs a branching decision. Generated instances that
SCIP solves without branching are skipped: the next instance and seed shift are drawn from the
same generator, so every seed gives an episode, deterministically (at most
``max_instance_draws`` draws, ``info["instance_draws"]`` says how many were needed; at
``size="small"`` about one draw in four branches for set cover, one in three for independent
set, seven in ten for auctions and nine in ten for facility location). A file instance that needs no branching raises ``ValueError``.

Episode End
-----------
Terminated when SCIP finishes (status ``optimal``, ``infeasible``, ...); truncated when a
limit stops it (``timelimit``, ...). The final ``info`` holds ``status`` and
``solving_time``. Every ``info`` holds ``nodes``, ``lp_iterations``, ``primal_bound``,
``dual_bound``, ``gap``, ``depth``, ``node_id`` and ``parent_id`` (SCIP node numbers of the
node to branch on and of its parent, 0 for none: they give the search tree), ``n_candidates``,
``action_mask``, ``instance`` and ``truncated_graph``. (Wall-clock time is reported only at
the end so that same seed and actions give identical infos.)

SCIP settings
-------------
As in Gasse et al. (2019): ``separating/maxrounds = 0`` (cuts at the root only),
``presolving/maxrestarts = 0``, ``limits/time = time_limit``; plus
``randomization/randomseedshift`` drawn from the seed. Anything can be overridden or added
with ``scip_params={"name": value}`` (applied last). :meth:`let_scip_branch` hands the rest
of the episode to SCIP's own rules (relpscost by default): that is the SCIP-default baseline.
:meth:`candidate_scores` returns pseudocost or full strong-branching scores of the current
candidates, and :meth:`call_in_solver` runs any ``fn(model, node_graph)`` on the solver thread.

Arguments
---------
``problem``: ``"setcover" | "cauction" | "facility" | "indset"``; ``size``: ``"small" |
"train" | "transfer"``; ``instance_path``: a ``.mps``/``.lp`` file (overrides problem/size);
``reward``; ``time_limit`` (s, > 0); ``scip_params``; ``max_vars``/``max_rows``/``max_edges``;
``max_instance_draws`` (default 100); ``render_mode`` (``"rgb_array"`` or ``"ansi"``).

Errors: bad arguments (including ``reset(seed=...)`` with anything but ``None`` or an integer
>= 0), an unreadable/unparsable file, an infeasible or unbounded instance (detected before
any branching), a problem/size whose instances keep being solved without branching, an LP wider
than ``max_vars`` and actions outside the candidate list raise ``ValueError``; exceptions raised
inside the SCIP callback are re-raised by the env call that was waiting. ``close()`` or a new
``reset()`` mid-episode interrupts the solve and joins the thread.

Rendering
---------
``render_mode="rgb_array"`` (:mod:`.render`) draws the search tree so far (nodes by depth:
branched, the node waiting for the decision, open, and closed without branching: pruned,
infeasible or integral), the incumbent and the dual bound over the decisions with the gap, and
the current candidates' pseudocost scores and LP fractionality. It reads SCIP's open nodes and
pseudocosts on the solver thread without changing anything: trajectories are the same with or
without rendering. ``"ansi"`` gives one line of counters.

Version History
---------------
- v0: initial version (PySCIPOpt 6.3 / SCIP 10). Later, without changing trajectories:
  ``render_mode="rgb_array"``; ``ValueError`` for bad seeds and for exhausted instance draws
  (was ``RuntimeError``), up to 100 draws by default (was 20); the small combinatorial auctions
  are 40 items x 200 bids (30 x 120 were almost never branched on).

Paper: "ReviBranch: Deep Reinforcement Learning for Branch-and-Bound with Revived Trajectories"
(arXiv 2508.17452); observation and instances from Gasse et al., "Exact Combinatorial
Optimization with Graph Convolutional Neural Networks" (NeurIPS 2019).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any, Callable

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from gauntlet.envs.masked_spaces import MaskedDiscrete
from gauntlet.envs.milp_branching.instances import SIZES, MILPInstance, generate
from gauntlet.envs.milp_branching.observation import FRAC_FEATURE, N_ROW_FEATURES, N_VAR_FEATURES, NodeBipartiteExtractor, NodeGraph
from gauntlet.envs.milp_branching.solver_thread import SolverThread, solve_stats
from gauntlet.envs.validation import check, check_choice, check_int

__all__ = ["MILPBranchingEnv", "episode_metrics", "default_scip_params", "make_model", "pad_graph", "solve_inline"]

PROBLEMS = tuple(SIZES)
REWARDS = {"nodes": "nodes", "lp_iterations": "lp_iterations", "time": "solving_time"}
TERMINAL_STATUSES = ("optimal", "infeasible", "unbounded", "inforunbd")
_FILE_SUFFIXES = (".mps", ".lp", ".mps.gz", ".lp.gz", ".cip")


def default_scip_params(time_limit: float, seed_shift: int) -> dict[str, Any]:
    """Gasse et al.'s settings: root cuts only, no restarts, a time limit."""
    return {
        "separating/maxrounds": 0,
        "presolving/maxrestarts": 0,
        "limits/time": float(time_limit),
        "randomization/randomseedshift": int(seed_shift),
    }


def make_model(instance: MILPInstance | str, params: Mapping[str, Any]) -> Any:
    """A silent ``pyscipopt.Model`` holding the instance (built or read from a file) with ``params``."""
    import pyscipopt

    model = pyscipopt.Model()
    model.hideOutput()
    if isinstance(instance, MILPInstance):
        instance.to_scip(model)
    else:
        read_problem(model, instance)
    for name, value in params.items():
        try:
            model.setParam(name, value)
        except Exception as exc:  # noqa: BLE001 - PySCIPOpt raises KeyError, LookupError or a bare Exception
            raise ValueError(f"scip_params: cannot set SCIP parameter {name!r} to {value!r}: {exc}") from None
    return model


def read_problem(model: Any, path: str) -> None:
    if not os.path.isfile(path):
        raise ValueError(f"instance_path={path!r} does not exist or is not a file")
    if not path.lower().endswith(_FILE_SUFFIXES):
        raise ValueError(f"instance_path={path!r} must end with one of {_FILE_SUFFIXES}")
    try:
        model.readProblem(path)
    except Exception as exc:  # noqa: BLE001 - SCIP reports parse errors as a generic Exception
        raise ValueError(f"instance_path={path!r} could not be parsed by SCIP: {exc}") from None
    if model.getNVars() == 0:
        raise ValueError(f"instance_path={path!r} could not be parsed by SCIP: no variables read")


def _class_bounds(problem: str, size: str) -> tuple[int, int, int]:
    """(columns, rows, non-zeros) upper bounds of an instance of the class and size."""
    p = SIZES[problem][size]
    if problem == "setcover":
        return p["n_cols"], p["n_rows"], int(p["n_rows"] * p["n_cols"] * p.get("density", 0.05))
    if problem == "cauction":
        return p["n_bids"], p["n_items"] + p["n_bids"] // 3, 30 * p["n_bids"]
    if problem == "facility":
        c, f = p["n_customers"], p["n_facilities"]
        return f + c * f, c + f + c * f, 4 * c * f + f
    n, aff = p["n_nodes"], 4
    return n, n + aff * (n - aff), n + 2 * aff * (n - aff)


def _file_bounds(path: str) -> tuple[int, int, int]:
    import pyscipopt

    model = pyscipopt.Model()
    model.hideOutput()
    read_problem(model, path)
    conss = model.getConss()
    nnz = sum(model.getConsNVars(c) for c in conss)
    return model.getNVars(), len(conss), nnz


def pad_graph(graph: NodeGraph, max_vars: int, max_rows: int, max_edges: int) -> tuple[dict[str, np.ndarray], bool]:
    """The padded observation dict of ``graph`` and whether rows/edges had to be dropped."""
    n_vars = graph.variable_features.shape[0]
    if n_vars > max_vars:
        raise ValueError(f"max_vars={max_vars} is too small: the LP has {n_vars} columns; allowed: integers >= {n_vars} "
                         "or None (the bound of the problem class and size)")
    n_rows = min(graph.row_features.shape[0], max_rows)
    keep = graph.edge_index[0] < n_rows
    edge_index = graph.edge_index[:, keep][:, :max_edges]
    edge_features = graph.edge_features[keep][:max_edges]
    n_edges = edge_index.shape[1]
    truncated = n_rows < graph.row_features.shape[0] or n_edges < int(keep.sum())
    obs = {
        "variable_features": np.zeros((max_vars, N_VAR_FEATURES), np.float32),
        "row_features": np.zeros((max_rows, N_ROW_FEATURES), np.float32),
        "edge_index": np.zeros((2, max_edges), np.int64),
        "edge_features": np.zeros((max_edges, 1), np.float32),
        "candidates": np.full(max_vars, -1, np.int64),
        "action_mask": np.zeros(max_vars, np.int8),
        "sizes": np.array([n_vars, n_rows, n_edges, len(graph.candidates)], np.int64),
    }
    obs["variable_features"][:n_vars] = graph.variable_features
    obs["row_features"][:n_rows] = graph.row_features[:n_rows]
    obs["edge_index"][:, :n_edges] = edge_index
    obs["edge_features"][:n_edges] = edge_features
    obs["candidates"][: len(graph.candidates)] = graph.candidates
    obs["action_mask"][graph.candidates] = 1
    return obs, truncated


class MILPBranchingEnv(gym.Env):
    """Variable selection in SCIP's branch-and-bound (see the module docstring)."""

    metadata = {"render_modes": ["rgb_array", "ansi"], "render_fps": 4}

    def __init__(
        self,
        problem: str = "setcover",
        size: str = "train",
        instance_path: str | None = None,
        reward: str = "nodes",
        time_limit: float = 3600.0,
        scip_params: Mapping[str, Any] | None = None,
        max_vars: int | None = None,
        max_rows: int | None = None,
        max_edges: int | None = None,
        max_instance_draws: int = 100,
        render_mode: str | None = None,
    ) -> None:
        if instance_path is None:
            check_choice("problem", problem, PROBLEMS)
            check_choice("size", size, tuple(SIZES[problem]))
        check_choice("reward", reward, tuple(REWARDS))
        check("time_limit", time_limit, isinstance(time_limit, (int, float)) and not isinstance(time_limit, bool)
              and math.isfinite(time_limit) and time_limit > 0, "a finite number of seconds > 0")
        check("scip_params", scip_params, scip_params is None or isinstance(scip_params, Mapping),
              "None or a mapping of SCIP parameter names to values")
        for name, value in (("max_vars", max_vars), ("max_rows", max_rows), ("max_edges", max_edges)):
            check(name, value, value is None or (isinstance(value, (int, np.integer)) and not isinstance(value, bool)
                                                 and value >= 1),
                  "None (a bound computed from the problem class and size, or the file) or an integer >= 1")
        check_int("max_instance_draws", max_instance_draws, 1)
        check_choice("render_mode", render_mode, (None, *self.metadata["render_modes"]))

        self.problem, self.size, self.instance_path = problem, size, instance_path
        self.reward_kind, self.time_limit = reward, float(time_limit)
        self.scip_params = dict(scip_params or {})
        self.max_instance_draws = int(max_instance_draws)
        self.render_mode = render_mode
        self._validate_scip_params()
        if instance_path is not None:
            n_cols, n_rows, nnz = _file_bounds(instance_path)
        else:
            n_cols, n_rows, nnz = _class_bounds(problem, size)
        self.max_vars = int(max_vars or n_cols)
        self.max_rows = int(max_rows or math.ceil(1.5 * n_rows) + 64)
        self.max_edges = int(max_edges or math.ceil(1.5 * nnz) + 16 * self.max_vars)

        self.action_space = MaskedDiscrete(self.max_vars)
        self.observation_space = spaces.Dict({
            "variable_features": spaces.Box(-np.inf, np.inf, (self.max_vars, N_VAR_FEATURES), np.float32),
            "row_features": spaces.Box(-np.inf, np.inf, (self.max_rows, N_ROW_FEATURES), np.float32),
            "edge_index": spaces.Box(
                np.zeros((2, self.max_edges), np.int64),
                np.array([[self.max_rows - 1], [self.max_vars - 1]], np.int64).repeat(self.max_edges, axis=1),
                dtype=np.int64,
            ),
            "edge_features": spaces.Box(-np.inf, np.inf, (self.max_edges, 1), np.float32),
            "candidates": spaces.Box(-1, self.max_vars - 1, (self.max_vars,), np.int64),
            "action_mask": spaces.MultiBinary(self.max_vars),
            "sizes": spaces.Box(0, np.iinfo(np.int64).max, (4,), np.int64),
        })
        self._solver: SolverThread | None = None
        self.model: Any = None
        self._obs: dict[str, np.ndarray] | None = None
        self._cand_index: dict[int, int] = {}
        self._prev_stats: dict[str, float] = {}
        self._done = True
        self._scip_decides = False
        self._info: dict[str, Any] = {}
        self._instance_name = ""
        # (node_id, parent_id, depth, primal_bound, dual_bound) of every node handed to the agent:
        # the search tree and bound history that render() draws
        self._nodes_seen: list[tuple[int, int, int, float, float]] = []
        self.last_instance: MILPInstance | str | None = None
        self.last_params: dict[str, Any] = {}

    # ------------------------------------------------------------------ episode
    def _validate_scip_params(self) -> None:
        import pyscipopt

        model = pyscipopt.Model()
        model.hideOutput()
        for name, value in {**default_scip_params(self.time_limit, 0), **self.scip_params}.items():
            try:
                model.setParam(name, value)
            except Exception as exc:  # noqa: BLE001 - PySCIPOpt raises KeyError, LookupError or a bare Exception
                raise ValueError(f"scip_params: cannot set SCIP parameter {name!r} to {value!r}: {exc}") from None

    def _draw_instance(self) -> MILPInstance | str:
        if self.instance_path is not None:
            return self.instance_path
        return generate(self.problem, self.size, self.np_random)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[dict, dict]:
        if seed is not None:
            seed = check_int("seed", seed, 0)
        super().reset(seed=seed)
        self._stop_solver()
        for draw in range(1, self.max_instance_draws + 1):
            self._stop_solver()
            self._nodes_seen = []
            instance = self._draw_instance()
            seed_shift = int(self.np_random.integers(0, 2**31 - 1))
            params = {**default_scip_params(self.time_limit, seed_shift), **self.scip_params}
            self.model = make_model(instance, params)
            self.last_instance, self.last_params = instance, params
            self._instance_name = instance.name if isinstance(instance, MILPInstance) else os.path.basename(instance)
            self._solver = SolverThread(self.model, NodeBipartiteExtractor())
            self._prev_stats = {}
            self._scip_decides = False
            self._done = False
            event = self._solver.start()
            if event[0] == "node":
                obs, info = self._on_event(event)
                info["instance_draws"] = draw
                return obs, info
            self._on_event(event)  # raises forwarded errors
            status = self.model.getStatus()
            if status in ("infeasible", "unbounded", "inforunbd"):
                raise ValueError(f"instance {self._instance_name!r} is {status}: nothing to branch on")
            if self.instance_path is not None:
                raise ValueError(
                    f"instance {self._instance_name!r} was solved without branching (status {status!r}); "
                    "there is no decision to make"
                )
        raise ValueError(
            f"max_instance_draws={self.max_instance_draws} is too small for problem={self.problem!r}, "
            f"size={self.size!r}: that many consecutive instances were solved without branching; allowed: a "
            "larger max_instance_draws, a larger size, or scip_params that leave more to branch on"
        )

    def _on_event(self, event: tuple) -> tuple[dict, dict]:
        kind = event[0]
        if kind == "error":
            self._done = True
            self._stop_solver()
            raise event[1]
        if kind == "node":
            graph, stats = event[1], event[2]
            obs, truncated = pad_graph(graph, self.max_vars, self.max_rows, self.max_edges)
            self._cand_index = {int(c): k for k, c in enumerate(graph.candidates)}
            info = {k: v for k, v in stats.items() if k != "solving_time"}
            info.update(depth=int(stats["depth"]), node_id=int(stats["node_id"]), parent_id=int(stats["parent_id"]),
                        n_candidates=len(graph.candidates), truncated_graph=truncated)
            self._nodes_seen.append((info["node_id"], info["parent_id"], info["depth"], stats["primal_bound"],
                                     stats["dual_bound"]))
            self.action_space.mask = obs["action_mask"]
        else:
            self._solver.stop()
            stats = event[1]
            obs = {k: np.zeros(s.shape, s.dtype) for k, s in self.observation_space.spaces.items()}
            obs["candidates"][:] = -1
            self._cand_index = {}
            self._done = True
            info = dict(stats)
            info.update(status=self.model.getStatus(), depth=0, node_id=0, parent_id=0, n_candidates=0,
                        truncated_graph=False)
        info["action_mask"] = obs["action_mask"].astype(bool)
        info["instance"] = self._instance_name
        self._obs = obs
        self._info = info
        return obs, info

    def step(self, action: Any) -> tuple[dict, float, bool, bool, dict]:
        if self._done or self._solver is None:
            raise RuntimeError("the episode has ended (or reset() was not called); call reset()")
        column = self._validate_action(action)
        key = REWARDS[self.reward_kind]
        before = self._prev_stats.get(key, 0.0)
        if self._scip_decides:
            event = self._solver.delegate()
        else:
            event = self._solver.branch(self._cand_index[column])
        obs, info = self._on_event(event)
        stats = event[1] if event[0] == "done" else event[2]
        self._prev_stats = {k: stats[k] for k in REWARDS.values()}
        reward = -(stats[key] - before)
        terminated = truncated = False
        if event[0] == "done":
            terminated = info["status"] in TERMINAL_STATUSES
            truncated = not terminated
        return obs, float(reward), terminated, truncated, info

    def _validate_action(self, action: Any) -> int:
        arr = np.asarray(action)
        if arr.size != 1 or arr.dtype.kind not in "iuf" or arr.dtype == np.bool_:
            raise ValueError(f"action={action!r} is invalid; expected one integer column index in [0, {self.max_vars})")
        value = arr.reshape(()).item()
        if isinstance(value, float) and (not math.isfinite(value) or value != int(value)):
            raise ValueError(f"action={action!r} is invalid; expected an integer column index, got a non-integer float")
        column = int(value)
        if not 0 <= column < self.max_vars:
            raise ValueError(f"action={column} is outside the action space Discrete({self.max_vars})")
        if column not in self._cand_index:
            cands = sorted(self._cand_index)
            shown = cands[:10] + (["..."] if len(cands) > 10 else [])
            raise ValueError(f"action={column} is not a branching candidate at this node; candidates: {shown}")
        return column

    # ------------------------------------------------------------- solver hooks
    def action_masks(self) -> np.ndarray:
        """Valid actions at the current node (sb3-contrib's MaskablePPO hook)."""
        if self._obs is None:
            return np.zeros(self.max_vars, dtype=bool)
        return self._obs["action_mask"].astype(bool)

    def let_scip_branch(self) -> None:
        """From the next ``step`` on, SCIP's own branching rules decide (the action is validated, then ignored)."""
        self._scip_decides = True

    def call_in_solver(self, fn: Callable[[Any, NodeGraph], Any]) -> Any:
        """Run ``fn(model, node_graph)`` on the solver thread at the current node; exceptions propagate here.
        ``node_graph.candidate_vars[k]`` is the variable of ``observation["candidates"][k]``."""
        if self._done or self._solver is None:
            raise RuntimeError("no node is waiting for a decision; call reset()")
        return self._solver.call(fn)

    def candidate_scores(self, kind: str = "strong") -> np.ndarray:
        """Scores over the action space (NaN for non-candidates): ``"strong"`` = the preference of
        vanilla full strong branching (see :func:`strong_branching_scores`; its argmax, first
        candidate on ties, is Gasse et al.'s expert), ``"pseudocost"`` = SCIP's pseudocost score
        at the LP value."""
        if kind not in ("strong", "pseudocost"):
            raise ValueError(f"kind={kind!r} is invalid; allowed: 'strong', 'pseudocost'")
        values = self.call_in_solver(strong_branching_scores if kind == "strong" else pseudocost_scores)
        scores = np.full(self.max_vars, np.nan)
        scores[self._obs["candidates"][: len(values)]] = values
        return scores

    # ------------------------------------------------------------------ teardown
    def _stop_solver(self) -> None:
        if self._solver is not None:
            self._solver.release()
            self._solver = None

    def close(self) -> None:
        self._stop_solver()
        self._done = True
        self.model = None

    def render(self) -> np.ndarray | str | None:
        if self.render_mode == "rgb_array":
            from gauntlet.envs.milp_branching.render import draw

            return draw(self._search_view())
        if self.render_mode != "ansi":
            return None
        i = self._info
        return (f"{i.get('instance', '')}: nodes={i.get('nodes', 0):.0f} lp_iter={i.get('lp_iterations', 0):.0f} "
                f"primal={i.get('primal_bound', float('nan')):.6g} dual={i.get('dual_bound', float('nan')):.6g} "
                f"gap={i.get('gap', float('nan')):.4g} candidates={i.get('n_candidates', 0)}")

    def _search_view(self) -> Any:
        from gauntlet.envs.milp_branching.render import SearchView

        waiting = not self._done and self._solver is not None and bool(self._nodes_seen)
        if not waiting:
            return SearchView(self._instance_name, list(self._nodes_seen), False, info=dict(self._info),
                              scip_took_over=self._scip_decides)
        open_list, pseudocost = self.call_in_solver(lambda model, graph: (open_nodes(model), pseudocost_scores(model, graph)))
        n_cands = int(self._obs["sizes"][3])
        cands = self._obs["candidates"][:n_cands].copy()
        frac = self._obs["variable_features"][cands, FRAC_FEATURE].astype(np.float64)
        return SearchView(self._instance_name, list(self._nodes_seen), True, open_list, cands,
                          np.minimum(frac, 1.0 - frac), pseudocost, dict(self._info))

    def __del__(self) -> None:
        solver = getattr(self, "_solver", None)
        if solver is not None:
            solver.stop()


def strong_branching_scores(model: Any, graph: NodeGraph) -> np.ndarray:
    """Vanilla full strong branching preferences of the candidates (solver thread, inside the callback).

    Gasse et al.'s expert (``branch_fullstrong_vanilla.c``, kept in SCIP as ``vanillafullstrong``)
    strong-branches every candidate without changing the search and picks, in this order: the
    first candidate whose two children are both infeasible (or cut off), else the candidate with
    the largest gain of its feasible child among those with exactly one infeasible child, else
    the largest product score ``max(down_gain, 1e-6) * max(up_gain, 1e-6)``. One number per
    candidate encodes that order so that argmax picks the same candidate: 2 for two infeasible
    children, ``1 + g / (1 + g)`` for one (``g`` the other child's gain), ``p / (1 + p)`` for
    none (``p`` the product score), 0 after an LP error."""
    lp_obj = model.getLPObjVal()
    scores = np.empty(len(graph.candidate_vars))
    model.startStrongbranch()
    try:
        for k, var in enumerate(graph.candidate_vars):
            down, up, _, _, down_inf, up_inf, _, _, lperror = model.getVarStrongbranch(var, 2**31 - 1, idempotent=True)
            down_gain, up_gain = max(down - lp_obj, 0.0), max(up - lp_obj, 0.0)
            if lperror:
                scores[k] = 0.0
            elif down_inf and up_inf:
                scores[k] = 2.0
            elif down_inf or up_inf:
                gain = up_gain if down_inf else down_gain
                scores[k] = 1.0 + gain / (1.0 + gain)
            else:
                product = max(down_gain, 1e-6) * max(up_gain, 1e-6)
                scores[k] = product / (1.0 + product)
    finally:
        model.endStrongbranch()
    return scores


def pseudocost_scores(model: Any, graph: NodeGraph) -> np.ndarray:
    """SCIP's pseudocost scores of the candidates at their LP values."""
    return np.array([model.getVarPseudocostScore(v, v.getLPSol()) for v in graph.candidate_vars], dtype=np.float64)


def open_nodes(model: Any) -> list[tuple[int, int, int]]:
    """``(number, parent number, depth)`` of SCIP's open nodes (leaves, children, siblings); read-only."""
    leaves, children, siblings = model.getOpenNodes()
    out = []
    for node in (*leaves, *children, *siblings):
        parent = node.getParent()
        out.append((node.getNumber(), parent.getNumber() if parent is not None else 0, node.getDepth()))
    return out


def solve_inline(instance: MILPInstance | str, params: Mapping[str, Any], policy: Callable[[NodeGraph], int]) -> dict:
    """The same solve without the env: an ordinary (inline) branching rule extracts the same node
    graph and branches on ``policy(graph)`` (a column position) in SCIP's own thread.

    Returns the final statistics plus ``status`` and ``decisions``. Used to check that the env
    reproduces the inline search tree and to measure the env's overhead."""
    from pyscipopt import SCIP_RESULT, Branchrule

    extractor = NodeBipartiteExtractor()
    decisions = [0]

    class InlineRule(Branchrule):
        def branchexeclp(self, allowaddcons: bool) -> dict:
            graph = extractor(self.model)
            column = int(policy(graph))
            k = int(np.flatnonzero(graph.candidates == column)[0])
            self.model.branchVar(graph.candidate_vars[k])
            decisions[0] += 1
            return {"result": SCIP_RESULT.BRANCHED}

    model = make_model(instance, params)
    model.includeBranchrule(InlineRule(), "gauntlet_inline", "inline policy", priority=666_666, maxdepth=-1,
                            maxbounddist=1.0)
    model.optimize()
    out: dict[str, Any] = dict(solve_stats(model))
    out.update(status=model.getStatus(), decisions=decisions[0])
    return out


def most_fractional_column(variable_features: np.ndarray, candidates: np.ndarray) -> int:
    """The candidate whose LP value is farthest from an integer (first in SCIP's order on ties)."""
    cands = candidates[candidates >= 0]
    frac = variable_features[cands, FRAC_FEATURE].astype(np.float64)
    return int(cands[int(np.argmax(np.minimum(frac, 1.0 - frac)))])


def episode_metrics(rewards: np.ndarray, infos: list[dict]) -> dict[str, float]:
    """Final SCIP statistics of one episode: nodes, LP iterations, solving time, gap, and
    ``solved`` (1 when SCIP proved optimality or infeasibility before a limit stopped it)."""
    last = infos[-1] if infos else {}
    return {
        "solved": float(last.get("status") in TERMINAL_STATUSES),
        "nodes": float(last.get("nodes", math.nan)),
        "lp_iterations": float(last.get("lp_iterations", math.nan)),
        "solving_time": float(last.get("solving_time", math.nan)),
        "gap": float(last.get("gap", math.nan)),
    }
