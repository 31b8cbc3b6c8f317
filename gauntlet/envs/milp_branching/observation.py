"""Node bipartite-graph observation of a SCIP LP (Gasse et al. 2019 / Ecole ``NodeBipartite`` layout).

Called inside SCIP's branching callback (solver thread). Row data (columns, coefficients,
norms) is cached per LP row so only the changing quantities are read at each node; the
constraint matrix is rebuilt only when the set of LP rows changes (cuts added or removed).

Variable (column) features, ``c`` the objective of the transformed (minimization) problem:

====  =====================  ====================================================================
idx   name                   formula
====  =====================  ====================================================================
0     objective              c_j / ||c||
1-4   type one-hot           binary, integer, implicit integer, continuous
5     has_lower_bound        local lower bound finite
6     has_upper_bound        local upper bound finite
7     normed_reduced_cost    (c_j - a_j^T y) / ||c||, y the LP row duals
8     solution_value         LP value x_j
9     solution_frac          x_j - floor(x_j) for integer columns, 0 for continuous
10    at_lower_bound         x_j <= lb_j + 1e-9
11    at_upper_bound         x_j >= ub_j - 1e-9
12    scaled_age             column age / (number of LPs solved + 5)
13    incumbent_value        value in the best solution (0 while none)
14    average_incumbent      mean value over the stored solutions (0 while none)
15-18 basis one-hot          lower, basic, upper, zero
====  =====================  ====================================================================

Row features: every LP row ``lhs <= a.x + k <= rhs`` becomes one ``<=`` row per finite
side (``a.x <= rhs - k`` and ``-a.x <= -(lhs - k)``), with ``s = +1`` / ``-1`` the side sign:

====  =====================  ====================================================================
0     bias                   s * (side - k) / ||a||
1     objective_cosine       s * a.c / (||a|| ||c||)
2     is_tight               activity equals the side within 1e-9
3     dual_value             s * y_i / (||a|| ||c||)
4     scaled_age             row age / (number of LPs solved + 5)
====  =====================  ====================================================================

Edges: ``(row, column)`` pairs of the split rows with feature ``s * a_ij / ||a||``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

N_VAR_FEATURES = 19
N_ROW_FEATURES = 5
VAR_FEATURE_NAMES = (
    "objective", "is_binary", "is_integer", "is_implicit_integer", "is_continuous", "has_lower_bound",
    "has_upper_bound", "normed_reduced_cost", "solution_value", "solution_frac", "at_lower_bound",
    "at_upper_bound", "scaled_age", "incumbent_value", "average_incumbent_value", "basis_lower",
    "basis_basic", "basis_upper", "basis_zero",
)
ROW_FEATURE_NAMES = ("bias", "objective_cosine", "is_tight", "dual_value", "scaled_age")
FRAC_FEATURE = VAR_FEATURE_NAMES.index("solution_frac")
_BASIS = {"lower": 0, "basic": 1, "upper": 2, "zero": 3}
_TYPES = {"BINARY": 0, "INTEGER": 1, "IMPLINT": 2, "CONTINUOUS": 3}


@dataclass
class NodeGraph:
    """One node's bipartite graph, unpadded."""

    variable_features: np.ndarray  # (n_cols, 19) float32
    row_features: np.ndarray  # (n_split_rows, 5) float32
    edge_index: np.ndarray  # (2, n_edges) int64: split-row index, column index
    edge_features: np.ndarray  # (n_edges, 1) float32
    candidates: np.ndarray  # (n_cands,) int64 column positions of the LP branching candidates
    candidate_vars: list  # the pyscipopt Variables of the candidates (solver thread only)


class NodeBipartiteExtractor:
    """Reads the current LP of a solving ``pyscipopt.Model``; one instance per solve."""

    def __init__(self) -> None:
        self._row_cache: dict[tuple[str, int], tuple[np.ndarray, np.ndarray, float, float]] = {}
        self._row_keys: tuple | None = None
        self._matrix: Any = None
        self._n_cols = -1
        self._static: tuple[np.ndarray, np.ndarray, float, list] | None = None
        self._n_sols = -1
        self._incumbent = (np.zeros(0), np.zeros(0))

    def _column_static(self, model: Any, cols: list) -> tuple[np.ndarray, np.ndarray, float, list]:
        if self._static is None or self._n_cols != len(cols):
            obj = np.array([c.getObjCoeff() for c in cols], dtype=np.float64)
            variables = [c.getVar() for c in cols]
            types = np.zeros((len(cols), 4), dtype=np.float32)
            types[np.arange(len(cols)), [_TYPES.get(v.vtype(), 3) for v in variables]] = 1.0
            norm = float(np.linalg.norm(obj)) or 1.0
            self._static = (obj, types, norm, variables)
            self._n_cols = len(cols)
            self._row_cache.clear()
            self._row_keys = None
            self._n_sols = -1
        return self._static

    def _incumbents(self, model: Any, variables: list) -> tuple[np.ndarray, np.ndarray]:
        n_sols = model.getNSols()
        if n_sols != self._n_sols:
            self._n_sols = n_sols
            if n_sols == 0:
                self._incumbent = (np.zeros(len(variables)), np.zeros(len(variables)))
            else:
                sols = model.getSols()
                vals = np.array([[model.getSolVal(s, v) for v in variables] for s in sols], dtype=np.float64)
                self._incumbent = (vals[0], vals.mean(axis=0))
        return self._incumbent

    def __call__(self, model: Any) -> NodeGraph:
        cols = model.getLPColsData()
        rows = model.getLPRowsData()
        n_cols = len(cols)
        obj, types, obj_norm, variables = self._column_static(model, cols)
        n_lps = model.getNLPs() + 5.0

        keys = tuple((r.name, r.getNNonz()) for r in rows)
        if keys != self._row_keys:
            self._rebuild_rows(rows, keys, obj, obj_norm, n_cols)
        matrix, norms, cosines, nnz = self._matrix

        lhs = np.array([r.getLhs() for r in rows], dtype=np.float64)
        rhs = np.array([r.getRhs() for r in rows], dtype=np.float64)
        const = np.array([r.getConstant() for r in rows], dtype=np.float64)
        act = np.array([model.getRowLPActivity(r) for r in rows], dtype=np.float64)
        dual = np.array([r.getDualsol() for r in rows], dtype=np.float64)
        rage = np.array([r.getAge() for r in rows], dtype=np.float64) / n_lps

        inf = model.infinity()
        has_rhs, has_lhs = rhs < inf, lhs > -inf
        sides = np.concatenate([np.flatnonzero(has_rhs), np.flatnonzero(has_lhs)])
        sign = np.concatenate([np.ones(has_rhs.sum()), -np.ones(has_lhs.sum())])
        side_val = np.concatenate([rhs[has_rhs], lhs[has_lhs]]) - const[sides]
        row_feat = np.empty((len(sides), N_ROW_FEATURES), dtype=np.float32)
        row_feat[:, 0] = sign * side_val / norms[sides]
        row_feat[:, 1] = sign * cosines[sides]
        row_feat[:, 2] = np.abs(act[sides] - (side_val + const[sides])) <= 1e-9 * np.maximum(1.0, np.abs(act[sides]))
        row_feat[:, 3] = sign * dual[sides] / (norms[sides] * obj_norm)
        row_feat[:, 4] = rage[sides]

        # edges of the split rows: repeat each LP row's entries once per finite side
        starts, lens = matrix.indptr[:-1], np.diff(matrix.indptr)
        edge_rows = np.repeat(np.arange(len(sides)), lens[sides])
        offsets = np.arange(len(edge_rows)) - np.repeat(np.cumsum(lens[sides]) - lens[sides], lens[sides])
        src = np.repeat(starts[sides], lens[sides]) + offsets
        edge_index = np.stack([edge_rows, matrix.indices[src]]).astype(np.int64)
        edge_feat = (np.repeat(sign / norms[sides], lens[sides]) * matrix.data[src]).astype(np.float32)[:, None]

        sol = np.array([c.getPrimsol() for c in cols], dtype=np.float64)
        lb = np.array([c.getLb() for c in cols], dtype=np.float64)
        ub = np.array([c.getUb() for c in cols], dtype=np.float64)
        age = np.array([c.getAge() for c in cols], dtype=np.float64) / n_lps
        basis = np.array([_BASIS.get(c.getBasisStatus(), 3) for c in cols], dtype=np.int64)
        redcost = obj - matrix.T @ dual
        best, avg = self._incumbents(model, variables)

        var_feat = np.zeros((n_cols, N_VAR_FEATURES), dtype=np.float32)
        var_feat[:, 0] = obj / obj_norm
        var_feat[:, 1:5] = types
        var_feat[:, 5] = lb > -inf
        var_feat[:, 6] = ub < inf
        var_feat[:, 7] = redcost / obj_norm
        var_feat[:, 8] = sol
        var_feat[:, 9] = np.where(types[:, 3] == 0, sol - np.floor(sol), 0.0)
        var_feat[:, 10] = sol <= lb + 1e-9
        var_feat[:, 11] = sol >= ub - 1e-9
        var_feat[:, 12] = age
        var_feat[:, 13] = best
        var_feat[:, 14] = avg
        var_feat[np.arange(n_cols), 15 + basis] = 1.0

        cand_vars, *_ = model.getLPBranchCands()
        candidates = np.array([v.getCol().getLPPos() for v in cand_vars], dtype=np.int64)
        return NodeGraph(var_feat, row_feat, edge_index, edge_feat, candidates, list(cand_vars))

    def _rebuild_rows(self, rows: list, keys: tuple, obj: np.ndarray, obj_norm: float, n_cols: int) -> None:
        data, indices, indptr = [], [], [0]
        norms = np.empty(len(rows))
        for i, (row, key) in enumerate(zip(rows, keys)):
            cached = self._row_cache.get(key)
            if cached is None:
                cols = np.array([c.getLPPos() for c in row.getCols()], dtype=np.int64)
                vals = np.array(row.getVals(), dtype=np.float64)
                keep = cols >= 0
                cached = (cols[keep], vals[keep], float(np.linalg.norm(vals[keep])) or 1.0)
                self._row_cache[key] = cached
            indices.append(cached[0])
            data.append(cached[1])
            norms[i] = cached[2]
            indptr.append(indptr[-1] + len(cached[0]))
        indices_arr = np.concatenate(indices) if indices else np.zeros(0, np.int64)
        data_arr = np.concatenate(data) if data else np.zeros(0)
        matrix = sp.csr_matrix((data_arr, indices_arr, np.asarray(indptr)), shape=(len(rows), n_cols))
        cosines = (matrix @ obj) / (norms * obj_norm)
        self._matrix = (matrix, norms, cosines, len(data_arr))
        self._row_keys = keys
