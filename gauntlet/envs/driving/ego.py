"""The ego's step, compiled with numba: the kinematic bicycle model and what the env measures
after the move (collision, projection on the route, time to collision, traffic speed).

One call per step (:func:`kinematic_step`) instead of one per quantity: each compiled call
costs a few microseconds of argument unboxing, which at ~10k steps/s is a large share of a
step. Under ``physics="bullet"`` Bullet moves the ego, and the env calls :func:`controls` and
:func:`measure` around it. The arithmetic is the env's former Python, in the same order, so
trajectories are unchanged bit for bit (``tests/envs/test_driving_trajectory.py``).
"""

from __future__ import annotations

import math

from numba import njit

from gauntlet.envs.driving import traffic as tr

WHEELBASE, REAR_AXLE = 2.7, 1.35
STEER_MAX = 0.5
V_MAX = 40.0


@njit(cache=True)
def controls(v0: float, steer0: float, accel: float, steer_rate: float, dt: float
             ) -> tuple[float, float, float, float, float, float]:
    """(steer, steering rate, speed, acceleration, slip angle beta, yaw rate) after one step of
    the commanded acceleration and steering rate: steering clipped to +-``STEER_MAX``, speed to
    [0, ``V_MAX``], the rates being what the clipping left of the commands."""
    steer = min(max(steer0 + steer_rate * dt, -STEER_MAX), STEER_MAX)
    steer_rate = (steer - steer0) / dt
    v = min(max(v0 + accel * dt, 0.0), V_MAX)
    accel = (v - v0) / dt
    beta = math.atan(REAR_AXLE / WHEELBASE * math.tan(steer))
    yaw_rate = v / REAR_AXLE * math.sin(beta)
    return steer, steer_rate, v, accel, beta, yaw_rate


@njit(cache=True)
def measure(paths, headings, lengths, route: int, hint: int, active, x, y, yaw, v, ex: float, ey: float,
            eyaw: float, ev: float, ttc_horizon: float) -> tuple[float, float, int, float, float]:
    """(s, d, segment hint) of the ego on its route, its time to collision and the NPCs' mean speed."""
    s, d, hint = tr.project(paths, headings, lengths, route, ex, ey, hint)
    ttc = tr.time_to_collision(ex, ey, eyaw, ev, active, x, y, yaw, v, ttc_horizon, tr.LENGTH)
    return s, d, hint, ttc, tr.mean_speed(active, v, ev)


@njit(cache=True)
def kinematic_step(paths, headings, lengths, route: int, hint: int, active, x, y, yaw, v, ego, steer0: float,
                   accel: float, steer_rate: float, dt: float, ttc_horizon: float):
    """The bicycle model's step from ``ego`` = [x, y, yaw, v, route, s, d] and the measurements:
    (x, y, yaw, v, steer, steering rate, acceleration, NPC slot hit or -1, s, d, hint, ttc,
    NPC mean speed); ``yaw`` is not wrapped."""
    steer, steer_rate, ev, accel, beta, yaw_rate = controls(ego[tr.EV], steer0, accel, steer_rate, dt)
    ex = ego[tr.EX] + ev * math.cos(ego[tr.EYAW] + beta) * dt
    ey = ego[tr.EY] + ev * math.sin(ego[tr.EYAW] + beta) * dt
    eyaw = ego[tr.EYAW] + yaw_rate * dt
    hit = tr.ego_collision(ex, ey, eyaw, active, x, y, yaw)
    s, d, hint, ttc, npc_speed = measure(paths, headings, lengths, route, hint, active, x, y, yaw, v, ex, ey, eyaw,
                                         ev, ttc_horizon)
    return ex, ey, eyaw, ev, steer, steer_rate, accel, hit, s, d, hint, ttc, npc_speed
