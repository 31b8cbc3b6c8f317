"""AGVWarehouse: continuous AGV path planning in a warehouse with sparse rewards.

## Description

An automated guided vehicle (AGV) drives through a 2D warehouse of shelf rows and aisles from a
start pose to a goal, perceiving its surroundings only through a ring of lidar beams. Four
scenes follow the paper's setting: ``simple-static``, ``simple-dynamic``, ``complex-static`` and
``complex-dynamic``. Simple warehouses have three 2 m deep shelf rows with one cross-aisle each;
complex ones have six shelf rows with two narrow cross-aisles each plus three pillars that can
turn aisles into dead ends. Dynamic scenes add other AGVs/forklifts (2 simple, 4 complex), discs
of radius 0.35 m that patrol back and forth along free lanes at 0.3-0.6 m/s.

Three kinds of map (all 20 x 20 m unless given as a string):

- **fixed map** (``layout_seed=k``, the paper's protocol: one warehouse per scene): the layout, the
  start cell and the goal cell are drawn once from ``k`` (4-6 m apart, the goal hidden behind a
  shelf, see :func:`~gauntlet.envs.agv_warehouse.geometry.fixed_map`); each episode draws only the
  start heading and the moving obstacles from the reset seed. The ids ``AGVWarehouse-<Scene>-v1``
  (layout seed 0).
- **procedural** (``layout=None, layout_seed=None``): every episode is a new warehouse, start and
  goal (a generalization task, harder than the paper's). The ids ``AGVWarehouse-<Scene>-Procedural-v1``.
- **layout string** (``layout="..."``, see :mod:`gauntlet.envs.agv_warehouse.geometry`): the scene
  only decides whether there are moving obstacles.

The simulation (unicycle step, collision test, goal check, reward, lidar ray casting and the
geometry of episode sampling) runs in numba kernels (:mod:`gauntlet.envs.agv_warehouse.kernels`), the same
ones for this env and the native vector env. They are compiled with ``cache=True``: the first use
on a machine compiles them (about 10 s) and caches the machine code (``__pycache__`` next to the
module, or ``NUMBA_CACHE_DIR``); later processes load it in about a second.

## Action Space

``Box(low=-1, high=1, shape=(2,), dtype=float32)``, rescaled inside the env to the linear speed
``v = (a_0 + 1) / 2 * 1 m/s`` in [0, 1] m/s and the turn rate ``omega = a_1 * 1.5 rad/s``
(:func:`to_action` is the inverse). The box is symmetric so that a Gaussian policy centred at 0
drives at half speed instead of having half of its speeds clipped to 0. Unicycle kinematics with
``dt = 0.1`` s (explicit Euler):
``x' = x + v cos(theta) dt``, ``y' = y + v sin(theta) dt``, ``theta' = wrap(theta + omega dt)``.

## Observation Space

``Box(shape=(n_beams + 5,), dtype=float32)``:

| index | value | range |
|---|---|---|
| 0 .. n_beams-1 | lidar distance / ``lidar_range`` of beam k at angle ``theta + 2 pi k / n_beams`` | [0, 1] |
| n_beams | goal distance / world diagonal (capped at 1) | [0, 1] |
| n_beams+1, +2 | sin, cos of the goal bearing relative to the heading | [-1, 1] |
| n_beams+3 | current v / 1 m/s | [0, 1] |
| n_beams+4 | current omega / 1.5 rad/s | [-1, 1] |

Lidar distances are measured from the robot centre to the first shelf, wall or moving obstacle
(exact ray casting against rectangles and discs).

## Rewards

``reward="sparse"`` (the paper's setting): ``+1`` when the goal is reached
(distance <= 0.3 m), ``-1`` on a collision, and ``-step_cost`` on every step.
``reward="dense"`` adds progress shaping ``progress_coef * (d_{t-1} - d_t)`` where ``d`` is the
Euclidean distance to the goal in metres.

## Starting State

The robot starts at a cell centre with a uniform heading drawn from the reset seed. Fixed maps:
their start and goal cells. Procedural maps: a start cell centre and a goal cell centre in the
same 4-connected free region, at least ``min_goal_distance`` metres apart when possible, drawn
from the reset seed. Layout strings: their ``S``/``G`` cells, or cells drawn as for procedural
maps. ``reset(options={"start": (x, y, theta), "goal": (x, y)})`` overrides either. Moving
obstacles never patrol the start cell's row or column run.

## Episode End

Terminated when the robot disc (radius 0.25 m) overlaps a shelf, the world border or a moving
obstacle (collision; distance to it < 0.25 m), or reaches the goal. Truncated after
``max_steps`` steps.

``info``: ``is_success``, ``collision``, ``distance_to_goal`` (m), ``path_length`` (m driven so
far), ``steps``, ``position`` (x, y of the robot centre, m).

## Arguments

``scene``, ``layout`` (string or ``None``), ``layout_seed`` (integer in [0, 2**32 - 1] for a fixed
map, or ``None``; exclusive with ``layout``), ``n_beams=24``, ``lidar_range=5.0``,
``reward="sparse"``, ``step_cost=0.0``, ``progress_coef=1.0``, ``max_steps=1000``,
``min_goal_distance=2.0``, ``render_mode=None | "rgb_array"``.

## Version History

- v1: actions in the symmetric box ``[-1, 1]^2``, rescaled inside (v0 took ``v in [0, 1]``,
  ``omega in [-1.5, 1.5]`` directly); the scene ids play a fixed map (``layout_seed``), the
  procedural ones moved to ``-Procedural``; ``info["position"]``. Dynamics, rewards and
  observations are otherwise v0's. v0 boards are not comparable and were removed.
- v0: initial version. Moving the simulation from numpy to numba kernels kept every trajectory
  bit for bit.

## Paper

"Random Network Distillation Based Deep Reinforcement Learning for AGV Path Planning"
(arXiv 2404.12594). The paper's maps and parameters are not public; this is our formulation.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np

from gauntlet.envs.agv_warehouse import geometry as geo
from gauntlet.envs.validation import check_choice, check_int, check_range

REWARDS = ("sparse", "dense")
_PIXELS_PER_M = 20


def validate_kwargs(
    scene: str,
    layout: str | None,
    layout_seed: int | None,
    n_beams: int,
    lidar_range: float,
    reward: str,
    step_cost: float,
    progress_coef: float,
    max_steps: int,
    min_goal_distance: float,
) -> geo.Layout | None:
    """Check the constructor arguments shared by the single and the vector env; return the
    fixed layout (parsed from ``layout`` or drawn from ``layout_seed``; ``None`` for procedural
    layouts)."""
    check_choice("scene", scene, geo.SCENES)
    check_int("n_beams", n_beams, 1)
    check_range("lidar_range", lidar_range, 0.0, open_low=True, unit="metres")
    check_choice("reward", reward, REWARDS)
    check_range("step_cost", step_cost, 0.0)
    check_range("progress_coef", progress_coef, 0.0)
    check_int("max_steps", max_steps, 1)
    check_range("min_goal_distance", min_goal_distance, 0.0, unit="metres")
    if layout_seed is not None:
        if layout is not None:
            raise ValueError("layout and layout_seed are exclusive: give a layout string or a layout seed, not both")
        return geo.fixed_map(scene, check_int("layout_seed", layout_seed, 0, geo.LAYOUT_SEED_MAX))
    if layout is None:
        return None
    if not isinstance(layout, str):
        raise ValueError(f"layout must be a string of '#', '.', 'S', 'G' rows or None, got {type(layout).__name__}")
    return geo.parse_layout(layout)


def spaces(n_beams: int) -> tuple[gym.spaces.Box, gym.spaces.Box]:
    action_space = gym.spaces.Box(low=-1.0, high=1.0, shape=(2,), dtype=np.float32)
    low = np.concatenate([np.zeros(n_beams + 1), [-1.0, -1.0, 0.0, -1.0]]).astype(np.float32)
    high = np.ones(n_beams + 5, dtype=np.float32)
    return action_space, gym.spaces.Box(low=low, high=high, dtype=np.float32)


def to_action(v: Any, omega: Any) -> np.ndarray:
    """The action in ``[-1, 1]^2`` that drives at speed ``v`` (m/s) and turn rate ``omega`` (rad/s),
    float32 of shape ``(..., 2)``: the inverse of the rescaling in :func:`check_actions`."""
    a0 = 2.0 * np.asarray(v) / geo.V_MAX - 1.0
    return np.stack([a0, np.asarray(omega) / geo.OMEGA_MAX], axis=-1).astype(np.float32)


def check_actions(actions: Any, n: int | None) -> np.ndarray:
    """Validate actions in ``[-1, 1]^2`` and return the commands ``v = (a_0 + 1) / 2 * V_MAX``,
    ``omega = a_1 * OMEGA_MAX`` as float64 of shape (n or 1, 2)."""
    a = np.asarray(actions, dtype=np.float64)
    shape = (2,) if n is None else (n, 2)
    if a.shape != shape:
        raise ValueError(f"action must have shape {shape}, got {a.shape}")
    a = a.reshape(-1, 2)
    if n is None:
        # Python floats check and rescale faster than array ops on the single-env hot path; the
        # same float64 operations in the same order as below, so single and vector envs agree
        a0, a1 = float(a[0, 0]), float(a[0, 1])
        if math.isfinite(a0) and math.isfinite(a1) and abs(a0) <= 1.0 and abs(a1) <= 1.0:
            return np.array([[(a0 + 1.0) * (0.5 * geo.V_MAX), a1 * geo.OMEGA_MAX]])
    elif np.isfinite(a).all() and (np.abs(a) <= 1.0).all():
        commands = np.empty_like(a)
        commands[:, 0] = (a[:, 0] + 1.0) * (0.5 * geo.V_MAX)
        commands[:, 1] = a[:, 1] * geo.OMEGA_MAX
        return commands
    if not np.isfinite(a).all():
        raise ValueError(f"action contains NaN or inf: {actions!r}")
    bad = (np.abs(a) > 1.0).any(axis=1)
    raise ValueError(f"action out of range: both components must be in [-1, 1], got {a[bad][0].tolist()}")


def episode_start(options: dict | None, layout: geo.Layout, episode: geo.Episode) -> geo.Episode:
    """Apply ``reset(options={"start": (x, y, theta), "goal": (x, y)})`` to a sampled episode."""
    if not options:
        return episode
    unknown = set(options) - {"start", "goal"}
    if unknown:
        raise ValueError(f"unknown reset options {sorted(unknown)}; allowed: 'start', 'goal'")
    start, goal = episode.start, episode.goal
    if "start" in options:
        start = np.asarray(options["start"], dtype=np.float64)
        if start.shape != (3,) or not np.isfinite(start).all():
            raise ValueError(f"options['start'] must be finite (x, y, theta), got {options['start']!r}")
        clearance = geo.point_clearance(start[None, :2], layout.rects, layout.width, layout.height)[0]
        if clearance < geo.ROBOT_RADIUS:
            raise ValueError(
                f"options['start']={tuple(start.tolist())} is inside an obstacle or the wall: clearance "
                f"{clearance:.3f} m < robot radius {geo.ROBOT_RADIUS} m"
            )
    if "goal" in options:
        goal = np.asarray(options["goal"], dtype=np.float64)
        if goal.shape != (2,) or not np.isfinite(goal).all():
            raise ValueError(f"options['goal'] must be finite (x, y), got {options['goal']!r}")
        if geo.point_clearance(goal[None], layout.rects, layout.width, layout.height)[0] <= 0:
            raise ValueError(f"options['goal']={tuple(goal.tolist())} is inside an obstacle or outside the world")
    return geo.Episode(layout, start, goal, episode.lanes, episode.speeds, episode.phases)


class AGVWarehouseEnv(gym.Env):
    """Single AGV in a warehouse; see the module docstring."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": int(1 / geo.DT)}

    def __init__(
        self,
        scene: str = "simple-static",
        layout: str | None = None,
        layout_seed: int | None = None,
        n_beams: int = 24,
        lidar_range: float = 5.0,
        reward: str = "sparse",
        step_cost: float = 0.0,
        progress_coef: float = 1.0,
        max_steps: int = 1000,
        min_goal_distance: float = 2.0,
        render_mode: str | None = None,
    ) -> None:
        self.fixed_layout = validate_kwargs(
            scene, layout, layout_seed, n_beams, lidar_range, reward, step_cost, progress_coef, max_steps,
            min_goal_distance,
        )
        check_choice("render_mode", render_mode, (None, *self.metadata["render_modes"]))
        self.scene = scene
        self.n_beams = int(n_beams)
        self.lidar_range = float(lidar_range)
        self.reward_mode = reward
        self._dense = reward == "dense"
        self.step_cost = float(step_cost)
        self.progress_coef = float(progress_coef)
        self.max_steps = int(max_steps)
        self.min_goal_distance = float(min_goal_distance)
        self.render_mode = render_mode
        self.action_space, self.observation_space = spaces(self.n_beams)
        self.sim = geo.WarehouseBatch(1, self.n_beams, self.lidar_range)
        self.episode: geo.Episode | None = None
        self._done = True

    # ------------------------------------------------------------------ read-only views
    @property
    def layout(self) -> geo.Layout | None:
        return None if self.episode is None else self.episode.layout

    @property
    def pose(self) -> np.ndarray:
        """(x, y, theta) of the robot."""
        return self.sim.pose[0].copy()

    @property
    def goal(self) -> np.ndarray:
        return self.sim.goal[0].copy()

    def dynamic_obstacles(self) -> np.ndarray:
        """(K, 2) current centres of the moving obstacles."""
        k = len(self.episode.lanes) if self.episode is not None else 0
        return self.sim.obstacle_positions()[0, :k].copy()

    def _info(self, collided: bool = False, reached: bool = False) -> dict[str, Any]:
        return {
            "is_success": reached,
            "collision": collided,
            "distance_to_goal": float(self.sim.goal_distance[0]),
            "path_length": float(self.sim.path_length[0]),
            "steps": int(self.sim.steps[0]),
            "position": (float(self.sim.pose[0, 0]), float(self.sim.pose[0, 1])),
        }

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        episode = geo.sample_episodes([self.np_random], self.scene, self.fixed_layout, self.min_goal_distance)[0]
        self.episode = episode_start(options, episode.layout, episode)
        self.sim.load(0, self.episode)
        self._done = False
        return self.sim.observe()[0], self._info()

    def step(self, action: Any):
        if self._done:
            raise RuntimeError("step() called on a finished episode; call reset() first")
        sim = self.sim
        sim.step(check_actions(action, None), self._dense, self.step_cost, self.progress_coef)
        collided, reached = bool(sim.flags[0, 0]), bool(sim.flags[1, 0])
        terminated = collided or reached
        truncated = (not terminated) and int(sim.steps[0]) >= self.max_steps
        self._done = terminated or truncated
        return sim.observe()[0], float(sim.values[1, 0]), terminated, truncated, self._info(collided, reached)

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        return render_top_down(self.sim, 0, self.episode)


def _disc(img: np.ndarray, cx: float, cy: float, r: float, color, height: float) -> None:
    s = _PIXELS_PER_M
    ys, xs = np.ogrid[: img.shape[0], : img.shape[1]]
    mask = (xs + 0.5 - cx * s) ** 2 + (ys + 0.5 - (height - cy) * s) ** 2 <= (r * s) ** 2
    img[mask] = color


def _line(img: np.ndarray, p0, p1, color, height: float) -> None:
    s = _PIXELS_PER_M
    n = int(max(abs(p1[0] - p0[0]), abs(p1[1] - p0[1])) * s) + 2
    xs = np.linspace(p0[0], p1[0], n) * s
    ys = (height - np.linspace(p0[1], p1[1], n)) * s
    ok = (xs >= 0) & (xs < img.shape[1]) & (ys >= 0) & (ys < img.shape[0])
    img[ys[ok].astype(int), xs[ok].astype(int)] = color


def render_top_down(sim: geo.WarehouseBatch, i: int, episode: geo.Episode) -> np.ndarray:
    """Top-down RGB picture of warehouse ``i`` playing ``episode``: shelves grey, lidar beams
    light blue, goal green, robot blue with a heading line, moving obstacles orange."""
    layout, n_dynamic = episode.layout, len(episode.lanes)
    s = _PIXELS_PER_M
    h, w = layout.grid.shape
    img = np.full((h * s, w * s, 3), 245, dtype=np.uint8)
    cells = np.kron(layout.grid[::-1], np.ones((s, s), dtype=bool))
    img[cells] = (110, 110, 120)
    x, y, theta = sim.pose[i]
    ranges = sim.lidar()[i]
    for k, rng_k in enumerate(ranges):
        a = theta + sim.beam_offsets[k]
        _line(img, (x, y), (x + rng_k * math.cos(a), y + rng_k * math.sin(a)), (150, 200, 240), h)
    _disc(img, *sim.goal[i], geo.GOAL_TOLERANCE, (40, 170, 60), h)
    for cx, cy in sim.obstacle_positions()[i, :n_dynamic]:
        _disc(img, cx, cy, geo.DYNAMIC_RADIUS, (240, 140, 30), h)
    _disc(img, x, y, geo.ROBOT_RADIUS, (40, 80, 200), h)
    _line(img, (x, y), (x + 0.4 * math.cos(theta), y + 0.4 * math.sin(theta)), (255, 255, 255), h)
    return img


def episode_metrics(rewards: np.ndarray, infos: list[dict]) -> dict[str, float]:
    """Success, collision, steps to goal (NaN when the goal was not reached) and the path length
    driven (m), from one evaluation episode's step infos."""
    last = infos[-1] if infos else {}
    success = bool(last.get("is_success", False))
    return {
        "success": float(success),
        "collision": float(bool(last.get("collision", False))),
        "steps_to_goal": float(len(rewards)) if success else float("nan"),
        "path_length": float(last.get("path_length", 0.0)),
    }
