"""Classical AGVWarehouse baselines: drive straight at the goal, and A* + pure pursuit.

``StraightToGoalAgent`` reads only the observation (goal bearing). ``AStarAgent`` is a
classical planner with perfect localisation and obstacle tracking: in ``on_reset`` it takes the
layout, the goal and a handle on the unwrapped env, and in ``predict`` it reads the robot pose
and the moving obstacles' positions from it -- information the learning agents do not get.
Both compute a speed and a turn rate and return them in the env's ``[-1, 1]`` action box
(:func:`~gauntlet.envs.agv_warehouse.env.to_action`).
"""

from __future__ import annotations

import heapq
import math
from typing import Any

import gymnasium as gym
import numpy as np

from gauntlet.envs.agv_warehouse import geometry as geo
from gauntlet.envs.agv_warehouse.env import to_action


def _bearing(observation: np.ndarray, n_beams: int) -> float:
    return math.atan2(float(observation[n_beams + 1]), float(observation[n_beams + 2]))


class StraightToGoalAgent:
    """Turn towards the goal and drive: ``omega = clip(gain * bearing)``,
    ``v = V_MAX * max(cos(bearing), 0)``. Blind to obstacles."""

    def __init__(self, env: gym.Env, seed: int = 0, gain: float = 2.0) -> None:
        self.n_beams = int(env.observation_space.shape[0]) - 5
        self.gain = float(gain)

    def predict(
        self, observation: Any, state: Any = None, episode_start: Any = None, deterministic: bool = True
    ) -> tuple[np.ndarray, Any]:
        obs = np.asarray(observation, dtype=np.float64)
        rows = obs.reshape(-1, obs.shape[-1])
        bearing = np.arctan2(rows[:, self.n_beams + 1], rows[:, self.n_beams + 2])
        omega = np.clip(self.gain * bearing, -geo.OMEGA_MAX, geo.OMEGA_MAX)
        v = geo.V_MAX * np.clip(np.cos(bearing), 0.0, 1.0)
        action = to_action(v, omega)
        return (action if obs.ndim == 2 else action[0]), state


_MOVES = [(dx, dy, math.hypot(dx, dy)) for dx in (-1, 0, 1) for dy in (-1, 0, 1) if dx or dy]


def astar(
    blocked: np.ndarray, start: tuple[int, int], goal: tuple[int, int], penalty: np.ndarray | None = None
) -> list[tuple[int, int]] | None:
    """Cheapest 8-connected path on ``blocked[iy, ix]`` from ``start`` to ``goal`` (cells
    ``(ix, iy)``), no corner cutting past blocked cells. Entering a cell costs the step length
    times ``1 + penalty[iy, ix]`` (``penalty >= 0``), so the octile distance stays an admissible
    heuristic. ``None`` when the goal is unreachable."""
    ny, nx = blocked.shape
    extra = np.zeros(blocked.shape) if penalty is None else penalty

    def h(c: tuple[int, int]) -> float:
        dx, dy = abs(c[0] - goal[0]), abs(c[1] - goal[1])
        return max(dx, dy) + (math.sqrt(2) - 1) * min(dx, dy)

    g = {start: 0.0}
    parent: dict[tuple[int, int], tuple[int, int]] = {}
    frontier = [(h(start), 0.0, start)]
    while frontier:
        _, cost, cell = heapq.heappop(frontier)
        if cell == goal:
            path = [cell]
            while cell in parent:
                cell = parent[cell]
                path.append(cell)
            return path[::-1]
        if cost > g[cell]:
            continue
        x, y = cell
        for dx, dy, step in _MOVES:
            nx_, ny_ = x + dx, y + dy
            if not (0 <= nx_ < nx and 0 <= ny_ < ny) or blocked[ny_, nx_]:
                continue
            if dx and dy and (blocked[y, nx_] or blocked[ny_, x]):
                continue
            new = cost + step * (1.0 + extra[ny_, nx_])
            if new < g.get((nx_, ny_), math.inf):
                g[(nx_, ny_)] = new
                parent[(nx_, ny_)] = cell
                heapq.heappush(frontier, (new + h((nx_, ny_)), new, (nx_, ny_)))
    return None


class AStarAgent:
    """A* on an occupancy grid of the layout (``resolution`` m cells; a cell is blocked when its
    centre is closer than ``ROBOT_RADIUS + margin`` to a shelf or the wall, and entering a cell
    with clearance ``c`` costs ``1 + clearance_weight * max(0, preferred_clearance - c)`` per
    metre so that paths keep to the middle of aisles but still fit through 1 m gaps), tracked with pure
    pursuit: steer towards the first path point ``lookahead`` m away with curvature
    ``kappa = 2 sin(alpha) / lookahead`` (``alpha`` = bearing of that point), turning in place
    when ``|alpha| > turn_in_place``.

    Moving obstacles: when one comes within ``DYNAMIC_RADIUS + ROBOT_RADIUS + margin`` of the
    next ``horizon`` metres of the path, the planner replans with the cells around every moving
    obstacle blocked; without a path it waits in place.
    """

    def __init__(
        self,
        env: gym.Env,
        seed: int = 0,
        resolution: float = 0.25,
        margin: float = 0.12,
        lookahead: float = 0.6,
        turn_in_place: float = math.pi / 6,
        horizon: float = 2.5,
        preferred_clearance: float = 0.8,
        clearance_weight: float = 4.0,
    ) -> None:
        for name, value in (("resolution", resolution), ("lookahead", lookahead), ("horizon", horizon)):
            if not value > 0:
                raise ValueError(f"{name}={value!r} must be > 0")
        self.resolution = float(resolution)
        self.margin = float(margin)
        self.lookahead = float(lookahead)
        self.turn_in_place = float(turn_in_place)
        self.horizon = float(horizon)
        self.preferred_clearance = float(preferred_clearance)
        self.clearance_weight = float(clearance_weight)
        self._env: Any = None
        self.path: np.ndarray | None = None
        self.replans = 0

    # --------------------------------------------------------------------------- planning
    def _cell(self, xy: np.ndarray) -> tuple[int, int]:
        ny, nx = self._static.shape
        ix = min(max(int(xy[0] / self.resolution), 0), nx - 1)
        iy = min(max(int(xy[1] / self.resolution), 0), ny - 1)
        return ix, iy

    def _plan(self, blocked: np.ndarray) -> np.ndarray | None:
        pose = self._env.pose
        start, goal = self._cell(pose[:2]), self._cell(self._goal)
        blocked = blocked.copy()
        blocked[start[1], start[0]] = False
        blocked[goal[1], goal[0]] = False
        cells = astar(blocked, start, goal, self._penalty)
        if cells is None:
            return None
        points = (np.array(cells, dtype=np.float64) + 0.5) * self.resolution
        points[-1] = self._goal
        return points

    def on_reset(self, env: gym.Env, observation: Any, info: dict) -> None:
        self._env = env.unwrapped
        layout = self._env.layout
        self._goal = self._env.goal
        nx = int(round(layout.width / self.resolution))
        ny = int(round(layout.height / self.resolution))
        xs = (np.arange(nx) + 0.5) * self.resolution
        ys = (np.arange(ny) + 0.5) * self.resolution
        centres = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
        clearance = geo.point_clearance(centres, layout.rects, layout.width, layout.height)
        self._static = (clearance < geo.ROBOT_RADIUS + self.margin).reshape(ny, nx)
        self._penalty = self.clearance_weight * np.maximum(self.preferred_clearance - clearance, 0.0).reshape(ny, nx)
        self._centres = centres.reshape(ny, nx, 2)
        self.path = self._plan(self._static)
        self._index = 0
        self.replans = 0

    def _blocked_by_moving(self, moving: np.ndarray) -> bool:
        if self.path is None or len(moving) == 0:
            return False
        ahead = self.path[self._index :]
        along = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(ahead, axis=0).T))])
        ahead = ahead[along <= self.horizon]
        gap = np.hypot(ahead[:, None, 0] - moving[None, :, 0], ahead[:, None, 1] - moving[None, :, 1])
        return bool((gap < geo.DYNAMIC_RADIUS + geo.ROBOT_RADIUS + self.margin).any())

    def _replan_around(self, moving: np.ndarray) -> None:
        d = np.hypot(
            self._centres[..., None, 0] - moving[:, 0], self._centres[..., None, 1] - moving[:, 1]
        ).min(axis=-1)
        self.path = self._plan(self._static | (d < geo.DYNAMIC_RADIUS + geo.ROBOT_RADIUS + self.margin))
        self._index = 0
        self.replans += 1

    # --------------------------------------------------------------------------- tracking
    def predict(
        self, observation: Any, state: Any = None, episode_start: Any = None, deterministic: bool = True
    ) -> tuple[np.ndarray, Any]:
        if self._env is None:
            raise RuntimeError("AStarAgent needs on_reset(env, observation, info) after every reset")
        moving = self._env.dynamic_obstacles()
        if self.path is None or self._blocked_by_moving(moving):
            self._replan_around(moving)
        if self.path is None:
            return to_action(0.0, 0.0), state
        x, y, theta = self._env.pose
        window = self.path[self._index : self._index + 20]
        self._index += int(np.argmin(np.hypot(window[:, 0] - x, window[:, 1] - y)))
        rest = self.path[self._index :]
        far = np.flatnonzero(np.hypot(rest[:, 0] - x, rest[:, 1] - y) >= self.lookahead)
        tx, ty = rest[far[0]] if len(far) else rest[-1]
        alpha = (math.atan2(ty - y, tx - x) - theta + math.pi) % (2 * math.pi) - math.pi
        if abs(alpha) > self.turn_in_place:
            return to_action(0.0, math.copysign(geo.OMEGA_MAX, alpha)), state
        distance = max(math.hypot(tx - x, ty - y), 1e-6)
        kappa = 2.0 * math.sin(alpha) / distance
        v = geo.V_MAX
        if abs(kappa) * v > geo.OMEGA_MAX:
            v = geo.OMEGA_MAX / abs(kappa)
        omega = float(np.clip(v * kappa, -geo.OMEGA_MAX, geo.OMEGA_MAX))
        return to_action(v, omega), state
