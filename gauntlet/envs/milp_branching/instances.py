"""Seeded numpy generators of the four MILP classes of Gasse et al. (2019), with Ecole's defaults.

Every generator returns a :class:`MILPInstance`, a solver-free description
``min/max c.x  s.t.  lhs <= A x <= rhs,  lb <= x <= ub,  x_j integer where integrality_j``,
so that tests can check feasibility with ``scipy.optimize.milp`` and the env can build the
PySCIPOpt model (:func:`to_scip`) without files. All randomness comes from the
``numpy.random.Generator`` passed in, so a seed fixes the instance bit for bit.

Algorithms (ported from Ecole's C++ / Gasse et al.'s Python generators):

- Set cover, Balas & Ho (1980): ``min c.x, sum_{j in row i} x_j >= 1``, ``c_j ~ U{1..max_coef}``;
  every column covers >= 2 rows and every row is covered by >= 1 column.
- Combinatorial auction, Leyton-Brown et al. (2000) "arbitrary relationships":
  ``max sum_b p_b x_b, sum_{b contains item i} x_b <= 1``, with substitutable bids per bidder
  tied together by dummy items.
- Capacitated facility location, Cornuejols et al. (1991):
  ``min sum_j f_j y_j + sum_ij c_ij x_ij`` with ``sum_j x_ij >= 1``,
  ``sum_i d_i x_ij <= s_j y_j``, ``x_ij <= y_j``; capacities rescaled so that
  ``sum_j s_j = ratio * sum_i d_i``; unit transport cost ``10 * euclidean distance`` times demand.
- Maximum independent set on a Barabasi-Albert graph (affinity 4), clique-partition
  formulation (Bergman et al. 2016): one ``sum_{v in K} x_v <= 1`` per clique of a greedy
  partition plus ``x_u + x_v <= 1`` for the remaining edges.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from gauntlet.envs.validation import check, check_choice, check_int, check_range


@dataclass(frozen=True)
class MILPInstance:
    """A MILP ``sense c.x  s.t.  lhs <= A x <= rhs,  lb <= x <= ub,  integrality``."""

    name: str
    c: np.ndarray
    A: sp.csr_matrix
    lhs: np.ndarray
    rhs: np.ndarray
    lb: np.ndarray
    ub: np.ndarray
    integrality: np.ndarray
    maximize: bool = False

    @property
    def n_vars(self) -> int:
        return int(self.c.shape[0])

    @property
    def n_rows(self) -> int:
        return int(self.A.shape[0])

    def to_scip(self, model: Any) -> None:
        """Add the variables and linear constraints to an empty ``pyscipopt.Model``."""
        from pyscipopt import quicksum

        vtype = np.where(self.integrality, np.where((self.lb == 0) & (self.ub == 1), "B", "I"), "C")
        x = [
            model.addVar(name=f"x{j}", vtype=str(vtype[j]), lb=float(self.lb[j]), ub=float(self.ub[j]), obj=float(self.c[j]))
            for j in range(self.n_vars)
        ]
        A = self.A
        inf = np.inf
        for i in range(self.n_rows):
            cols = A.indices[A.indptr[i] : A.indptr[i + 1]]
            vals = A.data[A.indptr[i] : A.indptr[i + 1]]
            expr = quicksum(float(v) * x[j] for j, v in zip(cols, vals))
            lo, hi = self.lhs[i], self.rhs[i]
            if lo == hi:
                model.addCons(expr == float(hi), name=f"c{i}")
            elif lo > -inf and hi < inf:
                model.addCons(float(lo) <= (expr <= float(hi)), name=f"c{i}")
            elif hi < inf:
                model.addCons(expr <= float(hi), name=f"c{i}")
            else:
                model.addCons(expr >= float(lo), name=f"c{i}")
        model.setObjective(quicksum(float(self.c[j]) * x[j] for j in range(self.n_vars) if self.c[j] != 0),
                           "maximize" if self.maximize else "minimize")
        model.setProbName(self.name)


def _instance(name, c, A, lhs, rhs, integrality, lb=None, ub=None, maximize=False) -> MILPInstance:
    n = len(c)
    return MILPInstance(
        name=name,
        c=np.asarray(c, dtype=np.float64),
        A=sp.csr_matrix(A, dtype=np.float64),
        lhs=np.asarray(lhs, dtype=np.float64),
        rhs=np.asarray(rhs, dtype=np.float64),
        lb=np.zeros(n) if lb is None else np.asarray(lb, dtype=np.float64),
        ub=np.ones(n) if ub is None else np.asarray(ub, dtype=np.float64),
        integrality=np.asarray(integrality, dtype=bool),
        maximize=maximize,
    )


# ------------------------------------------------------------------------------ set cover
def set_cover(rng: np.random.Generator, n_rows: int = 500, n_cols: int = 1000, density: float = 0.05,
              max_coef: int = 100) -> MILPInstance:
    """Balas & Ho set cover (Ecole ``SetCoverGenerator`` defaults)."""
    check_range("density", density, 0, 1, open_low=True)
    check_int("n_rows", n_rows, 1)
    check_int("n_cols", n_cols, 1)
    check_int("max_coef", max_coef, 1)
    nnzrs = int(n_rows * n_cols * density)
    check("n_rows", n_rows, nnzrs >= n_rows, f"n_rows * n_cols * density >= n_rows (every row covered; here "
          f"n_cols={n_cols}, density={density})")
    check("n_cols", n_cols, nnzrs >= 2 * n_cols, f"n_rows * n_cols * density >= 2 * n_cols (every column covers "
          f"two rows; here n_rows={n_rows}, density={density})")
    # number of rows per column: >= 2 each, the rest spread at random
    indices = rng.choice(n_cols, size=nnzrs)
    indices[: 2 * n_cols] = np.repeat(np.arange(n_cols), 2)
    col_nrows = np.bincount(indices, minlength=n_cols)
    # every row is covered at least once: the first n_rows slots are a permutation of the rows
    indices[:n_rows] = rng.permutation(n_rows)
    i = 0
    indptr = [0]
    for n in col_nrows:
        if i >= n_rows:
            indices[i : i + n] = rng.choice(n_rows, size=n, replace=False)
        elif i + n > n_rows:
            remaining = np.setdiff1d(np.arange(n_rows), indices[i:n_rows], assume_unique=True)
            indices[n_rows : i + n] = rng.choice(remaining, size=i + n - n_rows, replace=False)
        i += n
        indptr.append(i)
    c = rng.integers(max_coef, size=n_cols) + 1
    A = sp.csc_matrix((np.ones(len(indices)), indices, indptr), shape=(n_rows, n_cols)).tocsr()
    return _instance(f"setcover-{n_rows}x{n_cols}", c, A, np.ones(n_rows), np.full(n_rows, np.inf), np.ones(n_cols, bool))


# ------------------------------------------------------------------- combinatorial auction
def combinatorial_auction(rng: np.random.Generator, n_items: int = 100, n_bids: int = 500, min_value: float = 1,
                          max_value: float = 100, value_deviation: float = 0.5, add_item_prob: float = 0.9,
                          max_n_sub_bids: int = 5, additivity: float = 0.2, budget_factor: float = 1.5,
                          resale_factor: float = 0.5) -> MILPInstance:
    """Leyton-Brown "arbitrary relationships" auction (Ecole ``CombinatorialAuctionGenerator`` defaults)."""
    check_range("min_value", min_value)
    check_range("max_value", max_value)
    check("max_value", max_value, max_value >= min_value, f"numbers >= min_value={min_value}")
    check_range("add_item_prob", add_item_prob, 0, 1)
    check_int("n_items", n_items, 2)
    check_int("n_bids", n_bids, 1)
    values = min_value + (max_value - min_value) * rng.random(n_items)
    compats = np.triu(rng.random((n_items, n_items)), k=1)
    compats = compats + compats.T
    compats = compats / compats.sum(1)

    def choose_next_item(mask: np.ndarray, interests: np.ndarray) -> int:
        # Ecole (xt::index_view) and Gasse et al. (numpy fancy indexing) both index the
        # compatibility rows with the 0/1 mask *values*, i.e. rows 0 and 1 weighted by how many
        # items are out/in, not the rows of the items in the bundle. Kept: it defines the
        # published instance distribution (the intended reading gives trees ~10x larger).
        prob = (1 - mask) * interests * compats[mask.astype(np.int64), :].mean(axis=0)
        prob = prob / prob.sum()
        return int(rng.choice(n_items, p=prob))

    def price_of(bundle: np.ndarray, private_values: np.ndarray) -> float:
        return float(private_values[bundle].sum() + len(bundle) ** (1 + additivity))

    bids: list[tuple[np.ndarray, float]] = []
    n_dummy = 0
    while len(bids) < n_bids:
        interests = rng.random(n_items)
        private_values = values + max_value * value_deviation * (2 * interests - 1)
        bidder_bids: dict[tuple[int, ...], float] = {}
        mask = np.zeros(n_items)
        mask[rng.choice(n_items, p=interests / interests.sum())] = 1
        while rng.random() < add_item_prob:
            if mask.sum() == n_items:
                break
            mask[choose_next_item(mask, interests)] = 1
        bundle = np.flatnonzero(mask)
        price = price_of(bundle, private_values)
        if price < 0:
            continue
        bidder_bids[tuple(bundle)] = price
        subs = []
        for item in bundle:
            sub_mask = np.zeros(n_items)
            sub_mask[item] = 1
            while sub_mask.sum() < len(bundle):
                sub_mask[choose_next_item(sub_mask, interests)] = 1
            sub = np.flatnonzero(sub_mask)
            subs.append((sub, price_of(sub, private_values)))
        budget = budget_factor * price
        min_resale = resale_factor * values[bundle].sum()
        for sub, sub_price in sorted(subs, key=lambda s: -s[1]):
            if len(bidder_bids) >= max_n_sub_bids + 1 or len(bids) + len(bidder_bids) >= n_bids:
                break
            if sub_price < 0 or sub_price > budget or values[sub].sum() < min_resale or tuple(sub) in bidder_bids:
                continue
            bidder_bids[tuple(sub)] = sub_price
        dummy = None
        if len(bidder_bids) > 2:
            dummy = n_items + n_dummy
            n_dummy += 1
        for b, p in bidder_bids.items():
            bids.append((np.array(b + ((dummy,) if dummy is not None else ()), dtype=np.int64), p))
    rows = np.concatenate([b for b, _ in bids])
    cols = np.repeat(np.arange(len(bids)), [len(b) for b, _ in bids])
    A = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_items + n_dummy, len(bids)))
    A = A[np.diff(A.indptr) > 0]
    n_rows = A.shape[0]
    return _instance(f"cauction-{n_items}x{n_bids}", [p for _, p in bids], A, np.full(n_rows, -np.inf),
                     np.ones(n_rows), np.ones(len(bids), bool), maximize=True)


# ------------------------------------------------------------ capacitated facility location
def capacitated_facility_location(rng: np.random.Generator, n_customers: int = 100, n_facilities: int = 100,
                                  ratio: float = 5.0) -> MILPInstance:
    """Cornuejols et al. capacitated facility location (Ecole defaults, continuous assignment)."""
    check_int("n_customers", n_customers, 1)
    check_int("n_facilities", n_facilities, 1)
    check_range("ratio", ratio, 0, open_low=True)
    demands = rng.integers(5, 35 + 1, size=n_customers).astype(np.float64)
    capacities = rng.integers(10, 160 + 1, size=n_facilities).astype(np.float64)
    fixed_costs = rng.integers(100, 110 + 1, size=n_facilities) * np.sqrt(capacities) + rng.integers(0, 90 + 1, size=n_facilities)
    c_x, f_x = rng.random((n_customers, 1)), rng.random((1, n_facilities))
    c_y, f_y = rng.random((n_customers, 1)), rng.random((1, n_facilities))
    unit_costs = 10.0 * np.sqrt((c_x - f_x) ** 2 + (c_y - f_y) ** 2)
    transport = unit_costs * demands[:, None]
    capacities = capacities * ratio * demands.sum() / capacities.sum()
    n_c, n_f = n_customers, n_facilities
    # variables: y_j (n_f binaries) then x_ij row-major (n_c * n_f continuous)
    x_index = n_f + np.arange(n_c * n_f).reshape(n_c, n_f)
    demand_rows = sp.csr_matrix((np.ones(n_c * n_f), (np.repeat(np.arange(n_c), n_f), x_index.ravel())), shape=(n_c, n_f + n_c * n_f))
    cap_r = np.concatenate([np.repeat(np.arange(n_f), n_c), np.arange(n_f)])
    cap_c = np.concatenate([x_index.T.ravel(), np.arange(n_f)])
    cap_v = np.concatenate([np.tile(demands, n_f), -capacities])
    capacity_rows = sp.csr_matrix((cap_v, (cap_r, cap_c)), shape=(n_f, n_f + n_c * n_f))
    k = np.arange(n_c * n_f)
    tight_rows = sp.csr_matrix(
        (np.concatenate([np.ones(n_c * n_f), -np.ones(n_c * n_f)]),
         (np.concatenate([k, k]), np.concatenate([x_index.ravel(), np.tile(np.arange(n_f), n_c)]))),
        shape=(n_c * n_f, n_f + n_c * n_f),
    )
    A = sp.vstack([demand_rows, capacity_rows, tight_rows]).tocsr()
    lhs = np.concatenate([np.ones(n_c), np.full(n_f + n_c * n_f, -np.inf)])
    rhs = np.concatenate([np.full(n_c, np.inf), np.zeros(n_f + n_c * n_f)])
    integrality = np.concatenate([np.ones(n_f, bool), np.zeros(n_c * n_f, bool)])
    return _instance(f"facility-{n_customers}x{n_facilities}", np.concatenate([fixed_costs, transport.ravel()]), A, lhs, rhs, integrality)


# ------------------------------------------------------------------- maximum independent set
def barabasi_albert_edges(rng: np.random.Generator, n_nodes: int, affinity: int) -> np.ndarray:
    """Edges (E, 2) of a Barabasi-Albert graph: node ``affinity`` joins all earlier nodes, every
    later node joins ``affinity`` distinct earlier nodes with probability proportional to degree."""
    check_int("affinity", affinity, 1)
    check("affinity", affinity, affinity < n_nodes, f"integers in [1, n_nodes={n_nodes})")
    degrees = np.zeros(n_nodes, dtype=np.int64)
    edges = []
    for new in range(affinity, n_nodes):
        if new == affinity:
            neighborhood = np.arange(new)
        else:
            neighborhood = rng.choice(new, affinity, replace=False, p=degrees[:new] / degrees[:new].sum())
        for node in neighborhood:
            edges.append((int(node), new))
        degrees[neighborhood] += 1
        degrees[new] += affinity
    return np.array(edges, dtype=np.int64)


def greedy_clique_partition(n_nodes: int, edges: np.ndarray) -> list[list[int]]:
    """Gasse et al.'s greedy partition: highest-degree leftover node first, then add its
    neighbours by decreasing degree while they stay adjacent to the whole clique."""
    neighbors: list[set[int]] = [set() for _ in range(n_nodes)]
    for u, v in edges:
        neighbors[u].add(int(v))
        neighbors[v].add(int(u))
    degrees = np.array([len(n) for n in neighbors])
    leftover = [int(v) for v in np.argsort(-degrees, kind="stable")]
    cliques = []
    while leftover:
        center, leftover = leftover[0], leftover[1:]
        clique = [center]
        left = set(leftover)
        for nb in sorted((n for n in neighbors[center] if n in left), key=lambda n: (-degrees[n], n)):
            if all(nb in neighbors[k] for k in clique):
                clique.append(nb)
        cliques.append(clique)
        members = set(clique)
        leftover = [v for v in leftover if v not in members]
    return cliques


def independent_set(rng: np.random.Generator, n_nodes: int = 500, affinity: int = 4) -> MILPInstance:
    """Maximum independent set on a Barabasi-Albert graph (Ecole ``IndependentSetGenerator`` defaults)."""
    check_int("n_nodes", n_nodes, 2)
    edges = barabasi_albert_edges(rng, n_nodes, affinity)
    cliques = greedy_clique_partition(n_nodes, edges)
    clique_id = np.empty(n_nodes, dtype=np.int64)
    for k, clique in enumerate(cliques):
        clique_id[clique] = k
    rows = [np.asarray(cl) for cl in cliques]
    rows += [e for e in edges[clique_id[edges[:, 0]] != clique_id[edges[:, 1]]]]
    r = np.repeat(np.arange(len(rows)), [len(x) for x in rows])
    A = sp.csr_matrix((np.ones(len(r)), (r, np.concatenate(rows))), shape=(len(rows), n_nodes))
    return _instance(f"indset-{n_nodes}", np.ones(n_nodes), A, np.full(len(rows), -np.inf), np.ones(len(rows)),
                     np.ones(n_nodes, bool), maximize=True)


GENERATORS = {
    "setcover": set_cover,
    "cauction": combinatorial_auction,
    "facility": capacitated_facility_location,
    "indset": independent_set,
}

# Gasse et al.'s "easy" sizes are the training sizes; "transfer" is their "medium" (2x); "small"
# keeps tests to seconds while still branching often enough (auctions of 30 items x 120 bids were
# solved at the root nearly every time, 40 x 200 branch seven times in ten; the env redraws the
# others).
SIZES: dict[str, dict[str, dict[str, Any]]] = {
    "setcover": {"small": dict(n_rows=150, n_cols=300, density=0.05), "train": dict(n_rows=500, n_cols=1000),
                 "transfer": dict(n_rows=1000, n_cols=1000)},
    "cauction": {"small": dict(n_items=40, n_bids=200), "train": dict(n_items=100, n_bids=500),
                 "transfer": dict(n_items=200, n_bids=1000)},
    "facility": {"small": dict(n_customers=25, n_facilities=15), "train": dict(n_customers=100, n_facilities=100),
                 "transfer": dict(n_customers=200, n_facilities=100)},
    "indset": {"small": dict(n_nodes=150), "train": dict(n_nodes=500), "transfer": dict(n_nodes=1000)},
}


def generate(problem: str, size: str, rng: np.random.Generator) -> MILPInstance:
    """The instance of ``problem`` at preset ``size`` drawn from ``rng``."""
    check_choice("problem", problem, tuple(SIZES))
    check_choice("size", size, tuple(SIZES[problem]))
    return GENERATORS[problem](rng, **SIZES[problem][size])
