import gymnasium as gym
import numpy as np
import pytest

import gauntlet  # noqa: F401  (registers the ids)
from gauntlet.baselines.uam_fleet import GeneticAgent, GreedyAgent, RandomFeasibleAgent, greedy_action
from gauntlet.bench.runner import evaluate, make_agent
from gauntlet.envs.uam_fleet.env import episode_metrics
from gauntlet.registry import get_agent

SMALL = "gauntlet/UAMFleet-Small-v0"


def day(agent, env, seed):
    (result,) = evaluate(agent, env, [seed], episode_metrics=episode_metrics)
    return result.metrics


def test_ga_improves_on_random_feasible_and_replays_its_plan_on_a_small_instance():
    env = gym.make(SMALL)
    ga = GeneticAgent(env, seed=0, population=8, generations=4)
    random_feasible = RandomFeasibleAgent(env, seed=0)
    greedy = GreedyAgent(env)
    for seed in (1000, 1001):
        planned = day(ga, env, seed)
        assert planned["daily_profit"] == pytest.approx(ga.best_profit)  # the replay is the simulated plan
        assert np.all(np.diff(ga.history) >= 0)  # elitism
        assert planned["daily_profit"] >= day(greedy, env, seed)["daily_profit"]  # the all-greedy start
        assert planned["daily_profit"] > day(random_feasible, env, seed)["daily_profit"]
        assert planned["constraint_violations"] == 0
        assert planned["decision_latency_ms"] > 0


def test_greedy_flies_to_the_largest_waiting_revenue_within_the_mask_and_stays_without_passengers():
    env = gym.make(SMALL, demand_rate=0.0, takeoff_delay_prob=0.0, closure_prob=0.0, downtime_prob=0.0).unwrapped
    env.reset(seed=0)
    home = int(env.loc[env.deciding])
    assert greedy_action(env) == home
    allowed = np.flatnonzero(env.action_masks() & (np.arange(env.n_vertiports) != home))
    near, far = sorted(allowed, key=lambda j: env.distance[home, j])[:2]
    env.waiting[0, home, near] = 9  # capped at the 4 seats
    env.waiting[0, home, far] = 4
    expected = max((near, far), key=lambda j: 4 * env.current_fares()[home, j])
    assert greedy_action(env) == expected
    env.soc[env.deciding] = env.reserve_kwh  # no range left: nothing allowed but staying
    env._update_mask()
    assert greedy_action(env) == home


def test_random_feasible_takes_only_allowed_actions():
    env = gym.make(SMALL)
    agent = RandomFeasibleAgent(env, seed=3)
    obs, info = env.reset(seed=3)
    agent.on_reset(env, obs, info)
    for _ in range(60):
        action, _ = agent.predict(obs, action_masks=env.unwrapped.action_masks())
        assert env.unwrapped.action_masks()[action]
        obs, _, done, _, info = env.step(action)
        if done:
            break
    assert agent.episode_report()["decision_latency_ms"] > 0


def test_ga_rejects_bad_settings():
    env = gym.make(SMALL)
    with pytest.raises(ValueError, match="population=1"):
        GeneticAgent(env, population=1)
    with pytest.raises(ValueError, match="mutation_rate=1.5"):
        GeneticAgent(env, mutation_rate=1.5)


def test_maskable_ppo_mlp_is_built_from_the_registry_learns_saves_and_reports_latency(tmp_path):
    from sb3_contrib import MaskablePPO

    env = gym.make(SMALL)
    spec = get_agent("maskable-ppo-mlp")
    model = make_agent(spec, env, SMALL, seed=0, agent_kwargs={"n_steps": 64, "batch_size": 32, "n_epochs": 1})
    assert model.n_steps == 64 and model.ent_coef == spec.hyperparameters_for(SMALL)["ent_coef"]
    model.learn(64)
    metrics = day(model, env, 1000)
    assert metrics["constraint_violations"] == 0 and metrics["decision_latency_ms"] > 0
    model.save(tmp_path / "m.zip")
    loaded = MaskablePPO.load(tmp_path / "m.zip")
    obs, _ = env.reset(seed=0)
    mask = env.unwrapped.action_masks()
    assert loaded.predict(obs, action_masks=mask, deterministic=True)[0] == model.predict(
        obs, action_masks=mask, deterministic=True)[0]
    with pytest.raises(ValueError, match="n_stepz"):
        make_agent(spec, env, SMALL, seed=0, agent_kwargs={"n_stepz": 3})
