"""Procedural roads: lane centre lines as uniformly sampled polylines, drawn from the seed.

Every path is a directed lane centre line sampled every ``DS = 1`` m (point ``i`` lies at arc
length ``i`` m), so the compiled kernels find a position from ``(path, s, d)`` by one index and
a linear interpolation, and project a point onto a path by a short local search. ``d`` is the
signed lateral offset, positive to the left of the driving direction.

Three scenarios (right-hand traffic, lane width ``w`` drawn per episode):

* ``highway``: one carriageway of 3 or 4 lanes in one direction along a reference line of gentle
  random curvature (radii >= 800 m); a single path whose lanes are offsets ``d``; NPCs change
  lanes (MOBIL). The ego's route is 400 m along it.
* ``intersection``: an unsignalised four-way junction, arms at random angles near 90 degrees,
  one lane per direction; a path for each (entry arm, exit arm) pair, turns are cubic Bezier
  curves through the central area. The ego enters from arm 0 and turns left, goes straight or
  turns right (drawn). NPCs keep first come, first served at the conflict zones
  (``Scene.conflicts``, see :mod:`~gauntlet.envs.driving.traffic`).
* ``curvy``: a 400 m rural road of random arcs (radii 60-250 m), one lane per direction with
  oncoming traffic; overtaking means driving in the oncoming lane (outside the route's lanes).

Crosswalks (:func:`crosswalks`, used when the env's ``pedestrians`` rate is positive): one on
each intersection arm just outside the junction, one across the curvy road halfway along the
route, none on the highway (a motorway has no crossings).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numba import njit

DS = 1.0
CLEARANCE = 3.0
SCENARIOS = ("highway", "intersection", "curvy")


@dataclass
class Scene:
    """One episode's road.

    ``paths`` (P, N, 2) lane centre lines padded with their last point, ``headings`` (P, N)
    heading of segment i (from point i to i + 1), ``lengths`` (P,) path lengths in metres.
    ``lane_offsets[p]``: the lane centres of path p as offsets ``d`` (one 0.0 entry except on
    the highway). ``sources``: the groups of paths that start at one point, where NPCs
    enter at ``veh_per_km`` vehicles per km and lane (also their initial spacing, within the first
    ``populate_span`` metres of each path or all of it). The ego drives path ``route`` from ``route_start`` to ``route_end`` (arc lengths) in
    lane offset ``route_lane``; the road spans ``[right_edge, left_edge]`` in the route's frame.
    ``junction`` (cx, cy, r) is a drivable disc and ``arms`` (A, 5) rectangles
    (x0, y0, heading, length, half width) of the intersection's arms (empty elsewhere).
    ``conflicts[p, q]`` = (first, last) arc length on path p of its points inside the junction
    that pass within ``CLEARANCE`` of path q's points there, or (-1, -1): the zone where a
    vehicle on p must not be while one on q is in its own zone (paths of one entry arm excluded).
    """

    name: str
    lane_width: float
    paths: np.ndarray
    headings: np.ndarray
    lengths: np.ndarray
    lane_offsets: list[np.ndarray]
    route: int
    route_lane: float
    route_start: float
    route_end: float
    right_edge: float
    left_edge: float
    speed_limit: float
    npc_speed: tuple[float, float]
    veh_per_km: float = 0.0
    populate_span: float | None = None
    sources: list[tuple[int, ...]] = field(default_factory=list)
    junction: tuple[float, float, float] | None = None
    arms: np.ndarray = field(default_factory=lambda: np.zeros((0, 5)))
    conflicts: np.ndarray = field(default_factory=lambda: np.full((0, 0, 2), -1.0))

    @property
    def route_length(self) -> float:
        return self.route_end - self.route_start

    def point(self, p: int, s: float, d: float = 0.0) -> tuple[float, float, float]:
        """(x, y, heading) of offset ``d`` at arc length ``s`` of path ``p``."""
        xy, h = self.paths[p], self.headings[p]
        i = int(min(max(s, 0.0), self.lengths[p] - 1e-9) // DS)
        frac = s / DS - i
        x = xy[i, 0] + frac * (xy[i + 1, 0] - xy[i, 0]) - d * math.sin(h[i])
        y = xy[i, 1] + frac * (xy[i + 1, 1] - xy[i, 1]) + d * math.cos(h[i])
        return x, y, h[i]

    def points(self, p: np.ndarray, s: np.ndarray, d: float) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) of offset ``d`` at arc lengths ``s`` of paths ``p`` (arrays), as :meth:`point`."""
        i = (np.clip(s, 0.0, self.lengths[p] - 1e-9) // DS).astype(np.int64)
        frac = s / DS - i
        a, b, h = self.paths[p, i], self.paths[p, i + 1], self.headings[p, i]
        return a[:, 0] + frac * (b[:, 0] - a[:, 0]) - d * np.sin(h), a[:, 1] + frac * (b[:, 1] - a[:, 1]) + d * np.cos(h)

    def on_road(self, x: float, y: float, d_route: float, s_route: float) -> bool:
        """Whether a point with route coordinates ``(s_route, d_route)`` is on the drivable area."""
        if self.junction is None:
            return self.right_edge <= d_route <= self.left_edge and 0.0 <= s_route <= self.lengths[self.route]
        cx, cy, r = self.junction
        if (x - cx) ** 2 + (y - cy) ** 2 <= r * r:
            return True
        for x0, y0, h, length, half in self.arms:
            dx, dy = x - x0, y - y0
            lon = dx * math.cos(h) + dy * math.sin(h)
            lat = -dx * math.sin(h) + dy * math.cos(h)
            if 0.0 <= lon <= length and abs(lat) <= half:
                return True
        return False


def _resample(points: np.ndarray) -> np.ndarray:
    """Points every ``DS`` metres of arc length along the polyline ``points``."""
    seg = np.hypot(*np.diff(points, axis=0).T)
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    s = np.arange(0.0, arc[-1] + 1e-9, DS)
    return np.stack([np.interp(s, arc, points[:, 0]), np.interp(s, arc, points[:, 1])], axis=1)


def _integrate(x0: float, y0: float, h0: float, curvature: np.ndarray) -> np.ndarray:
    """A polyline from (x0, y0) with heading h0 and one curvature (1/m) per metre."""
    heading = h0 + np.concatenate([[0.0], np.cumsum(curvature * DS)])
    mid = heading[:-1] + 0.5 * curvature * DS
    xy = np.zeros((len(curvature) + 1, 2))
    xy[0] = x0, y0
    xy[1:, 0] = x0 + np.cumsum(DS * np.cos(mid))
    xy[1:, 1] = y0 + np.cumsum(DS * np.sin(mid))
    return xy


def _arcs(rng: np.random.Generator, length: int, radius: tuple[float, float], arc: tuple[float, float],
          straight_p: float) -> np.ndarray:
    """Curvature per metre: a sequence of arcs and straights of random radius and length."""
    out: list[np.ndarray] = []
    total = 0
    while total < length:
        n = int(rng.uniform(*arc))
        # (-1, 1)[integers(0, 2)] draws as choice([-1, 1]) does, without its array conversions.
        k = 0.0 if rng.random() < straight_p else (-1.0, 1.0)[rng.integers(0, 2)] / rng.uniform(*radius)
        out.append(np.full(n, k))
        total += n
    return np.concatenate(out)[:length]


def _pack(polylines: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = max(len(p) for p in polylines) + 1
    paths = np.zeros((len(polylines), n, 2))
    headings = np.zeros((len(polylines), n))
    lengths = np.zeros(len(polylines))
    for k, p in enumerate(polylines):
        paths[k, : len(p)] = p
        paths[k, len(p):] = p[-1]
        diff = np.diff(p, axis=0)
        h = np.arctan2(diff[:, 1], diff[:, 0])
        headings[k, : len(h)] = h
        headings[k, len(h):] = h[-1]
        lengths[k] = (len(p) - 1) * DS
    return paths, headings, lengths


def highway(rng: np.random.Generator, density: float) -> Scene:
    w = float(rng.uniform(3.4, 3.8))
    n_lanes = int(rng.integers(3, 5))
    ref = _integrate(0.0, 0.0, 0.0, _arcs(rng, 700, (800.0, 2500.0), (80, 200), 0.4))
    paths, headings, lengths = _pack([ref])
    offsets = (np.arange(n_lanes) - (n_lanes - 1) / 2) * w
    ego_lane = float(offsets[int(rng.integers(n_lanes))])
    speed = (22.0, 30.0)
    return Scene("highway", w, paths, headings, lengths, [offsets], route=0, route_lane=ego_lane,
                 route_start=150.0, route_end=550.0, right_edge=float(offsets[0] - w / 2),
                 left_edge=float(offsets[-1] + w / 2), speed_limit=33.3, npc_speed=speed, veh_per_km=20.0 * density, sources=[(0,)])


def curvy(rng: np.random.Generator, density: float) -> Scene:
    w = float(rng.uniform(3.2, 3.6))
    centre = _integrate(0.0, 0.0, 0.0, _arcs(rng, 600, (60.0, 250.0), (30, 90), 0.25))
    heading = np.arctan2(*np.diff(centre, axis=0)[:, ::-1].T)
    heading = np.concatenate([heading, heading[-1:]])
    normal = np.stack([-np.sin(heading), np.cos(heading)], axis=1)
    forward = _resample(centre - normal * w / 2)
    oncoming = _resample((centre + normal * w / 2)[::-1])
    paths, headings, lengths = _pack([forward, oncoming])
    speed = (12.0, 17.0)
    return Scene("curvy", w, paths, headings, lengths, [np.zeros(1), np.zeros(1)], route=0, route_lane=0.0,
                 route_start=100.0, route_end=min(500.0, float(lengths[0]) - 20.0), right_edge=-w / 2,
                 left_edge=1.5 * w, speed_limit=19.4, npc_speed=speed, veh_per_km=15.0 * density, sources=[(0,), (1,)])


def intersection(rng: np.random.Generator, density: float, turn: str | None = None) -> Scene:
    """Four arms of 80 m at angles 90 k + U(-12, 12) degrees; arm 0 points south (the ego enters
    from there, heading north). ``turn`` ("left", "straight", "right") is drawn if None."""
    w = float(rng.uniform(3.2, 3.6))
    radius = float(rng.uniform(9.0, 12.0))
    arm_len = 80.0
    angles = np.deg2rad(-90.0 + 90.0 * np.arange(4) + rng.uniform(-12.0, 12.0, size=4))
    outward = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    left_of_out = np.stack([-np.sin(angles), np.cos(angles)], axis=1)
    # Entering lane of arm a runs inward on the right of the inward direction = left of outward.
    entry_start = outward * (radius + arm_len) + left_of_out * w / 2
    entry_end = outward * radius + left_of_out * w / 2
    exit_start = outward * radius - left_of_out * w / 2
    exit_end = outward * (radius + arm_len) - left_of_out * w / 2
    pairs = [(a, b) for a in range(4) for b in range(4) if a != b]
    index = {pair: k for k, pair in enumerate(pairs)}
    a, b = np.array(pairs).T
    # A cubic Bezier from each entry's end to each exit's start, tangent to both lanes, between
    # the straight lanes of the two arms (all 12 paths in one array op).
    c = 0.55 * radius
    p0, p3 = entry_end[a][:, None], exit_start[b][:, None]
    p1, p2 = p0 - outward[a][:, None] * c, p3 + outward[b][:, None] * c
    t = np.linspace(0.0, 1.0, 60)[None, :, None]
    curve = (1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * p1 + 3 * (1 - t) * t**2 * p2 + t**3 * p3
    u = np.linspace(0.0, 1.0, 40)[None, :, None]
    line_in = entry_start[a][:, None] + u * (p0 - entry_start[a][:, None])
    line_out = p3 + u * (exit_end[b][:, None] - p3)
    joined = np.concatenate([line_in[:, :-1], curve, line_out[:, 1:]], axis=1)
    polylines = [_resample(line) for line in joined]
    paths, headings, lengths = _pack(polylines)
    # Arms counter-clockwise from the south one: the ego, heading north, turns right into the
    # east arm (1), goes straight into the north one (2) and turns left into the west one (3).
    exits = {"right": 1, "straight": 2, "left": 3}
    if turn is None:
        turn = list(exits)[rng.integers(0, len(exits))]  # as str(rng.choice(list(exits))) draws it
    route = index[0, exits[turn]]
    speed = (8.0, 12.0)
    sources = [tuple(index[a, b] for b in range(4) if b != a) for a in range(4)]
    arms = np.stack([np.concatenate([outward[a] * radius * 0.5, [angles[a], arm_len + radius * 0.5, w]])
                     for a in range(4)])
    junction = (0.0, 0.0, radius + 0.5 * w)
    arm_of = {index[a, b]: a for a, b in index}
    return Scene("intersection", w, paths, headings, lengths, [np.zeros(1)] * len(polylines), route=route,
                 route_lane=0.0, route_start=30.0, route_end=float(lengths[route]) - 20.0, right_edge=-w / 2,
                 left_edge=1.5 * w, speed_limit=13.9, npc_speed=speed, veh_per_km=15.0 * density,
                 populate_span=arm_len - 5.0, sources=sources, junction=junction, arms=arms,
                 conflicts=conflict_zones(paths, lengths, [arm_of[k] for k in range(len(polylines))], junction))


def conflict_zones(paths: np.ndarray, lengths: np.ndarray, arm: list[int], junction: tuple[float, float, float]
                   ) -> np.ndarray:
    """The ``Scene.conflicts`` table of the packed ``paths`` that start at the arms ``arm``."""
    return _conflicts(paths, lengths, np.asarray(arm, dtype=np.int64), *junction, CLEARANCE)


@njit(cache=True)
def _conflicts(paths, lengths, arm, cx, cy, r, clearance):
    n = paths.shape[0]
    out = np.full((n, n, 2), -1.0)
    # Each path's point indices inside the junction, in order: only those pairs are compared.
    inside = np.zeros((n, paths.shape[1]), dtype=np.int64)
    count = np.zeros(n, dtype=np.int64)
    for p in range(n):
        for k in range(int(lengths[p] / DS) + 1):
            if (paths[p, k, 0] - cx) ** 2 + (paths[p, k, 1] - cy) ** 2 <= (r + 2.0) ** 2:
                inside[p, count[p]] = k
                count[p] += 1
    for i in range(n):
        for j in range(n):
            if arm[i] == arm[j]:
                continue
            for a in range(count[i]):
                k = inside[i, a]
                for b in range(count[j]):
                    m = inside[j, b]
                    if (paths[i, k, 0] - paths[j, m, 0]) ** 2 + (paths[i, k, 1] - paths[j, m, 1]) ** 2 < clearance * clearance:
                        if out[i, j, 0] < 0.0:
                            out[i, j, 0] = k * DS
                        out[i, j, 1] = k * DS
                        break
    return out


SIDEWALK = 1.5
CROSSWALK_GAP = 2.0


def crosswalks(scene: Scene) -> np.ndarray:
    """(C, 5) crosswalks of ``scene``: start (x, y) on the right-hand sidewalk, unit walking
    direction (ux, uy) across the road and length (m), from ``SIDEWALK`` metres before one road
    edge to as far past the other. Geometry only: no random draws."""
    if scene.name == "intersection":
        cx, cy, r = scene.junction
        heading = scene.arms[:, 2]
        half = scene.arms[:, 4]
        out = np.stack([np.cos(heading), np.sin(heading)], axis=1)
        across = np.stack([-np.sin(heading), np.cos(heading)], axis=1)
        # Just outside the junction disc, where the entering and leaving lanes are still straight.
        start = np.array([cx, cy]) + out * (r + CROSSWALK_GAP) - across * (half + SIDEWALK)[:, None]
        return np.column_stack([start, across, 2.0 * (half + SIDEWALK)])
    if scene.name == "curvy":
        x, y, h = scene.point(scene.route, 0.5 * (scene.route_start + scene.route_end), scene.right_edge - SIDEWALK)
        length = scene.left_edge - scene.right_edge + 2.0 * SIDEWALK
        return np.array([[x, y, -math.sin(h), math.cos(h), length]])
    return np.zeros((0, 5))


BUILDERS = {"highway": highway, "intersection": intersection, "curvy": curvy}
