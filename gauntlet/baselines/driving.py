"""Baselines for Driving (``gauntlet/Driving-*``, ``gauntlet/mo-Driving-*``): the rule-based
``idm-controller`` and the factory of sb3-contrib's QR-DQN on the scalar reward (``qrdqn``).

``qrdqn``: sb3-contrib's ``QRDQN("MlpPolicy", env)`` with its defaults (200 quantiles,
learning rate 5e-5, batch 32) except ``learning_starts`` (1,000) and an exploration decay over
20 % of training, as :class:`~gauntlet.agents.pr_iqn.IQN` has, on the scalar ids (``w . r``).

``idm-controller``: lane keeping plus the Intelligent Driver Model, no learning. Like CARLA's
autopilot it reads the simulator's state (``env.unwrapped``), not the observation:

* steering: pure pursuit on the route lane (``env.pursuit_steer``), turned into the action type's
  steering command (the nearest steering rate of the 3 x 3 grid, or a rate for continuous
  actions; the meta-actions keep their lane);
* speed: IDM towards 90 % of the speed limit behind the nearest vehicle ahead on the route (NPCs
  projected onto the route, within a lane's width of the ego, heading within 60 degrees of the
  ego's: crossing traffic is left to the yielding rule);
* at an intersection the ego yields: it stops 2 m before its first conflict zone
  (``Scene.conflicts``: where its route comes within 3 m of another arm's path inside the
  junction) while a vehicle on a conflicting path is in its zone or less than 2.5 s from it.
  Once the ego is in a zone, NPCs that can still stop wait for it;
* with pedestrians on (``pedestrians > 0``) it stops 2 m before a pedestrian projected onto its
  route ahead whose lateral offset from the ego's is under half the car's width plus 1.5 m
  (in its way or about to step in: the NPCs' clearance, measured along the route instead of
  along the NPC's heading).
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np

from gauntlet.envs.driving import traffic as tr
from gauntlet.envs.driving.env import CONT_ACCEL, CONT_BRAKE, DT, STEER_RATE

LOOK_AHEAD = 60.0
YIELD_TIME = 2.5
YIELD_DISTANCE = 25.0
PEDESTRIAN_MARGIN = 2.0  # m kept between the bumper and a pedestrian the ego waits for


class IDMControllerAgent:
    """Lane keeping + IDM (+ yielding at junctions) on the route; see the module docstring."""

    def __init__(self, env: gym.Env, seed: int = 0, desired_speed_fraction: float = 0.9) -> None:
        self.env = env
        self.seed = seed
        self.desired_speed_fraction = desired_speed_fraction

    def on_reset(self, env: gym.Env, observation: Any, info: dict) -> None:
        self.env = env

    def predict(self, observation: Any, state: Any = None, episode_start: Any = None,
                deterministic: bool = True) -> tuple[Any, Any]:
        env = self.env.unwrapped
        accel = self.acceleration(env)
        steer = env.pursuit_steer(env.scene.route_lane)
        rate = (steer - env.steer) / DT
        if env.action_type == "continuous":
            a = accel / (CONT_BRAKE if accel < 0 else CONT_ACCEL)
            return np.array([np.clip(a, -1, 1), np.clip(rate / STEER_RATE, -1, 1)], dtype=np.float32), state
        if env.action_type == "meta":
            target = env._meta_speed
            if accel < -1.0 and target > 0:
                return 4, state
            if accel > 0.5 and env.ego[tr.EV] > 0.9 * env.limit * (target / 4.0) - 0.5 and target < 4:
                return 3, state
            return 1, state
        i = 2 if accel > 1.0 else (0 if accel < -1.0 else 1)
        j = 2 if rate > STEER_RATE / 2 else (0 if rate < -STEER_RATE / 2 else 1)
        return 3 * i + j, state

    def acceleration(self, env: Any) -> float:
        scene, ego = env.scene, env.ego
        v = ego[tr.EV]
        gap, v_lead = tr.FAR, 0.0
        idx = np.flatnonzero(env.active)
        for j in idx:
            if math.cos(env.yaw[j] - ego[tr.EYAW]) < 0.5:
                continue
            dx, dy = env.x[j] - ego[tr.EX], env.y[j] - ego[tr.EY]
            if dx * dx + dy * dy > LOOK_AHEAD**2:
                continue
            s, d, _ = tr.project(scene.paths, scene.headings, scene.lengths, scene.route, env.x[j], env.y[j], -1)
            ahead = s - ego[tr.ES]
            if 0.0 < ahead and abs(d - ego[tr.ED]) < tr.SAME_LANE and ahead - tr.LENGTH < gap:
                gap, v_lead = ahead - tr.LENGTH, env.v[j] * math.cos(env.yaw[j] - ego[tr.EYAW])
        for k in np.flatnonzero(env.ped_active):
            s, d, _ = tr.project(scene.paths, scene.headings, scene.lengths, scene.route, env.ped_x[k], env.ped_y[k], -1)
            ahead = s - ego[tr.ES] - tr.LENGTH / 2
            if 0.0 < ahead < min(gap, LOOK_AHEAD) and abs(d - ego[tr.ED]) < tr.WIDTH / 2 + tr.PEDESTRIAN_CLEAR:
                gap, v_lead = max(ahead - PEDESTRIAN_MARGIN, 0.0), 0.0
        if scene.junction is not None:
            stop = self._junction_gap(env)
            if stop < gap:
                gap, v_lead = stop, 0.0
        return tr.idm(v, self.desired_speed_fraction * env.limit, gap, v_lead)

    def _junction_gap(self, env: Any) -> float:
        """Gap to the ego's stop point before its first conflict zone while it must yield, else ``FAR``."""
        scene, ego = env.scene, env.ego
        zones = scene.conflicts[scene.route, :, 0]
        if not (zones >= 0).any():
            return tr.FAR
        stop = zones[zones >= 0].min() - tr.LENGTH / 2 - 2.0
        if ego[tr.ES] > stop + 1.0:
            return tr.FAR
        for j in np.flatnonzero(env.active):
            start, end = scene.conflicts[env.path[j], scene.route]
            if start < 0:
                continue
            s = env.s[j]
            inside = start - tr.LENGTH / 2 <= s <= end + tr.LENGTH / 2
            if inside or (s < start and (start - s) / max(env.v[j], 0.1) < YIELD_TIME):
                return max(stop - ego[tr.ES], 0.0)
        return tr.FAR


def make_qrdqn(env: gym.Env, seed: int = 0, tensorboard_log: str | None = None, **kwargs: Any) -> Any:
    """sb3-contrib's QR-DQN on the scalar reward (see the module docstring)."""
    from sb3_contrib import QRDQN

    settings = {"learning_starts": 1_000, "exploration_fraction": 0.2, **kwargs}
    return QRDQN("MlpPolicy", env, seed=seed, tensorboard_log=tensorboard_log, verbose=0, **settings)
