"""NPC traffic: IDM car following and MOBIL lane changes on the scene's paths, compiled with numba.

Vehicle slots (``M`` of them, inactive ones ignored) hold a path, an arc length ``s``, a lateral
offset ``d`` and its target ``d_target`` (a lane centre), a speed ``v`` and a desired speed
``v0``; ``x, y, yaw`` are derived from them after each step. The ego is passed in as
``ego = [x, y, yaw, v, route path, s, d]``: NPCs brake for it like for any other vehicle.

Leaders. On the same path a vehicle ``j`` is ahead of ``i`` when ``s_j > s_i`` and
``|d_j - d_i| < SAME_LANE`` (Frenet, exact on curves). On another path (intersections,
oncoming lanes) ``j`` is ahead when it lies in ``i``'s heading frame at ``0 < lon < CROSS_RANGE``
and ``|lat| < SAME_LANE`` and is not oncoming (``cos(yaw_j - yaw_i) > -0.5``): NPCs brake for
a vehicle crossing in front of them (when two crossing vehicles each have the other ahead, the
lower slot goes first and an NPC always waits for the ego). At a junction an NPC also stops before its conflict zone
while a vehicle on a conflicting path (the ego included) claims the conflict: it is inside its
own zone, or moving and due at its zone before the NPC is due at its own (first come, first
served, ``Scene.conflicts``); an NPC that cannot stop comfortably any more goes on.
NPCs treat a pedestrian on or about to step onto the road ahead of them as a stopped vehicle
(IDM with leader speed 0; :func:`step_traffic_with`). NPC-NPC and NPC-pedestrian overlaps are
not resolved (only the ego's collisions are simulated).

IDM (Treiber et al. 2000): ``a = a_max (1 - (v/v0)^4 - (s*/gap)^2)``, ``s* = s0 + v T +
v dv / (2 sqrt(a_max b))``. MOBIL (Kesting et al. 2007), evaluated once per second per vehicle
on multi-lane paths: change to an adjacent lane when the new follower's deceleration stays
below ``B_SAFE`` and ``a_new - a_old + p (a_nf_new - a_nf_old) > threshold`` (``+ 0.1`` to
go left: keep right). The lateral move runs at ``LATERAL_SPEED``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

LENGTH = 4.5
WIDTH = 1.8
IDM_A, IDM_B, IDM_T, IDM_S0 = 1.5, 2.0, 1.5, 2.0
MAX_BRAKE = 8.0
SAME_LANE = 2.0
CROSS_RANGE = 30.0
B_SAFE, POLITENESS, MOBIL_THRESHOLD, KEEP_RIGHT = 4.0, 0.3, 0.2, 0.1
LATERAL_SPEED = 1.2
FAR = 1e6
# Pedestrians: square boxes of this side (m) walking at PEDESTRIAN_SPEED (m/s, a usual walking
# speed); an NPC brakes for one within PEDESTRIAN_RANGE ahead that is less than PEDESTRIAN_CLEAR
# from its side (about a second's walk at that speed).
PEDESTRIAN_SIZE, PEDESTRIAN_SPEED = 0.5, 1.4
PEDESTRIAN_RANGE, PEDESTRIAN_CLEAR = 40.0, 1.5
NO_PEDESTRIANS, NO_POSITIONS = np.zeros(0, dtype=np.bool_), np.zeros(0)

# Columns of the ego array.
EX, EY, EYAW, EV, EROUTE, ES, ED = range(7)


@njit(cache=True, inline="always")
def idm(v: float, v0: float, gap: float, v_lead: float) -> float:
    free = 1.0 - (v / max(v0, 0.1)) ** 4
    if gap >= FAR:
        return IDM_A * free
    s_star = IDM_S0 + max(0.0, v * IDM_T + v * (v - v_lead) / (2.0 * math.sqrt(IDM_A * IDM_B)))
    return IDM_A * (free - (s_star / max(gap, 0.1)) ** 2)


@njit(cache=True)
def _neighbours(i: int, lane: float, active, path, s, d, v, x, y, yaw, ego) -> tuple[float, float, float, float, int]:
    """(gap to leader, leader speed, gap to follower, follower speed, follower slot or -1; -2 is the
    ego) of slot ``i`` if it were at lateral offset ``lane``; followers only on the same path."""
    gap_f, v_f, gap_b, v_b, idx_b = FAR, 0.0, FAR, 0.0, -1
    ci, si = math.cos(yaw[i]), math.sin(yaw[i])
    n = active.shape[0]
    for j in range(-1, n):
        if j == i or (j >= 0 and not active[j]):
            continue
        if j < 0:
            pj, sj, dj, vj, xj, yj, yawj = int(ego[EROUTE]), ego[ES], ego[ED], ego[EV], ego[EX], ego[EY], ego[EYAW]
        else:
            pj, sj, dj, vj, xj, yj, yawj = path[j], s[j], d[j], v[j], x[j], y[j], yaw[j]
        if pj == path[i]:
            if abs(dj - lane) >= SAME_LANE:
                continue
            gap = sj - s[i]
            if gap >= 0.0:
                if gap - LENGTH < gap_f:
                    gap_f, v_f = gap - LENGTH, vj
            elif -gap - LENGTH < gap_b:
                gap_b, v_b, idx_b = -gap - LENGTH, vj, (j if j >= 0 else -2)
        else:
            dx, dy = xj - x[i], yj - y[i]
            lon = dx * ci + dy * si
            lat = -dx * si + dy * ci
            cos_rel = math.cos(yawj - yaw[i])
            if 0.0 < lon < CROSS_RANGE and abs(lat) < SAME_LANE and cos_rel > -0.5:
                if cos_rel < 0.5 and j >= 0 and j > i:
                    # Two crossing vehicles that each have the other ahead would wait for each
                    # other forever: the lower slot (and the ego) goes first.
                    cj, sj_ = math.cos(yawj), math.sin(yawj)
                    lon_j = -dx * cj - dy * sj_
                    lat_j = dx * sj_ - dy * cj
                    if 0.0 < lon_j < CROSS_RANGE and abs(lat_j) < SAME_LANE:
                        continue
                if lon - LENGTH < gap_f:
                    gap_f, v_f = lon - LENGTH, vj * cos_rel
    return gap_f, v_f, gap_b, v_b, idx_b


@njit(cache=True)
def _place(paths, headings, lengths, p: int, s: float, d: float, v: float, d_dot: float) -> tuple[float, float, float]:
    i = int(min(max(s, 0.0), lengths[p] - 1e-9))
    frac = s - i
    h = headings[p, i]
    x = paths[p, i, 0] + frac * (paths[p, i + 1, 0] - paths[p, i, 0]) - d * math.sin(h)
    y = paths[p, i, 1] + frac * (paths[p, i + 1, 1] - paths[p, i, 1]) + d * math.cos(h)
    return x, y, h + math.atan2(d_dot, max(v, 1.0))


@njit(cache=True)
def _yield_gap(i: int, active, path, s, v, ego, conflicts) -> float:
    """Gap to the entry of slot ``i``'s conflict zone when a vehicle on a conflicting path claims
    the conflict first and ``i`` can stop comfortably (at ``B_SAFE``) before it; ``FAR`` otherwise.
    A vehicle claims it while inside its own zone, or while moving towards its zone and due there
    before ``i`` is due at its own (first come, first served)."""
    p = path[i]
    best = FAR
    for j in range(-1, active.shape[0]):
        if j == i or (j >= 0 and not active[j]):
            continue
        q, sj, vj = (int(ego[EROUTE]), ego[ES], ego[EV]) if j < 0 else (path[j], s[j], v[j])
        start = conflicts[p, q, 0]
        if start < 0.0:
            continue
        gap = start - s[i] - LENGTH / 2 - 1.0
        if gap < v[i] * v[i] / (2.0 * B_SAFE):
            continue
        j_start, j_end = conflicts[q, p, 0] - LENGTH / 2, conflicts[q, p, 1] + LENGTH / 2
        inside = j_start <= sj <= j_end
        sooner = sj < j_start and vj > 0.5 and (j_start - sj) / vj < (start - LENGTH / 2 - s[i]) / max(v[i], 0.1)
        if inside or sooner:
            best = min(best, gap)
    return best


@njit(cache=True)
def _pedestrian_gap(i: int, x, y, yaw, ped_active, ped_x, ped_y) -> float:
    """Gap from slot ``i``'s front to the nearest pedestrian ahead within ``PEDESTRIAN_RANGE`` that
    is in its way or within ``PEDESTRIAN_CLEAR`` of it (about to step in), ``FAR`` if none."""
    best = FAR
    if ped_active.shape[0] == 0:
        # Pedestrians off: skip the trigonometry, called for every NPC at every step.
        return best
    ci, si = math.cos(yaw[i]), math.sin(yaw[i])
    for k in range(ped_active.shape[0]):
        if not ped_active[k]:
            continue
        dx, dy = ped_x[k] - x[i], ped_y[k] - y[i]
        lon = dx * ci + dy * si
        lat = -dx * si + dy * ci
        # One already beside the car (lon <= LENGTH / 2) is passed: braking cannot help any more.
        if LENGTH / 2 < lon < PEDESTRIAN_RANGE and abs(lat) < WIDTH / 2 + PEDESTRIAN_CLEAR:
            best = min(best, lon - LENGTH / 2 - PEDESTRIAN_SIZE / 2)
    return best


@njit(cache=True)
def step_traffic(paths, headings, lengths, lane_offsets, n_lanes, conflicts, active, path, s, d, d_target, v, v0,
                 timer, x, y, yaw, accel, ego, dt: float) -> None:
    """:func:`step_traffic_with` on a road without pedestrians (the env's call when they are off:
    three array arguments fewer to unbox per step)."""
    step_traffic_with(paths, headings, lengths, lane_offsets, n_lanes, conflicts, active, path, s, d, d_target, v,
                      v0, timer, x, y, yaw, accel, ego, NO_PEDESTRIANS, NO_POSITIONS, NO_POSITIONS, dt)


@njit(cache=True)
def step_traffic_with(paths, headings, lengths, lane_offsets, n_lanes, conflicts, active, path, s, d, d_target, v,
                      v0, timer, x, y, yaw, accel, ego, ped_active, ped_x, ped_y, dt: float) -> None:
    """Advance every active NPC by ``dt`` in place (accelerations from the state before the step);
    the pedestrians at ``(ped_x, ped_y)`` (active ones) are stopped obstacles for the IDM."""
    n = active.shape[0]
    for i in range(n):
        if not active[i]:
            continue
        gap_f, v_f, _, _, _ = _neighbours(i, d[i], active, path, s, d, v, x, y, yaw, ego)
        a = idm(v[i], v0[i], gap_f, v_f)
        if conflicts.shape[0] > 0:
            stop = _yield_gap(i, active, path, s, v, ego, conflicts)
            if stop < FAR:
                a = min(a, idm(v[i], v0[i], stop, 0.0))
        stop = _pedestrian_gap(i, x, y, yaw, ped_active, ped_x, ped_y)
        if stop < FAR:
            a = min(a, idm(v[i], v0[i], stop, 0.0))
        timer[i] -= dt
        p = path[i]
        if n_lanes[p] > 1 and timer[i] <= 0.0 and abs(d[i] - d_target[i]) < 0.05:
            timer[i] = 1.0
            best, best_gain = d[i], 0.0
            for k in range(n_lanes[p]):
                lane = lane_offsets[p, k]
                step = lane - d[i]
                if abs(step) < 0.1 or abs(step) > 1.5 * abs(lane_offsets[p, 1] - lane_offsets[p, 0]):
                    continue
                nf_gap, nf_v, nb_gap, nb_v, nb = _neighbours(i, lane, active, path, s, d, v, x, y, yaw, ego)
                if nf_gap < 1.0 or nb_gap < 1.0:
                    continue
                a_new = idm(v[i], v0[i], nf_gap, nf_v)
                gain = a_new - a
                if nb != -1:
                    nb_v0 = v0[nb] if nb >= 0 else nb_v
                    a_nb_new = idm(nb_v, nb_v0, nb_gap, v[i])
                    if a_nb_new < -B_SAFE:
                        continue
                    a_nb_old = idm(nb_v, nb_v0, nb_gap + LENGTH + nf_gap, nf_v) if nf_gap < FAR else idm(nb_v, nb_v0, FAR, 0.0)
                    gain += POLITENESS * (a_nb_new - a_nb_old)
                threshold = MOBIL_THRESHOLD + (KEEP_RIGHT if step > 0 else -KEEP_RIGHT)
                if gain > threshold and gain > best_gain:
                    best, best_gain = lane, gain
            d_target[i] = best
        accel[i] = min(max(a, -MAX_BRAKE), IDM_A)
    for i in range(n):
        if not active[i]:
            continue
        v[i] = max(0.0, v[i] + accel[i] * dt)
        s[i] += v[i] * dt
        move = d_target[i] - d[i]
        lateral = min(abs(move), LATERAL_SPEED * dt)
        d_dot = 0.0
        if move != 0.0:
            d[i] += math.copysign(lateral, move)
            d_dot = math.copysign(LATERAL_SPEED, move) if lateral < abs(move) else 0.0
        if s[i] >= lengths[path[i]] - 1.0:
            active[i] = False
            continue
        x[i], y[i], yaw[i] = _place(paths, headings, lengths, path[i], s[i], d[i], v[i], d_dot)


@njit(cache=True)
def place_all(paths, headings, lengths, active, path, s, d, v, x, y, yaw) -> None:
    for i in range(active.shape[0]):
        if active[i]:
            x[i], y[i], yaw[i] = _place(paths, headings, lengths, path[i], s[i], d[i], v[i], 0.0)


@njit(cache=True)
def project(paths, headings, lengths, p: int, px: float, py: float, hint: int) -> tuple[float, float, int]:
    """(s, d, segment) of the point's projection on path ``p``; searches segments near ``hint``
    (all of them if ``hint < 0``)."""
    n_seg = int(lengths[p])
    lo, hi = (0, n_seg) if hint < 0 else (max(hint - 8, 0), min(hint + 16, n_seg))
    best, best_i, best_t = 1e300, lo, 0.0
    for i in range(lo, hi):
        ax, ay = paths[p, i, 0], paths[p, i, 1]
        bx, by = paths[p, i + 1, 0] - ax, paths[p, i + 1, 1] - ay
        seg2 = bx * bx + by * by
        t = ((px - ax) * bx + (py - ay) * by) / seg2 if seg2 > 0 else 0.0
        t = min(max(t, 0.0), 1.0)
        qx, qy = ax + t * bx - px, ay + t * by - py
        dist = qx * qx + qy * qy
        if dist < best:
            best, best_i, best_t = dist, i, t
    ax, ay = paths[p, best_i, 0], paths[p, best_i, 1]
    h = headings[p, best_i]
    d = -(px - ax) * math.sin(h) + (py - ay) * math.cos(h)
    return best_i + best_t, d, best_i


@njit(cache=True)
def _separated(ax, ay, ayaw, bx, by, byaw, b_half_l, b_half_w) -> bool:
    """Separating-axis test of a vehicle's oriented rectangle at ``a`` and one of half sizes
    ``b_half_l, b_half_w`` at ``b`` (true when they do not overlap)."""
    dx, dy = bx - ax, by - ay
    for yaw_axis in (ayaw, byaw):
        for k in range(2):
            ang = yaw_axis + k * math.pi / 2
            ux, uy = math.cos(ang), math.sin(ang)
            dist = abs(dx * ux + dy * uy)
            ra = LENGTH / 2 * abs(math.cos(ayaw - ang)) + WIDTH / 2 * abs(math.sin(ayaw - ang))
            rb = b_half_l * abs(math.cos(byaw - ang)) + b_half_w * abs(math.sin(byaw - ang))
            if dist > ra + rb:
                return True
    return False


@njit(cache=True)
def ego_collision(ex: float, ey: float, eyaw: float, active, x, y, yaw) -> int:
    """Slot of an NPC whose box overlaps the ego's, or -1."""
    return box_collision(ex, ey, eyaw, active, x, y, yaw, LENGTH / 2, WIDTH / 2)


@njit(cache=True)
def box_collision(ex: float, ey: float, eyaw: float, active, x, y, yaw, half_l: float, half_w: float) -> int:
    """Slot of an active box of half sizes ``half_l, half_w`` that overlaps the ego's, or -1."""
    reach = (LENGTH / 2 + half_l) ** 2 + (WIDTH / 2 + half_w) ** 2
    for j in range(active.shape[0]):
        if not active[j]:
            continue
        if (x[j] - ex) ** 2 + (y[j] - ey) ** 2 > reach:
            continue
        if not _separated(ex, ey, eyaw, x[j], y[j], yaw[j], half_l, half_w):
            return j
    return -1


@njit(cache=True)
def time_to_collision(ex: float, ey: float, eyaw: float, ev: float, active, x, y, yaw, v, horizon: float,
                      reach: float) -> float:
    """Time until the ego closes the gap to the nearest vehicle ahead of it (in its heading frame,
    within 60 m and a lane's width) at the current speeds; ``horizon`` if none closes in. The gap
    is the centre distance less ``reach`` (half the ego's length plus the other's half length)."""
    c, s_ = math.cos(eyaw), math.sin(eyaw)
    best = horizon
    for j in range(active.shape[0]):
        if not active[j]:
            continue
        dx, dy = x[j] - ex, y[j] - ey
        lon = dx * c + dy * s_
        lat = -dx * s_ + dy * c
        if 0.0 < lon < 60.0 and abs(lat) < SAME_LANE:
            closing = ev - v[j] * math.cos(yaw[j] - eyaw)
            if closing > 0.0:
                best = min(best, max(lon - reach, 0.0) / closing)
    return best


@njit(cache=True)
def mean_speed(active, v, default: float) -> float:
    """Mean speed of the active NPCs (``default`` when there is none)."""
    total, count = 0.0, 0
    for j in range(active.shape[0]):
        if active[j]:
            total += v[j]
            count += 1
    return total / count if count else default
