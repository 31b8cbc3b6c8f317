"""The ``rgb_array`` picture of a MILPBranching episode.

Left: the branch-and-bound tree so far, one row per depth. Nodes handed to the agent and
branched on are blue, the node waiting for the decision is the red star, SCIP's open nodes
(created, not processed yet) are orange rings, and the children SCIP closed without asking
for a decision (pruned by the bound, infeasible, or with an integral LP) are grey crosses:
every branching creates two children, so a branched node with fewer children in view lost the
others that way. Top right: the incumbent (primal bound) and the dual bound when each decision
was asked, and the gap between them. Bottom right: the candidates at the waiting node, the best
by SCIP's pseudocost score, with their LP value's distance to the nearest integer; at the end of
the episode, SCIP's final statistics instead.

Matplotlib is imported here only, and draws on its own Agg canvas (``gauntlet.envs.canvas``).
Everything comes from the :class:`SearchView` the env builds; nothing here touches SCIP.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.ticker import MaxNLocator

from gauntlet.envs.canvas import new_figure, to_rgb

WIDTH_PX, HEIGHT_PX = 960, 540
SCIP_INFINITY = 1e19  # SCIP reports a missing bound as +-1e20
MAX_BARS = 12
_BRANCHED, _WAITING, _OPEN, _CLOSED, _SCIP = "#4c78a8", "#d62728", "#f28e2b", "#9d9d9d", "#9467bd"


@dataclass(frozen=True)
class SearchView:
    """What the picture shows, as the env knows it.

    ``seen`` holds ``(node_id, parent_id, depth, primal_bound, dual_bound)`` of every node that
    asked for a decision, in order (``parent_id`` 0 for the root); ``waiting`` says whether the
    last of them is still waiting; ``open_nodes`` holds ``(node_id, parent_id, depth)`` of SCIP's
    open nodes; ``candidates``, ``distance`` (|LP value - nearest integer|) and ``pseudocost``
    describe the waiting node's candidates; ``info`` is the env's latest ``info``;
    ``scip_took_over`` says that the last node seen was handed to SCIP's own rules
    (:meth:`~gauntlet.envs.milp_branching.env.MILPBranchingEnv.let_scip_branch`), which decided
    the rest of the tree out of the env's sight.
    """

    instance: str
    seen: Sequence[tuple[int, int, int, float, float]]
    waiting: bool
    open_nodes: Sequence[tuple[int, int, int]] = ()
    candidates: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    distance: np.ndarray = field(default_factory=lambda: np.zeros(0))
    pseudocost: np.ndarray = field(default_factory=lambda: np.zeros(0))
    info: Mapping[str, Any] = field(default_factory=dict)
    scip_took_over: bool = False


@dataclass
class Tree:
    """Nodes of the drawn tree: parent, depth and kind (``branched | waiting | open | closed | scip``)
    by node id; closed children get negative ids (SCIP's numbers for them are not known)."""

    parent: dict[int, int]
    depth: dict[int, int]
    kind: dict[int, str]


def build_tree(view: SearchView) -> Tree:
    parent: dict[int, int] = {}
    depth: dict[int, int] = {}
    kind: dict[int, str] = {}
    last = len(view.seen) - 1
    for k, (node, par, d, _, _) in enumerate(view.seen):
        parent[node], depth[node] = par, d
        kind[node] = "branched"
        if k == last and view.waiting:
            kind[node] = "waiting"
        elif k == last and view.scip_took_over:
            kind[node] = "scip"
    for node, par, d in view.open_nodes:
        parent[node], depth[node], kind[node] = par, d, "open"
    n_children: dict[int, int] = defaultdict(int)
    for par in parent.values():
        n_children[par] += 1
    closed_id = 0
    for node in [n for n, k in kind.items() if k == "branched"]:
        for _ in range(max(0, 2 - n_children[node])):
            closed_id -= 1
            parent[closed_id], depth[closed_id], kind[closed_id] = node, depth[node] + 1, "closed"
    return Tree(parent, depth, kind)


def tree_layout(parent: Mapping[int, int]) -> dict[int, float]:
    """x of every node: leaves at consecutive integers in depth-first order (children by SCIP
    number, closed children last), a parent halfway between its first and last child."""
    children: dict[int, list[int]] = defaultdict(list)
    roots = []
    for node, par in parent.items():
        (children[par] if par in parent else roots).append(node)

    def order(nodes: list[int]) -> list[int]:
        return sorted(nodes, key=lambda n: (n < 0, abs(n)), reverse=True)

    x: dict[int, float] = {}
    next_leaf = 0
    stack = [(n, False) for n in order(roots)]
    while stack:  # iterative post-order: trees can be deeper than Python's recursion limit
        node, expanded = stack.pop()
        kids = children.get(node)
        if not kids:
            x[node] = float(next_leaf)
            next_leaf += 1
        elif expanded:
            first, last = order(kids)[-1], order(kids)[0]
            x[node] = (x[first] + x[last]) / 2
        else:
            stack.append((node, True))
            stack.extend((c, False) for c in order(kids))
    return x


def _bound(value: float) -> float:
    return math.nan if abs(value) >= SCIP_INFINITY else value


def _draw_tree(ax: Any, view: SearchView) -> None:
    tree = build_tree(view)
    x = tree_layout(tree.parent)
    segments = [((x[p], -tree.depth[p]), (x[n], -tree.depth[n])) for n, p in tree.parent.items() if p in x]
    ax.add_collection(LineCollection(segments, colors="#b0b0b0", linewidths=0.8, zorder=1))
    size = float(np.clip(900.0 / max(len(x), 1), 6.0, 60.0))
    styles = {
        "branched": dict(marker="o", color=_BRANCHED, s=size, label="branched"),
        "open": dict(marker="o", facecolors="white", edgecolors=_OPEN, s=size, linewidths=1.4, label="open"),
        "closed": dict(marker="x", color=_CLOSED, s=size * 0.8, label="closed without branching"),
        "waiting": dict(marker="*", color=_WAITING, s=max(4 * size, 160.0), label="waiting for the decision"),
        "scip": dict(marker="D", color=_SCIP, s=max(2 * size, 60.0), label="handed to SCIP's rules"),
    }
    counts = {k: 0 for k in styles}
    for k in tree.kind.values():
        counts[k] += 1
    for kind, style in styles.items():
        nodes = [n for n, k in tree.kind.items() if k == kind]
        if nodes:
            ax.scatter([x[n] for n in nodes], [-tree.depth[n] for n in nodes], zorder=3 if kind == "waiting" else 2,
                       **{**style, "label": f"{style['label']} ({len(nodes)})"})
    if x:
        xs = np.fromiter(x.values(), float)
        pad = max(0.6, 0.03 * (xs.max() - xs.min()))
        ax.set_xlim(xs.min() - pad, xs.max() + pad)
        deepest = max(tree.depth.values())
        ax.set_ylim(-deepest - 0.6, 0.6)
        ticks = np.arange(0, deepest + 1, max(1, math.ceil(deepest / 8)))
        ax.set_yticks(-ticks, [str(t) for t in ticks])
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.01), ncol=3, fontsize=8, frameon=False,
                  handletextpad=0.3, columnspacing=1.0)
    ax.set_xticks([])
    ax.set_ylabel("depth")
    asked = counts["branched"] + counts["waiting"] + counts["scip"]
    ax.set_title(f"search tree: {asked} node{'s' if asked != 1 else ''} asked for a decision", fontsize=10)


def _draw_bounds(ax: Any, view: SearchView) -> None:
    primal = [_bound(s[3]) for s in view.seen]
    dual = [_bound(s[4]) for s in view.seen]
    if not view.waiting and view.info:  # the end of the solve: SCIP's final bounds
        primal.append(_bound(view.info.get("primal_bound", math.nan)))
        dual.append(_bound(view.info.get("dual_bound", math.nan)))
    # bound i holds from decision i until the next one: one more x for the last value's step
    steps = np.arange(1, len(primal) + 2)
    primal, dual = np.array([*primal, primal[-1]]), np.array([*dual, dual[-1]])
    ax.plot(steps, primal, drawstyle="steps-post", color="#2ca02c", label="incumbent (primal bound)")
    ax.plot(steps, dual, drawstyle="steps-post", color="#9467bd", label="dual bound")
    ax.fill_between(steps, primal, dual, step="post", color="#c7c7c7", alpha=0.5, linewidth=0, label="gap")
    gap = float(view.info.get("gap", math.nan))
    if not np.isfinite(primal).any():
        title = "no incumbent yet"
    elif math.isfinite(gap) and gap < SCIP_INFINITY:
        title = f"gap {100 * gap:.2f}%"
    else:
        title = "gap: infinite"
    ax.set_title(f"bounds by decision ({title})", fontsize=10)
    ax.set_xlabel("decision" + (" (the last step: the end of the solve)" if not view.waiting else ""), fontsize=8)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.tick_params(labelsize=8)
    ax.legend(loc="best", fontsize=7)
    ax.set_xlim(1, steps[-1])


def _draw_candidates(ax: Any, view: SearchView) -> None:
    n = len(view.candidates)
    pseudocost = np.asarray(view.pseudocost, dtype=np.float64)
    distance = np.asarray(view.distance, dtype=np.float64)
    top = np.lexsort((-distance, -pseudocost))[:MAX_BARS]
    best = float(pseudocost.max()) if n else 0.0
    pos = np.arange(len(top))
    ax.bar(pos - 0.2, pseudocost[top] / best if best > 0 else np.zeros(len(top)), width=0.4, color=_BRANCHED,
           label="pseudocost score / best" + ("" if best > 0 else " (no history yet)"))
    ax.bar(pos + 0.2, distance[top] / 0.5, width=0.4, color=_OPEN, label="LP distance to integer / 0.5")
    ax.set_xticks(pos, [str(c) for c in view.candidates[top]], rotation=60, fontsize=7)
    ax.set_xlabel("candidate column (the action)", fontsize=8)
    ax.set_ylim(0, 1.25)
    ax.tick_params(axis="y", labelsize=8)
    ax.legend(loc="upper right", fontsize=7, ncol=2)
    node = view.seen[-1][0]
    ax.set_title(f"{n} candidates at node {node} (best {len(top)} by pseudocost)", fontsize=10)


def _draw_summary(ax: Any, view: SearchView) -> None:
    info = view.info
    lines = [f"status: {info.get('status', '?')}",
             f"B&B nodes: {info.get('nodes', 0):,.0f}",
             f"LP iterations: {info.get('lp_iterations', 0):,.0f}",
             f"decisions by the agent: {len(view.seen) - int(view.scip_took_over)}"]
    if "solving_time" in info:
        lines.append(f"solving time: {info['solving_time']:.2f} s")
    if view.scip_took_over:
        lines.append("then SCIP's own rules")
    ax.text(0.05, 0.92, "\n".join(lines), transform=ax.transAxes, va="top", fontsize=10, family="monospace")
    ax.set_axis_off()
    ax.set_title("end of the solve", fontsize=10)


def draw(view: SearchView) -> np.ndarray:
    """The picture of ``view`` as an (H, W, 3) uint8 array."""
    fig = new_figure(WIDTH_PX, HEIGHT_PX)
    info = view.info
    if not view.seen:
        fig.text(0.5, 0.5, "no episode yet: call reset()", ha="center", va="center", fontsize=14)
        return to_rgb(fig)
    fig.suptitle(f"MILP branching   {view.instance}   decision {len(view.seen)}   "
                 f"SCIP nodes {info.get('nodes', 0):,.0f}   LP iterations {info.get('lp_iterations', 0):,.0f}",
                 x=0.01, ha="left", fontsize=11, fontweight="bold")
    grid = fig.add_gridspec(2, 2, width_ratios=(1.45, 1.0), height_ratios=(1.0, 1.1), left=0.05, right=0.985,
                            top=0.88, bottom=0.16, wspace=0.12, hspace=0.55)
    _draw_tree(fig.add_subplot(grid[:, 0]), view)
    _draw_bounds(fig.add_subplot(grid[0, 1]), view)
    if view.waiting:
        _draw_candidates(fig.add_subplot(grid[1, 1]), view)
    else:
        _draw_summary(fig.add_subplot(grid[1, 1]), view)
    return to_rgb(fig)
