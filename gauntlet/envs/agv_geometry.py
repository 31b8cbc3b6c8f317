"""Geometry and simulation core of the AGV warehouse, shared by the single and the batched env.

Everything here works on a batch of ``B`` independent warehouses so that
:class:`~gauntlet.envs.agv_warehouse.AGVWarehouseEnv` (``B = 1``) and
:class:`~gauntlet.envs.agv_warehouse_vector.AGVWarehouseVectorEnv` (``B = num_envs``) run the
very same array operations and cannot diverge. The one exception is the lidar: a batch casts
each robot's beams only against the shelves and discs within lidar range, a single robot against
all of them; both give bit-identical distances (anything pruned could only be hit beyond the cap).

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

import math
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
_CROSS_EACH = np.stack([np.zeros_like(_CROSS), _CROSS, np.zeros_like(_CROSS)])
"""4-connectivity within each grid of a stack, none across grids."""


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


def generate_layouts(rngs: list[np.random.Generator], complex_scene: bool, size: int = 20) -> list[Layout]:
    """One procedural warehouse of ``size x size`` cells per generator of ``rngs`` (each makes the
    same draws as if its layout were generated alone).

    Simple: three double-depth shelf rows (2 m deep) near y = 3, 8, 13 (+0 or 1 m) spanning
    x in [2, size-2), each with one 2 m cross-aisle at a random position.
    Complex: single-depth shelf rows at y = 2, 5, 8, ... (2 m aisles) spanning x in [1, size-1),
    each with two cross-aisles of 1-2 m at random positions, plus three 1 m pillars in random free
    cells (which can turn aisles into dead ends).
    """
    n = len(rngs)
    grids = np.zeros((n, size, size), dtype=bool)
    x = np.arange(size)
    every = np.arange(n)[:, None]
    if not complex_scene:
        draws = [(rng.integers(0, 2, size=3), rng.integers(5, size - 6, size=3)) for rng in rngs]
        ys = np.array([3, 8, 13]) + np.array([shift for shift, _ in draws])
        gaps = np.array([gap for _, gap in draws])
        shelf = (x >= 2) & (x < size - 2) & ~((x >= gaps[..., None]) & (x < gaps[..., None] + 2))
        grids[every, ys] = shelf
        grids[every, ys + 1] = shelf
        # per row (2, y, gap, y + 2) and (gap + 2, y, size - 2, y + 2)
        base = np.array([[2, 0, 0, 2], [2, 0, size - 2, 2]])
        shift_gap = np.array([[0, 0, 1, 0], [1, 0, 0, 0]])
        rects = base + ys[..., None, None] * np.array([0, 1, 0, 1]) + gaps[..., None, None] * shift_gap
        return [Layout(grid, r) for grid, r in zip(grids, rects.reshape(n, -1, 4).astype(np.float64))]
    ys = np.arange(2, size - 1, 3)
    draws = [(rng.integers(2, size - 3, size=(len(ys), 2)), rng.integers(1, 3, size=(len(ys), 2))) for rng in rngs]
    gaps = np.array([gap for gap, _ in draws])[..., None]
    ends = gaps + np.array([width for _, width in draws])[..., None]
    shelf = (x >= 1) & (x < size - 1) & ~((x >= gaps) & (x < ends)).any(axis=2)
    grids[:, ys] = shelf
    line, x0, x1 = _runs(shelf.reshape(n * len(ys), size))
    owner, row = np.divmod(line, len(ys))
    flat = grids.reshape(n, size * size)
    pillars = np.array([rng.choice(np.flatnonzero(~cells), size=3, replace=False) for rng, cells in zip(rngs, flat)])
    flat[every, pillars] = True
    px, py = pillars.ravel() % size, pillars.ravel() // size
    # each grid's shelf runs, then its pillars
    runs = np.stack([x0, ys[row], x1, ys[row] + 1], axis=1)
    rects = np.concatenate([runs, np.stack([px, py, px + 1, py + 1], axis=1)])
    order = np.argsort(np.concatenate([owner, np.repeat(np.arange(n), 3)]), kind="stable")
    counts = np.bincount(owner, minlength=n) + 3
    per_grid = np.split(rects[order].astype(np.float64), np.cumsum(counts)[:-1])
    return [Layout(grid, r) for grid, r in zip(grids, per_grid)]


def free_lanes(grids: np.ndarray, exclude: np.ndarray | None = None) -> list[np.ndarray]:
    """Per grid of ``grids`` (B, H, W): its maximal horizontal and vertical runs of at least 4
    free cells, as segments between the first and last cell centres (K, 4), rows first, then
    columns. Runs through the grid's ``exclude`` cell ``(ix, iy)`` (B, 2) are dropped so that no
    obstacle patrols through the robot's start."""
    b, h, w = grids.shape
    n_lines = h + w
    # rows and columns of every grid as the lines of one array (padded with blocked cells), so one
    # pass finds all runs
    lines = np.zeros((b, n_lines, max(h, w)), dtype=bool)
    np.logical_not(grids, out=lines[:, :h, :w])
    np.logical_not(grids.transpose(0, 2, 1), out=lines[:, h:, :h])
    line, s, e = _runs(lines.reshape(b * n_lines, -1))
    owner, line = np.divmod(line, n_lines)
    keep = e - s >= _MIN_LANE_CELLS
    if exclude is not None:
        ex, ey = exclude[owner].T
        along = np.where(line < h, ex, ey)
        keep &= ~(((line == ey) | (line == h + ex)) & (s <= along) & (along < e))
    owner, line, s, e = owner[keep], line[keep], s[keep], e[keep]
    column = line >= h
    c = (line - h * column) + 0.5
    seg = np.stack([s + 0.5, c, e - 0.5, c], axis=1)
    seg[column] = seg[column][:, [1, 0, 3, 2]]
    return np.split(seg, np.cumsum(np.bincount(owner, minlength=b))[:-1])


def point_clearance(points: np.ndarray, rects: np.ndarray, width: float, height: float) -> np.ndarray:
    """Distance from each point (P, 2) to the nearest rectangle or the world border
    (negative inside an obstacle or outside the world)."""
    p = points[:, None, :]
    gap = np.maximum(np.maximum(rects[None, :, :2] - p, p - rects[None, :, 2:]), 0.0)
    to_rect = np.sqrt((gap * gap).sum(-1)).min(axis=1, initial=np.inf)
    inside = ((p >= rects[None, :, :2]) & (p <= rects[None, :, 2:])).all(-1).any(1)
    border = np.minimum(points, np.array([width, height]) - points).min(axis=1)
    return np.where(inside, -1.0, np.minimum(to_rect, border))


def _draw_cells(rngs: list[np.random.Generator], allowed: np.ndarray) -> np.ndarray:
    """Per row of ``allowed`` (n, C), the index of a uniformly drawn True entry: exactly the
    draw ``cells[rng.integers(len(cells))]`` with ``cells = np.flatnonzero(row)``."""
    k = [rng.integers(count) for rng, count in zip(rngs, allowed.sum(axis=1).tolist())]
    return np.argmax(np.cumsum(allowed, axis=1) > np.array(k)[:, None], axis=1)


def sample_episodes(
    rngs: list[np.random.Generator],
    scene: str,
    layout: Layout | None,
    min_goal_distance: float,
) -> list[Episode]:
    """Draw one episode from each generator of ``rngs``: the layout (procedural unless ``layout``
    is given), a start cell centre with uniform heading, a goal cell centre in the start's
    4-connected free region at least ``min_goal_distance`` away (the farthest cells if none is),
    and the moving obstacles. Each generator makes the same draws as if its episode were sampled
    alone; the geometry of all episodes is computed together (sampling episodes one by one costs
    mostly per-call overhead on tiny grids)."""
    n = len(rngs)
    if layout is None:
        layouts = generate_layouts(rngs, complex_scene=scene.startswith("complex"))
    else:
        layouts = [layout] * n
    grids = np.stack([lay.grid for lay in layouts])
    h, w = grids.shape[1:]
    labels = ndimage.label(~grids, structure=_CROSS_EACH)[0].reshape(n, h * w)
    rows = np.arange(n)
    fixed_goal = None if layout is None or layout.goal is None else layout.goal[1] * w + layout.goal[0]
    if layout is not None and layout.start is not None:
        start = np.full(n, layout.start[1] * w + layout.start[0])
        if fixed_goal is not None and labels[0, start[0]] != labels[0, fixed_goal]:
            raise ValueError(f"the layout's goal G {layout.goal} is not reachable from its start S {layout.start}")
    else:
        if fixed_goal is not None:
            candidates = labels == labels[:, fixed_goal, None]
            candidates[:, fixed_goal] = False
        else:
            sizes = np.bincount(labels.ravel())
            sizes[0] = 0
            candidates = sizes[labels] > 1
        if not candidates.any(axis=1).all():
            raise ValueError("layout needs at least two 4-connected free cells for a start and a goal")
        start = _draw_cells(rngs, candidates)
    sy, sx = np.divmod(start, w)
    theta = [float(rng.uniform(-np.pi, np.pi)) for rng in rngs]
    if fixed_goal is not None:
        gx, gy = np.full(n, layout.goal[0]), np.full(n, layout.goal[1])
    else:
        reachable = labels == labels[rows, start][:, None]
        reachable[rows, start] = False
        stuck = ~reachable.any(axis=1)
        if stuck.any():
            i = int(np.flatnonzero(stuck)[0])
            raise ValueError(f"the start cell {(int(sx[i]), int(sy[i]))} has no reachable free cell for a goal")
        cy, cx = np.divmod(np.arange(h * w), w)
        dist = np.hypot(cx - sx[:, None], cy - sy[:, None])
        pick = reachable & (dist >= min_goal_distance)
        none_far = ~pick.any(axis=1)
        if none_far.any():
            farthest = np.where(reachable, dist, -np.inf).max(axis=1, keepdims=True)
            pick[none_far] = (reachable & (dist == farthest))[none_far]
        gy, gx = np.divmod(_draw_cells(rngs, pick), w)
    lanes, speeds, phases = [np.zeros((0, 4))] * n, [np.zeros(0)] * n, [np.zeros(0)] * n
    n_dyn = N_DYNAMIC[scene]
    if n_dyn:
        cycles = [np.zeros(0)] * n
        for i, (rng, pool) in enumerate(zip(rngs, free_lanes(grids, np.stack([sx, sy], axis=1)))):
            if len(pool):
                lanes[i] = pool[rng.choice(len(pool), size=min(n_dyn, len(pool)), replace=False)]
                speeds[i] = rng.uniform(0.3, 0.6, size=len(lanes[i]))
                cycles[i] = rng.uniform(0.0, 2.0, size=len(lanes[i]))
        chosen = np.concatenate(lanes)
        lengths = np.hypot(chosen[:, 2] - chosen[:, 0], chosen[:, 3] - chosen[:, 1])
        phases = np.split(np.concatenate(cycles) * lengths, np.cumsum([len(c) for c in cycles])[:-1])
    start_poses = np.stack([sx + 0.5, sy + 0.5, theta], axis=1)
    goals = np.stack([gx + 0.5, gy + 0.5], axis=1)
    return [Episode(*args) for args in zip(layouts, start_poses, goals, lanes, speeds, phases)]


def _norm2(v: np.ndarray) -> np.ndarray:
    """Squared length over the last axis of size 2 (a reduction over such a short axis is slow)."""
    return v[..., 0] * v[..., 0] + v[..., 1] * v[..., 1]


def lane_positions(lanes: np.ndarray, speeds: np.ndarray, phases: np.ndarray, time: np.ndarray) -> np.ndarray:
    """Positions (..., K, 2) of patrolling obstacles at ``time`` (..., ) seconds (see module doc)."""
    a = lanes[..., :2]
    ab = lanes[..., 2:] - a
    length = np.sqrt(_norm2(ab))
    safe = np.where(length > 0, length, 1.0)
    u = np.mod(phases + speeds * time[..., None], 2.0 * safe)
    frac = np.minimum(u, 2.0 * safe - u) / safe
    return a + ab * frac[..., None]


# ------------------------------------------------------------------------------ batched core
_BIG = 1.0e30
_QUARTER_TURN = np.array([0.0, np.pi / 2])
_PRUNE_SLACK = 1.0e-3
"""Relative and absolute (m) slack on the lidar range when pruning boxes and discs: far above the
float32 rounding of coordinates up to ~10 km, so a pruned box could only have been hit beyond the
range, where the cap hides it anyway."""


class Workspace:
    """Reused scratch buffers, passed as ``out=`` arguments: fresh temporaries of a few hundred kB
    per step cost more in page faults (the allocator hands them back to the OS on free) than the
    arithmetic on them. A buffer only grows, so a varying number of (ray, box) pairs reuses it
    too. With ``reuse=False`` (tiny arrays, where bookkeeping costs more than allocating) every
    call returns ``None``, i.e. a fresh result array."""

    def __init__(self, reuse: bool = True) -> None:
        self.reuse = reuse
        self._buffers: dict[tuple[str, type], np.ndarray] = {}

    def __call__(self, name: str, shape: tuple[int, ...], dtype: type = np.float32) -> np.ndarray | None:
        if not self.reuse:
            return None
        size = math.prod(shape)
        buf = self._buffers.get((name, dtype))
        if buf is None or buf.size < size:
            buf = self._buffers[(name, dtype)] = np.empty(max(size, 1), dtype=dtype)
        return buf[:size].reshape(shape)


def _box_gaps(boxes: np.ndarray, xy: np.ndarray, work: Workspace) -> np.ndarray:
    """Squared distance (M, n) from each point ``xy`` (n, 2) to each of its boxes ``boxes``
    (4, M, n) (0 inside; may be a buffer of ``work``)."""
    p = xy.T[:, None, :]
    shape = (2, *boxes.shape[1:])
    below, above = work("below", shape, np.float64), work("above", shape, np.float64)
    gap = np.maximum(np.subtract(boxes[:2], p, out=below), np.subtract(p, boxes[2:], out=above), out=below)
    gap = np.maximum(gap, 0.0, out=gap)
    gap = np.multiply(gap, gap, out=gap)
    return np.add(gap[0], gap[1], out=above[0] if above is not None else None)


def _min_by_group(values: np.ndarray, counts: np.ndarray, work: Workspace) -> np.ndarray:
    """Row-wise minimum (B, N) of ``values`` (P, N) over consecutive groups of ``counts`` (B,) rows
    (empty groups get ``_BIG``). Scattering into a dense (rank, group) block and reducing over its
    leading axis is far faster than ``np.minimum.reduceat`` over many short groups."""
    n = len(counts)
    starts = np.cumsum(counts) - counts
    rank = np.arange(len(values)) - np.repeat(starts, counts)
    shape = (int(counts.max()), n, values.shape[1])
    dense = work("dense", shape, values.dtype.type)
    if dense is None:
        dense = np.empty(shape, dtype=values.dtype)
    dense.fill(_BIG)
    dense[rank, np.repeat(np.arange(n), counts)] = values
    return dense.min(axis=0)


def ray_cast(
    inv: np.ndarray,
    boxes: np.ndarray,
    work: Workspace,
    counts: np.ndarray | None = None,
    world: np.ndarray | None = None,
    discs: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None,
    disc_counts: np.ndarray | None = None,
    directions: np.ndarray | None = None,
) -> np.ndarray:
    """Distance (B, N) along each beam to the first shelf, moving disc or world border.

    ``inv`` (2, B, N) holds ``1/dx, 1/dy`` of the N unit beam directions of each of the B rays'
    origins. Boxes are float32 rows ``xmin, ymin, xmax, ymax`` minus the origin ``(x, y, x, y)``:
    for a single origin (``counts=None``, B = 1) ``boxes`` (4, P) are all its boxes, the world
    ``[0, W] x [0, H]`` first; otherwise ``boxes`` (4, P) are (origin, shelf) pairs grouped by
    origin, ``counts`` (B,) per origin, and ``world`` (4, B) the world of each origin.

    Slab method: along axis a the ray is inside a box for ``t in [min(t0, t1), max(t0, t1)]`` with
    ``t_i = rel_i / d_a``. A shelf (origin outside) is hit at ``t_near = max(0, max_a min(t0, t1))``
    iff ``t_near <= t_far = min_a max(t0, t1)``; the world (origin inside) is left at ``t_far``.
    A disc of radius r at relative centre c is hit at ``t = c.d - sqrt((c.d)^2 - |c|^2 + r^2)`` when
    the root is real and ``t >= 0`` (``discs``: arrays ``c_x, c_y, |c|^2, r`` (Q,) of (origin, disc)
    pairs grouped by origin, ``disc_counts`` (B,) per origin, ``None`` for a single origin;
    ``directions`` (2, B, N)). With discs the result is float64. ``work`` lends the scratch
    buffers.
    """
    shape = (boxes.shape[1], inv.shape[2])
    ix, iy = inv if counts is None else np.repeat(inv, counts, axis=1)
    x0 = np.multiply(boxes[0, :, None], ix, out=work("x0", shape))
    y0 = np.multiply(boxes[1, :, None], iy, out=work("y0", shape))
    x1 = np.multiply(boxes[2, :, None], ix, out=work("x1", shape))
    y1 = np.multiply(boxes[3, :, None], iy, out=work("y1", shape))
    far = np.maximum(x0, x1, out=work("far", shape))
    np.minimum(far, np.maximum(y0, y1, out=work("far_y", shape)), out=far)
    near = np.maximum(np.minimum(x0, x1, out=x0), np.minimum(y0, y1, out=y0), out=x0)
    np.maximum(near, 0.0, out=near)
    miss = np.greater(near, far, out=work("miss", shape, np.bool_))
    np.maximum(near, np.multiply(miss, inv.dtype.type(_BIG), out=y1), out=near)
    if counts is None:
        near[0] = far[0]
        dist = near.min(axis=0, keepdims=True)
    else:
        # each origin is inside its world, which therefore only counts where the beam leaves it
        exit_x = np.maximum(world[0, :, None] * inv[0], world[2, :, None] * inv[0])
        dist = np.minimum(exit_x, np.maximum(world[1, :, None] * inv[1], world[3, :, None] * inv[1]))
        if len(near):
            np.minimum(dist, _min_by_group(near, counts, work), out=dist)
    if discs is None:
        return dist
    dist = dist.astype(np.float64)
    cx, cy, c2, radius = discs
    if len(cx):
        shape = (len(cx), inv.shape[2])
        b, tmp = work("b", shape, np.float64), work("disc_tmp", shape, np.float64)
        dx, dy = directions if disc_counts is None else np.repeat(directions, disc_counts, axis=1)
        b = np.add(np.multiply(dx, cx[:, None], out=b), np.multiply(dy, cy[:, None], out=tmp), out=b)
        disc = np.subtract(np.multiply(b, b, out=tmp), (c2 - radius * radius)[:, None], out=tmp)
        missed = np.less(disc, 0.0, out=work("disc_miss", shape, np.bool_))
        root = np.subtract(b, np.sqrt(np.maximum(disc, 0.0, out=tmp), out=tmp), out=b)
        missed |= root < 0.0
        np.maximum(root, np.multiply(missed, _BIG, out=tmp), out=root)
        first = root.min(axis=0, keepdims=True) if disc_counts is None else _min_by_group(root, disc_counts, work)
        np.minimum(dist, first, out=dist)
    return dist


class WarehouseBatch:
    """State of ``n`` warehouses stepped together (the single env uses ``n = 1``).

    ``boxes`` (4, 1 + M, n): rows ``xmin, ymin, xmax, ymax``; box 0 is the world
    ``[0, W] x [0, H]``, boxes 1.. the shelves, padded with far-away empty boxes."""

    def __init__(self, n: int, n_beams: int, lidar_range: float) -> None:
        self.n = n
        self.lidar_range = lidar_range
        self._reach = lidar_range * (1.0 + _PRUNE_SLACK) + _PRUNE_SLACK
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
        self._work = Workspace(reuse=n > 1)
        self._obstacles: np.ndarray | None = None

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
        self._obstacles = None

    def obstacle_positions(self) -> np.ndarray:
        """(n, K, 2) positions of the moving obstacles now (padding lanes stay far away). Cached
        until the next ``step`` or ``load`` (collision test and lidar both need them): read only."""
        if self._obstacles is None:
            self._obstacles = lane_positions(self.lanes, self.speeds, self.phases, self.steps * DT)
        return self._obstacles

    def clearance(self) -> np.ndarray:
        """(n,) distance from the robot centre to the nearest shelf, border or moving disc
        (0 inside a shelf, negative outside the world)."""
        xy = self.pose[:, :2]
        clear = np.sqrt(_box_gaps(self.boxes[:, 1:], xy, self._work).min(axis=0))
        world, p = self.boxes[:, 0], xy.T
        clear = np.minimum(clear, np.minimum(p - world[:2], world[2:] - p).min(axis=0))
        if self.lanes.shape[1]:
            rel = self.obstacle_positions() - self.pose[:, None, :2]
            clear = np.minimum(clear, np.sqrt(_norm2(rel)).min(axis=1) - DYNAMIC_RADIUS)
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
        self._obstacles = None
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
        precision). With several robots only shelves and discs within the lidar range of each are
        cast against (anything farther could only be hit beyond the cap); a single robot casts
        against all of them, which is cheaper than selecting a few."""
        work = self._work
        shape = (2, self.n, len(self.beam_offsets))
        angles = np.add(self.pose[:, 2, None], self._offsets2, out=work("angles", shape, np.float64))
        directions = np.cos(angles, out=work("directions", shape), dtype=np.float32)
        if not directions.all():
            directions[directions == 0.0] = 1e-12
        inv = np.divide(1.0, directions, out=work("inv", shape))
        xy = self.pose[:, :2]
        centres = self.obstacle_positions() - xy[:, None, :] if self.lanes.shape[1] else None
        if self.n == 1:
            boxes = (self.boxes[:, :, 0] - self.pose[0, [0, 1, 0, 1], None]).astype(np.float32)
            if centres is None:
                return np.minimum(ray_cast(inv, boxes, work), self.lidar_range)
            centres = centres[0]
            discs = (centres[:, 0], centres[:, 1], _norm2(centres), (self.speeds[0] > 0.0) * DYNAMIC_RADIUS)
            return np.minimum(ray_cast(inv, boxes, work, discs=discs, directions=directions), self.lidar_range)
        shelves = self.boxes[:, 1:]
        m = shelves.shape[1]
        near = np.less_equal(_box_gaps(shelves, xy, work), self._reach**2, out=work("near", (m, self.n), np.bool_)).T
        robot, shelf = np.divmod(np.flatnonzero(near), m)
        counts = np.count_nonzero(near, axis=1)
        rel = np.take(shelves.reshape(4, -1), shelf * self.n + robot, axis=1, out=work("rel", (4, len(shelf)), np.float64))
        origin = self.pose[:, [0, 1, 0, 1]].T
        rel -= np.repeat(origin, counts, axis=1)
        boxes = rel.astype(np.float32)
        world = (self.boxes[:, 0] - origin).astype(np.float32)
        if centres is None:
            return np.minimum(ray_cast(inv, boxes, work, counts, world), self.lidar_range)
        c2 = _norm2(centres)
        seen = (self.speeds > 0.0) & (c2 <= (self._reach + DYNAMIC_RADIUS) ** 2)
        robot, k = np.nonzero(seen)
        discs = (centres[robot, k, 0], centres[robot, k, 1], c2[robot, k], np.full(len(k), DYNAMIC_RADIUS))
        disc_counts = np.count_nonzero(seen, axis=1)
        return np.minimum(ray_cast(inv, boxes, work, counts, world, discs, disc_counts, directions), self.lidar_range)

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
