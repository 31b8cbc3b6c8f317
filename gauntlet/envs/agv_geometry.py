"""Geometry and simulation core of the AGV warehouse, shared by the single and the batched env.

Everything here works on a batch of ``B`` independent warehouses so that
:class:`~gauntlet.envs.agv_warehouse.AGVWarehouseEnv` (``B = 1``) and
:class:`~gauntlet.envs.agv_warehouse_vector.AGVWarehouseVectorEnv` (``B = num_envs``) run the
very same array operations and cannot diverge.

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

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

ROBOT_RADIUS = 0.25
DYNAMIC_RADIUS = 0.35
GOAL_TOLERANCE = 0.3
DT = 0.1
V_MAX = 1.0
OMEGA_MAX = 1.5
_FAR = 1.0e4
"""Coordinate of padding rectangles/discs: never within lidar range or touching the robot."""

SCENES = ("simple-static", "simple-dynamic", "complex-static", "complex-dynamic")
N_DYNAMIC = {"simple-static": 0, "simple-dynamic": 2, "complex-static": 0, "complex-dynamic": 4}
_MIN_LANE_CELLS = 4
_CROSS = ndimage.generate_binary_structure(2, 1)


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


def generate_layout(rng: np.random.Generator, complex_scene: bool, size: int = 20) -> Layout:
    """Procedural warehouse of ``size x size`` cells.

    Simple: three double-depth shelf rows (2 m deep) near y = 3, 8, 13 (+0 or 1 m) spanning
    x in [2, size-2), each with one 2 m cross-aisle at a random position.
    Complex: single-depth shelf rows at y = 2, 5, 8, ... (2 m aisles) spanning x in [1, size-1),
    each with two cross-aisles of 1-2 m at random positions, plus three 1 m pillars in random free
    cells (which can turn aisles into dead ends).
    """
    grid = np.zeros((size, size), dtype=bool)
    rects: list[tuple[int, int, int, int]] = []
    if not complex_scene:
        ys = np.array([3, 8, 13]) + rng.integers(0, 2, size=3)
        gaps = rng.integers(5, size - 6, size=3)
        for y0, gap in zip(ys.tolist(), gaps.tolist()):
            grid[y0 : y0 + 2, 2 : size - 2] = True
            grid[y0 : y0 + 2, gap : gap + 2] = False
            rects += [(2, y0, gap, y0 + 2), (gap + 2, y0, size - 2, y0 + 2)]
    else:
        ys = np.arange(2, size - 1, 3)
        gaps = rng.integers(2, size - 3, size=(len(ys), 2))
        widths = rng.integers(1, 3, size=(len(ys), 2))
        grid[ys, 1 : size - 1] = True
        for k, y0 in enumerate(ys.tolist()):
            for gap, w in zip(gaps[k].tolist(), widths[k].tolist()):
                grid[y0, gap : gap + w] = False
        rows, starts, ends = _runs(grid[ys])
        rects += [(x0, int(ys[r]), x1, int(ys[r]) + 1) for r, x0, x1 in zip(rows.tolist(), starts.tolist(), ends.tolist())]
        pillars = rng.choice(np.flatnonzero(~grid), size=3, replace=False)
        grid.flat[pillars] = True
        rects += [(p % size, p // size, p % size + 1, p // size + 1) for p in pillars.tolist()]
    return Layout(grid, np.array(rects, dtype=np.float64))


def free_lanes(grid: np.ndarray, exclude: tuple[int, int] | None = None) -> np.ndarray:
    """Maximal horizontal and vertical runs of at least 4 free cells, as segments between the
    first and last cell centres (K, 4). Runs through the ``exclude`` cell are dropped so that no
    obstacle patrols through the robot's start."""
    lanes = []
    for free, transpose in ((~grid, False), ((~grid).T, True)):
        row, s, e = _runs(free)
        keep = e - s >= _MIN_LANE_CELLS
        if exclude is not None:
            ex, ey = (exclude[1], exclude[0]) if transpose else exclude
            keep &= ~((row == ey) & (s <= ex) & (ex < e))
        row, s, e = row[keep], s[keep], e[keep]
        c = row + 0.5
        seg = np.stack([s + 0.5, c, e - 0.5, c], axis=1)
        lanes.append(seg[:, [1, 0, 3, 2]] if transpose else seg)
    return np.concatenate(lanes).astype(np.float64)


def point_clearance(points: np.ndarray, rects: np.ndarray, width: float, height: float) -> np.ndarray:
    """Distance from each point (P, 2) to the nearest rectangle or the world border
    (negative inside an obstacle or outside the world)."""
    p = points[:, None, :]
    gap = np.maximum(np.maximum(rects[None, :, :2] - p, p - rects[None, :, 2:]), 0.0)
    to_rect = np.sqrt((gap * gap).sum(-1)).min(axis=1, initial=np.inf)
    inside = ((p >= rects[None, :, :2]) & (p <= rects[None, :, 2:])).all(-1).any(1)
    border = np.minimum(points, np.array([width, height]) - points).min(axis=1)
    return np.where(inside, -1.0, np.minimum(to_rect, border))


def sample_episode(
    rng: np.random.Generator,
    scene: str,
    layout: Layout | None,
    min_goal_distance: float,
) -> Episode:
    """Draw one episode from ``rng``: the layout (procedural unless ``layout`` is given), a start
    cell centre with uniform heading, a goal cell centre in the start's 4-connected free region at
    least ``min_goal_distance`` away (the farthest cells if none is), and the moving obstacles."""
    if layout is None:
        layout = generate_layout(rng, complex_scene=scene.startswith("complex"))
    width = layout.grid.shape[1]
    labels = ndimage.label(~layout.grid, structure=_CROSS)[0].ravel()
    fixed_goal = None if layout.goal is None else layout.goal[1] * width + layout.goal[0]
    if layout.start is not None:
        start = layout.start[1] * width + layout.start[0]
        if fixed_goal is not None and labels[start] != labels[fixed_goal]:
            raise ValueError(f"the layout's goal G {layout.goal} is not reachable from its start S {layout.start}")
    else:
        if fixed_goal is not None:
            candidates = np.flatnonzero(labels == labels[fixed_goal])
            candidates = candidates[candidates != fixed_goal]
        else:
            sizes = np.bincount(labels)
            sizes[0] = 0
            candidates = np.flatnonzero(sizes[labels] > 1)
        if len(candidates) == 0:
            raise ValueError("layout needs at least two 4-connected free cells for a start and a goal")
        start = int(candidates[rng.integers(len(candidates))])
    sy, sx = divmod(start, width)
    theta = float(rng.uniform(-np.pi, np.pi))
    if layout.goal is not None:
        gx, gy = layout.goal
    else:
        cells = np.flatnonzero(labels == labels[start])
        cells = cells[cells != start]
        if len(cells) == 0:
            raise ValueError(f"the start cell {(sx, sy)} has no reachable free cell for a goal")
        cy, cx = np.divmod(cells, width)
        dist = np.hypot(cx - sx, cy - sy)
        far = dist >= min_goal_distance
        pick = cells[far] if far.any() else cells[dist == dist.max()]
        gy, gx = divmod(int(pick[rng.integers(len(pick))]), width)
    lanes = np.zeros((0, 4))
    speeds = phases = np.zeros(0)
    n_dyn = N_DYNAMIC[scene]
    if n_dyn:
        pool = free_lanes(layout.grid, exclude=(sx, sy))
        if len(pool):
            lanes = pool[rng.choice(len(pool), size=min(n_dyn, len(pool)), replace=False)]
            lengths = np.hypot(lanes[:, 2] - lanes[:, 0], lanes[:, 3] - lanes[:, 1])
            speeds = rng.uniform(0.3, 0.6, size=len(lanes))
            phases = rng.uniform(0.0, 2.0, size=len(lanes)) * lengths
    return Episode(layout, np.array([sx + 0.5, sy + 0.5, theta]), np.array([gx + 0.5, gy + 0.5]), lanes, speeds, phases)


def lane_positions(lanes: np.ndarray, speeds: np.ndarray, phases: np.ndarray, time: np.ndarray) -> np.ndarray:
    """Positions (..., K, 2) of patrolling obstacles at ``time`` (..., ) seconds (see module doc)."""
    a = lanes[..., :2]
    ab = lanes[..., 2:] - a
    length = np.sqrt((ab * ab).sum(-1))
    safe = np.where(length > 0, length, 1.0)
    u = np.mod(phases + speeds * time[..., None], 2.0 * safe)
    frac = np.minimum(u, 2.0 * safe - u) / safe
    return a + ab * frac[..., None]


# ------------------------------------------------------------------------------ batched core
_BIG = 1.0e30
_QUARTER_TURN = np.array([0.0, np.pi / 2])


class Workspace:
    """Reused scratch arrays: fresh multi-megabyte temporaries per step cost more in page faults
    than the arithmetic on them."""

    def __init__(self) -> None:
        self._arrays: dict[str, np.ndarray] = {}

    def __call__(self, name: str, shape: tuple[int, ...], dtype: type = np.float32) -> np.ndarray:
        a = self._arrays.get(name)
        if a is None or a.shape != shape or a.dtype != dtype:
            a = self._arrays[name] = np.empty(shape, dtype=dtype)
        return a


def ray_cast(
    inv: np.ndarray,
    boxes: np.ndarray,
    discs: np.ndarray | None,
    disc_radii: np.ndarray | None,
    directions: np.ndarray | None,
    work: Workspace,
) -> np.ndarray:
    """Distance (B, N) along each beam to the first shelf, moving disc or world border.

    ``inv`` (2, B, N) holds ``1/dx, 1/dy`` of the N unit beam directions of each of the B rays'
    origins; ``boxes`` (4, 1 + M, B) the rows ``xmin, ymin, xmax, ymax`` minus the ray
    origin ``(x, y, x, y)``, with the world ``[0, W] x [0, H]`` as box 0 and the M shelves after it.
    (Box index before batch index keeps the inner loops long and the reduction over boxes cheap.)

    Slab method: along axis a the ray is inside a box for ``t in [min(t0, t1), max(t0, t1)]`` with
    ``t_i = rel_i / d_a``. A shelf (origin outside) is hit at ``t_near = max(0, max_a min(t0, t1))``
    iff ``t_near <= t_far = min_a max(t0, t1)``; the world (origin inside) is left at ``t_far``.
    A disc of radius r at relative centre c is hit at ``t = c.d - sqrt((c.d)^2 - |c|^2 + r^2)`` when
    the root is real and ``t >= 0`` (``discs`` (2, K, B), ``directions`` (2, B, N)).
    """
    shape = boxes.shape[1:] + inv.shape[2:]
    t = np.multiply(
        boxes.reshape(2, 2, *boxes.shape[1:], 1), inv[None, :, None], out=work("t", (2, 2, *shape), inv.dtype)
    )
    far, near, tmp = (work(name, shape, inv.dtype) for name in ("far", "near", "tmp"))
    np.minimum(np.maximum(t[0, 0], t[1, 0], out=far), np.maximum(t[0, 1], t[1, 1], out=tmp), out=far)
    np.maximum(np.minimum(t[0, 0], t[1, 0], out=near), np.minimum(t[0, 1], t[1, 1], out=tmp), out=near)
    np.maximum(near, 0.0, out=near)
    miss = np.greater(near, far, out=work("miss", shape, bool))
    np.maximum(near, np.multiply(miss, inv.dtype.type(_BIG), out=tmp), out=near)
    near[0] = far[0]
    dist = near.min(axis=0)
    if discs is not None:
        b = directions[0] * discs[0, :, :, None] + directions[1] * discs[1, :, :, None]
        disc = b * b - ((discs * discs).sum(0) - disc_radii * disc_radii)[:, :, None]
        root = b - np.sqrt(np.maximum(disc, 0.0))
        miss = (disc < 0.0) | (root < 0.0)
        dist = np.minimum(dist, np.maximum(root, miss * _BIG).min(axis=0))
    return dist


class WarehouseBatch:
    """State of ``n`` warehouses stepped together (the single env uses ``n = 1``).

    ``boxes`` (4, 1 + M, n): rows ``xmin, ymin, xmax, ymax``; box 0 is the world
    ``[0, W] x [0, H]``, boxes 1.. the shelves, padded with far-away empty boxes."""

    def __init__(self, n: int, n_beams: int, lidar_range: float) -> None:
        self.n = n
        self.lidar_range = lidar_range
        self.beam_offsets = 2.0 * np.pi * np.arange(n_beams) / n_beams
        # cos(a - pi/2) = sin(a): one cosine call yields both direction components
        self._offsets2 = np.stack([self.beam_offsets, self.beam_offsets - np.pi / 2])[:, None, :]
        self.pose = np.zeros((n, 3))
        self.vel = np.zeros((n, 2))
        self.goal = np.zeros((n, 2))
        self.boxes = np.full((4, 2, n), _FAR)
        self.boxes[:2, 0] = 0.0
        self.lanes = np.full((n, 0, 4), _FAR)
        self.speeds = np.zeros((n, 0))
        self.phases = np.zeros((n, 0))
        self.steps = np.zeros(n, dtype=np.int64)
        self.path_length = np.zeros(n)
        self.goal_distance = np.zeros(n)
        self.layouts: list[Layout | None] = [None] * n
        self._work = Workspace()

    def _grow(self, n_rects: int, n_lanes: int) -> None:
        m = self.boxes.shape[1] - 1
        if n_rects > m:
            self.boxes = np.concatenate([self.boxes, np.full((4, n_rects - m, self.n), _FAR)], axis=1)
        k = self.lanes.shape[1]
        if n_lanes > k:
            self.lanes = np.concatenate([self.lanes, np.full((self.n, n_lanes - k, 4), _FAR)], axis=1)
            self.speeds = np.concatenate([self.speeds, np.zeros((self.n, n_lanes - k))], axis=1)
            self.phases = np.concatenate([self.phases, np.zeros((self.n, n_lanes - k))], axis=1)

    def load(self, i: int, episode: Episode) -> None:
        """Put ``episode`` into slot ``i`` (padding boxes/lanes lie far outside the world)."""
        layout = episode.layout
        m, k = len(layout.rects), len(episode.lanes)
        self._grow(m, k)
        self.boxes[:, :, i] = _FAR
        self.boxes[:, 0, i] = (0.0, 0.0, layout.width, layout.height)
        self.boxes[:, 1 : m + 1, i] = layout.rects.T
        self.lanes[i] = _FAR
        self.lanes[i, :k] = episode.lanes
        self.speeds[i] = 0.0
        self.speeds[i, :k] = episode.speeds
        self.phases[i] = 0.0
        self.phases[i, :k] = episode.phases
        self.pose[i] = episode.start
        self.vel[i] = 0.0
        self.goal[i] = episode.goal
        self.steps[i] = 0
        self.path_length[i] = 0.0
        self.goal_distance[i] = np.hypot(*(episode.goal - episode.start[:2]))
        self.layouts[i] = layout

    def obstacle_positions(self) -> np.ndarray:
        """(n, K, 2) positions of the moving obstacles now (padding lanes stay far away)."""
        return lane_positions(self.lanes, self.speeds, self.phases, self.steps * DT)

    def clearance(self) -> np.ndarray:
        """(n,) distance from the robot centre to the nearest shelf, border or moving disc
        (0 inside a shelf, negative outside the world)."""
        xy = self.pose[:, :2].T[:, None, :]
        shelves = self.boxes[:, 1:]
        gap = np.maximum(np.maximum(shelves[:2] - xy, xy - shelves[2:]), 0.0)
        gap *= gap
        clear = np.sqrt((gap[0] + gap[1]).min(axis=0))
        world = self.boxes[:, 0]
        border = np.minimum(xy[:, 0] - world[:2], world[2:] - xy[:, 0]).min(axis=0)
        clear = np.minimum(clear, border)
        if self.lanes.shape[1]:
            rel = self.obstacle_positions() - self.pose[:, None, :2]
            clear = np.minimum(clear, np.sqrt((rel * rel).sum(-1)).min(axis=1) - DYNAMIC_RADIUS)
        return clear

    def step(self, action: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Advance every warehouse by one ``DT`` with ``action`` (n, 2) = (v, omega).

        Unicycle (explicit Euler): ``x += v cos(theta) dt; y += v sin(theta) dt;
        theta = wrap(theta + omega dt)`` to [-pi, pi). Returns (collided, reached, progress):
        collided iff the clearance is < ROBOT_RADIUS, reached iff not collided and the goal
        distance is <= GOAL_TOLERANCE, progress = decrease of the goal distance (m)."""
        theta = self.pose[:, 2]
        heading = np.cos(theta[:, None] - _QUARTER_TURN)
        delta = heading * (action[:, :1] * DT)
        self.pose[:, :2] += delta
        self.pose[:, 2] = np.mod(theta + action[:, 1] * DT + np.pi, 2.0 * np.pi) - np.pi
        self.vel[:] = action
        self.steps += 1
        self.path_length += np.hypot(delta[:, 0], delta[:, 1])
        collided = self.clearance() < ROBOT_RADIUS
        g = self.goal - self.pose[:, :2]
        dist = np.hypot(g[:, 0], g[:, 1])
        progress = self.goal_distance - dist
        self.goal_distance = dist
        reached = (dist <= GOAL_TOLERANCE) & ~collided
        return collided, reached, progress

    def lidar(self) -> np.ndarray:
        """(n, N) distances from the robot centre along beams at ``theta + 2 pi k / N``, capped
        at the lidar range. Beam directions and the slab arithmetic are float32 (the observation's
        precision)."""
        directions = np.cos((self.pose[:, 2, None] + self._offsets2).astype(np.float32))
        directions[directions == 0.0] = 1e-12
        inv = np.divide(1.0, directions, out=self._work("inv", directions.shape))
        boxes = (self.boxes - self.pose[:, [0, 1, 0, 1]].T[:, None, :]).astype(np.float32)
        discs = radii = None
        if self.lanes.shape[1]:
            discs = (self.obstacle_positions() - self.pose[:, None, :2]).transpose(2, 1, 0)
            radii = ((self.speeds > 0.0) * DYNAMIC_RADIUS).T
        return np.minimum(ray_cast(inv, boxes, discs, radii, directions, self._work), self.lidar_range)

    def observe(self) -> np.ndarray:
        """(n, N + 5) float32: lidar / range, goal distance / world diagonal (capped at 1),
        sin and cos of the goal bearing relative to the heading, v / V_MAX, omega / OMEGA_MAX."""
        n_beams = len(self.beam_offsets)
        obs = np.empty((self.n, n_beams + 5), dtype=np.float32)
        obs[:, :n_beams] = self.lidar() / self.lidar_range
        g = self.goal - self.pose[:, :2]
        bearing = np.arctan2(g[:, 1], g[:, 0]) - self.pose[:, 2]
        world = self.boxes[2:, 0]
        obs[:, n_beams] = np.minimum(self.goal_distance / np.hypot(world[0], world[1]), 1.0)
        obs[:, n_beams + 1] = np.sin(bearing)
        obs[:, n_beams + 2] = np.cos(bearing)
        obs[:, n_beams + 3 :] = self.vel / (V_MAX, OMEGA_MAX)
        return obs
