"""Mixed-integer model of the LotSizing dynamics, solved with HiGHS via ``scipy.optimize.milp``.

The model is one segment of ``gauntlet.envs.lot_sizing.env.LotSizingEnv`` (steps 1-7 of its
docstring) for a *known* demand path ``d[t, i]``: the realized scenario for the
perfect-information bound, the expected demand for the rolling-horizon policy. Periods
``t < H``, machines ``m < M``, items ``i < I``; ``P = production``, ``L = min(setup_loss, P)``
(a set-up period yields ``max(P - L, 0) = P - L``), ``X = max_inventory``.

Variables (blocks laid out period-major, built by index arithmetic into one sparse matrix):

- ``x[t,m,i]`` binary: machine ``m`` makes item ``i`` in period ``t`` (upper bound 0 where
  ``P[m,i] = 0``, the env's masked actions);
- ``z[t,m,i]`` in [0, 1]: setup change (cost ``C[m,i]``, loss ``L[m,i]``). With the paper's rule
  (an idle machine loses its setup) the setup before period ``t`` is ``x[t-1]``, and
  ``z >= x[t] - x[t-1]``, ``z <= x[t]``, ``z <= 1 - x[t-1]`` give ``z = x[t] (1 - x[t-1])``
  exactly; ``x[-1]`` is the setup at the start of the segment. With ``idle_keeps_setup`` a setup
  state ``g[t,m,i]`` in [0, 1] replaces ``x[t-1]``: ``g[t] >= x[t]``, ``g[t] <= g[t-1] + x[t]``,
  ``sum_i g[t,m,i] <= 1``;
- ``u[t,i] >= 0`` lost sales, ``w[t,i] >= 0`` units discarded above ``X``,
  ``s[t,i] in [0, X]`` end-of-period inventory, ``y[t,i]`` binary "the stock ended at the cap".

Constraints:

- one item per machine and period: ``sum_i x[t,m,i] <= 1``;
- balance (steps 4-6): ``s[t] = s[t-1] + sum_m (P x[t] - L z[t]) - d[t] + u[t] - w[t]``, with
  ``s[-1]`` the inventory at the start of the segment;
- the cap is forced, not optional: ``w <= W y`` and ``s >= X y`` (``W = sum_m P[m,i]``, the
  largest possible overflow), so stock is discarded only when the inventory ends at the cap,
  exactly ``min(., X)`` as in step 6. A free-disposal model would throw stock away to save
  holding cost and no longer match the env;
- window inequalities (paper rule only; they tighten the LP relaxation, whose fractional
  ``x`` otherwise time-shares a machine between items without paying any setup): for item
  ``i`` and window ``[a, b]``, the demand served in the window is at most ``s[a-1]`` (the stock
  entering it), plus ``d[t]`` in every period with production, plus ``X`` per idle stretch that
  follows a production run (a stretch starts with at most ``X`` in stock), and every such run
  either was running at ``a - 1`` or started (``z = 1``) in ``[a, b - 1]``::

      sum_{t=a..b} (u[t] + d[t] sum_m x[t,m,i]) + X (sum_m x[a-1,m,i] + sum_{t=a..b-1} sum_m z[t,m,i])
          + s[a-1] >= sum_{t=a..b} d[t]

  ``window_cuts="horizon"`` adds the window ``[0, H-1]`` of every item (the default: on the
  15x5 instance it lifts the LP bound about 4x for little LP time), ``"suffix"`` every
  ``[a, H-1]`` (running sums of ``u``, ``d x`` and ``z`` as auxiliary variables keep each row
  at ``O(M)`` non-zeros), ``"none"`` none. With ``idle_keeps_setup`` a run can resume without a
  setup and the inequalities are not valid, so none are added.

Objective: ``sum C z + l u + h s (+ overflow_cost w)``, the env's episode cost.

Every sequence of valid env actions, with the env's own inventory path, is a feasible point
of this model with the same objective, so the optimum (and any HiGHS dual bound) is a lower
bound on the cost of every policy on that demand path. Conversely, for a fixed plan ``x`` the
cheapest completion is the env's trajectory (serving demand from stock never costs more than
losing the sale), so the optimal objective is what the plan costs when played in the env.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linprog, milp


WINDOW_CUTS = ("none", "horizon", "suffix")


@dataclass(frozen=True)
class MILPPlan:
    """Result of :func:`solve_lot_sizing_milp`.

    ``actions[t]`` is the env action of period ``t`` (per machine 0 = idle, ``k`` = item
    ``k - 1``), ``None`` when HiGHS stopped before finding any plan. ``objective`` is that
    plan's cost (``inf`` without one); ``dual_bound`` is HiGHS's proven lower bound on the
    optimum (``-inf`` if it proved none), valid also when the time limit stopped the search
    (``optimal=False``). ``solve_time_s`` is the wall time of all solves.
    """

    actions: np.ndarray | None
    objective: float
    dual_bound: float
    optimal: bool
    status: int
    message: str
    solve_time_s: float


def solve_lot_sizing_milp(
    instance,
    demand: np.ndarray,
    initial_inventory: np.ndarray,
    initial_setup: np.ndarray,
    *,
    idle_keeps_setup: bool = False,
    overflow_cost: float = 0.0,
    window_cuts: str = "horizon",
    lp_bound: bool = False,
    time_limit: float | None = None,
    mip_rel_gap: float = 1e-4,
) -> MILPPlan:
    """Build and solve the model over the periods of ``demand`` (H, I).

    ``instance`` is a ``LotSizingInstance`` (only its cost/production arrays are read);
    ``initial_setup`` holds the env's setup codes (0 = none, ``k`` = item ``k - 1``);
    ``overflow_cost`` is the env's charge per discarded unit (0 for ``overflow="discard"``).
    ``time_limit`` (seconds, ``None`` = none) and ``mip_rel_gap`` go to HiGHS. With
    ``lp_bound`` the LP relaxation is solved first (interior point) and ``dual_bound`` is the
    larger of its value and the MILP's dual bound; ``time_limit`` then covers both solves.
    """
    P = np.asarray(instance.production, dtype=float)
    M, I = P.shape
    d = np.asarray(demand, dtype=float)
    if d.ndim != 2 or d.shape[1] != I or d.shape[0] < 1:
        raise ValueError(f"demand must have shape (H >= 1, {I}), got {d.shape}")
    H = d.shape[0]
    L = np.minimum(np.asarray(instance.setup_loss, dtype=float), P)
    X = np.asarray(instance.max_inventory, dtype=float)
    s0 = np.asarray(initial_inventory, dtype=float)
    setup0 = np.asarray(initial_setup, dtype=np.int64)
    x_init = np.zeros((M, I))
    running = setup0 > 0
    x_init[np.flatnonzero(running), setup0[running] - 1] = 1.0
    if window_cuts not in WINDOW_CUTS:
        raise ValueError(f"window_cuts must be one of {list(WINDOW_CUTS)}, got {window_cuts!r}")
    cuts = window_cuts != "none" and not idle_keeps_setup

    v = _Layout()
    x, z = v.block((H, M, I)), v.block((H, M, I))
    g = v.block((H, M, I)) if idle_keeps_setup else None
    u, w, s, y = (v.block((H, I)) for _ in range(4))
    cu, cx, cz = (v.block((H, I)) for _ in range(3)) if cuts else (None, None, None)
    n = v.size

    c = np.zeros(n)
    c[z] = np.asarray(instance.setup_cost, dtype=float)
    c[u] = np.asarray(instance.lost_sales_cost, dtype=float)
    c[s] = np.asarray(instance.holding_cost, dtype=float)
    c[w] = float(overflow_cost)
    lb, ub = np.zeros(n), np.full(n, np.inf)
    ub[x] = ub[z] = (P > 0).astype(float)
    if g is not None:
        ub[g] = ub[x]
    ub[s], ub[y] = X, 1.0
    integrality = np.zeros(n)
    integrality[x] = integrality[y] = 1

    rows = _Rows()
    ones = np.ones(H * M * I)
    # One item per machine and period.
    rows.add(np.repeat(np.arange(H * M), I), x.ravel(), ones, -np.inf, 1.0)
    # Setup changes. ``prev`` is the setup entering period t (a variable index, or -1 for the
    # constant initial setup of period 0, whose value moves to the right-hand side).
    prev_var = g if g is not None else x
    prev = np.concatenate([np.full((1, M, I), -1), prev_var[:-1]]).ravel()
    has_prev = prev >= 0
    const_prev = np.concatenate([x_init[None], np.zeros((H - 1, M, I))]).ravel()
    r = np.arange(H * M * I)
    rows.add(np.concatenate([r, r[has_prev], r]),  # x[t] - prev - z <= 0
             np.concatenate([x.ravel(), prev[has_prev], z.ravel()]),
             np.concatenate([ones, -ones[has_prev], -ones]), -np.inf, const_prev)
    rows.add(np.concatenate([r, r]), np.concatenate([z.ravel(), x.ravel()]),  # z - x[t] <= 0
             np.concatenate([ones, -ones]), -np.inf, 0.0)
    rows.add(np.concatenate([r, r[has_prev]]),  # z + prev <= 1
             np.concatenate([z.ravel(), prev[has_prev]]), np.ones(r.size + has_prev.sum()), -np.inf, 1.0 - const_prev)
    if g is not None:
        rows.add(np.concatenate([r, r]), np.concatenate([g.ravel(), x.ravel()]),  # g - x >= 0
                 np.concatenate([ones, -ones]), 0.0, np.inf)
        rows.add(np.concatenate([r, r[has_prev], r]),  # g - prev - x <= 0 (prev = g[t-1])
                 np.concatenate([g.ravel(), prev[has_prev], x.ravel()]),
                 np.concatenate([ones, -ones[has_prev], -ones]), -np.inf, const_prev)
        rows.add(np.repeat(np.arange(H * M), I), g.ravel(), ones, -np.inf, 1.0)
    # Balance: s[t] - s[t-1] - sum_m (P x - L z) - u + w = -d[t] (+ s0 in period 0).
    ri = np.arange(H * I)
    item_row = np.broadcast_to(ri.reshape(H, 1, I), (H, M, I)).ravel()
    rhs = -d.ravel()
    rhs[:I] += s0
    rows.add(np.concatenate([ri, ri[I:], item_row, item_row, ri, ri]),
             np.concatenate([s.ravel(), s[:-1].ravel(), x.ravel(), z.ravel(), u.ravel(), w.ravel()]),
             np.concatenate([np.ones(H * I), -np.ones((H - 1) * I), -np.broadcast_to(P, (H, M, I)).ravel(),
                             np.broadcast_to(L, (H, M, I)).ravel(), -np.ones(H * I), np.ones(H * I)]),
             rhs, rhs)
    # Forced cap: w <= W y, s >= X y.
    big_w = np.broadcast_to(P.sum(axis=0), (H, I)).ravel()
    rows.add(np.concatenate([ri, ri]), np.concatenate([w.ravel(), y.ravel()]),
             np.concatenate([np.ones(H * I), -big_w]), -np.inf, 0.0)
    rows.add(np.concatenate([ri, ri]), np.concatenate([s.ravel(), y.ravel()]),
             np.concatenate([np.ones(H * I), -np.broadcast_to(X, (H, I)).ravel()]), 0.0, np.inf)
    if cuts:
        _add_window_cuts(rows, x, z, u, s, cu, cx, cz, d, X, s0, x_init, window_cuts)
    A, lo, hi = rows.matrix(n)

    start = time.perf_counter()
    lp = _lp_relaxation(c, A, lo, hi, lb, ub, time_limit) if lp_bound else -np.inf
    options = {"mip_rel_gap": float(mip_rel_gap)}
    if time_limit is not None:
        # The LP shares the budget; the MILP always keeps a tenth of it to look for a plan.
        options["time_limit"] = max(float(time_limit) - (time.perf_counter() - start), 0.1 * float(time_limit))
    res = milp(c, constraints=LinearConstraint(A, lo, hi), integrality=integrality,
               bounds=Bounds(lb, ub), options=options)
    elapsed = time.perf_counter() - start

    optimal = res.status == 0
    actions, objective = None, np.inf
    if res.x is not None:
        chosen = res.x[x] > 0.5
        actions = np.where(chosen.any(axis=2), chosen.argmax(axis=2) + 1, 0).astype(np.int64)
        objective = float(res.fun)
    dual = getattr(res, "mip_dual_bound", None)
    if dual is None or not np.isfinite(dual):
        # Presolve solved it outright (no search ran): the optimum is its own bound.
        dual = objective if optimal else -np.inf
    dual = max(float(dual), lp)
    return MILPPlan(actions, objective, dual, optimal, int(res.status), str(res.message), elapsed)


def _lp_relaxation(c, A, lo, hi, lb, ub, time_limit) -> float:
    """Optimal value of the LP relaxation by HiGHS's interior-point method, -inf if it did not
    finish. On the 100-period models it is several times faster than the dual simplex that
    ``milp`` runs at the root, so a bound exists even when the MILP search gets nowhere."""
    eq = lo == hi
    upper, lower = np.isfinite(hi) & ~eq, np.isfinite(lo) & ~eq
    A_ub = sp.vstack([A[upper], -A[lower]]).tocsr()
    b_ub = np.concatenate([hi[upper], -lo[lower]])
    options = {} if time_limit is None else {"time_limit": float(time_limit)}
    res = linprog(c, A_ub=A_ub, b_ub=b_ub, A_eq=A[eq], b_eq=lo[eq], bounds=np.stack([lb, ub], axis=1),
                  method="highs-ipm", options=options)
    return float(res.fun) if res.status == 0 else -np.inf


def _add_window_cuts(rows, x, z, u, s, cu, cx, cz, d, X, s0, x_init, family) -> None:
    """The window inequalities of the module docstring, over running sums
    ``cu[t] = sum_{<=t} u``, ``cx[t] = sum_{<=t} d sum_m x``, ``cz[t] = sum_{<=t} sum_m z``."""
    H, M, I = x.shape
    ri = np.arange(H * I)
    item_row = np.broadcast_to(ri.reshape(H, 1, I), (H, M, I)).ravel()
    ones, nones = np.ones(H * I), -np.ones((H - 1) * I)
    # cu[t] - cu[t-1] - u[t] = 0, cx[t] - cx[t-1] - d[t] sum_m x[t] = 0, cz[t] - cz[t-1] - sum_m z[t] = 0.
    rows.add(np.concatenate([ri, ri[I:], ri]), np.concatenate([cu.ravel(), cu[:-1].ravel(), u.ravel()]),
             np.concatenate([ones, nones, -ones]), 0.0, 0.0)
    rows.add(np.concatenate([ri, ri[I:], item_row]), np.concatenate([cx.ravel(), cx[:-1].ravel(), x.ravel()]),
             np.concatenate([ones, nones, -np.broadcast_to(d[:, None, :], (H, M, I)).ravel()]), 0.0, 0.0)
    rows.add(np.concatenate([ri, ri[I:], item_row]), np.concatenate([cz.ravel(), cz[:-1].ravel(), z.ravel()]),
             np.concatenate([ones, nones, -np.ones(H * M * I)]), 0.0, 0.0)

    # "horizon": the one window [0, H - 1] per item; "suffix": every [a, H - 1]. All O(H^2)
    # windows would make the LP of a 100-period model too large to solve in minutes.
    a = np.zeros(1, dtype=np.int64) if family == "horizon" else np.arange(H)
    b = np.full(a.size, H - 1)
    a, b = np.repeat(a, I), np.repeat(b, I)
    item = np.tile(np.arange(I), a.size // I)
    k = np.arange(a.size)
    cum_d = np.concatenate([np.zeros((1, I)), np.cumsum(d, axis=0)])
    rhs = cum_d[b + 1, item] - cum_d[a, item]
    keep = rhs > 0
    a, b, item, k, rhs = a[keep], b[keep], item[keep], np.arange(keep.sum()), rhs[keep]
    cap = X[item]
    inner = a >= 1  # windows starting after period 0 subtract the running sums at a - 1
    long = b > a  # z counted over [a, b - 1]
    with_z_before = inner & long
    rows_, cols, vals = [k, k, k[long]], [cu[b, item], cx[b, item], cz[b - 1, item][long]], [
        np.ones(k.size), np.ones(k.size), cap[long]]
    rows_ += [k[inner], k[inner], k[with_z_before], k[inner]]
    cols += [cu[a - 1, item][inner], cx[a - 1, item][inner], cz[a - 1, item][with_z_before], s[a - 1, item][inner]]
    vals += [-np.ones(inner.sum()), -np.ones(inner.sum()), -cap[with_z_before], np.ones(inner.sum())]
    # X sum_m x[a-1, m, i]: a variable for a >= 1, the initial setup for a = 0.
    ki = np.repeat(k[inner], M)
    mi = np.tile(np.arange(M), inner.sum())
    rows_.append(ki)
    cols.append(x[np.repeat(a[inner] - 1, M), mi, np.repeat(item[inner], M)])
    vals.append(np.repeat(cap[inner], M))
    const = np.where(inner, 0.0, s0[item] + cap * x_init.sum(axis=0)[item])
    rows.add(np.concatenate(rows_), np.concatenate(cols), np.concatenate(vals), rhs - const, np.inf)


class _Layout:
    """Hands out consecutive variable indices as arrays of a given shape."""

    def __init__(self) -> None:
        self.size = 0

    def block(self, shape: tuple[int, ...]) -> np.ndarray:
        count = int(np.prod(shape))
        out = np.arange(self.size, self.size + count).reshape(shape)
        self.size += count
        return out


class _Rows:
    """Accumulates constraint blocks as COO triplets and stacks them into one CSR matrix."""

    def __init__(self) -> None:
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.vals: list[np.ndarray] = []
        self.lo: list[np.ndarray] = []
        self.hi: list[np.ndarray] = []
        self.n_rows = 0

    def add(self, rows, cols, vals, lo, hi) -> None:
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size == 0:
            return
        count = int(rows.max()) + 1
        self.rows.append(rows + self.n_rows)
        self.cols.append(np.asarray(cols, dtype=np.int64))
        self.vals.append(np.asarray(vals, dtype=float))
        self.lo.append(np.broadcast_to(np.asarray(lo, dtype=float), (count,)))
        self.hi.append(np.broadcast_to(np.asarray(hi, dtype=float), (count,)))
        self.n_rows += count

    def matrix(self, n_cols: int) -> tuple[sp.csr_array, np.ndarray, np.ndarray]:
        A = sp.coo_array(
            (np.concatenate(self.vals), (np.concatenate(self.rows), np.concatenate(self.cols))),
            shape=(self.n_rows, n_cols),
        ).tocsr()
        return A, np.concatenate(self.lo), np.concatenate(self.hi)
