import hashlib
import math
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from scipy.stats import beta as beta_dist
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import gauntlet  # noqa: F401  (registers the ids)
from gauntlet.envs.fair_threshold.env import FairThresholdEnv, episode_metrics

def rollout(env, actions, seed):
    obs, _ = env.reset(seed=seed)
    trace = [obs.tobytes()]
    for a in actions:
        obs, reward, terminated, truncated, info = env.step(a)
        trace.append((obs.tobytes(), reward, tuple(info["cost"].values()), info["group_share"]))
    return trace


@pytest.mark.parametrize("kwargs", [{}, {"continuous": True}, {"rho": 0.3, "impact_rate": 0.2}])
def test_passes_gymnasium_and_sb3_checkers(kwargs):
    env = FairThresholdEnv(**kwargs)
    check_env(env)
    sb3_check_env(FairThresholdEnv(**kwargs))


@pytest.mark.parametrize("dataset", ["german", "compas"])
def test_dataset_variants_pass_checkers(dataset):
    env = FairThresholdEnv(dataset=dataset)
    check_env(env)
    assert 0.0 < env.base_share < 1.0


@pytest.mark.parametrize("env_id", ["gauntlet/FairThreshold-v0", "gauntlet/FairThreshold-Synthetic-v0"])
def test_registered_ids(env_id):
    env = gym.make(env_id)
    assert env.action_space == gym.spaces.Discrete(51)
    assert env.observation_space.shape == (14,) and env.observation_space.dtype == np.float32
    obs, info = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    assert set(info) == {"group_share", "base_share"}


def test_same_seed_same_trajectory_and_reset_reseeds():
    actions = [int(a) for a in np.random.default_rng(0).integers(0, 51, size=200)]
    env = FairThresholdEnv(impact_rate=0.1, rho=0.2)
    first = rollout(env, actions, seed=7)
    assert rollout(env, actions, seed=7) == first
    assert rollout(FairThresholdEnv(impact_rate=0.1, rho=0.2), actions, seed=7) == first
    assert rollout(env, actions, seed=8) != first


def test_trajectory_is_identical_in_another_process():
    code = (
        "import hashlib, numpy as np\n"
        "from gauntlet.envs.fair_threshold.env import FairThresholdEnv\n"
        "env = FairThresholdEnv(impact_rate=0.1)\n"
        "obs, _ = env.reset(seed=3)\n"
        "h = hashlib.sha256(obs.tobytes())\n"
        "for k in range(100):\n"
        "    obs, r, *_ = env.step((7 * k) % 51)\n"
        "    h.update(obs.tobytes()); h.update(np.float64(r).tobytes())\n"
        "print(h.hexdigest())\n"
    )
    env = FairThresholdEnv(impact_rate=0.1)
    obs, _ = env.reset(seed=3)
    h = hashlib.sha256(obs.tobytes())
    for k in range(100):
        obs, r, *_ = env.step((7 * k) % 51)
        h.update(obs.tobytes())
        h.update(np.float64(r).tobytes())
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == h.hexdigest()


def test_expected_residuals_and_reward_match_hand_computed_beta_population():
    # Synthetic groups: Beta(6, 4) and Beta(5, 5) scores, calibrated outcomes r = s.
    # With 100 score bins, tau = 0.5 accepts bins 50..99, i.e. the mass above 0.5.
    p, eps, rho, c = 0.3, 0.05, 0.6, 2.0
    env = FairThresholdEnv(eps=eps, rho=rho, default_cost=c, initial_share=p, n_thresholds=11)
    env.reset(seed=0)
    _, _, _, _, info = env.step(5)  # tau = 0.5
    alpha0, alpha1 = beta_dist.sf(0.5, 6, 4), beta_dist.sf(0.5, 5, 5)
    assert info["threshold"] == 0.5
    np.testing.assert_allclose(info["expected_acceptance_rate"], [alpha0, alpha1], atol=1e-12)
    assert info["expected_cost"]["dp"] == pytest.approx(abs(alpha0 - alpha1) - eps, abs=1e-12)
    assert info["expected_cost"]["service"] == pytest.approx(rho - ((1 - p) * alpha0 + p * alpha1), abs=1e-12)
    # Expected utility per applicant: sum over accepted bins of pi_m ((1 + c) s_m - c).
    edges = np.linspace(0, 1, 101)
    centres = (edges[:-1] + edges[1:]) / 2
    util = [np.sum(np.diff(beta_dist.cdf(edges, a, b))[50:] * ((1 + c) * centres[50:] - c)) for a, b in ((6, 4), (5, 5))]
    expected = ((1 - p) * util[0] + p * util[1] + c) / (1 + c)
    assert info["expected_reward"] == pytest.approx(expected, abs=1e-12)


def test_realized_residuals_follow_the_batch():
    eps, rho, n = 0.1, 0.4, 400
    env = FairThresholdEnv(eps=eps, rho=rho, batch_size=n)
    env.reset(seed=1)
    for k in (0, 10, 25, 40, 50):
        obs, reward, _, _, info = env.step(k)
        a0, a1 = info["acceptance_rate"]
        np.testing.assert_allclose(obs[2:4], [a0, a1], rtol=1e-6)
        assert info["cost"]["dp"] == pytest.approx(abs(a0 - a1) - eps)
        accepted = obs[0] * a0 + obs[1] * a1
        assert info["cost"]["service"] == pytest.approx(rho - accepted, abs=1e-6)
        assert obs[0] + obs[1] == pytest.approx(1.0)
        assert obs[4:].sum() == pytest.approx(1.0)
        assert 0.0 <= reward <= 1.0


def test_extreme_thresholds():
    c = 1.5
    env = FairThresholdEnv(default_cost=c, rho=0.2, eps=0.1)
    env.reset(seed=0)
    _, reward, _, _, info = env.step(50)  # tau = 1: nobody has s >= 1
    assert reward == pytest.approx(c / (1 + c))
    assert list(info["acceptance_rate"]) == [0.0, 0.0]
    assert info["cost"] == pytest.approx({"dp": -0.1, "service": 0.2})
    _, _, _, _, info = env.step(0)  # tau = 0: everyone accepted
    assert list(info["acceptance_rate"]) == [1.0, 1.0]
    assert info["cost"] == pytest.approx({"dp": -0.1, "service": -0.8})


def test_group_share_contracts_to_the_fixed_point_of_a_fixed_threshold():
    eta, beta = 0.05, 2.0
    env = FairThresholdEnv(eta=eta, beta=beta, initial_share=0.9, horizon=400)
    _, info = env.reset(seed=0)
    shares = [info["group_share"]]
    for _ in range(400):
        _, _, _, truncated, info = env.step(20)
        shares.append(info["group_share"])
    alpha0, alpha1 = info["expected_acceptance_rate"]
    fixed_point = 1 / (1 + math.exp(-(beta * (alpha1 - alpha0))))  # p_bar = 0.5: logit 0
    gaps = np.abs(np.array(shares) - fixed_point)
    np.testing.assert_allclose(gaps[1:], gaps[:-1] * (1 - eta), rtol=1e-9, atol=1e-15)
    assert gaps[-1] < 1e-8
    assert truncated


def test_delayed_impact_moves_accepted_mass_and_conserves_it():
    env = FairThresholdEnv(impact_rate=0.5, initial_share=0.5)
    env.reset(seed=0)
    mean_score = env._pi @ env.scores
    _, _, _, _, first = env.step(25)
    for _ in range(50):
        _, _, _, _, info = env.step(25)
    assert env._pi.sum(axis=1) == pytest.approx([1.0, 1.0])
    # Accepted applicants (s >= 0.5, so r > 1/2) move up more often than down: mean scores rise,
    # while defaulters at the threshold drop below it and leave the accepted region.
    assert (env._pi @ env.scores > mean_score).all()
    assert (info["expected_acceptance_rate"] < first["expected_acceptance_rate"]).all()
    env.reset(seed=0)
    np.testing.assert_array_equal(env._pi, FairThresholdEnv()._pi)
    static = FairThresholdEnv(impact_rate=0.0)
    static.reset(seed=0)
    rates = [static.step(25)[4]["expected_acceptance_rate"] for _ in range(20)]
    np.testing.assert_array_equal(rates[0], rates[-1])


def test_continuous_threshold_equals_grid_threshold():
    grid, cont = FairThresholdEnv(n_thresholds=11), FairThresholdEnv(continuous=True)
    grid.reset(seed=5)
    cont.reset(seed=5)
    a = grid.step(3)
    b = cont.step(np.array([0.3], dtype=np.float32))
    np.testing.assert_array_equal(a[0], b[0])
    assert a[1] == b[1]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"eps": 1.5}, r"eps=1.5 is out of range; allowed: \[0.0, 1.0\]"),
        ({"eps": -0.1}, r"eps=-0.1"),
        ({"rho": -0.2}, r"rho=-0.2 is out of range"),
        ({"rho": 1.01}, r"rho=1.01"),
        ({"n_thresholds": 1}, r"n_thresholds=1 is out of range; allowed: integers >= 2"),
        ({"dataset": "adult"}, r"dataset='adult' is not supported; allowed: 'synthetic', 'german', 'compas'"),
        ({"eta": 1.0}, r"eta=1.0 is out of range; allowed: \(0.0, 1.0\)"),
        ({"default_cost": 0.0}, r"default_cost=0.0 is out of range; allowed: finite numbers > 0.0"),
        ({"beta": math.inf}, r"beta=inf is out of range; allowed: finite numbers >= 0.0"),
        ({"eps": "0.1"}, r"eps='0.1' is not a number; allowed: \[0.0, 1.0\]"),
        ({"horizon": 2.0}, r"horizon=2.0 is not an integer; allowed: integers >= 1"),
        ({"impact_rate": 2.0}, r"impact_rate=2.0"),
        ({"initial_share": 1.0}, r"initial_share=1.0"),
        ({"batch_size": 0}, r"batch_size=0"),
        ({"render_mode": "human"}, r"render_mode='human' is not supported; allowed: None, 'ansi', 'rgb_array'"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        FairThresholdEnv(**kwargs)


@pytest.mark.parametrize("action, match", [(51, "outside the action space"), (-1, "outside"), (2.5, "not an integer"),
                                           (np.array([1, 2]), "not an integer"), (True, "not an integer")])
def test_invalid_discrete_actions(action, match):
    env = FairThresholdEnv()
    env.reset(seed=0)
    with pytest.raises(ValueError, match=match):
        env.step(action)
    assert env._t == 0


@pytest.mark.parametrize("action, match", [(np.array([np.nan]), "outside the action space"), (np.array([1.5]), "outside"),
                                           (np.array([0.1, 0.2]), r"shape \(2,\)"), ("high", "not a number")])
def test_invalid_continuous_actions(action, match):
    env = FairThresholdEnv(continuous=True)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=match):
        env.step(action)


def test_episode_metrics_hand_computed():
    infos = [
        {"cost": {"dp": 0.2, "service": -0.1}, "expected_cost": {"dp": 0.1, "service": -0.1}, "group_share": 0.5, "base_share": 0.4},
        {"cost": {"dp": -0.2, "service": 0.3}, "expected_cost": {"dp": -0.1, "service": 0.05}, "group_share": 0.5, "base_share": 0.4},
        {"cost": {"dp": -0.1, "service": -0.1}, "expected_cost": {"dp": -0.1, "service": -0.1}, "group_share": 0.46, "base_share": 0.4},
    ]
    m = episode_metrics(np.array([0.5, 0.6, 0.7]), infos)
    assert m["return"] == pytest.approx(1.8)
    assert m["violation"] == pytest.approx(0.15)
    assert m["realized_violation"] == pytest.approx(0.5)
    assert m["feasible"] == pytest.approx(1 / 3)
    assert m["final_disparity"] == pytest.approx(0.06)


def test_ansi_render():
    env = FairThresholdEnv(render_mode="ansi")
    env.reset(seed=0)
    assert env.render().startswith("t=0")
    env.step(10)
    assert "tau=0.200" in env.render() and "dp=" in env.render()


@pytest.mark.parametrize("kwargs", [{}, {"rho": 0.3, "continuous": True}])
def test_rgb_array_render(kwargs):
    env = FairThresholdEnv(render_mode="rgb_array", **kwargs)
    env.reset(seed=0)
    first = env.render()
    assert first.shape == (520, 900, 3) and first.dtype == np.uint8 and first.std() > 0
    env.step(np.array([0.4], dtype=np.float32) if kwargs else 20)
    after = env.render()
    assert after.shape == first.shape and not np.array_equal(after, first)
    assert FairThresholdEnv.metadata["render_modes"] == ["ansi", "rgb_array"]


@pytest.mark.parametrize("mode", ["ansi", "rgb_array"])
def test_gymnasium_render_check_passes(mode):
    # Made through the registry, so the checker also builds the env in the other render modes.
    check_env(gym.make("gauntlet/FairThreshold-Synthetic-v0", render_mode=mode, horizon=5).unwrapped)


def test_rendering_does_not_change_the_trajectory():
    actions = [int(a) for a in np.random.default_rng(1).integers(0, 51, size=6)]

    def drawn(env, seed):
        obs, _ = env.reset(seed=seed)
        env.render()
        trace = [obs.tobytes()]
        for a in actions:
            obs, reward, terminated, truncated, info = env.step(a)
            env.render()
            trace.append((obs.tobytes(), reward, tuple(info["cost"].values()), info["group_share"]))
        return trace

    kwargs = {"impact_rate": 0.1, "rho": 0.2}
    plain = FairThresholdEnv(**kwargs)
    expected = rollout(plain, actions, seed=5)
    for mode in ("rgb_array", "ansi"):
        env = FairThresholdEnv(render_mode=mode, **kwargs)
        assert drawn(env, 5) == expected
        assert env.np_random.bit_generator.state == plain.np_random.bit_generator.state


@pytest.mark.parametrize("dataset, names", [("synthetic", ("group 0", "group 1")),
                                            ("german", ("age >= 25", "age < 25")),
                                            ("compas", ("Caucasian", "African-American"))])
def test_group_names_label_the_picture(dataset, names):
    env = FairThresholdEnv(dataset=dataset, render_mode="rgb_array")
    assert env.group_names == names
    env.reset(seed=0)
    env.step(25)
    assert env.render().shape == (520, 900, 3)
