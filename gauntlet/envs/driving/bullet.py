"""A PyBullet world (DIRECT mode, headless) mirroring the scene: ray-cast lidar, contacts, camera.

Vehicles are boxes of ``LENGTH x WIDTH x HEIGHT`` resting on the ground; NPC boxes are static
bodies moved to the simulated poses every step (their motion comes from the traffic model).
Under ``physics="bullet"`` the ego is a dynamic box (1500 kg, no gravity: it stays on its plane)
whose planar velocity and yaw rate are set from the kinematic bicycle model every step and
integrated by Bullet, which resolves contacts (a collision pushes the ego); collisions are
Bullet's contact points and the lidar is ``rayTestBatch``. The camera renders a chase view with
the TinyRenderer (software, works without a display) over the road drawn as flat tiles.

Each world owns one physics client, connected in the constructor and disconnected by
:meth:`BulletWorld.close` (the env calls it from ``close()`` and before a new scene).
"""

from __future__ import annotations

import importlib.util
import math

import numpy as np

from gauntlet.envs.driving.road import Scene
from gauntlet.envs.driving.traffic import LENGTH, WIDTH

HEIGHT = 1.5
SENSOR_Z = 0.75
PARKED = (0.0, 0.0, -100.0)
PARK_SPACING = 10.0
SUBSTEPS = 4
NPC_GROUP, EGO_GROUP = 1, 2


def require_pybullet(what: str) -> None:
    if importlib.util.find_spec("pybullet") is None:
        raise ImportError(f"{what} needs the optional dependency 'pybullet': pip install \"gauntlet-rl[driving]\"")


class BulletWorld:
    """The bodies of one scene in a fresh DIRECT client: ``n_slots`` NPC boxes and the ego."""

    def __init__(self, scene: Scene, n_slots: int, dt: float, *, dynamic_ego: bool, road_tiles: bool) -> None:
        require_pybullet('physics="bullet" and observation="camera"')
        import pybullet as p

        self.p = p
        self.client = p.connect(p.DIRECT)
        self.dt = dt
        cid = self.client
        p.setGravity(0, 0, 0, physicsClientId=cid)
        p.setPhysicsEngineParameter(fixedTimeStep=dt / SUBSTEPS, physicsClientId=cid)
        half = [LENGTH / 2, WIDTH / 2, HEIGHT / 2]
        box = p.createCollisionShape(p.GEOM_BOX, halfExtents=half, physicsClientId=cid)
        npc_visual = p.createVisualShape(p.GEOM_BOX, halfExtents=half, rgbaColor=[0.2, 0.4, 0.9, 1], physicsClientId=cid)
        ego_visual = p.createVisualShape(p.GEOM_BOX, halfExtents=half, rgbaColor=[0.9, 0.2, 0.2, 1], physicsClientId=cid)
        # One call creates every NPC body (a list of ids), much faster than one call each.
        self._parked = [self._park(k) for k in range(n_slots)]
        self.npcs = list(p.createMultiBody(0, box, npc_visual, batchPositions=self._parked, physicsClientId=cid))
        self._shown = np.zeros(n_slots, dtype=bool)
        self.ego = p.createMultiBody(1500.0 if dynamic_ego else 0.0, box, ego_visual, PARKED, physicsClientId=cid)
        p.changeDynamics(self.ego, -1, linearDamping=0.0, angularDamping=0.0, physicsClientId=cid)
        # Rays see NPCs only (the lidar sits inside the ego's box); the ego still collides with them.
        p.setCollisionFilterGroupMask(self.ego, -1, EGO_GROUP, NPC_GROUP, physicsClientId=cid)
        for body in self.npcs:
            p.setCollisionFilterGroupMask(body, -1, NPC_GROUP, NPC_GROUP | EGO_GROUP, physicsClientId=cid)
        self._slot_of = {body: k for k, body in enumerate(self.npcs)}
        if road_tiles:
            self._add_road(scene)

    def _add_road(self, scene: Scene) -> None:
        """Flat visual tiles (no collision) for the camera: grass, then the junction's disc and arms,
        or the carriageway along the route in 10 m tiles."""
        p, cid = self.p, self.client
        asphalt = [0.3, 0.3, 0.32, 1]

        def tile(half_extents, pos, yaw):
            shape = p.createVisualShape(p.GEOM_BOX, halfExtents=half_extents, rgbaColor=asphalt, physicsClientId=cid)
            p.createMultiBody(0, -1, shape, pos, p.getQuaternionFromEuler([0, 0, yaw]), physicsClientId=cid)

        grass = p.createVisualShape(p.GEOM_BOX, halfExtents=[400, 400, 0.01], rgbaColor=[0.35, 0.6, 0.3, 1],
                                    physicsClientId=cid)
        cx, cy = scene.paths[scene.route, 0]
        p.createMultiBody(0, -1, grass, [cx, cy, -0.05], physicsClientId=cid)
        if scene.junction is not None:
            jx, jy, r = scene.junction
            disc = p.createVisualShape(p.GEOM_CYLINDER, radius=r, length=0.02, rgbaColor=asphalt, physicsClientId=cid)
            p.createMultiBody(0, -1, disc, [jx, jy, 0.0], physicsClientId=cid)
            for x0, y0, h, length, half in scene.arms:
                tile([length / 2, half, 0.01], [x0 + length / 2 * math.cos(h), y0 + length / 2 * math.sin(h), 0.0], h)
            return
        step = 10.0
        middle = (scene.left_edge + scene.right_edge) / 2
        half = (scene.left_edge - scene.right_edge) / 2
        for s in np.arange(0.0, scene.lengths[scene.route] - step, step):
            x, y, h = scene.point(scene.route, s + step / 2, middle)
            tile([step / 2 + 0.3, half, 0.01], [x, y, 0.0], h)

    @staticmethod
    def _park(k: int) -> tuple[float, float, float]:
        """Where slot ``k`` waits while inactive: apart from the others, so that the broadphase
        does not pair every parked box with every other."""
        return (PARKED[0] + PARK_SPACING * k, PARKED[1], PARKED[2])

    # ------------------------------------------------------------------ sync
    def place_npcs(self, active: np.ndarray, x: np.ndarray, y: np.ndarray, yaw: np.ndarray) -> None:
        """Move the active slots' boxes to their poses and park the slots that became inactive."""
        p, cid = self.p, self.client
        for k in np.flatnonzero(active | self._shown):
            if active[k]:
                orn = p.getQuaternionFromEuler([0, 0, float(yaw[k])])
                p.resetBasePositionAndOrientation(self.npcs[k], [float(x[k]), float(y[k]), HEIGHT / 2], orn,
                                                  physicsClientId=cid)
            else:
                p.resetBasePositionAndOrientation(self.npcs[k], self._parked[k], [0, 0, 0, 1], physicsClientId=cid)
        self._shown = active.copy()

    def place_ego(self, x: float, y: float, yaw: float) -> None:
        orn = self.p.getQuaternionFromEuler([0, 0, yaw])
        self.p.resetBasePositionAndOrientation(self.ego, [x, y, HEIGHT / 2], orn, physicsClientId=self.client)

    def drive_ego(self, speed: float, slip: float, yaw_rate: float) -> tuple[float, float, float, float]:
        """Set the ego's velocity (``speed`` at angle ``slip`` from its heading, ``yaw_rate``), let
        Bullet integrate ``dt`` with contacts, and return the new (x, y, yaw, speed)."""
        p, cid = self.p, self.client
        for _ in range(SUBSTEPS):
            _, orn = p.getBasePositionAndOrientation(self.ego, physicsClientId=cid)
            heading = p.getEulerFromQuaternion(orn)[2]
            p.resetBaseVelocity(self.ego, [speed * math.cos(heading + slip), speed * math.sin(heading + slip), 0.0],
                                [0.0, 0.0, yaw_rate], physicsClientId=cid)
            p.stepSimulation(physicsClientId=cid)
        pos, orn = p.getBasePositionAndOrientation(self.ego, physicsClientId=cid)
        vel, _ = p.getBaseVelocity(self.ego, physicsClientId=cid)
        heading = p.getEulerFromQuaternion(orn)[2]
        along = vel[0] * math.cos(heading + slip) + vel[1] * math.sin(heading + slip)
        # Contacts may tilt or lift the box: keep it on its plane.
        p.resetBasePositionAndOrientation(self.ego, [pos[0], pos[1], HEIGHT / 2], p.getQuaternionFromEuler([0, 0, heading]),
                                          physicsClientId=cid)
        return pos[0], pos[1], heading, max(along, 0.0)

    # ------------------------------------------------------------------ sensors
    def collision(self) -> int:
        """Slot of an NPC in contact with the (dynamic) ego, or -1."""
        p, cid = self.p, self.client
        p.performCollisionDetection(physicsClientId=cid)
        for contact in p.getContactPoints(bodyA=self.ego, physicsClientId=cid):
            if contact[2] in self._slot_of and contact[8] <= 0.0:
                return self._slot_of[contact[2]]
        return -1

    def lidar(self, x: float, y: float, yaw: float, n_beams: int, max_range: float) -> np.ndarray:
        """Distances of ``n_beams`` horizontal rays at sensor height (``rayTestBatch``)."""
        ang = yaw + 2.0 * np.pi * np.arange(n_beams) / n_beams
        start = np.empty((n_beams, 3))
        start[:, 0], start[:, 1], start[:, 2] = x, y, SENSOR_Z
        end = start.copy()
        end[:, 0] += max_range * np.cos(ang)
        end[:, 1] += max_range * np.sin(ang)
        hits = self.p.rayTestBatch(start, end, collisionFilterMask=NPC_GROUP, physicsClientId=self.client)
        frac = np.array([h[2] if h[0] >= 0 else 1.0 for h in hits])
        return frac * max_range

    def camera(self, x: float, y: float, yaw: float, width: int, height: int) -> np.ndarray:
        """An RGB chase view (8 m behind, 4 m up, looking 15 m ahead), (height, width, 3) uint8."""
        p = self.p
        c, s = math.cos(yaw), math.sin(yaw)
        view = p.computeViewMatrix([x - 8.0 * c, y - 8.0 * s, 4.0], [x + 15.0 * c, y + 15.0 * s, 0.0], [0, 0, 1])
        proj = p.computeProjectionMatrixFOV(70.0, width / height, 0.5, 150.0)
        _, _, rgba, _, _ = p.getCameraImage(width, height, view, proj, renderer=p.ER_TINY_RENDERER,
                                            physicsClientId=self.client)
        return np.asarray(rgba, dtype=np.uint8).reshape(height, width, 4)[..., :3].copy()

    def close(self) -> None:
        if self.client is not None and self.p.isConnected(self.client):
            self.p.disconnect(self.client)
        self.client = None
