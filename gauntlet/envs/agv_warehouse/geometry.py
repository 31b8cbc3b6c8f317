"""Geometry and simulation core of the AGV warehouse, shared by the single and the batched env.

Everything here works on a batch of ``B`` independent warehouses so that
:class:`~gauntlet.envs.agv_warehouse.env.AGVWarehouseEnv` (``B = 1``) and
:class:`~gauntlet.envs.agv_warehouse.vector.AGVWarehouseVectorEnv` (``B = num_envs``) run the
very same code and cannot diverge: the numba kernels of :mod:`~gauntlet.envs.agv_warehouse.kernels` loop
over the warehouses of a batch, and the random draws of episode sampling stay numpy Generator
calls made per warehouse in a fixed order.

World model (all lengths in metres, angles in radians):

- The warehouse is the rectangle ``[0, W] x [0, H]`` divided into 1 m cells. A layout is a
  boolean grid ``grid[iy, ix]`` (``True`` = shelf/obstacle; row ``iy`` covers ``y in [iy, iy+1)``)
  stored as axis-aligned rectangles ``(xmin, ymin, xmax, ymax)`` (adjacent cells merged).
- The AGV is a disc of radius ``ROBOT_RADIUS`` with unicycle kinematics.
- Dynamic obstacles (other AGVs, forklifts) are discs of radius ``DYNAMIC_RADIUS`` that patrol
  back and forth along a straight free lane ``a -> b`` of length ``L`` at speed ``s``:
  with ``u = (phase + s * t) mod 2L`` their position is ``a + (b - a) * min(u, 2L - u) / L``.
- A layout string has one character per cell, top row first (highest ``y``): ``#`` shelf,
  ``.`` free, ``S`` fixed start (free), ``G`` fixed goal (free).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from gauntlet.envs.agv_warehouse import kernels
# the physical constants live with the kernels; geo.ROBOT_RADIUS etc. stay the public names
from gauntlet.envs.agv_warehouse.kernels import DT, DYNAMIC_RADIUS, GOAL_TOLERANCE, OMEGA_MAX, ROBOT_RADIUS, V_MAX  # noqa: F401

_FAR = 1.0e4
"""Coordinate of padding rectangles/discs: never within lidar range or touching the robot."""

SCENES = ("simple-static", "simple-dynamic", "complex-static", "complex-dynamic")
N_DYNAMIC = {"simple-static": 0, "simple-dynamic": 2, "complex-static": 0, "complex-dynamic": 4}
_MIN_LANE_CELLS = 4


@dataclass(frozen=True)
class Layout:
    """A warehouse floor plan. ``start``/``goal`` are fixed cells ``(ix, iy)`` or ``None``."""

    grid: np.ndarray
    rects: np.ndarray
    start: tuple[int, int] | None = None
    goal: tuple[int, int] | None = None

    @property
    def width(self) -> float:
        return float(self.grid.shape[1])

    @property
    def height(self) -> float:
        return float(self.grid.shape[0])


@dataclass(frozen=True)
class Episode:
    """Everything that defines one episode: layout, start pose, goal and moving obstacles."""

    layout: Layout
    start: np.ndarray
    """(x, y, theta)"""
    goal: np.ndarray
    """(x, y)"""
    lanes: np.ndarray
    """(K, 4) patrol segments (ax, ay, bx, by)"""
    speeds: np.ndarray
    """(K,) m/s"""
    phases: np.ndarray
    """(K,) distance already travelled along the 2L back-and-forth cycle at t = 0"""


# ------------------------------------------------------------------------------ layouts
def _runs(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, start, end) of the maximal runs of True along the last axis of a 2D bool array."""
    edge = np.zeros((cells.shape[0], 1), dtype=np.int8)
    padded = np.concatenate([edge, cells.astype(np.int8), edge], axis=1)
    diff = padded[:, 1:] - padded[:, :-1]
    rows, starts = np.nonzero(diff == 1)
    return rows, starts, np.nonzero(diff == -1)[1]


def grid_to_rects(grid: np.ndarray) -> np.ndarray:
    """Merge obstacle cells into rectangles: horizontal runs per row, stacked vertically when
    consecutive rows have a run with the same x-extent. Returns (M, 4) float64."""
    open_rects: dict[tuple[int, int], list[int]] = {}
    done: list[tuple[int, ...]] = []
    for row, x0, x1 in zip(*(a.tolist() for a in _runs(grid))):
        rect = open_rects.get((x0, x1))
        if rect is not None and rect[3] == row:
            rect[3] = row + 1
        else:
            if rect is not None:
                done.append(tuple(rect))
            open_rects[(x0, x1)] = [x0, row, x1, row + 1]
    done.extend(tuple(r) for r in open_rects.values())
    return np.array(sorted(done), dtype=np.float64).reshape(-1, 4)


def parse_layout(text: str) -> Layout:
    """Parse a layout string (``#`` shelf, ``.`` free, ``S`` start, ``G`` goal; top row first)."""
    rows = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not rows:
        raise ValueError("layout is empty; expected rows of '#', '.', 'S', 'G'")
    width = len(rows[0])
    for i, row in enumerate(rows):
        if len(row) != width:
            raise ValueError(f"layout row {i} has {len(row)} cells, expected {width} like row 0")
        bad = set(row) - set("#.SG")
        if bad:
            raise ValueError(f"layout row {i} contains {sorted(bad)}; allowed cell characters are '#', '.', 'S', 'G'")
    chars = np.array([list(r) for r in rows])[::-1]
    grid = chars == "#"
    if grid.all():
        raise ValueError("layout has no free cell: at least one '.', 'S' or 'G' is needed")
    marks = {}
    for mark in "SG":
        iy, ix = np.nonzero(chars == mark)
        if len(ix) > 1:
            raise ValueError(f"layout has {len(ix)} {mark!r} cells; at most one is allowed")
        marks[mark] = (int(ix[0]), int(iy[0])) if len(ix) else None
    return Layout(np.ascontiguousarray(grid), grid_to_rects(grid), marks["S"], marks["G"])


def layout_to_string(layout: Layout) -> str:
    chars = np.where(layout.grid, "#", ".")
    for mark, cell in (("S", layout.start), ("G", layout.goal)):
        if cell is not None:
            chars[cell[1], cell[0]] = mark
    return "\n".join("".join(row) for row in chars[::-1])


def generate_layouts(
    rngs: list[np.random.Generator], complex_scene: bool, size: int = 20
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One procedural warehouse of ``size x size`` cells per generator of ``rngs`` (each makes the
    same draws as if its layout were generated alone): grids (n, size, size), rectangles
    (n, M, 4) and their counts (n,).

    Simple: three double-depth shelf rows (2 m deep) near y = 3, 8, 13 (+0 or 1 m) spanning
    x in [2, size-2), each with one 2 m cross-aisle at a random position.
    Complex: single-depth shelf rows at y = 2, 5, 8, ... (2 m aisles) spanning x in [1, size-1),
    each with two cross-aisles of 1-2 m at random positions, plus three 1 m pillars in random free
    cells (which can turn aisles into dead ends).
    """
    n = len(rngs)
    grids = np.zeros((n, size, size), dtype=bool)
    if not complex_scene:
        shifts, gaps = np.empty((n, 3), dtype=np.int64), np.empty((n, 3), dtype=np.int64)
        for i, rng in enumerate(rngs):
            shifts[i] = rng.integers(0, 2, size=3)
            gaps[i] = rng.integers(5, size - 6, size=3)
        rects = np.empty((n, 6, 4))
        kernels.simple_layouts(shifts, gaps, grids, rects)
        return grids, rects, np.full(n, 6)
    n_rows = len(range(2, size - 1, 3))
    gaps, widths = np.empty((n, n_rows, 2), dtype=np.int64), np.empty((n, n_rows, 2), dtype=np.int64)
    for i, rng in enumerate(rngs):
        gaps[i] = rng.integers(2, size - 3, size=(n_rows, 2))
        widths[i] = rng.integers(1, 3, size=(n_rows, 2))
    free, n_free = np.empty((n, size * size), dtype=np.int64), np.empty(n, dtype=np.int64)
    kernels.complex_shelves(gaps, widths, grids, free, n_free)
    pillars = np.array([
        rng.choice(free[i, :count], size=3, replace=False) for i, (rng, count) in enumerate(zip(rngs, n_free.tolist()))
    ])
    rects, n_rects = np.empty((n, 3 * n_rows + 3, 4)), np.empty(n, dtype=np.int64)
    kernels.complex_rects(grids, n_rows, pillars, rects, n_rects)
    return grids, rects, n_rects


FIXED_GOAL_DISTANCE = (4.0, 6.0)
"""Start-goal distance band (m, between cell centres) of the fixed maps. With collisions ending
the episode, a uniformly random policy reaches goals 2-6 m away in about 2% of its episodes on
procedural simple warehouses and farther ones almost never; fixed-map goals are also hidden
behind a shelf, which leaves it 0.2-0.3% on the simple-static map (``scripts/agv_reachability.py``)."""
LAYOUT_SEED_MAX = 2**32 - 1


def fixed_map(scene: str, layout_seed: int) -> Layout:
    """The fixed warehouse of ``scene`` for ``layout_seed``: the procedural layout drawn from
    ``np.random.default_rng(layout_seed)``, then from the same generator a start cell (uniform
    over the free cells of the largest 4-connected region) and a goal cell (uniform over the cells
    of that region whose centre is ``FIXED_GOAL_DISTANCE`` metres from the start's and hidden
    behind a shelf: the straight segment between the two centres passes closer than the robot
    radius to a shelf, so driving straight at the goal collides)."""
    rng = np.random.default_rng(layout_seed)
    grids, rects, n_rects = generate_layouts([rng], complex_scene=scene.startswith("complex"))
    grid, rects = grids[0], rects[0, : n_rects[0]]
    h, w = grid.shape
    labels, sizes = np.empty((1, h * w), dtype=np.int64), np.empty((1, h * w + 1), dtype=np.int64)
    kernels.label_regions(grids, labels, sizes)
    region = np.flatnonzero(labels[0] == int(np.argmax(sizes[0])))
    low, high = FIXED_GOAL_DISTANCE
    ys, xs = np.divmod(region, w)
    along = np.linspace(0.0, 1.0, 121)[:, None, None]
    while True:
        start = int(rng.choice(region))
        sy, sx = divmod(start, w)
        d = np.hypot(xs - sx, ys - sy)
        band = (d >= low) & (d <= high)
        ends = np.stack([xs[band], ys[band]], axis=1) + 0.5
        points = (np.array([sx, sy]) + 0.5) * (1.0 - along) + ends[None] * along
        clearance = point_clearance(points.reshape(-1, 2), rects, float(w), float(h)).reshape(len(along), -1)
        goals = region[band][(clearance < ROBOT_RADIUS).any(axis=0)]
        if len(goals):
            break
    gy, gx = divmod(int(rng.choice(goals)), w)
    return Layout(np.ascontiguousarray(grid), rects, (sx, sy), (gx, gy))


def point_clearance(points: np.ndarray, rects: np.ndarray, width: float, height: float) -> np.ndarray:
    """Distance from each point (P, 2) to the nearest rectangle or the world border
    (negative inside an obstacle or outside the world)."""
    p = points[:, None, :]
    gap = np.maximum(np.maximum(rects[None, :, :2] - p, p - rects[None, :, 2:]), 0.0)
    to_rect = np.sqrt((gap * gap).sum(-1)).min(axis=1, initial=np.inf)
    inside = ((p >= rects[None, :, :2]) & (p <= rects[None, :, 2:])).all(-1).any(1)
    border = np.minimum(points, np.array([width, height]) - points).min(axis=1)
    return np.where(inside, -1.0, np.minimum(to_rect, border))


@functools.lru_cache(maxsize=8)
def _distance_table(h: int, w: int) -> np.ndarray:
    """(h, w) distances ``hypot(dx, dy)`` between cell centres ``dy`` rows and ``dx`` columns apart."""
    return np.hypot(np.arange(w)[None, :], np.arange(h)[:, None])


class EpisodeBatch(NamedTuple):
    """Episodes as padded arrays: ``grids`` (n, H, W), ``rects`` (n, M, 4) with ``n_rects`` (n,)
    rows used, ``starts`` (n, 3), ``goals`` (n, 2), ``lanes`` (n, K, 4), ``speeds`` and
    ``phases`` (n, K) with ``n_lanes`` (n,) used."""

    grids: np.ndarray
    rects: np.ndarray
    n_rects: np.ndarray
    starts: np.ndarray
    goals: np.ndarray
    lanes: np.ndarray
    speeds: np.ndarray
    phases: np.ndarray
    n_lanes: np.ndarray


def sample_episode_batch(
    rngs: list[np.random.Generator],
    scene: str,
    layout: Layout | None,
    min_goal_distance: float,
) -> EpisodeBatch:
    """Draw one episode from each generator of ``rngs``: the layout (procedural unless ``layout``
    is given), a start cell centre with uniform heading (a uniformly drawn free cell of a
    4-connected region with another free cell), a goal cell centre drawn uniformly from the
    start's region at least ``min_goal_distance`` away (the farthest cells if none is), and the
    moving obstacles on distinct lanes drawn from the grid's maximal horizontal and vertical runs
    of at least 4 free cells (rows, then columns; none through the start cell). Each generator
    makes the same draws as if its episode were sampled alone; the geometry between the draws is
    computed for all episodes together by the kernels of :mod:`~gauntlet.envs.agv_warehouse.kernels`."""
    n = len(rngs)
    if layout is None:
        grids, rects, n_rects = generate_layouts(rngs, complex_scene=scene.startswith("complex"))
    else:
        grids = np.repeat(layout.grid[None], n, axis=0)
        rects, n_rects = np.repeat(layout.rects[None], n, axis=0), np.full(n, len(layout.rects))
    h, w = grids.shape[1:]
    labels, sizes = np.empty((n, h * w), dtype=np.int64), np.empty((n, h * w + 1), dtype=np.int64)
    kernels.label_regions(grids, labels, sizes)
    fixed_goal = -1 if layout is None or layout.goal is None else layout.goal[1] * w + layout.goal[0]
    starts = np.empty(n, dtype=np.int64)
    if layout is not None and layout.start is not None:
        starts[:] = layout.start[1] * w + layout.start[0]
        if fixed_goal >= 0 and labels[0, starts[0]] != labels[0, fixed_goal]:
            raise ValueError(f"the layout's goal G {layout.goal} is not reachable from its start S {layout.start}")
        ks = np.full(n, -1)
    else:
        counts = np.empty(n, dtype=np.int64)
        kernels.count_starts(labels, sizes, fixed_goal, counts)
        if not counts.all():
            raise ValueError("layout needs at least two 4-connected free cells for a start and a goal")
        ks = np.array([rng.integers(count) for rng, count in zip(rngs, counts.tolist())])
    goal_counts = np.empty(n, dtype=np.int64)
    table = _distance_table(h, w)
    kernels.pick_starts(labels, sizes, fixed_goal, ks, table, min_goal_distance, starts, goal_counts)
    sy, sx = np.divmod(starts, w)
    theta = [float(rng.uniform(-np.pi, np.pi)) for rng in rngs]
    if fixed_goal >= 0:
        goals = np.full(n, fixed_goal)
    else:
        stuck = np.flatnonzero(goal_counts == 0)
        if len(stuck):
            i = int(stuck[0])
            raise ValueError(f"the start cell {(int(sx[i]), int(sy[i]))} has no reachable free cell for a goal")
        ks = np.array([rng.integers(count) for rng, count in zip(rngs, goal_counts.tolist())])
        goals = np.empty(n, dtype=np.int64)
        kernels.pick_goals(labels, starts, ks, table, min_goal_distance, goals)
    gy, gx = np.divmod(goals, w)
    n_dyn = N_DYNAMIC[scene]
    lanes, speeds, cycles = np.zeros((n, n_dyn, 4)), np.zeros((n, n_dyn)), np.zeros((n, n_dyn))
    n_lanes = np.zeros(n, dtype=np.int64)
    if n_dyn:
        pools = np.empty((n, h * ((w + 1) // 5) + w * ((h + 1) // 5) + 1, 4))
        pool_sizes = np.empty(n, dtype=np.int64)
        kernels.free_lanes(grids, starts, _MIN_LANE_CELLS, pools, pool_sizes)
        for i, (rng, count) in enumerate(zip(rngs, pool_sizes.tolist())):
            if count:
                k = n_lanes[i] = min(n_dyn, count)
                lanes[i, :k] = pools[i, rng.choice(count, size=k, replace=False)]
                speeds[i, :k] = rng.uniform(0.3, 0.6, size=k)
                cycles[i, :k] = rng.uniform(0.0, 2.0, size=k)
    phases = cycles * np.hypot(lanes[..., 2] - lanes[..., 0], lanes[..., 3] - lanes[..., 1])
    start_poses = np.stack([sx + 0.5, sy + 0.5, theta], axis=1)
    goal_points = np.stack([gx + 0.5, gy + 0.5], axis=1)
    return EpisodeBatch(grids, rects, n_rects, start_poses, goal_points, lanes, speeds, phases, n_lanes)


def sample_episodes(
    rngs: list[np.random.Generator],
    scene: str,
    layout: Layout | None,
    min_goal_distance: float,
) -> list[Episode]:
    """:func:`sample_episode_batch` as a list of :class:`Episode` (a given ``layout`` is shared)."""
    b = sample_episode_batch(rngs, scene, layout, min_goal_distance)
    episodes = []
    for i, (m, k) in enumerate(zip(b.n_rects.tolist(), b.n_lanes.tolist())):
        lay = layout if layout is not None else Layout(b.grids[i], b.rects[i, :m])
        episodes.append(Episode(lay, b.starts[i], b.goals[i], b.lanes[i, :k], b.speeds[i, :k], b.phases[i, :k]))
    return episodes


def lane_positions(lanes: np.ndarray, speeds: np.ndarray, phases: np.ndarray, time: np.ndarray) -> np.ndarray:
    """Positions (..., K, 2) of patrolling obstacles (lanes (..., K, 4), speeds and phases
    (..., K)) at ``time`` (...) seconds (see the module docstring)."""
    packed = np.concatenate([lanes, speeds[..., None], phases[..., None]], axis=-1)
    k = packed.shape[-2]
    out = np.empty((*packed.shape[:-1], 2))
    times = np.asarray(time, dtype=np.float64).reshape(-1)
    kernels.lane_positions(packed.reshape(-1, k, 6), times, out.reshape(-1, k, 2))
    return out


# ------------------------------------------------------------------------------ batched core
_PRUNE_SLACK = 1.0e-3
"""Relative and absolute (m) slack on the lidar range when pruning boxes: far above the float32
rounding of coordinates up to ~10 km, so a pruned box could only have been hit beyond the range,
where the cap hides it anyway."""


class WarehouseBatch:
    """State of ``n`` warehouses stepped together (the single env uses ``n = 1``) by the numba
    kernels of :mod:`~gauntlet.envs.agv_warehouse.kernels` (see there for the array layout; ``pose``,
    ``vel``, ``goal``, ``path_length`` and ``goal_distance`` are views of ``state``)."""

    def __init__(self, n: int, n_beams: int, lidar_range: float) -> None:
        self.n = n
        self.lidar_range = lidar_range
        self._reach2 = (lidar_range * (1.0 + _PRUNE_SLACK) + _PRUNE_SLACK) ** 2
        self.beam_offsets = 2.0 * np.pi * np.arange(n_beams) / n_beams
        # cos(a - pi/2) = sin(a): one cosine call yields both direction components
        self._offsets = np.stack([self.beam_offsets, self.beam_offsets - np.pi / 2])
        self.state = np.zeros((n, kernels.STATE))
        self.pose = self.state[:, kernels.X : kernels.THETA + 1]
        self.vel = self.state[:, kernels.V : kernels.OMEGA + 1]
        self.goal = self.state[:, kernels.GOAL_X : kernels.GOAL_Y + 1]
        self.path_length = self.state[:, kernels.PATH]
        self.goal_distance = self.state[:, kernels.GOAL_DIST]
        self.steps = np.zeros(n, dtype=np.int64)
        self.rects = np.full((n, 1, 4), _FAR)
        self.lanes = np.full((n, 0, 6), _FAR)
        self.lanes[..., 4:] = 0.0
        self.obstacles = np.zeros((n, 0, 2))
        self.flags = np.zeros((2, n), dtype=bool)
        self.values = np.zeros((2, n))
        self._angles = np.zeros((2, n, n_beams), dtype=np.float32)
        self._directions = np.zeros((2, n, n_beams), dtype=np.float32)
        self._goal_vec = np.zeros((2, n))
        self._goal_x, self._goal_y = self._goal_vec
        self._goal_angle = np.zeros(n)
        self._ranges = np.zeros((n, n_beams))
        self._obs = np.zeros((n, n_beams + 5), dtype=np.float32)

    def _grow(self, n_rects: int, n_lanes: int) -> None:
        m = self.rects.shape[1]
        if n_rects > m:
            self.rects = np.concatenate([self.rects, np.full((self.n, n_rects - m, 4), _FAR)], axis=1)
        k = self.lanes.shape[1]
        if n_lanes > k:
            pad = np.full((self.n, n_lanes - k, 6), _FAR)
            pad[..., 4:] = 0.0
            self.lanes = np.concatenate([self.lanes, pad], axis=1)
            self.obstacles = np.zeros((self.n, n_lanes, 2))

    def load(self, i: int, episode: Episode) -> None:
        """Put ``episode`` into slot ``i`` (padding boxes/lanes lie far outside the world)."""
        layout, k = episode.layout, len(episode.lanes)
        self._load(
            np.array([i]), np.array([len(layout.rects)]), layout.rects[None], episode.start[None], episode.goal[None],
            episode.lanes[None], episode.speeds[None], episode.phases[None], np.array([k]), layout.width, layout.height,
        )

    def load_batch(self, slots: np.ndarray, batch: EpisodeBatch) -> None:
        """Put episode ``j`` of ``batch`` into slot ``slots[j]``."""
        h, w = batch.grids.shape[1:]
        self._load(
            slots, batch.n_rects, batch.rects, batch.starts, batch.goals, batch.lanes, batch.speeds, batch.phases,
            batch.n_lanes, float(w), float(h),
        )

    def _load(self, slots, n_rects, rects, starts, goals, lanes, speeds, phases, n_lanes, width, height) -> None:
        self._grow(int(n_rects.max()), int(n_lanes.max()))
        kernels.load_slots(
            slots, rects, n_rects, starts, goals, lanes, speeds, phases, n_lanes, width, height, _FAR,
            self.state, self.steps, self.rects, self.lanes,
        )

    def obstacle_positions(self) -> np.ndarray:
        """(n, K, 2) positions of the moving obstacles now (padding lanes stay far away)."""
        out = np.empty_like(self.obstacles)
        kernels.lane_positions(self.lanes, self.steps * DT, out)
        return out

    def clearance(self) -> np.ndarray:
        """(n,) distance from the robot centre to the nearest shelf, border or moving disc
        (0 inside a shelf, negative outside the world)."""
        out = np.empty(self.n)
        kernels.clearances(self.state, self.rects, self.obstacle_positions(), out)
        return out

    def step(self, action: np.ndarray, dense: bool = False, step_cost: float = 0.0, progress_coef: float = 0.0) -> None:
        """Advance every warehouse by one ``DT`` with ``action`` (n, 2) = (v, omega) float64 (see
        :func:`~gauntlet.envs.agv_warehouse.kernels.advance`); results in ``flags`` (collided, reached)
        and ``values`` (progress, reward)."""
        kernels.advance(
            action, self.state, self.steps, self.rects, self.lanes, self.obstacles, self.flags, self.values,
            dense, step_cost, progress_coef,
        )

    def _observe(self) -> None:
        kernels.trig_inputs(self.state, self._offsets, self._angles, self._goal_vec)
        np.cos(self._angles, out=self._directions)
        np.arctan2(self._goal_y, self._goal_x, out=self._goal_angle)
        kernels.observe(
            self.state, self.steps, self.rects, self.lanes, self.obstacles, self._directions, self._goal_angle,
            self.lidar_range, self._reach2, self._ranges, self._obs,
        )

    def lidar(self) -> np.ndarray:
        """(n, N) distances from the robot centre along beams at ``theta + 2 pi k / N``, capped
        at the lidar range (see :func:`~gauntlet.envs.agv_warehouse.kernels.observe`)."""
        self._observe()
        return self._ranges.copy()

    def observe(self) -> np.ndarray:
        """(n, N + 5) float32: lidar / range, goal distance / world diagonal (capped at 1),
        sin and cos of the goal bearing relative to the heading, v / V_MAX, omega / OMEGA_MAX."""
        self._observe()
        return self._obs.copy()
