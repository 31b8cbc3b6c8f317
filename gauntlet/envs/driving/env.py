"""CARLA-style driving with preordered objectives: safety, then efficiency, then comfort.

## Description

The ego vehicle must drive a route through traffic on a procedurally generated road: a
multi-lane ``highway`` with lane-changing traffic, an unsignalised four-way ``intersection``
(the setting of the Pr-IQN group's CARLA experiments) or a ``curvy`` rural road with oncoming
traffic, each at traffic density ``low``, ``medium`` or ``high``. Road geometry (curvature,
lane width, number of lanes, junction angles, the ego's turn), NPC positions, desired speeds
and arrivals all come from the seed (:mod:`gauntlet.envs.driving.road`). NPCs follow the
Intelligent Driver Model and change lanes by MOBIL (:mod:`gauntlet.envs.driving.traffic`).
The ego is a kinematic bicycle model (wheelbase 2.7 m, centre-of-gravity slip angle) stepped
every ``dt = 0.1`` s; with ``physics="bullet"`` (the ``driving`` extra) the ego is a rigid box
in a headless PyBullet world driven by the bicycle model's velocity command, Bullet integrates
its motion and contacts, detects collisions and casts the lidar
(:mod:`gauntlet.envs.driving.bullet`). Episodes end as CARLA routes do, and the final ``info``
holds the CARLA leaderboard's route record (:mod:`gauntlet.envs.driving.scoring`). During the
episode NPCs keep entering at the road's ends as a Poisson stream (density x mean speed per
lane). ``gym.make_vec(id, num_envs=N)`` steps N copies (:mod:`gauntlet.envs.driving.vector`).

Pedestrians (off by default, ``pedestrians`` > 0 turns them on): crosswalks on each intersection
arm just outside the junction and one across the curvy road halfway along the route; the highway
has none (a motorway has no crossings: traffic and rewards are those without pedestrians, the
kinematics observation's pedestrian block stays zero).
Pedestrians step onto each crosswalk from either sidewalk as a Poisson stream of
``pedestrians`` per minute (at reset each holds the stream's long-run share: a Poisson number,
mean rate x crossing time, at uniform positions), walk straight across at
``PEDESTRIAN_SPEED`` = 1.4 m/s as 0.5 m square boxes, and disappear past the far sidewalk (1.5 m
beyond the road edge); they do not stop for vehicles. NPCs yield: a pedestrian ahead of an NPC
on or within 1.5 m of its path is a stopped obstacle for its IDM. The time to collision of the
safety reward (and ``info["ttc"]``) counts the pedestrians ahead as well as the vehicles; hitting a
pedestrian is a collision.

The multi-objective setting is the Preordered MOMDP of "Beyond Scalar Rewards: Distributional
Reinforcement Learning with Preordered Objectives for Safe and Reliable Autonomous Driving"
(arXiv 2603.20230): safety > efficiency > comfort, ``preorder=(0, 1, 2)`` in the task's spec.

## Action Space

``action_type="discrete"`` (default): ``Discrete(9)``, ``a = 3 * i + j`` with acceleration
``(-3, 0, +3)[i]`` m/s^2 and steering ``(right, keep, left)[j]``: the steering angle changes by
``-0.3, 0, +0.3`` rad/s (held between steps, clipped to +-0.5 rad), as gym-carla's 3 x 3 grid.
``action_type="meta"``: highway-env's ``Discrete(5)`` meta-actions ``0 LANE_LEFT, 1 IDLE,
2 LANE_RIGHT, 3 FASTER, 4 SLOWER``, executed by a pure-pursuit steering and proportional speed
controller towards a target lane (a route lane; the oncoming lane on the curvy road) and a target
speed on the grid ``(0, 0.25, 0.5, 0.75, 1) x`` the speed limit. ``action_type="continuous"``:
``Box(-1, 1, (2,))`` = (acceleration / 3 m/s^2 below 0 scaled to -6, steering rate / 0.3 rad/s).
NaN, infinite, out-of-space or wrongly shaped actions raise ``ValueError``.

## Observation Space

``observation="kinematics"`` (default): ``Box(-3, 3, (18 + 7 N,), float32)``, N =
``n_vehicles_obs`` (8): CARLA-like measurements ``[speed / limit, steer / 0.5, last
acceleration / 3, lateral offset from the route lane / lane width, heading error / pi, route
progress, distance to the left road edge / 10 m, to the right edge / 10 m]``, the route's
waypoints 5, 10, 20, 30 and 40 m ahead in the ego frame (/ 40 m), and the N nearest vehicles
within 60 m ``[present, dx / 60, dy / 60, dvx / 30, dvy / 30, cos dyaw, sin dyaw]`` in the ego
frame, nearest first, zero rows when absent. ``observation="lidar"``: the first 18 entries and
``n_beams`` (72) ray distances / ``lidar_range`` (50 m) in [0, 1] (beam k at ``2 pi k / n``
counter-clockwise from straight ahead; vehicles and pedestrians, see :mod:`~gauntlet.envs.driving.lidar`).
With ``pedestrians`` > 0 the kinematics observation has a block of the 4 nearest pedestrians
(within 60 m, same 7 entries as a vehicle's, their yaw the walking direction) after the
vehicles: ``18 + 7 (N + 4)`` entries; the lidar observation keeps its size.
``observation="camera"``: ``Box(0, 255, (height, width, 3), uint8)`` chase-camera RGB from
PyBullet's TinyRenderer (the ``driving`` extra; ``camera_size`` (84, 84)).

``preference_in_obs=True`` (kinematics and lidar) appends the preference ``w`` (``weights``, or
the last ``reset(options={"weights": w})``) as the last 3 entries, so that one policy can be
conditioned on ``w`` (MO-Gymnasium practice for preference-conditioned agents).

## Rewards

A float32 vector ``[safety, efficiency, comfort]``, every entry higher-is-better:

* safety: ``-10`` on a collision (with a vehicle or a pedestrian) or leaving the road, else
  ``-0.1 max(0, 1 - TTC / 3 s)`` with TTC the time to collision with the vehicle (or pedestrian)
  ahead at current speeds (near misses cost).
* efficiency: ``10 * (route progress this step) / route length`` (completing the route earns
  10 in total) minus ``0.05 (v - limit) / limit`` when above the speed limit.
* comfort: ``-0.05 (min(|jerk| / 30 m/s^3, 1) + min(|steering rate| / 0.3 rad/s, 1))``.

``gauntlet/mo-Driving-v0`` (:class:`MODrivingEnv`) returns the vector and sets
``reward_space`` / ``reward_dim = 3``; ``gauntlet/Driving-v0`` (:class:`DrivingEnv`) returns
``w . r`` for ``weights`` (default ``(0.5, 0.4, 0.1)``). Both put the vector in
``info["reward_vector"]``.

## Starting State

The road, the ego's turn, the NPCs (Poisson spacing at ``veh_per_km`` per lane: highway 20, curvy
15, intersection 15, times the density factor 0.5 / 1 / 1.8) and their desired speeds are drawn.
The ego starts on its route lane at the route's start at 60 % of the speed limit, steering
straight; no NPC starts within 15 m of it in its lane. With ``pedestrians`` > 0 the pedestrians
on the crosswalks are drawn last (see the Description).

## Episode End

Terminated on a collision with a vehicle (``collisions_vehicle``) or a pedestrian
(``collisions_pedestrian``, CARLA's penalty factor 0.5), leaving the road
(``collisions_layout``: the road edge is the layout), leaving the route while on the road
(``route_dev``, the intersection's wrong exit), standing still for 20 s (``vehicle_blocked``),
or completing the route (success). Truncated after ``max_steps`` (default: the route at an
average 3 m/s) with the ``route_timeout`` infraction.

## Info

Every step: ``reward_vector``, ``speed``, ``route_completion`` (percent), ``collision``,
``off_road``, ``is_success``, ``distance`` (m driven), ``ttc``. At the end of an episode also
``infractions`` (the leaderboard's result keys with counts; percentages for
``outside_route_lanes`` and ``min_speed_infractions``), ``scores`` (``score_route``,
``score_penalty``, ``score_composed``), ``driving_score`` (= score_composed), ``route_length_km``,
``mean_abs_jerk`` (m/s^3).

## Arguments

``scenario`` ("highway" | "intersection" | "curvy"), ``density`` ("low" | "medium" | "high" or
a factor >= 0), ``physics`` ("kinematic" | "bullet"), ``action_type`` ("discrete" | "meta" |
"continuous"), ``observation`` ("kinematics" | "lidar" | "camera"), ``n_vehicles_obs`` (1..32),
``n_beams`` (4..720), ``lidar_range`` (5..200 m), ``camera_size`` ((width, height), each 8..512),
``max_steps`` (None or >= 1), ``turn`` (None | "left" | "straight" | "right", intersection only),
``weights`` (three non-negative numbers summing to 1), ``preference_in_obs`` (False; True or False,
not with ``observation="camera"``), ``pedestrians`` (0.0: none; the mean number of pedestrians
crossing per crosswalk per minute, in [0, 60]; only with ``physics="kinematic"`` and the
kinematics or lidar observation, otherwise ``ValueError``: the PyBullet world has no pedestrian
bodies), ``render_mode`` (None | "rgb_array"). ``reset(options={"weights": w})``
sets the preference until the next such option.

## Version History

* v0: initial version.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from gauntlet.envs.driving import ego as eg
from gauntlet.envs.driving import lidar as lidar_mod
from gauntlet.envs.driving import observation as ob
from gauntlet.envs.driving import traffic as tr
from gauntlet.envs.driving.road import BUILDERS, SCENARIOS, Scene, crosswalks
from gauntlet.envs.driving.scoring import INFRACTION_KEYS, route_scores
from gauntlet.envs.validation import check, check_choice, check_int, check_preference, check_range, show

DT = 0.1
STEER_MAX, STEER_RATE = eg.STEER_MAX, 0.3
ACCELS = (-3.0, 0.0, 3.0)
CONT_BRAKE, CONT_ACCEL = 6.0, 3.0
DENSITIES = {"low": 0.5, "medium": 1.0, "high": 1.8}
META_SPEEDS = (0.0, 0.25, 0.5, 0.75, 1.0)
JERK_SCALE = 30.0
TTC_THRESHOLD = 3.0
BLOCKED_S = 20.0
MAX_SLOTS = 64
MAX_PEDESTRIANS = 32
PEDESTRIANS_OBS = 4
N_OBJECTIVES = 3
OBS_BOUND = 3.0


def validate_weights(weights: Any, name: str = "weights") -> np.ndarray:
    """A preference vector as float64 of length 3, non-negative and summing to 1."""
    return check_preference(name, weights, ("safety", "efficiency", "comfort"))


def density_factor(density: Any) -> float:
    if isinstance(density, str):
        return DENSITIES[check_choice("density", density, tuple(DENSITIES))]
    return check_range("density", density, 0.0, 10.0, unit='a factor of the "medium" traffic, or "low", "medium", "high"')


class MODrivingEnv(gym.Env):
    """Driving with the reward vector ``[safety, efficiency, comfort]``; see the module docstring."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}
    preorder = (0, 1, 2)
    """Priority of the reward entries, most important first: safety > efficiency > comfort."""

    def __init__(
        self,
        *,
        scenario: str = "intersection",
        density: str | float = "medium",
        physics: str = "kinematic",
        action_type: str = "discrete",
        observation: str = "kinematics",
        n_vehicles_obs: int = 8,
        n_beams: int = 72,
        lidar_range: float = 50.0,
        camera_size: tuple[int, int] = (84, 84),
        max_steps: int | None = None,
        turn: str | None = None,
        weights: tuple[float, float, float] = (0.5, 0.4, 0.1),
        preference_in_obs: bool = False,
        pedestrians: float = 0.0,
        render_mode: str | None = None,
    ) -> None:
        self.scenario = check_choice("scenario", scenario, SCENARIOS)
        self.density = density_factor(density)
        self.physics = check_choice("physics", physics, ("kinematic", "bullet"))
        self.action_type = check_choice("action_type", action_type, ("discrete", "meta", "continuous"))
        self.observation = check_choice("observation", observation, ("kinematics", "lidar", "camera"))
        self.n_vehicles_obs = check_int("n_vehicles_obs", n_vehicles_obs, 1, 32)
        self.n_beams = check_int("n_beams", n_beams, 4, 720)
        self.lidar_range = check_range("lidar_range", lidar_range, 5.0, 200.0, unit="metres")
        size_ok = (isinstance(camera_size, (tuple, list)) and len(camera_size) == 2
                   and all(isinstance(c, (int, np.integer)) and not isinstance(c, bool) and 8 <= c <= 512
                           for c in camera_size))
        check("camera_size", camera_size, size_ok, "(width, height), integers in [8, 512]")
        self.camera_size = (int(camera_size[0]), int(camera_size[1]))
        self.max_steps = None if max_steps is None else check_int("max_steps", max_steps, 1)
        check_choice("turn", turn, (None, "left", "straight", "right"))
        check("turn", turn, turn is None or self.scenario == "intersection", 'None unless scenario="intersection"')
        self.turn = turn
        self.weights = validate_weights(weights)
        check("preference_in_obs", preference_in_obs, isinstance(preference_in_obs, (bool, np.bool_)), "True or False")
        check("preference_in_obs", preference_in_obs, not (preference_in_obs and self.observation == "camera"),
              'False with observation="camera" (an image has no entries to append w to)')
        self.preference_in_obs = bool(preference_in_obs)
        self.pedestrians = check_range("pedestrians", pedestrians, 0.0, 60.0,
                                       unit="mean pedestrians per crosswalk per minute, 0 for none")
        check("pedestrians", pedestrians,
              self.pedestrians == 0.0 or (self.physics == "kinematic" and self.observation != "camera"),
              '0 with physics="bullet" or observation="camera" (the PyBullet world has no pedestrian bodies)')
        check_choice("render_mode", render_mode, (None, *self.metadata["render_modes"]))
        self.render_mode = render_mode
        if self.physics == "bullet" or self.observation == "camera":
            from gauntlet.envs.driving.bullet import require_pybullet

            require_pybullet(f"Driving with physics={show(physics)}, observation={show(observation)}")

        self.reward_dim = N_OBJECTIVES
        self.reward_space = spaces.Box(-11.0, 10.0, shape=(N_OBJECTIVES,), dtype=np.float32)
        if self.action_type == "discrete":
            self.action_space = spaces.Discrete(9)
        elif self.action_type == "meta":
            self.action_space = spaces.Discrete(5)
        else:
            self.action_space = spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)
        if self.observation == "camera":
            w, h = self.camera_size
            self.observation_space = spaces.Box(0, 255, shape=(h, w, 3), dtype=np.uint8)
        else:
            tail = ob.VEHICLE_FEATURES * self.n_vehicles_obs if self.observation == "kinematics" else self.n_beams
            self._pedestrians_start = ob.ROUTE_FEATURES + tail
            if self.observation == "kinematics" and self.pedestrians > 0:
                tail += ob.VEHICLE_FEATURES * PEDESTRIANS_OBS
            self._tail_end = ob.ROUTE_FEATURES + tail
            dim = self._tail_end + (N_OBJECTIVES if self.preference_in_obs else 0)
            self._obs_buffer = np.zeros(dim)
            self.observation_space = spaces.Box(-OBS_BOUND, OBS_BOUND, shape=(dim,), dtype=np.float32)

        m = MAX_SLOTS
        self.active = np.zeros(m, dtype=np.bool_)
        self.path = np.zeros(m, dtype=np.int64)
        self.s, self.d, self.d_target = np.zeros(m), np.zeros(m), np.zeros(m)
        self.v, self.v0, self.timer, self.accel = np.zeros(m), np.zeros(m), np.zeros(m), np.zeros(m)
        self.x, self.y, self.yaw = np.zeros(m), np.zeros(m), np.zeros(m)
        # Zero-length pedestrian arrays when they are off: the compiled loops over them cost nothing.
        m = MAX_PEDESTRIANS if self.pedestrians > 0 else 0
        self.ped_active = np.zeros(m, dtype=np.bool_)
        self.ped_x, self.ped_y, self.ped_yaw, self.ped_v = np.zeros(m), np.zeros(m), np.zeros(m), np.zeros(m)
        self.ped_x0, self.ped_y0, self.ped_ux, self.ped_uy = np.zeros(m), np.zeros(m), np.zeros(m), np.zeros(m)
        self.ped_walked, self.ped_length = np.zeros(m), np.zeros(m)
        self.crosswalks = np.zeros((0, 5))
        self.ego = np.zeros(7)
        self.scene: Scene | None = None
        self.world = None
        self._beams = np.zeros(self.n_beams)
        self._needs_reset = True

    # ------------------------------------------------------------------ reset
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if options and "weights" in options:
            self.weights = validate_weights(options["weights"], "options['weights']")
        rng = self.np_random
        builder = BUILDERS[self.scenario]
        scene = builder(rng, self.density, self.turn) if self.scenario == "intersection" else builder(rng, self.density)
        self.scene = scene
        n_lanes = np.array([len(o) for o in scene.lane_offsets], dtype=np.int64)
        self._lane_offsets = np.zeros((len(n_lanes), int(n_lanes.max())))
        for k, o in enumerate(scene.lane_offsets):
            self._lane_offsets[k, : len(o)] = o
        self._n_lanes = n_lanes
        self.active[:] = False
        self.limit = scene.speed_limit
        x, y, yaw = scene.point(scene.route, scene.route_start, scene.route_lane)
        self.ego[:] = (x, y, yaw, 0.6 * self.limit, scene.route, scene.route_start, scene.route_lane)
        self.steer, self.last_accel, self.last_jerk, self.last_steer_rate = 0.0, 0.0, 0.0, 0.0
        self._hint = int(scene.route_start)
        self._p_arrival = scene.veh_per_km / 1000.0 * 0.5 * (scene.npc_speed[0] + scene.npc_speed[1]) * DT
        self._entries = [(source, float(lane)) for source in scene.sources for lane in scene.lane_offsets[source[0]]]
        self._populate(rng)
        self.ped_active[:] = False
        if self.pedestrians > 0:
            self.crosswalks = crosswalks(scene)
            self._p_pedestrian = self.pedestrians / 60.0 * DT
            self._populate_pedestrians(rng)
        tr.place_all(scene.paths, scene.headings, scene.lengths, self.active, self.path, self.s, self.d, self.v,
                     self.x, self.y, self.yaw)
        self._meta_lane, self._meta_speed = self._meta_start() if self.action_type == "meta" else (0, 0)
        self.t = 0
        self._limit_steps = self.max_steps or int(math.ceil(scene.route_length / 3.0 / DT))
        self.distance, self.outside_lanes_m, self.stopped_s = 0.0, 0.0, 0.0
        self.ego_speed_sum, self.npc_speed_sum, self.abs_jerk_sum = 0.0, 0.0, 0.0
        self.events: dict[str, Any] = {}
        self._ttc = TTC_THRESHOLD
        self._last_reward = np.zeros(N_OBJECTIVES, dtype=np.float32)
        self._success = False
        if self.physics == "bullet" or self.observation == "camera":
            self._build_world()
        self._needs_reset = False
        return self._observe(), self._info(done=False)

    def _populate(self, rng: np.random.Generator) -> None:
        """NPCs along each source's lanes at Poisson spacing (at least a car length + 8 m), none
        within 15 m of the ego in its lane or 12 m of it anywhere; slots fill in order."""
        scene = self.scene
        if scene.veh_per_km <= 0:
            return
        mean_gap = 1000.0 / scene.veh_per_km
        min_gap = tr.LENGTH + 8.0
        ex, ey = self.ego[tr.EX], self.ego[tr.EY]
        drawn = []
        for source in scene.sources:
            span = scene.populate_span or float(scene.lengths[source[0]]) - 5.0
            for lane in scene.lane_offsets[source[0]]:
                n_max = int(span // min_gap) + 1
                first = rng.exponential(mean_gap) * rng.random()
                s = first + np.concatenate([[0.0], np.cumsum(np.maximum(min_gap, rng.exponential(mean_gap, n_max - 1)))])
                s = s[s < span]
                paths = np.asarray(source)[rng.integers(len(source), size=len(s))]
                v0 = rng.uniform(*scene.npc_speed, size=len(s))
                v = v0 * rng.uniform(0.85, 1.0, size=len(s))
                drawn.append((paths, s, np.full(len(s), lane), v0, v, rng.random(len(s))))
        # The draws above are per lane (their sizes depend on earlier draws); the rest at once,
        # filling the free slots in the order of the lanes.
        paths, s, lane, v0, v, timer = (np.concatenate(column) for column in zip(*drawn))
        x, y = scene.points(paths, s, lane)
        near = ((paths == scene.route) & (np.abs(lane - scene.route_lane) < 1.0) & (np.abs(s - scene.route_start) < 15.0)
                | ((x - ex) ** 2 + (y - ey) ** 2 < 12.0**2))
        keep = np.flatnonzero(~near)
        slots = np.flatnonzero(~self.active)[: len(keep)]
        keep = keep[: len(slots)]
        self.active[slots], self.path[slots], self.s[slots] = True, paths[keep], s[keep]
        self.d[slots] = self.d_target[slots] = lane[keep]
        self.v[slots], self.v0[slots], self.timer[slots], self.accel[slots] = v[keep], v0[keep], timer[keep], 0.0

    def _spawn(self, rng: np.random.Generator, p: int, s: float, lane: float) -> bool:
        free = np.flatnonzero(~self.active)
        if len(free) == 0:
            return False
        k = free[0]
        v0 = rng.uniform(*self.scene.npc_speed)
        self.active[k], self.path[k], self.s[k], self.d[k], self.d_target[k] = True, p, s, lane, lane
        self.v[k], self.v0[k], self.timer[k], self.accel[k] = v0 * rng.uniform(0.85, 1.0), v0, rng.random(), 0.0
        self.x[k], self.y[k], self.yaw[k] = self.scene.point(p, s, lane)
        return True

    def _arrivals(self, rng: np.random.Generator) -> None:
        """NPCs enter at the sources as a Poisson stream of rate density x speed per lane; an
        arrival is dropped when its entry point is occupied."""
        scene, p_arrival = self.scene, self._p_arrival
        for source, lane in self._entries:
            if rng.random() >= p_arrival:
                continue
            p = int(source[rng.integers(len(source))])
            x, y, _ = scene.point(p, 0.0, lane)
            gaps = (self.x[self.active] - x) ** 2 + (self.y[self.active] - y) ** 2
            ego_gap = (self.ego[tr.EX] - x) ** 2 + (self.ego[tr.EY] - y) ** 2
            if (gaps.size == 0 or gaps.min() > 15.0**2) and ego_gap > 15.0**2:
                self._spawn(rng, p, 0.0, lane)

    def place_pedestrian(self, crosswalk: int, walked: float = 0.0, forward: bool = True,
                         speed: float = tr.PEDESTRIAN_SPEED) -> int:
        """Put a pedestrian ``walked`` metres onto ``crosswalk`` (from its start, or from its end when
        not ``forward``), walking across at ``speed``; its slot, or -1 when all are taken."""
        free = np.flatnonzero(~self.ped_active)
        if len(free) == 0:
            return -1
        k = int(free[0])
        x0, y0, ux, uy, length = self.crosswalks[crosswalk]
        if not forward:
            x0, y0, ux, uy = x0 + ux * length, y0 + uy * length, -ux, -uy
        self.ped_active[k], self.ped_v[k], self.ped_walked[k], self.ped_length[k] = True, speed, walked, length
        self.ped_x0[k], self.ped_y0[k], self.ped_ux[k], self.ped_uy[k] = x0, y0, ux, uy
        self.ped_x[k], self.ped_y[k], self.ped_yaw[k] = x0 + ux * walked, y0 + uy * walked, math.atan2(uy, ux)
        return k

    def _populate_pedestrians(self, rng: np.random.Generator) -> None:
        """The crossings as the arrival stream leaves them in the long run: on each, a Poisson
        number of pedestrians (mean rate x crossing time) at uniform positions and directions."""
        lengths = self.crosswalks[:, 4]
        counts = rng.poisson(self.pedestrians / 60.0 * lengths / tr.PEDESTRIAN_SPEED)
        for c in np.flatnonzero(counts):
            for walked, forward in zip(rng.uniform(0.0, lengths[c], counts[c]), rng.random(counts[c]) < 0.5):
                self.place_pedestrian(int(c), float(walked), bool(forward))

    def _walk(self, rng: np.random.Generator) -> None:
        """Pedestrians walk on and leave past the far sidewalk; new ones step onto each crosswalk as
        a Poisson stream of rate ``pedestrians`` per minute, from either side."""
        self.ped_walked += self.ped_v * DT
        self.ped_active &= self.ped_walked < self.ped_length
        self.ped_x[:] = self.ped_x0 + self.ped_ux * self.ped_walked
        self.ped_y[:] = self.ped_y0 + self.ped_uy * self.ped_walked
        for c in np.flatnonzero(rng.random(len(self.crosswalks)) < self._p_pedestrian):
            self.place_pedestrian(int(c), forward=bool(rng.random() < 0.5))

    # ------------------------------------------------------------------ step
    def step(self, action: Any):
        if self._needs_reset:
            raise gym.error.ResetNeeded("call reset() before step() (the episode has ended or never started)")
        accel, steer_rate = self._controls(action)
        scene, ego = self.scene, self.ego
        traffic = (scene.paths, scene.headings, scene.lengths, self._lane_offsets, self._n_lanes, scene.conflicts,
                   self.active, self.path, self.s, self.d, self.d_target, self.v, self.v0, self.timer, self.x, self.y,
                   self.yaw, self.accel, ego)
        if self.pedestrians > 0:
            tr.step_traffic_with(*traffic, self.ped_active, self.ped_x, self.ped_y, DT)
        else:
            tr.step_traffic(*traffic, DT)
        self._arrivals(self.np_random)
        if self.pedestrians > 0:
            self._walk(self.np_random)
        old_s, old_x, old_y = ego[tr.ES], ego[tr.EX], ego[tr.EY]
        if self.physics == "bullet":
            steer, steer_rate, v, accel, beta, yaw_rate = eg.controls(ego[tr.EV], self.steer, accel, steer_rate, DT)
            self.world.place_npcs(self.active, self.x, self.y, self.yaw)
            x, y, yaw, v = self.world.drive_ego(v, beta, yaw_rate)
            hit = self.world.collision()
            s, d, self._hint, self._ttc, npc_speed = eg.measure(
                scene.paths, scene.headings, scene.lengths, scene.route, self._hint, self.active, self.x, self.y,
                self.yaw, self.v, x, y, yaw, v, TTC_THRESHOLD)
        else:
            x, y, yaw, v, steer, steer_rate, accel, hit, s, d, self._hint, self._ttc, npc_speed = eg.kinematic_step(
                scene.paths, scene.headings, scene.lengths, scene.route, self._hint, self.active, self.x, self.y,
                self.yaw, self.v, ego, self.steer, accel, steer_rate, DT, TTC_THRESHOLD)
        ego[:] = (x, y, math.remainder(yaw, 2 * math.pi), v, scene.route, s, d)
        hit_pedestrian = self.pedestrians > 0 and self._pedestrian_contact(x, y, yaw, v)

        jerk = (accel - self.last_accel) / DT
        self.steer, self.last_accel, self.last_jerk, self.last_steer_rate = steer, accel, jerk, steer_rate
        self.t += 1
        moved = math.hypot(x - old_x, y - old_y)
        self.distance += moved
        self.abs_jerk_sum += abs(jerk)
        self.ego_speed_sum += v
        self.npc_speed_sum += npc_speed
        self.stopped_s = self.stopped_s + DT if v < 0.1 else 0.0

        on_road = scene.on_road(x, y, d, s)
        lane_offset = d - scene.route_lane
        # Outside the route's lanes: over the centre line (or a highway's outer lane edges).
        outside = lane_offset > scene.lane_width / 2 if scene.name != "highway" else not on_road
        if outside:
            self.outside_lanes_m += moved
        in_corridor = scene.right_edge - 0.5 <= d <= scene.left_edge + 0.5

        collision, off_road = hit >= 0 or hit_pedestrian, not on_road
        if collision:
            if hit >= 0:
                self.events["collisions_vehicle"] = 1
            if hit_pedestrian:
                self.events["collisions_pedestrian"] = 1
        elif off_road:
            self.events["collisions_layout"] = 1
        elif scene.junction is not None and not in_corridor:
            self.events["route_dev"] = 1
        elif self.stopped_s >= BLOCKED_S:
            self.events["vehicle_blocked"] = 1
        success = not (collision or off_road) and s >= scene.route_end
        terminated = bool(collision or off_road or success or self.events)
        truncated = bool(not terminated and self.t >= self._limit_steps)
        if truncated:
            self.events["route_timeout"] = 1

        progress = (min(s, scene.route_end) - min(max(old_s, scene.route_start), scene.route_end)) / scene.route_length
        safety = -10.0 if (collision or off_road) else -0.1 * max(0.0, 1.0 - self._ttc / TTC_THRESHOLD)
        efficiency = 10.0 * progress - 0.05 * max(0.0, v - self.limit) / self.limit
        comfort = -0.05 * (min(abs(jerk) / JERK_SCALE, 1.0) + min(abs(steer_rate) / STEER_RATE, 1.0))
        reward = np.array([safety, efficiency, comfort], dtype=np.float32)
        self._last_reward = reward
        self._success = success
        self._needs_reset = terminated or truncated
        info = self._info(done=terminated or truncated, collision=collision, off_road=off_road)
        return self._observe(), self._reward(reward), terminated, truncated, info

    def _pedestrian_contact(self, x: float, y: float, yaw: float, v: float) -> bool:
        """Whether the ego at (x, y, yaw) hits a pedestrian; lowers the time to collision to the
        nearest pedestrian ahead, so that near misses with them cost safety as with vehicles."""
        half = tr.PEDESTRIAN_SIZE / 2
        self._ttc = tr.time_to_collision(x, y, yaw, v, self.ped_active, self.ped_x, self.ped_y, self.ped_yaw,
                                         self.ped_v, self._ttc, tr.LENGTH / 2 + half)
        return tr.box_collision(x, y, yaw, self.ped_active, self.ped_x, self.ped_y, self.ped_yaw, half, half) >= 0

    def _controls(self, action: Any) -> tuple[float, float]:
        """(acceleration m/s^2, steering rate rad/s) from a checked action."""
        if self.action_type == "continuous":
            arr = np.asarray(action, dtype=np.float64) if not isinstance(action, str) else np.array([np.nan])
            if arr.shape != (2,) or not np.all(np.isfinite(arr)) or np.any(np.abs(arr) > 1.0 + 1e-6):
                raise ValueError(f"action={show(action)} is invalid; allowed: 2 finite numbers in [-1, 1] "
                                 "(acceleration, steering rate)")
            a = float(arr[0]) * (CONT_BRAKE if arr[0] < 0 else CONT_ACCEL)
            return a, float(arr[1]) * STEER_RATE
        a = self._discrete(action)
        if self.action_type == "discrete":
            return ACCELS[a // 3], (-STEER_RATE, 0.0, STEER_RATE)[a % 3]
        return self._meta(a)

    def _discrete(self, action: Any) -> int:
        if isinstance(action, (int, np.integer)) and not isinstance(action, bool) and 0 <= action < self.action_space.n:
            return int(action)
        arr = np.asarray(action) if not isinstance(action, str) else np.array(np.nan)
        ok = arr.shape in ((), (1,)) and np.issubdtype(arr.dtype, np.number) and np.isfinite(arr).all()
        value = arr.reshape(-1)[0] if ok else None
        if not ok or float(value) != int(value) or not 0 <= int(value) < self.action_space.n:
            raise ValueError(f"action={show(action)} is invalid; allowed: an integer in [0, {self.action_space.n - 1}]")
        return int(value)

    # ------------------------------------------------------------------ meta-actions
    def _meta_lanes(self) -> np.ndarray:
        scene = self.scene
        if scene.name == "highway":
            return scene.lane_offsets[0]
        if scene.name == "curvy":
            return np.array([0.0, scene.lane_width])
        return np.zeros(1)

    def _meta_start(self) -> tuple[int, int]:
        lanes = self._meta_lanes()
        lane = int(np.argmin(np.abs(lanes - self.scene.route_lane)))
        speed = int(np.argmin(np.abs(np.array(META_SPEEDS) * self.limit - self.ego[tr.EV])))
        return lane, speed

    def _meta(self, a: int) -> tuple[float, float]:
        """highway-env's meta-actions: lanes counted from the right, so LANE_LEFT = +1."""
        lanes = self._meta_lanes()
        if a == 0:
            self._meta_lane = min(self._meta_lane + 1, len(lanes) - 1)
        elif a == 2:
            self._meta_lane = max(self._meta_lane - 1, 0)
        elif a == 3:
            self._meta_speed = min(self._meta_speed + 1, len(META_SPEEDS) - 1)
        elif a == 4:
            self._meta_speed = max(self._meta_speed - 1, 0)
        target_v = META_SPEEDS[self._meta_speed] * self.limit
        accel = min(max(target_v - self.ego[tr.EV], -CONT_BRAKE), CONT_ACCEL)
        steer = self.pursuit_steer(float(lanes[self._meta_lane]))
        rate = min(max((steer - self.steer) / DT, -4 * STEER_RATE), 4 * STEER_RATE)
        return accel, rate

    def pursuit_steer(self, lane: float) -> float:
        """Pure-pursuit steering angle towards offset ``lane`` of the route (route frame), with a
        look-ahead of 6 m + 0.4 s of travel; used by the meta-actions and rule-based baselines."""
        ego, scene = self.ego, self.scene
        ahead = 6.0 + 0.4 * ego[tr.EV]
        tx, ty, _ = scene.point(scene.route, min(ego[tr.ES] + ahead, scene.lengths[scene.route]), lane)
        dx, dy = tx - ego[tr.EX], ty - ego[tr.EY]
        c, s = math.cos(ego[tr.EYAW]), math.sin(ego[tr.EYAW])
        lx, ly = dx * c + dy * s, -dx * s + dy * c
        curvature = 2.0 * ly / max(lx * lx + ly * ly, 1e-6)
        return min(max(math.atan(eg.WHEELBASE * curvature), -STEER_MAX), STEER_MAX)

    # ------------------------------------------------------------------ observation
    def lidar(self) -> np.ndarray:
        """The current lidar distances (m), analytic or through PyBullet under ``physics="bullet"``."""
        ego = self.ego
        if self.physics == "bullet":
            self.world.place_npcs(self.active, self.x, self.y, self.yaw)
            return self.world.lidar(ego[tr.EX], ego[tr.EY], ego[tr.EYAW], self.n_beams, self.lidar_range)
        lidar_mod.cast(ego[tr.EX], ego[tr.EY], ego[tr.EYAW], self.n_beams, self.lidar_range, self.active, self.x,
                       self.y, self.yaw, tr.LENGTH / 2, tr.WIDTH / 2, self._beams)
        if self.pedestrians > 0:
            half = tr.PEDESTRIAN_SIZE / 2
            lidar_mod.add_boxes(ego[tr.EX], ego[tr.EY], ego[tr.EYAW], self.n_beams, self.lidar_range, self.ped_active,
                                self.ped_x, self.ped_y, self.ped_yaw, half, half, self._beams)
        return self._beams.copy()

    def _observe(self) -> np.ndarray:
        if self.observation == "camera":
            self.world.place_npcs(self.active, self.x, self.y, self.yaw)
            self.world.place_ego(self.ego[tr.EX], self.ego[tr.EY], self.ego[tr.EYAW])
            return self.world.camera(self.ego[tr.EX], self.ego[tr.EY], self.ego[tr.EYAW], *self.camera_size)
        scene, buf = self.scene, self._obs_buffer
        if self.observation == "kinematics":
            ob.kinematics(scene.paths, scene.headings, scene.lengths, scene.route, scene.route_lane, scene.route_start,
                          scene.route_end, scene.lane_width, scene.left_edge, scene.right_edge, self.ego, self.limit,
                          self.steer, STEER_MAX, self.last_accel, ob.WAYPOINTS, self.active, self.x, self.y,
                          self.yaw, self.v, self.n_vehicles_obs, OBS_BOUND, buf)
            if self.pedestrians > 0:
                block = buf[self._pedestrians_start:self._tail_end]
                ob.vehicle_features(self.ped_active, self.ped_x, self.ped_y, self.ped_yaw, self.ped_v, self.ego,
                                    PEDESTRIANS_OBS, block)
                np.clip(block, -OBS_BOUND, OBS_BOUND, out=block)
        else:
            ob.route_features(scene.paths, scene.headings, scene.lengths, scene.route, scene.route_lane,
                              scene.route_start, scene.route_end, scene.lane_width, scene.left_edge, scene.right_edge,
                              self.ego, self.limit, self.steer, STEER_MAX, self.last_accel, ob.WAYPOINTS, buf)
            buf[ob.ROUTE_FEATURES:self._tail_end] = self.lidar() / self.lidar_range
            np.clip(buf, -OBS_BOUND, OBS_BOUND, out=buf)
        if self.preference_in_obs:
            buf[self._tail_end:] = self.weights
        return buf.astype(np.float32)

    # ------------------------------------------------------------------ info
    def route_completion(self) -> float:
        """Share of the route driven, in percent."""
        scene, s = self.scene, self.ego[tr.ES]
        return 100.0 * (min(max(s, scene.route_start), scene.route_end) - scene.route_start) / scene.route_length

    def _info(self, done: bool, collision: bool = False, off_road: bool = False) -> dict[str, Any]:
        completion = self.route_completion()
        info: dict[str, Any] = {
            "reward_vector": self._last_reward.copy(),
            "speed": float(self.ego[tr.EV]),
            "route_completion": float(completion),
            "collision": bool(collision),
            "off_road": bool(off_road),
            "is_success": bool(done and self._success),
            "distance": float(self.distance),
            "ttc": float(self._ttc),
        }
        if done:
            info.update(self.route_record(completion))
        return info

    def route_record(self, completion: float) -> dict[str, Any]:
        """The CARLA leaderboard's record of the route driven so far (see the module docstring)."""
        scene = self.scene
        infractions: dict[str, Any] = {key: 0 for key in INFRACTION_KEYS}
        infractions.update({k: v for k, v in self.events.items()})
        outside_pct = min(100.0, 100.0 * self.outside_lanes_m / scene.route_length)
        infractions["outside_route_lanes"] = [outside_pct] if outside_pct > 0 else []
        speed_pct = 100.0 * min(1.0, self.ego_speed_sum / max(self.npc_speed_sum, 1e-9))
        infractions["min_speed_infractions"] = [speed_pct] if self.t and speed_pct < 100.0 else []
        scores = route_scores(completion, infractions)
        return {
            "infractions": infractions,
            "scores": scores,
            "driving_score": scores["score_composed"],
            "route_length_km": scene.route_length / 1000.0,
            "mean_abs_jerk": self.abs_jerk_sum / max(self.t, 1),
        }

    # ------------------------------------------------------------------ world, render, close
    def _build_world(self) -> None:
        """A PyBullet world for this scene; one without road tiles (no camera) serves every scene."""
        from gauntlet.envs.driving.bullet import BulletWorld

        if self.world is not None and self.observation == "camera":
            self.world.close()
            self.world = None
        if self.world is None:
            self.world = BulletWorld(self.scene, MAX_SLOTS, DT, dynamic_ego=self.physics == "bullet",
                                     road_tiles=self.observation == "camera")
        self.world.place_npcs(self.active, self.x, self.y, self.yaw)
        self.world.place_ego(self.ego[tr.EX], self.ego[tr.EY], self.ego[tr.EYAW])

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        from gauntlet.envs.driving.render import draw

        beams = self.lidar() if self.observation == "lidar" else None
        return draw(self, beams)

    def close(self) -> None:
        if self.world is not None:
            self.world.close()
            self.world = None
        super().close()

    def _reward(self, vector: np.ndarray) -> Any:
        return vector


class DrivingEnv(MODrivingEnv):
    """Scalarized driving: reward ``w . [safety, efficiency, comfort]`` for ``weights`` (default
    (0.5, 0.4, 0.1)); the vector is in ``info["reward_vector"]``."""

    def _reward(self, vector: np.ndarray) -> float:
        # The float64 sum in numpy's order for three terms (((0 + a) + b) + c), as the vector env
        # computes it with ``(w * r).sum(axis=1)``, so the two agree bit for bit.
        r0, r1, r2 = vector.tolist()
        w0, w1, w2 = self.weights.tolist()
        return 0.0 + w0 * r0 + w1 * r1 + w2 * r2


def episode_metrics(rewards: np.ndarray, infos: list[dict[str, Any]]) -> dict[str, float]:
    """Success, collisions and off-road events per km of route, route completion (%), driving
    score (%) and comfort (mean |jerk|, m/s^3) of one episode, from its final info."""
    last = infos[-1] if infos else {}
    if "infractions" not in last:
        raise ValueError("episode_metrics needs the final info of a finished episode (it holds the route record)")
    km = last["route_length_km"]
    inf = last["infractions"]
    return {
        "success": float(last["is_success"]),
        "collisions_per_km": (inf["collisions_vehicle"] + inf["collisions_pedestrian"]) / km,
        "off_road_per_km": inf["collisions_layout"] / km,
        "route_completion": float(last["route_completion"]),
        "driving_score": float(last["driving_score"]),
        "mean_abs_jerk": float(last["mean_abs_jerk"]),
    }
