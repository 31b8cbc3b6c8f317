import pytest

from gauntlet.envs.driving.scoring import INFRACTION_KEYS, PENALTY_PER_EVENT, global_scores, route_scores


def test_result_keys_and_penalty_coefficients_of_the_leaderboard():
    assert set(INFRACTION_KEYS) >= {
        "collisions_layout", "collisions_pedestrian", "collisions_vehicle", "red_light", "stop_infraction",
        "outside_route_lanes", "min_speed_infractions", "route_dev", "vehicle_blocked", "route_timeout",
    }
    assert PENALTY_PER_EVENT == {
        "collisions_pedestrian": 0.5, "collisions_vehicle": 0.6, "collisions_layout": 0.65, "red_light": 0.7,
        "stop_infraction": 0.8, "scenario_timeouts": 0.7, "yield_emergency_vehicle_infractions": 0.7,
    }


@pytest.mark.parametrize("completion, infractions, penalty", [
    (100.0, {}, 1.0),
    (100.0, {"collisions_vehicle": 1}, 0.6),
    (80.0, {"collisions_vehicle": 2, "collisions_layout": 1}, 0.6 * 0.6 * 0.65),
    (50.0, {"collisions_pedestrian": 1, "red_light": 1, "stop_infraction": 1}, 0.5 * 0.7 * 0.8),
    # percentage events: outside lanes x (1 - pct/100); min speed x (1 - 0.3 (1 - pct/100))
    (90.0, {"outside_route_lanes": [20.0]}, 0.8),
    (90.0, {"min_speed_infractions": [50.0, 80.0]}, (1 - 0.3 * 0.5) * (1 - 0.3 * 0.2)),
    (70.0, {"collisions_vehicle": [None], "outside_route_lanes": [10.0], "route_timeout": 1}, 0.6 * 0.9),
    # route_dev, vehicle_blocked and route_timeout end the route without a factor
    (30.0, {"route_dev": 1, "vehicle_blocked": 1, "route_timeout": 1}, 1.0),
])
def test_route_score_on_hand_made_infraction_lists(completion, infractions, penalty):
    scores = route_scores(completion, infractions)
    assert scores["score_route"] == completion
    assert scores["score_penalty"] == pytest.approx(penalty)
    assert scores["score_composed"] == pytest.approx(completion * penalty)


def test_global_score_is_the_mean_over_routes():
    records = [route_scores(100.0, {}), route_scores(50.0, {"collisions_vehicle": 1})]
    assert global_scores(records) == pytest.approx({"score_route": 75.0, "score_penalty": 0.8,
                                                    "score_composed": (100.0 + 30.0) / 2})


@pytest.mark.parametrize("completion, infractions, match", [
    (120.0, {}, r"route_completion=120.0 is out of range"),
    (-1.0, {}, r"route_completion=-1.0"),
    (50.0, {"speeding": 1}, r"infraction key 'speeding' is not supported"),
])
def test_bad_scores_input(completion, infractions, match):
    with pytest.raises(ValueError, match=match):
        route_scores(completion, infractions)
    with pytest.raises(ValueError, match="records"):
        global_scores([])
