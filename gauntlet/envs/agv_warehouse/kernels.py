"""Numba kernels of the AGV warehouse: one compiled implementation of the per-step physics, the
lidar and the deterministic part of episode sampling, shared by the single env (``n = 1``) and
the batched env (all robots in one call, looping over robots inside the kernel).

The kernels are compiled with ``numba.njit(cache=True)``: the first call on a machine compiles
them (a few seconds) and stores the machine code next to this file (or under
``NUMBA_CACHE_DIR``); later processes load it.

Bit-for-bit contract: every kernel repeats the floating-point operations of the numpy
formulation it replaced, in the same order and precision, so trajectories are unchanged. Two
functions stay with numpy because its SIMD versions round differently from the C library that
compiled code calls: the float32 cosine of the beam directions and the float64 ``arctan2`` of
the goal bearing. The callers evaluate them between :func:`trig_inputs` and :func:`observe`.

Array layout (``n`` robots, ``M`` rectangle slots, ``K`` lane slots, ``N`` beams):

- ``state`` (n, STATE) float64: x, y, theta, v, omega, goal x, goal y, path length, goal
  distance, world width W, world height H (columns ``X`` .. ``HEIGHT``).
- ``steps`` (n,) int64.
- ``rects`` (n, M, 4) float64 shelves ``xmin, ymin, xmax, ymax``, padded with far-away boxes.
- ``lanes`` (n, K, 6) float64 patrols ``ax, ay, bx, by, speed, phase``, padded with far-away
  lanes of speed 0 (never seen by the lidar, never the nearest obstacle).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

X, Y, THETA, V, OMEGA, GOAL_X, GOAL_Y, PATH, GOAL_DIST, WIDTH, HEIGHT = range(11)
STATE = 11

ROBOT_RADIUS = 0.25
DYNAMIC_RADIUS = 0.35
GOAL_TOLERANCE = 0.3
DT = 0.1
V_MAX = 1.0
OMEGA_MAX = 1.5
_HALF_PI = np.pi / 2
_TINY = np.float32(1e-12)
_ONE = np.float32(1.0)
_ZERO = np.float32(0.0)


# Helpers that take arrays are inlined: a call would take references on them (atomic counter
# updates) every time, which costs more than the arithmetic in these inner loops.
@njit(cache=True, inline="always")
def _lane_position(lanes: np.ndarray, i: int, k: int, time: float) -> tuple[float, float]:
    """Position of patrolling obstacle ``lanes[i, k]`` at ``time``: with
    ``u = (phase + speed t) mod 2L``, ``a + (b - a) min(u, 2L - u) / L`` (``L = 1`` for a
    degenerate lane, which then stays at a)."""
    ax, ay = lanes[i, k, 0], lanes[i, k, 1]
    abx, aby = lanes[i, k, 2] - ax, lanes[i, k, 3] - ay
    length = math.sqrt(abx * abx + aby * aby)
    safe = length if length > 0 else 1.0
    # Python's float % is numpy's np.mod (fmod, moved to the divisor's sign), bit for bit
    u = (lanes[i, k, 5] + lanes[i, k, 4] * time) % (2.0 * safe)
    frac = min(u, 2.0 * safe - u) / safe
    return ax + abx * frac, ay + aby * frac


@njit(cache=True)
def lane_positions(lanes: np.ndarray, times: np.ndarray, out: np.ndarray) -> None:
    """``out`` (n, K, 2): positions of the obstacles of ``lanes`` (n, K, 6) at ``times`` (n,) s."""
    for i in range(lanes.shape[0]):
        for k in range(lanes.shape[1]):
            out[i, k, 0], out[i, k, 1] = _lane_position(lanes, i, k, times[i])


@njit(cache=True, inline="always")
def _box_gap2(rects: np.ndarray, i: int, m: int, x: float, y: float) -> float:
    """Squared distance from (x, y) to rectangle ``rects[i, m]`` (0 inside)."""
    gx = max(max(rects[i, m, 0] - x, x - rects[i, m, 2]), 0.0)
    gy = max(max(rects[i, m, 1] - y, y - rects[i, m, 3]), 0.0)
    return gx * gx + gy * gy


@njit(cache=True, inline="always")
def _clearance(state: np.ndarray, rects: np.ndarray, obstacles: np.ndarray, i: int) -> float:
    """Distance from robot ``i``'s centre to the nearest shelf, border or moving disc (0 inside a
    shelf, negative outside the world); ``obstacles`` (n, K, 2) are the disc centres now."""
    x, y = state[i, X], state[i, Y]
    gap2 = np.inf
    for m in range(rects.shape[1]):
        gap2 = min(gap2, _box_gap2(rects, i, m, x, y))
    clear = min(math.sqrt(gap2), min(min(x, y), min(state[i, WIDTH] - x, state[i, HEIGHT] - y)))
    if obstacles.shape[1]:
        nearest = np.inf
        for k in range(obstacles.shape[1]):
            rx, ry = obstacles[i, k, 0] - x, obstacles[i, k, 1] - y
            nearest = min(nearest, math.sqrt(rx * rx + ry * ry))
        clear = min(clear, nearest - DYNAMIC_RADIUS)
    return clear


@njit(cache=True)
def clearances(state: np.ndarray, rects: np.ndarray, obstacles: np.ndarray, out: np.ndarray) -> None:
    """``out`` (n,): :func:`_clearance` of every robot."""
    for i in range(state.shape[0]):
        out[i] = _clearance(state, rects, obstacles, i)


@njit(cache=True)
def trig_inputs(state: np.ndarray, offsets: np.ndarray, angles: np.ndarray, goal_vec: np.ndarray) -> None:
    """Arguments of the numpy trigonometry between a step and :func:`observe`: ``angles`` (2, n, N)
    float32 = theta + ``offsets`` (2, N) (beam angles, and the same minus pi/2 whose cosine is the
    sine; the lidar takes float32 cosines), ``goal_vec`` (2, n) = goal - position."""
    for i in range(state.shape[0]):
        theta = state[i, THETA]
        for j in range(2):
            for b in range(offsets.shape[1]):
                angles[j, i, b] = np.float32(theta + offsets[j, b])
        goal_vec[0, i] = state[i, GOAL_X] - state[i, X]
        goal_vec[1, i] = state[i, GOAL_Y] - state[i, Y]


@njit(cache=True)
def advance(
    action: np.ndarray,
    state: np.ndarray,
    steps: np.ndarray,
    rects: np.ndarray,
    lanes: np.ndarray,
    obstacles: np.ndarray,
    flags: np.ndarray,
    values: np.ndarray,
    dense: bool,
    step_cost: float,
    progress_coef: float,
) -> None:
    """One ``DT`` step of every robot with ``action`` (n, 2) = (v, omega).

    Unicycle (explicit Euler): ``x += v cos(theta) dt; y += v sin(theta) dt;
    theta = wrap(theta + omega dt)`` to [-pi, pi); the sine is evaluated as cos(theta - pi/2).
    Writes ``flags`` (2, n) = (collided, reached): collided iff the clearance is < ROBOT_RADIUS,
    reached iff not collided and the goal distance is <= GOAL_TOLERANCE; ``values`` (2, n) =
    (progress = decrease of the goal distance, reward = reached - collided - step_cost
    [+ progress_coef * progress if ``dense``]); and ``obstacles`` at the new time."""
    for i in range(state.shape[0]):
        theta = state[i, THETA]
        v, omega = action[i, 0], action[i, 1]
        scale = v * DT
        # the numpy version took one cosine of theta - (0, pi/2): the sine is cos(theta - pi/2)
        dx = math.cos(theta - 0.0) * scale
        dy = math.cos(theta - _HALF_PI) * scale
        state[i, X] += dx
        state[i, Y] += dy
        state[i, THETA] = (theta + omega * DT + np.pi) % (2.0 * np.pi) - np.pi
        state[i, V] = v
        state[i, OMEGA] = omega
        steps[i] += 1
        state[i, PATH] += math.hypot(dx, dy)
        time = steps[i] * DT
        for k in range(lanes.shape[1]):
            obstacles[i, k, 0], obstacles[i, k, 1] = _lane_position(lanes, i, k, time)
        collided = _clearance(state, rects, obstacles, i) < ROBOT_RADIUS
        dist = math.hypot(state[i, GOAL_X] - state[i, X], state[i, GOAL_Y] - state[i, Y])
        progress = state[i, GOAL_DIST] - dist
        state[i, GOAL_DIST] = dist
        reached = dist <= GOAL_TOLERANCE and not collided
        reward = (1.0 if reached else 0.0) - (1.0 if collided else 0.0) - step_cost
        if dense:
            reward = reward + progress_coef * progress
        flags[0, i] = collided
        flags[1, i] = reached
        values[0, i] = progress
        values[1, i] = reward


@njit(cache=True)
def observe(
    state: np.ndarray,
    steps: np.ndarray,
    rects: np.ndarray,
    lanes: np.ndarray,
    obstacles: np.ndarray,
    directions: np.ndarray,
    goal_angle: np.ndarray,
    lidar_range: float,
    reach2: float,
    ranges: np.ndarray,
    obs: np.ndarray,
) -> None:
    """Observation ``obs`` (n, N + 5) float32 and capped lidar distances ``ranges`` (n, N).

    ``directions`` (2, n, N) float32 are the beams' unit vectors (numpy's float32 cosine of the
    :func:`trig_inputs` angles), ``goal_angle`` (n,) numpy's ``arctan2`` of the goal vector.

    Lidar, slab method in float32: along axis a the beam is inside a box for
    ``t in [min(t0, t1), max(t0, t1)]`` with ``t_i = rel_i / d_a``; a shelf (origin outside) is hit
    at ``t_near = max(0, max_a min(t0, t1))`` iff ``t_near <= t_far = min_a max(t0, t1)``; the
    world (origin inside) is left at ``t_far``. A disc of radius r at relative centre c is hit at
    ``t = c.d - sqrt((c.d)^2 - |c|^2 + r^2)`` (float64) when the root is real and ``t >= 0``.
    Only shelves whose squared gap is <= ``reach2`` are cast against, and only discs of moving
    lanes (speed > 0): anything else could only be hit beyond the range, where the cap hides it.
    Without any lane slot the distances stay float32 and are capped and scaled in float32.

    Other entries: goal distance / world diagonal (capped at 1), sin and cos of the goal bearing
    relative to the heading, v / V_MAX, omega / OMEGA_MAX. ``obstacles`` (n, K, 2) is refreshed."""
    n, n_beams = state.shape[0], directions.shape[2]
    n_lanes = lanes.shape[1]
    cap32 = np.float32(lidar_range)
    boxes = np.empty((rects.shape[1], 4), dtype=np.float32)
    discs = np.empty((n_lanes, 3))
    dir_x, dir_y = np.empty(n_beams, dtype=np.float32), np.empty(n_beams, dtype=np.float32)
    inv_x, inv_y = np.empty(n_beams, dtype=np.float32), np.empty(n_beams, dtype=np.float32)
    dist, dist64 = np.empty(n_beams, dtype=np.float32), np.empty(n_beams)
    for i in range(n):
        x, y, theta = state[i, X], state[i, Y], state[i, THETA]
        wx0, wy0 = np.float32(0.0 - x), np.float32(0.0 - y)
        wx1, wy1 = np.float32(state[i, WIDTH] - x), np.float32(state[i, HEIGHT] - y)
        n_boxes = 0
        for m in range(rects.shape[1]):
            if _box_gap2(rects, i, m, x, y) <= reach2:
                boxes[n_boxes, 0] = np.float32(rects[i, m, 0] - x)
                boxes[n_boxes, 1] = np.float32(rects[i, m, 1] - y)
                boxes[n_boxes, 2] = np.float32(rects[i, m, 2] - x)
                boxes[n_boxes, 3] = np.float32(rects[i, m, 3] - y)
                n_boxes += 1
        time = steps[i] * DT
        n_discs = 0
        for k in range(n_lanes):
            ox, oy = _lane_position(lanes, i, k, time)
            obstacles[i, k, 0], obstacles[i, k, 1] = ox, oy
            if lanes[i, k, 4] > 0.0:
                cx, cy = ox - x, oy - y
                discs[n_discs, 0] = cx
                discs[n_discs, 1] = cy
                discs[n_discs, 2] = (cx * cx + cy * cy) - DYNAMIC_RADIUS * DYNAMIC_RADIUS
                n_discs += 1
        # loops over the beams innermost, which the compiler vectorizes
        for b in range(n_beams):
            dx, dy = directions[0, i, b], directions[1, i, b]
            if dx == _ZERO:
                dx = _TINY
            if dy == _ZERO:
                dy = _TINY
            dir_x[b], dir_y[b] = dx, dy
            inv_x[b], inv_y[b] = _ONE / dx, _ONE / dy
            x0, x1, y0, y1 = wx0 * inv_x[b], wx1 * inv_x[b], wy0 * inv_y[b], wy1 * inv_y[b]
            dist[b] = min(max(x0, x1), max(y0, y1))
        for m in range(n_boxes):
            bx0, by0, bx1, by1 = boxes[m, 0], boxes[m, 1], boxes[m, 2], boxes[m, 3]
            for b in range(n_beams):
                x0, y0 = bx0 * inv_x[b], by0 * inv_y[b]
                x1, y1 = bx1 * inv_x[b], by1 * inv_y[b]
                far = min(max(x0, x1), max(y0, y1))
                near = max(max(min(x0, x1), min(y0, y1)), _ZERO)
                dist[b] = near if near <= far and near < dist[b] else dist[b]
        if n_lanes == 0:
            for b in range(n_beams):
                capped = min(dist[b], cap32)
                ranges[i, b] = capped
                obs[i, b] = capped / cap32
        else:
            for b in range(n_beams):
                dist64[b] = dist[b]
            for k in range(n_discs):
                cx, cy, c2r2 = discs[k, 0], discs[k, 1], discs[k, 2]
                for b in range(n_beams):
                    along = float(dir_x[b]) * cx + float(dir_y[b]) * cy
                    disc = along * along - c2r2
                    root = along - math.sqrt(max(disc, 0.0))
                    dist64[b] = root if disc >= 0.0 and root >= 0.0 and root < dist64[b] else dist64[b]
            for b in range(n_beams):
                capped64 = min(dist64[b], lidar_range)
                ranges[i, b] = capped64
                obs[i, b] = capped64 / lidar_range
        width, height = state[i, WIDTH], state[i, HEIGHT]
        obs[i, n_beams] = min(state[i, GOAL_DIST] / math.hypot(width, height), 1.0)
        bearing = goal_angle[i] - theta
        obs[i, n_beams + 1] = math.sin(bearing)
        obs[i, n_beams + 2] = math.cos(bearing)
        obs[i, n_beams + 3] = state[i, V] / V_MAX
        obs[i, n_beams + 4] = state[i, OMEGA] / OMEGA_MAX


# ---------------------------------------------------------------------------- episode sampling
# The random draws stay with the numpy Generators (in the callers, in their original order);
# these kernels do the geometry between the draws, for a batch of ``n`` warehouses at once.


@njit(cache=True)
def simple_layouts(shifts: np.ndarray, gaps: np.ndarray, grids: np.ndarray, rects: np.ndarray) -> None:
    """Three double-depth shelf rows at y = 3, 8, 13 (+ ``shifts`` (n, 3)) spanning x in
    [2, size - 2), each cut by a 2 m cross-aisle at x = ``gaps`` (n, 3): ``grids`` (n, size, size)
    (zeroed by the caller) and ``rects`` (n, 6, 4): per row (2, y, gap, y + 2), (gap + 2, y,
    size - 2, y + 2)."""
    size = grids.shape[2]
    for i in range(grids.shape[0]):
        for j in range(3):
            y, gap = 3 + 5 * j + shifts[i, j], gaps[i, j]
            for x in range(2, size - 2):
                if x < gap or x >= gap + 2:
                    grids[i, y, x] = True
                    grids[i, y + 1, x] = True
            rects[i, 2 * j, 0], rects[i, 2 * j, 1], rects[i, 2 * j, 2], rects[i, 2 * j, 3] = 2, y, gap, y + 2
            rects[i, 2 * j + 1, 0], rects[i, 2 * j + 1, 1] = gap + 2, y
            rects[i, 2 * j + 1, 2], rects[i, 2 * j + 1, 3] = size - 2, y + 2


@njit(cache=True)
def complex_shelves(
    gaps: np.ndarray, widths: np.ndarray, grids: np.ndarray, free: np.ndarray, n_free: np.ndarray
) -> None:
    """Single-depth shelf rows at y = 2, 5, 8, ... spanning x in [1, size - 1), each cut by the
    cross-aisles [gap, gap + width) of ``gaps`` and ``widths`` (n, rows, 2): ``grids`` (n, size,
    size) (zeroed by the caller), and the flat indices of the free cells in raster order ``free``
    (n, size * size), ``n_free`` (n,) of them."""
    size = grids.shape[2]
    for i in range(grids.shape[0]):
        for r in range(gaps.shape[1]):
            y = 2 + 3 * r
            for x in range(1, size - 1):
                cut = False
                for c in range(gaps.shape[2]):
                    if gaps[i, r, c] <= x < gaps[i, r, c] + widths[i, r, c]:
                        cut = True
                grids[i, y, x] = not cut
        count = 0
        for y in range(size):
            for x in range(size):
                if not grids[i, y, x]:
                    free[i, count] = y * size + x
                    count += 1
        n_free[i] = count


@njit(cache=True)
def complex_rects(grids: np.ndarray, n_rows: int, pillars: np.ndarray, rects: np.ndarray, n_rects: np.ndarray) -> None:
    """Add the ``pillars`` (n, P) (flat cell indices) to ``grids`` and list the rectangles:
    the shelf runs of rows y = 2, 5, ... (``n_rows`` of them) left to right, then the pillars in
    the given order. ``rects`` (n, M, 4) must be large enough; ``n_rects`` (n,) gets the counts."""
    size = grids.shape[2]
    for i in range(grids.shape[0]):
        count = 0
        for r in range(n_rows):
            y = 2 + 3 * r
            x = 0
            while x < size:
                if grids[i, y, x]:
                    start = x
                    while x < size and grids[i, y, x]:
                        x += 1
                    rects[i, count, 0], rects[i, count, 1], rects[i, count, 2], rects[i, count, 3] = start, y, x, y + 1
                    count += 1
                else:
                    x += 1
        for p in range(pillars.shape[1]):
            py, px = pillars[i, p] // size, pillars[i, p] % size
            grids[i, py, px] = True
            rects[i, count, 0], rects[i, count, 1], rects[i, count, 2], rects[i, count, 3] = px, py, px + 1, py + 1
            count += 1
        n_rects[i] = count


@njit(cache=True)
def label_regions(grids: np.ndarray, labels: np.ndarray, sizes: np.ndarray) -> None:
    """4-connected regions of the free cells of ``grids`` (n, H, W): ``labels`` (n, H * W) region
    number from 1 (0 = obstacle), ``sizes`` (n, H * W + 1) cells per region number."""
    n, h, w = grids.shape
    stack_y, stack_x = np.empty(h * w, dtype=np.int64), np.empty(h * w, dtype=np.int64)
    for i in range(n):
        labels[i] = 0
        sizes[i] = 0
        region = 0
        for seed_y in range(h):
            for seed_x in range(w):
                if labels[i, seed_y * w + seed_x] or grids[i, seed_y, seed_x]:
                    continue
                region += 1
                labels[i, seed_y * w + seed_x] = region
                stack_y[0], stack_x[0] = seed_y, seed_x
                top, count = 1, 0
                while top:
                    top -= 1
                    y, x = stack_y[top], stack_x[top]
                    count += 1
                    for side in range(4):
                        if side == 0:
                            ny, nx = y, x + 1
                        elif side == 1:
                            ny, nx = y, x - 1
                        elif side == 2:
                            ny, nx = y + 1, x
                        else:
                            ny, nx = y - 1, x
                        if 0 <= ny < h and 0 <= nx < w and not grids[i, ny, nx] and not labels[i, ny * w + nx]:
                            labels[i, ny * w + nx] = region
                            stack_y[top], stack_x[top] = ny, nx
                            top += 1
                sizes[i, region] = count


@njit(cache=True, inline="always")
def _is_start_candidate(labels: np.ndarray, sizes: np.ndarray, i: int, cell: int, fixed_goal: int) -> bool:
    if fixed_goal >= 0:
        return cell != fixed_goal and labels[i, cell] == labels[i, fixed_goal]
    return labels[i, cell] > 0 and sizes[i, labels[i, cell]] > 1


@njit(cache=True)
def count_starts(labels: np.ndarray, sizes: np.ndarray, fixed_goal: int, counts: np.ndarray) -> None:
    """``counts`` (n,): start candidates, i.e. free cells of a region with another cell (with a
    fixed goal cell ``fixed_goal`` >= 0: the other cells of the goal's region)."""
    for i in range(labels.shape[0]):
        count = 0
        for cell in range(labels.shape[1]):
            if _is_start_candidate(labels, sizes, i, cell, fixed_goal):
                count += 1
        counts[i] = count


@njit(cache=True, inline="always")
def _goal_distances(labels: np.ndarray, i: int, start: int, table: np.ndarray, dist: np.ndarray) -> float:
    """``dist`` (H * W,): distance of each cell centre from the start cell's, read from ``table``
    (H, W) = hypot(|dy|, |dx|) (-1 where the cell is not reachable from the start or is the
    start); returns the largest (>= 1, or -inf if no cell is reachable)."""
    w = table.shape[1]
    sy, sx = start // w, start % w
    farthest = -np.inf
    region = labels[i, start]
    # nested loops: an integer division per cell would cost more than the rest of the loop
    for y in range(table.shape[0]):
        dy = abs(y - sy)
        for x in range(w):
            cell = y * w + x
            if cell != start and labels[i, cell] == region:
                dist[cell] = table[dy, abs(x - sx)]
                farthest = max(farthest, dist[cell])
            else:
                dist[cell] = -1.0
    return farthest


@njit(cache=True)
def pick_starts(
    labels: np.ndarray, sizes: np.ndarray, fixed_goal: int, ks: np.ndarray, table: np.ndarray, min_goal_distance: float,
    starts: np.ndarray, goal_counts: np.ndarray,
) -> None:
    """``starts`` (n,): the ``ks``-th start candidate in raster order (kept where ``ks`` < 0, a
    fixed start); ``goal_counts`` (n,): goal candidates, i.e. the cells reachable from the start
    at least ``min_goal_distance`` away (the farthest ones if there are none)."""
    dist = np.empty(labels.shape[1])
    for i in range(labels.shape[0]):
        start, k = starts[i], ks[i]
        if k >= 0:
            seen = -1
            for cell in range(labels.shape[1]):
                if _is_start_candidate(labels, sizes, i, cell, fixed_goal):
                    seen += 1
                    if seen == k:
                        start = cell
                        break
        starts[i] = start
        farthest = _goal_distances(labels, i, start, table, dist)
        count, n_farthest = 0, 0
        for cell in range(labels.shape[1]):
            if dist[cell] >= min_goal_distance:
                count += 1
            if dist[cell] == farthest:
                n_farthest += 1
        goal_counts[i] = count if count else n_farthest


@njit(cache=True)
def pick_goals(
    labels: np.ndarray, starts: np.ndarray, ks: np.ndarray, table: np.ndarray, min_goal_distance: float,
    goals: np.ndarray,
) -> None:
    """``goals`` (n,): the ``ks``-th goal candidate (see :func:`pick_starts`) in raster order."""
    dist = np.empty(labels.shape[1])
    for i in range(labels.shape[0]):
        farthest = _goal_distances(labels, i, starts[i], table, dist)
        far_enough = False
        for cell in range(labels.shape[1]):
            if dist[cell] >= min_goal_distance:
                far_enough = True
                break
        seen, k = -1, ks[i]
        for cell in range(labels.shape[1]):
            if dist[cell] >= min_goal_distance if far_enough else dist[cell] == farthest:
                seen += 1
                if seen == k:
                    goals[i] = cell
                    break


@njit(cache=True)
def free_lanes(grids: np.ndarray, starts: np.ndarray, min_cells: int, pools: np.ndarray, counts: np.ndarray) -> None:
    """Patrol lanes of each grid of ``grids`` (n, H, W): its maximal horizontal and vertical runs
    of at least ``min_cells`` free cells, as segments between the first and last cell centres,
    rows (bottom up) then columns (left to right), each left to right / bottom up. Runs through
    the start cell ``starts`` (n,) (flat index) are dropped so that no obstacle patrols through
    the robot's start. ``pools`` (n, P, 4) must be large enough; ``counts`` (n,) gets the counts."""
    n, h, w = grids.shape
    for i in range(n):
        sy, sx = starts[i] // w, starts[i] % w
        count = 0
        for column in range(2):
            n_lines, length = (h, w) if column == 0 else (w, h)
            for line in range(n_lines):
                pos = 0
                while pos < length:
                    if (grids[i, pos, line] if column else grids[i, line, pos]):
                        pos += 1
                        continue
                    begin = pos
                    while pos < length and not (grids[i, pos, line] if column else grids[i, line, pos]):
                        pos += 1
                    if pos - begin < min_cells:
                        continue
                    cross, along = (sx, sy) if column else (sy, sx)
                    if line == cross and begin <= along < pos:
                        continue
                    c, first, last = line + 0.5, begin + 0.5, pos - 0.5
                    segment = pools[i, count]
                    if column:
                        segment[0], segment[1], segment[2], segment[3] = c, first, c, last
                    else:
                        segment[0], segment[1], segment[2], segment[3] = first, c, last, c
                    count += 1
        counts[i] = count


@njit(cache=True)
def load_slots(
    slots: np.ndarray, rects: np.ndarray, n_rects: np.ndarray, starts: np.ndarray, goals: np.ndarray,
    lanes: np.ndarray, speeds: np.ndarray, phases: np.ndarray, n_lanes: np.ndarray, width: float, height: float,
    far: float, state: np.ndarray, steps: np.ndarray, sim_rects: np.ndarray, sim_lanes: np.ndarray,
) -> None:
    """Put episode ``j`` of the padded arrays (see ``EpisodeBatch``) into robot slot ``slots[j]``
    of ``state``, ``steps``, ``sim_rects`` and ``sim_lanes`` (unused rows get far-away boxes and
    lanes of speed 0 at coordinate ``far``), at rest with its goal distance."""
    for j in range(slots.shape[0]):
        i = slots[j]
        for m in range(sim_rects.shape[1]):
            for c in range(4):
                sim_rects[i, m, c] = rects[j, m, c] if m < n_rects[j] else far
        for k in range(sim_lanes.shape[1]):
            used = k < n_lanes[j]
            for c in range(4):
                sim_lanes[i, k, c] = lanes[j, k, c] if used else far
            sim_lanes[i, k, 4] = speeds[j, k] if used else 0.0
            sim_lanes[i, k, 5] = phases[j, k] if used else 0.0
        state[i, X], state[i, Y], state[i, THETA] = starts[j, 0], starts[j, 1], starts[j, 2]
        state[i, V], state[i, OMEGA] = 0.0, 0.0
        state[i, GOAL_X], state[i, GOAL_Y] = goals[j, 0], goals[j, 1]
        state[i, PATH] = 0.0
        state[i, GOAL_DIST] = math.hypot(goals[j, 0] - starts[j, 0], goals[j, 1] - starts[j, 1])
        state[i, WIDTH], state[i, HEIGHT] = width, height
        steps[i] = 0
