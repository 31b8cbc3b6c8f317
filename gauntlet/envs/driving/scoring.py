"""The CARLA leaderboard's route score, with its result keys and penalty coefficients.

As in the leaderboard's ``statistics_manager.py`` (CARLA Leaderboard 2.0): a route's
``score_route`` is its completion in percent, ``score_penalty`` the product of one factor per
infraction, and ``score_composed = max(score_route * score_penalty, 0)``; the global score is the
mean over routes. Fixed factors per event: pedestrian collision 0.5, vehicle collision 0.6,
collision with the layout (static) 0.65, red light 0.7, stop sign 0.8, scenario timeout 0.7,
failing to yield to an emergency vehicle 0.7. Percentage events: outside the route's lanes
``x (1 - pct / 100)`` (pct = share of the route driven outside its lanes) and minimum speed
``x (1 - 0.3 (1 - pct / 100))`` (pct = the ego's speed as a percentage of the surrounding
traffic's). ``route_dev``, ``vehicle_blocked`` and ``route_timeout`` end a route without a
penalty factor (their cost is the route not completed).
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

INFRACTION_KEYS = (
    "collisions_layout",
    "collisions_pedestrian",
    "collisions_vehicle",
    "red_light",
    "stop_infraction",
    "outside_route_lanes",
    "min_speed_infractions",
    "yield_emergency_vehicle_infractions",
    "scenario_timeouts",
    "route_dev",
    "vehicle_blocked",
    "route_timeout",
)

PENALTY_PER_EVENT = {
    "collisions_pedestrian": 0.5,
    "collisions_vehicle": 0.6,
    "collisions_layout": 0.65,
    "red_light": 0.7,
    "stop_infraction": 0.8,
    "scenario_timeouts": 0.7,
    "yield_emergency_vehicle_infractions": 0.7,
}
# (penalty at 100 %, whether the penalty grows with the percentage): the leaderboard's
# PENALTY_PERC_DICT. A factor is 1 - (1 - penalty) * pct / 100 when it grows with the
# percentage, 1 - (1 - penalty) * (1 - pct / 100) when 100 % is ideal.
PENALTY_PER_PERCENT = {
    "outside_route_lanes": (0.0, True),
    "min_speed_infractions": (0.7, False),
}


def route_scores(route_completion: float, infractions: Mapping[str, Sequence[float] | int]) -> dict[str, float]:
    """``score_route``, ``score_penalty``, ``score_composed`` of one route.

    ``route_completion`` in percent [0, 100]; ``infractions`` maps result keys to a count (fixed
    factor events) or to the list of percentages of each event (percentage events). Unknown keys
    raise ``ValueError``."""
    if not 0.0 <= route_completion <= 100.0 or math.isnan(route_completion):
        raise ValueError(f"route_completion={route_completion!r} is out of range; allowed: [0, 100] (percent)")
    penalty = 1.0
    for key, events in infractions.items():
        if key not in INFRACTION_KEYS:
            raise ValueError(f"infraction key {key!r} is not supported; allowed: {', '.join(INFRACTION_KEYS)}")
        if key in PENALTY_PER_EVENT:
            count = events if isinstance(events, int) else len(events)
            penalty *= PENALTY_PER_EVENT[key] ** count
        elif key in PENALTY_PER_PERCENT:
            base, increases = PENALTY_PER_PERCENT[key]
            for pct in [events] if isinstance(events, (int, float)) else events:
                share = pct / 100.0 if increases else 1.0 - pct / 100.0
                penalty *= 1.0 - (1.0 - base) * share
    return {
        "score_route": float(route_completion),
        "score_penalty": float(penalty),
        "score_composed": float(max(route_completion * penalty, 0.0)),
    }


def global_scores(records: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Mean of each score over routes (the leaderboard's global record)."""
    if not records:
        raise ValueError("records=[] is invalid; allowed: at least one route record")
    keys = ("score_route", "score_penalty", "score_composed")
    return {k: float(sum(r[k] for r in records) / len(records)) for k in keys}
