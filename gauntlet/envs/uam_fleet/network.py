"""The vertiport network: positions, direct routes and the networkx graph users inspect.

A city's vertiports do not move from one day to the next, so the network is drawn once, from
``network_seed``, when the env is built; every day (every ``reset``) then runs on it. A route
is a direct flight between two vertiports whose distance an aircraft with a full battery can
fly and still land with its reserve; positions are redrawn until these routes connect every
vertiport (a vertiport nobody can reach would hold aircraft forever).
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

MIN_ROUTE_MILES = 2.0
"""Vertiports closer than this are merged in practice; the draw rejects such layouts."""
_MAX_DRAWS = 1000


@dataclass(frozen=True)
class Network:
    """Positions (V, 2) in miles, pairwise distances (V, V), the route matrix (V, V) bool
    (symmetric, no self loops), each vertiport's attractiveness (mean 1: where the morning
    commute goes and the evening one leaves from) and the networkx graph."""

    positions: np.ndarray
    distance: np.ndarray
    routes: np.ndarray
    attractiveness: np.ndarray
    graph: nx.Graph


def draw_network(n_vertiports: int, square_miles: float, max_route_miles: float, seed: int) -> Network:
    """Vertiports uniform in a ``square_miles`` square, routes of at most ``max_route_miles``.

    Raises ``ValueError`` when no connected layout is found (the square is too large for the
    aircraft's range)."""
    rng = np.random.default_rng(seed)
    for _ in range(_MAX_DRAWS):
        positions = rng.uniform(0.0, square_miles, size=(n_vertiports, 2))
        distance = np.linalg.norm(positions[:, None, :] - positions[None, :, :], axis=-1)
        off_diagonal = ~np.eye(n_vertiports, dtype=bool)
        if np.any(distance[off_diagonal] < MIN_ROUTE_MILES):
            continue
        routes = off_diagonal & (distance <= max_route_miles)
        graph = _graph(positions, distance, routes)
        if nx.is_connected(graph):
            attractiveness = rng.gamma(2.0, 1.0, size=n_vertiports)
            attractiveness *= n_vertiports / attractiveness.sum()
            for v in graph.nodes:
                graph.nodes[v]["attractiveness"] = float(attractiveness[v])
            return Network(positions, distance, routes, attractiveness, graph)
    raise ValueError(
        f"square_miles={square_miles!r} is invalid; allowed: a square small enough that routes of at most "
        f"{max_route_miles:.1f} miles (the range above the reserve) connect all {n_vertiports} vertiports"
    )


def _graph(positions: np.ndarray, distance: np.ndarray, routes: np.ndarray) -> nx.Graph:
    graph = nx.Graph()
    for v, (x, y) in enumerate(positions):
        graph.add_node(v, pos=(float(x), float(y)))
    for i, j in zip(*np.nonzero(np.triu(routes))):
        graph.add_edge(int(i), int(j), miles=float(distance[i, j]))
    return graph
