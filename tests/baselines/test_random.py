"""The registry's ``random`` agent on a multi-agent task (it matches every ``gauntlet/*`` id)."""

import numpy as np

import gauntlet
from gauntlet.baselines.random import RandomAgent


def _episode_actions(seed: int) -> list[dict]:
    env = gauntlet.make_parallel("gauntlet/MOCoopNavigation-v0")
    agent = RandomAgent(env, seed=seed)
    obs, _ = env.reset(seed=0)
    taken = []
    for _ in range(5):
        actions, _ = agent.predict(obs)
        assert set(actions) == set(env.agents)
        assert all(env.action_space(a).contains(act) for a, act in actions.items())
        taken.append(actions)
        obs, *_ = env.step(actions)
    env.close()
    return taken


def test_random_plays_one_valid_action_per_live_agent_of_a_parallel_env():
    first, again, other = _episode_actions(3), _episode_actions(3), _episode_actions(4)
    as_array = lambda eps: np.array([[int(a[k]) for k in sorted(a)] for a in eps])  # noqa: E731
    assert np.array_equal(as_array(first), as_array(again))
    assert not np.array_equal(as_array(first), as_array(other))
