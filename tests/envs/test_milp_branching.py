import hashlib
import subprocess
import sys
import threading
import warnings
from copy import deepcopy
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("pyscipopt")

import gymnasium as gym  # noqa: E402
from gymnasium.utils import seeding  # noqa: E402
from gymnasium.utils import env_checker  # noqa: E402
from gymnasium.utils.env_checker import check_env, data_equivalence  # noqa: E402
from scipy.optimize import Bounds, LinearConstraint, milp  # noqa: E402
from stable_baselines3.common.env_checker import check_env as sb3_check_env  # noqa: E402

import gauntlet  # noqa: E402,F401  (registers the ids)
from gauntlet.envs.milp_branching import instances, observation  # noqa: E402
from gauntlet.envs.milp_branching.env import (  # noqa: E402
    MILPBranchingEnv,
    episode_metrics,
    most_fractional_column,
    solve_inline,
    strong_branching_scores,
)
from gauntlet.envs.milp_branching.render import SearchView, build_tree, draw, tree_layout  # noqa: E402
from gauntlet.envs.milp_branching.instances import (  # noqa: E402
    SIZES,
    barabasi_albert_edges,
    generate,
    greedy_clique_partition,
)

PROBLEMS = list(SIZES)
# The same SCIP settings as tests/conftest.py's cycles_env: no presolve, cuts or propagation.
BARE = {"presolving/maxrounds": 0, "separating/maxroundsroot": 0, "propagating/maxroundsroot": 0}


@pytest.fixture
def cycles_file(tmp_path, odd_cycles_lp):
    return odd_cycles_lp(tmp_path / "cycles.lp")


def tiny_env(path, **kwargs):
    return MILPBranchingEnv(instance_path=path, scip_params=BARE, **kwargs)


def solver_threads():
    return sum(t.name == "gauntlet-scip" for t in threading.enumerate())


def run_episode(env, seed, policy=None):
    obs, info = env.reset(seed=seed)
    rewards, infos, actions = [], [info], []
    while True:
        action = policy(obs) if policy else most_fractional_column(obs["variable_features"], obs["candidates"])
        actions.append(action)
        obs, reward, terminated, truncated, info = env.step(action)
        rewards.append(reward)
        infos.append(info)
        if terminated or truncated:
            return np.array(rewards), infos, actions


# ------------------------------------------------------------------------ generators
@pytest.mark.parametrize("problem", PROBLEMS)
def test_generators_are_deterministic_per_seed(problem):
    a = generate(problem, "small", np.random.default_rng(7))
    b = generate(problem, "small", np.random.default_rng(7))
    c = generate(problem, "small", np.random.default_rng(8))
    assert np.array_equal(a.c, b.c) and (a.A != b.A).nnz == 0
    assert np.array_equal(a.lhs, b.lhs) and np.array_equal(a.rhs, b.rhs)
    assert a.A.shape != c.A.shape or (a.A != c.A).nnz > 0 or not np.array_equal(a.c, c.c)


@pytest.mark.parametrize("problem", PROBLEMS)
def test_generated_instances_are_feasible(problem):
    inst = generate(problem, "small", np.random.default_rng(3))
    sign = -1.0 if inst.maximize else 1.0
    res = milp(sign * inst.c, constraints=LinearConstraint(inst.A, inst.lhs, inst.rhs),
               integrality=inst.integrality.astype(int), bounds=Bounds(inst.lb, inst.ub),
               options={"time_limit": 20})
    assert res.x is not None, res.message
    x = res.x
    assert np.all(inst.A @ x >= inst.lhs - 1e-6) and np.all(inst.A @ x <= inst.rhs + 1e-6)


def instance_digest(inst) -> str:
    h = hashlib.sha256()
    for a in (inst.c, inst.A.indptr, inst.A.indices, inst.A.data, inst.lhs, inst.rhs, inst.lb, inst.ub, inst.integrality):
        h.update(np.ascontiguousarray(a).tobytes())
    h.update(f"{inst.name}|{inst.maximize}|{inst.A.shape}".encode())
    return h.hexdigest()


# The first official test instance of every class (eval seed 10000, drawn as reset(seed=10000)
# draws it: the instance, then SCIP's seed shift), pinned to the values the official boards were
# measured on: a change to the generators must leave the train size alone.
TRAIN_PINS = {
    "setcover": ("ab30fdc393da10a6", 87310224),
    "cauction": ("caa3cd9b17675274", 1137664524),
    "facility": ("68335fc9c723052d", 2035905326),
    "indset": ("a1c9dd2f81e92246", 9151621),
}


@pytest.mark.parametrize("problem", PROBLEMS)
def test_train_size_instances_are_pinned(problem):
    rng, _ = seeding.np_random(10_000)
    inst = generate(problem, "train", rng)
    seed_shift = int(rng.integers(0, 2**31 - 1))
    assert (instance_digest(inst)[:16], seed_shift) == TRAIN_PINS[problem]


def test_set_cover_structure():
    inst = generate("setcover", "small", np.random.default_rng(0))
    p = SIZES["setcover"]["small"]
    assert inst.A.shape == (p["n_rows"], p["n_cols"])
    assert inst.A.nnz == int(p["n_rows"] * p["n_cols"] * p["density"])
    assert np.all(np.diff(inst.A.tocsc().indptr) >= 2)  # every column covers >= 2 rows
    assert np.all(np.diff(inst.A.indptr) >= 1)  # every row is covered
    assert inst.c.min() >= 1 and inst.c.max() <= 100 and np.all(inst.c == np.round(inst.c))


def test_facility_capacities_scaled_to_ratio():
    inst = generate("facility", "small", np.random.default_rng(0))
    p = SIZES["facility"]["small"]
    nc, nf = p["n_customers"], p["n_facilities"]
    demands = inst.A[nc].toarray().ravel()[nf:].reshape(nc, nf)[:, 0]
    capacities = -inst.A[nc : nc + nf].toarray()[np.arange(nf), np.arange(nf)]
    assert capacities.sum() == pytest.approx(5.0 * demands.sum())
    assert inst.integrality[:nf].all() and not inst.integrality[nf:].any()


def test_independent_set_formulation_covers_every_edge_once_with_cliques():
    rng = np.random.default_rng(0)
    edges = barabasi_albert_edges(rng, 60, 4)
    assert len(edges) == 4 * (60 - 4)
    cliques = greedy_clique_partition(60, edges)
    assert sorted(v for c in cliques for v in c) == list(range(60))
    adj = {(min(u, v), max(u, v)) for u, v in edges}
    for clique in cliques:
        for i, u in enumerate(clique):
            for v in clique[i + 1 :]:
                assert (min(u, v), max(u, v)) in adj
    inst = generate("indset", "small", np.random.default_rng(0))
    dense = inst.A.toarray()
    for u, v in barabasi_albert_edges(np.random.default_rng(0), SIZES["indset"]["small"]["n_nodes"], 4):
        assert np.any((dense[:, u] > 0) & (dense[:, v] > 0))


def test_generator_rejects_bad_parameters():
    with pytest.raises(ValueError, match="density"):
        instances.set_cover(np.random.default_rng(0), density=1.5)
    with pytest.raises(ValueError, match="add_item_prob"):
        instances.combinatorial_auction(np.random.default_rng(0), add_item_prob=2.0)
    with pytest.raises(ValueError, match="size='huge'"):
        generate("setcover", "huge", np.random.default_rng(0))


# ------------------------------------------------------------------------------ env
def test_constructor_validates_arguments(tmp_path):
    with pytest.raises(ValueError, match="problem='knapsack'"):
        MILPBranchingEnv(problem="knapsack")
    with pytest.raises(ValueError, match="size='tiny'"):
        MILPBranchingEnv(size="tiny")
    with pytest.raises(ValueError, match="reward='gap'"):
        MILPBranchingEnv(reward="gap")
    with pytest.raises(ValueError, match="time_limit=-1"):
        MILPBranchingEnv(time_limit=-1)
    with pytest.raises(ValueError, match="max_vars=0"):
        MILPBranchingEnv(max_vars=0)
    with pytest.raises(ValueError, match="'no/such/param'"):
        MILPBranchingEnv(scip_params={"no/such/param": 1})


def test_bad_files_give_clear_errors(tmp_path, odd_cycles_lp):
    with pytest.raises(ValueError, match="does not exist"):
        MILPBranchingEnv(instance_path=str(tmp_path / "missing.lp"))
    garbage = tmp_path / "garbage.lp"
    garbage.write_text("this is not\n a linear program ::: at all\n")
    with pytest.raises(ValueError, match="could not be parsed"):
        MILPBranchingEnv(instance_path=str(garbage))
    with pytest.raises(ValueError, match="scip_params"):
        MILPBranchingEnv(instance_path=odd_cycles_lp(tmp_path / "c.lp"), scip_params={"no/such/param": 1})


@pytest.mark.parametrize(
    "body, status",
    [
        ("Minimize\n obj: x + y\nSubject To\n c: x + y >= 3\nBinary\n x y\nEnd\n", "infeasible"),
        ("Maximize\n obj: x + y\nSubject To\n c: x - y <= 1\nBounds\n x >= 0\n y >= 0\nGeneral\n x y\nEnd\n", "unbounded|inforunbd"),
    ],
)
def test_infeasible_and_unbounded_instances_raise(tmp_path, body, status):
    path = tmp_path / "bad.lp"
    path.write_text(body)
    env = MILPBranchingEnv(instance_path=str(path))
    with pytest.raises(ValueError, match=status):
        env.reset(seed=0)
    env.close()


def test_episode_ends_with_status_and_scip_node_count(cycles_file):
    env = tiny_env(cycles_file)
    rewards, infos, _ = run_episode(env, seed=0)
    final = infos[-1]
    assert final["status"] == "optimal"
    assert final["nodes"] == env.model.getNNodes()
    assert final["lp_iterations"] == env.model.getNLPIterations()
    assert rewards.sum() == -final["nodes"]  # the return is minus the node count
    assert final["primal_bound"] == pytest.approx(8.0) and final["gap"] == 0.0
    metrics = episode_metrics(rewards, infos)
    assert metrics["nodes"] == final["nodes"] and metrics["solving_time"] > 0
    env.close()


def test_lp_iteration_reward_sums_to_total(cycles_file):
    env = tiny_env(cycles_file, reward="lp_iterations")
    rewards, infos, _ = run_episode(env, seed=0)
    assert rewards.sum() == -infos[-1]["lp_iterations"]
    env.close()


def test_root_observation_of_odd_cycles(cycles_file):
    env = tiny_env(cycles_file)
    obs, info = env.reset(seed=0)
    assert obs in env.observation_space
    n_vars, n_rows, n_edges, n_cands = obs["sizes"]
    assert (n_vars, n_rows, n_edges, n_cands) == (20, 20, 40, 20)
    np.testing.assert_allclose(obs["variable_features"][:20, 8], 0.5)  # LP value
    np.testing.assert_allclose(obs["variable_features"][:20, 9], 0.5)  # fractionality
    np.testing.assert_allclose(obs["edge_features"][:40, 0], 1 / np.sqrt(2), rtol=1e-6)
    np.testing.assert_allclose(obs["row_features"][:20, 0], 1 / np.sqrt(2), rtol=1e-6)  # bias rhs/||a||
    assert obs["row_features"][:20, 2].all()  # every edge constraint is tight at x = 1/2
    assert info["action_mask"].sum() == 20 and np.array_equal(env.action_masks(), info["action_mask"])
    assert info["depth"] == 0
    env.close()


def test_invalid_actions_are_rejected(cycles_file):
    env = tiny_env(cycles_file)
    obs, _ = env.reset(seed=0)
    with pytest.raises(ValueError, match="outside the action space"):
        env.step(20)
    with pytest.raises(ValueError, match="non-integer"):
        env.step(np.nan)
    with pytest.raises(ValueError, match="one integer"):
        env.step(np.array([1, 2]))
    obs, *_ = env.step(0)
    not_candidate = int(np.flatnonzero(obs["action_mask"] == 0)[0])
    with pytest.raises(ValueError, match="not a branching candidate"):
        env.step(not_candidate)
    env.close()
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)


def test_same_seed_same_trajectory():
    env = MILPBranchingEnv(problem="setcover", size="small")
    runs = []
    for _ in range(2):
        obs, info = env.reset(seed=2)  # seed 2's first instance needs branching (no redraws)
        first = {k: v.copy() for k, v in obs.items()}
        obs, reward, *_ = env.step(most_fractional_column(obs["variable_features"], obs["candidates"]))
        runs.append((first, reward, info["instance"], env.last_params))
    (o1, r1, n1, p1), (o2, r2, n2, p2) = runs
    assert all(np.array_equal(o1[k], o2[k]) for k in o1) and r1 == r2 and n1 == n2 and p1 == p2
    env.close()


def test_env_and_inline_rule_build_identical_trees():
    env = MILPBranchingEnv(problem="setcover", size="small")
    for seed in (2,):
        rewards, infos, actions = run_episode(env, seed=seed)
        inline = solve_inline(env.last_instance, env.last_params,
                              lambda g: most_fractional_column(g.variable_features, g.candidates))
        assert inline["decisions"] == len(actions)
        assert inline["nodes"] == infos[-1]["nodes"]
        assert inline["lp_iterations"] == infos[-1]["lp_iterations"]
        assert inline["primal_bound"] == infos[-1]["primal_bound"]
    env.close()


def test_exception_in_solver_call_is_forwarded(cycles_file):
    env = tiny_env(cycles_file)
    env.reset(seed=0)

    def boom(model, graph):
        raise KeyError("raised inside the SCIP callback")

    with pytest.raises(KeyError, match="inside the SCIP callback"):
        env.call_in_solver(boom)
    # the solve survives a failing call and the episode can continue
    assert env.call_in_solver(lambda model, graph: len(graph.candidate_vars)) == 20
    env.step(0)
    env.close()


def test_exception_in_observation_is_forwarded_and_thread_ends(cycles_file, monkeypatch):
    calls = {"n": 0}
    original = observation.NodeBipartiteExtractor.__call__

    def flaky(self, model):
        calls["n"] += 1
        if calls["n"] == 2:
            raise ZeroDivisionError("feature extraction failed")
        return original(self, model)

    monkeypatch.setattr(observation.NodeBipartiteExtractor, "__call__", flaky)
    env = tiny_env(cycles_file)
    env.reset(seed=0)
    with pytest.raises(ZeroDivisionError, match="feature extraction failed"):
        env.step(0)
    assert solver_threads() == 0
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)
    env.close()


def test_no_leaked_threads_over_many_resets_and_closes(cycles_file):
    assert solver_threads() == 0
    env = tiny_env(cycles_file)
    for i in range(50):
        env.reset(seed=i)
        if i % 2:
            env.step(int(np.flatnonzero(env.action_masks())[0]))
        assert solver_threads() == 1
        if i % 3 == 0:
            env.close()  # close mid-episode; the next reset starts a fresh solve
            assert solver_threads() == 0
    env.close()
    env.close()  # idempotent
    assert solver_threads() == 0


def test_scip_default_delegation_ends_episode(cycles_file):
    env = tiny_env(cycles_file)
    env.reset(seed=0)
    env.let_scip_branch()
    obs, reward, terminated, truncated, info = env.step(0)
    assert terminated and info["status"] == "optimal" and reward == -info["nodes"]
    env.close()


def test_candidate_scores(cycles_file):
    env = tiny_env(cycles_file)
    obs, _ = env.reset(seed=0)
    for kind in ("strong", "pseudocost"):
        scores = env.candidate_scores(kind)
        assert scores.shape == (env.max_vars,)
        assert np.all(np.isfinite(scores[:20]))
        if kind == "strong":  # the encoded preference order (see strong_branching_scores)
            cand = scores[obs["candidates"][: int(obs["sizes"][3])]]
            assert np.all((cand >= 0.0) & (cand <= 2.0))
    with pytest.raises(ValueError, match="kind='best'"):
        env.candidate_scores("best")
    env.close()


def test_solver_limit_truncates(cycles_file):
    env = MILPBranchingEnv(instance_path=cycles_file, scip_params={**BARE, "limits/nodes": 2})
    rewards, infos, _ = run_episode(env, seed=0)
    assert infos[-1]["status"] == "nodelimit" and infos[-1]["nodes"] == 2
    env.close()


def test_gymnasium_and_sb3_checkers(cycles_file):
    env = tiny_env(cycles_file)
    check_env(env, skip_render_check=True)
    sb3_check_env(env, warn=False)
    env.close()


def _step_determinism_at_a_current_candidate(env, seed=123):
    """Gymnasium's ``check_step_determinism`` with the action drawn after ``reset(seed)``, not
    before it: an action drawn at another node is rarely a candidate at the new root."""
    env.reset(seed=seed)
    env.action_space.seed(seed)
    action = env.action_space.sample()
    obs_0, rew_0, term_0, trunc_0, info_0 = env.step(action)
    obs_0, info_0 = deepcopy(obs_0), deepcopy(info_0)
    env.reset(seed=seed)
    obs_1, rew_1, term_1, trunc_1, info_1 = env.step(action)
    assert data_equivalence(obs_0, obs_1, exact=True) and rew_0 == rew_1
    assert term_0 == term_1 and trunc_0 is trunc_1 is False
    assert data_equivalence(info_0, info_1, exact=True)


MILP_IDS = sorted(t for t in gym.registry if t.startswith("gauntlet/MILPBranching"))


@pytest.mark.parametrize("env_id", MILP_IDS)
def test_gymnasium_check_env_at_the_small_size(env_id, monkeypatch):
    """Every check of Gymnasium's ``check_env``, the render checks included; the step-determinism
    check draws its action after the seeded reset (see the env docstring, Action Space)."""
    monkeypatch.setattr(env_checker, "check_step_determinism", _step_determinism_at_a_current_candidate)
    env = gym.make(env_id, size="small", render_mode="rgb_array")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*Box observation space (minimum|maximum) value is")
        check_env(env.unwrapped)
    env.close()
    assert solver_threads() == 0


def test_sb3_check_env_at_the_small_size():
    env = gym.make("gauntlet/MILPBranching-SetCover-v0", size="small")
    sb3_check_env(env.unwrapped, warn=False)  # samples its actions after each reset: all candidates
    env.close()


def test_an_action_drawn_at_another_node_is_rejected_and_the_episode_goes_on():
    env = MILPBranchingEnv(problem="facility", size="small")
    env.reset(seed=0)
    env.action_space.seed(0)
    stale = {int(env.action_space.sample()) for _ in range(50)}
    obs, _ = env.reset(seed=5)
    not_candidates = sorted(stale - set(obs["candidates"][: int(obs["sizes"][3])].tolist()))
    assert not_candidates, "seed 5's root shares every sampled candidate of seed 0's root"
    with pytest.raises(ValueError, match=f"action={not_candidates[0]} is not a branching candidate"):
        env.step(not_candidates[0])
    env.action_space.seed(0)
    action = env.action_space.sample()
    assert obs["action_mask"][action] == 1  # sample() follows the node now waiting
    env.step(action)
    env.close()


def test_registered_ids_build_and_import_stays_light():
    for task in ("gauntlet/MILPBranching-v0", "gauntlet/MILPBranching-IndependentSet-v0"):
        env = gym.make(task, size="small")
        assert isinstance(env.unwrapped, MILPBranchingEnv)
        env.close()
    code = "import sys, gauntlet; print('pyscipopt' in sys.modules, 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


class _FakeStrongBranchingModel:
    """Stands in for SCIP at a node with LP value 10: (down, up, down_inf, up_inf, lperror) per variable."""

    def __init__(self, results):
        self.results = results

    def getLPObjVal(self):
        return 10.0

    def startStrongbranch(self):
        pass

    def endStrongbranch(self):
        pass

    def getVarStrongbranch(self, var, itlim, idempotent):
        down, up, down_inf, up_inf, lperror = self.results[var]
        return down, up, True, True, down_inf, up_inf, False, False, lperror


def test_strong_branching_preference_follows_vanilla_full_strong_branching():
    results = [
        (13.0, 14.0, False, False, False),  # product 3 * 4 = 12
        (10.0, 30.0, False, False, False),  # product 1e-6 * 20: a large gain on one side only
        (99.0, 12.0, True, False, False),   # down child infeasible, up gain 2
        (99.0, 15.0, True, False, False),   # down child infeasible, up gain 5
        (11.0, 99.0, False, True, False),   # up child infeasible, down gain 1
        (0.0, 0.0, False, False, True),     # LP error
    ]
    graph = SimpleNamespace(candidate_vars=list(range(len(results))))
    scores = strong_branching_scores(_FakeStrongBranchingModel(results), graph)
    np.testing.assert_allclose(scores, [12 / 13, 2e-5 / (1 + 2e-5), 1 + 2 / 3, 1 + 5 / 6, 1.5, 0.0])
    assert int(np.argmax(scores)) == 3  # one infeasible child beats any product score; larger gain wins

    both = results + [(99.0, 99.0, True, True, False), (99.0, 99.0, True, True, False)]
    scores = strong_branching_scores(_FakeStrongBranchingModel(both), SimpleNamespace(candidate_vars=list(range(8))))
    assert scores[6] == scores[7] == 2.0 and int(np.argmax(scores)) == 6  # first node-infeasible candidate


# ------------------------------------------------------------------------- small sizes
@pytest.mark.parametrize("seed", [42, 123, 1000])
def test_small_auctions_branch_on_every_seed(seed):
    env = MILPBranchingEnv(problem="cauction", size="small")
    obs, info = env.reset(seed=seed)
    assert info["depth"] == 0 and info["n_candidates"] > 0 and obs["action_mask"].sum() == info["n_candidates"]
    assert info["instance_draws"] >= 1
    env.close()


def test_bad_seeds_and_exhausted_draws_are_value_errors():
    env = MILPBranchingEnv(problem="setcover", size="small")
    for seed in (-1, 1.5, "7", True):
        with pytest.raises(ValueError, match=r"seed=.*allowed: integers >= 0"):
            env.reset(seed=seed)
    seed = next(s for s in range(20) if env.reset(seed=s)[1]["instance_draws"] > 1)
    draws = env.reset(seed=seed)[1]["instance_draws"]
    env.close()
    short = MILPBranchingEnv(problem="setcover", size="small", max_instance_draws=draws - 1)
    with pytest.raises(ValueError, match=rf"max_instance_draws={draws - 1} is too small for problem='setcover', size='small'"):
        short.reset(seed=seed)
    assert short.reset(seed=np.int64(2))[1]["instance_draws"] == 1  # numpy integers are seeds too
    short.close()


def test_an_lp_wider_than_max_vars_is_a_value_error():
    env = MILPBranchingEnv(problem="setcover", size="small", max_vars=5)
    with pytest.raises(ValueError, match=r"max_vars=5 is too small: the LP has \d+ columns"):
        env.reset(seed=2)
    env.close()
    assert solver_threads() == 0


# ------------------------------------------------------------------------------ render
def test_render_modes_are_checked():
    with pytest.raises(ValueError, match=r"render_mode='human' is not supported; allowed: None, 'rgb_array', 'ansi'"):
        MILPBranchingEnv(size="small", render_mode="human")


def _play(env, seed, render):
    """Most-fractional decisions on ``env``; every frame drawn when ``render``."""
    obs, info = env.reset(seed=seed)
    trace, frames = [(obs, info)], [env.render()] if render else []
    while True:
        obs, reward, terminated, truncated, info = env.step(most_fractional_column(obs["variable_features"], obs["candidates"]))
        trace.append((obs, reward, terminated, truncated, info))
        if render:
            frames.append(env.render())
        if terminated or truncated:
            return trace, frames


def test_rgb_array_frames_leave_the_solve_unchanged():
    drawn = MILPBranchingEnv(problem="setcover", size="small", render_mode="rgb_array")
    plain = MILPBranchingEnv(problem="setcover", size="small")
    with_frames, frames = _play(drawn, seed=7, render=True)  # 4 decisions, 9 nodes
    without, _ = _play(plain, seed=7, render=False)
    assert len(with_frames) == len(without) > 3
    for a, b in zip(with_frames, without):
        for x, y in zip(a, b):
            if isinstance(y, dict) and "solving_time" in y:  # wall clock, reported at the end only
                x, y = {k: v for k, v in x.items() if k != "solving_time"}, {k: v for k, v in y.items() if k != "solving_time"}
            assert data_equivalence(x, y, exact=True)
    for frame in frames:
        assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3 and frame.shape[:2] == frames[0].shape[:2]
        assert frame.min() < 100 and frame.max() == 255  # drawn, not a blank canvas
    assert not np.array_equal(frames[0], frames[-1])  # the tree grows, the end shows SCIP's statistics
    drawn.close()
    plain.close()


def test_render_before_reset_and_ansi():
    env = MILPBranchingEnv(problem="setcover", size="small", render_mode="rgb_array")
    frame = env.render()
    assert frame.shape[2] == 3 and frame.dtype == np.uint8
    env.close()
    env = MILPBranchingEnv(problem="setcover", size="small", render_mode="ansi")
    env.reset(seed=2)
    assert env.render().startswith("setcover-150x300: nodes=")
    env.close()


def test_search_tree_of_a_hand_made_view():
    # root 1 branched into 2 (branched) and 3 (open); 2's children: 4 (waiting) and one that
    # SCIP closed without asking for a decision
    view = SearchView("demo", [(1, 0, 0, 10.0, 5.0), (2, 1, 1, 10.0, 6.0), (4, 2, 2, 9.0, 6.5)], True,
                      open_nodes=[(3, 1, 1)], candidates=np.array([0, 3]), distance=np.array([0.5, 0.1]),
                      pseudocost=np.array([0.0, 2.0]), info={"nodes": 4, "lp_iterations": 20, "gap": 0.3})
    tree = build_tree(view)
    assert tree.kind == {1: "branched", 2: "branched", 4: "waiting", 3: "open", -1: "closed"}
    assert tree.parent[-1] == 2 and tree.depth[-1] == 2
    x = tree_layout(tree.parent)
    assert (x[4], x[-1], x[3]) == (0.0, 1.0, 2.0)  # leaves depth-first, closed children last
    assert x[2] == 0.5 and x[1] == 1.25  # a parent halfway between its first and last child
    frame = draw(view)
    assert frame.shape == (540, 960, 3)
    handed = build_tree(SearchView("demo", view.seen, False, info={"status": "optimal"}, scip_took_over=True))
    assert handed.kind[4] == "scip" and 4 not in handed.parent.values()  # SCIP's subtree is not drawn
    assert handed.kind[-1] == handed.kind[-2] == "closed"  # the solve is over: no open node is left
