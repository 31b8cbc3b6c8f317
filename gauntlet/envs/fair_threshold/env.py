"""FairThreshold: closed-loop fair threshold decision-making.

Paper: "Optimistic Feasible Search for Closed-Loop Fair Threshold Decision-Making"
(arXiv 2512.22313). The paper's exact dynamics are not public; this is Gauntlet's own,
fully documented formulation (spec: ``specs/fair_threshold.md``).

## Description

Every round a batch of ``batch_size`` applicants arrives from two groups ``A in {0, 1}``
(group 1 is the protected group). Each applicant has a score ``s in [0, 1]`` and a latent
favourable outcome ``y`` (repays the loan / does not reoffend). The decision maker picks
one threshold ``tau`` for everyone and accepts the applicants with ``s >= tau``. Reward and
constraint residuals are revealed for the chosen threshold only (bandit feedback). The
acceptance rates feed back into who applies next (closed loop).

Population model. Scores live on ``M = n_score_bins`` bins with centres
``s_m = (m + 1/2) / M``. The population state at round ``t`` is the share ``p_t`` of
group 1 among applicants and the per-group score distributions ``pi_t[g, m]``;
``r[g, m] = P(y = 1 | A = g, s = s_m)`` is fixed.

- ``dataset="synthetic"``: ``pi_0[g]`` is Beta(6, 4) for group 0 and Beta(5, 5) for group 1,
  discretized on the bins (``pi[g, m] = F_g(edge_{m+1}) - F_g(edge_m)``); scores are
  calibrated, ``r[g, m] = s_m``; base share ``p_bar = 0.5``.
- ``dataset="german"`` / ``"compas"``: a logistic regression (scikit-learn, standardized
  features, protected attribute excluded) is fit on the whole dataset
  (:mod:`gauntlet.data.fairness`); ``pi_0[g]`` is the histogram of its predicted
  ``P(y = 1)`` within group ``g``, ``r[g, m] = (sum of y in the bin + 2 s_m) / (count + 2)``
  (empirical outcome rate shrunk towards the score), and ``p_bar`` the data's group-1 share.
  Group 1 is: German Credit, applicants younger than 25 (``p_bar = 0.149``); COMPAS,
  African-American defendants vs Caucasian (``p_bar = 0.60``); ``y = 1`` is good credit /
  no recidivism within two years.

Batch sampling (round ``t``, threshold ``tau``; ``acc_m = 1[s_m >= tau]``): applicants are
i.i.d.: ``A ~ Bernoulli(p_t)``, bin ``m ~ pi_t[A]``, ``y ~ Bernoulli(r[A, m])``. With ``n_g``
the group sizes, ``A_g`` the accepted and ``Y_g`` the accepted with ``y = 1`` in group ``g``,
and the 10-bin score histogram of the batch, this is drawn exactly as one multinomial
over the cells (group, class in {rejected, accepted & y=1, accepted & y=0}, coarse score bin
``floor(10 s_m)``) with probabilities ``w_g * sum_{m in cell} pi_t[g, m] * P(class | m)``,
``w = (1 - p_t, p_t)``; the fine bins of rejected applicants and outcomes nobody observes
are never sampled.

## Action Space

``Discrete(K)`` with ``K = n_thresholds``: action ``k`` means ``tau = k / (K - 1)``
(``k = 0`` accepts everyone, ``k = K - 1`` accepts only ``s >= 1``, i.e. nobody).
With ``continuous=True``: ``Box(0, 1, (1,), float32)``, the action is ``tau`` itself.

## Observation Space

``Box(0, 1, (14,), float32)``, all from the last round's batch:

| index | meaning |
|-------|---------|
| 0, 1  | group shares ``n_0 / n``, ``n_1 / n`` |
| 2, 3  | acceptance rates ``a_0 = A_0 / n_0``, ``a_1 = A_1 / n_1`` |
| 4..13 | score histogram: fraction of the batch with ``s`` in ``[j/10, (j+1)/10)``, j = 0..9 |

After ``reset`` (no batch decided yet) the shares are ``(1 - p_0, p_0)``, the acceptance
rates 0 and the histogram that of the population mixture ``(1 - p_0) pi_0[0] + p_0 pi_0[1]``.

## Rewards

Each accepted applicant yields utility ``+1`` if ``y = 1`` and ``-c`` (``c = default_cost``)
if ``y = 0``; rejected applicants yield 0. The reward is the utility per applicant of the
batch, affinely normalized to ``[0, 1]``:

    u_t = (Y_0 + Y_1 - c (A_0 + A_1 - Y_0 - Y_1)) / n,     reward = (u_t + c) / (1 + c).

Dividing by the batch size rather than by the number accepted (the spec's "mean utility of
accepted applicants") keeps the objective from favouring thresholds that accept almost nobody.
Rejecting everyone gives ``c / (1 + c)``. ``info["expected_reward"]`` is its population mean
``(sum_g w_g sum_m pi_t[g, m] acc_m ((1 + c) r[g, m] - c) + c) / (1 + c)``, ``w = (1 - p_t, p_t)``.

## Constraints (``info["cost"]``, a dict; feasible when every value is <= 0)

- ``"dp"``: demographic-parity residual ``|a_0 - a_1| - eps`` of the realized batch
  (a group absent from the batch uses its population acceptance rate).
- ``"service"`` (only when ``rho`` is given): ``rho - (A_0 + A_1) / n``.

``info["expected_cost"]`` holds the same residuals at the population level,
``|alpha_0 - alpha_1| - eps`` and ``rho - ((1 - p_t) alpha_0 + p_t alpha_1)`` with
``alpha_g = sum_m pi_t[g, m] acc_m``; the benchmark's violation metric uses these.

## Transition (closed loop)

Group shares contract towards a target that rewards the group accepted more often:

    p_{t+1} = (1 - eta) p_t + eta * sigmoid(logit(p_bar) + beta (alpha_1 - alpha_0)),

an affine contraction of factor ``1 - eta`` for any fixed threshold, so ``p_t`` converges
geometrically to ``sigmoid(logit(p_bar) + beta (alpha_1 - alpha_0))``.

Delayed impact (``impact_rate = lambda > 0``, after ml-fairness-gym's lending env): of the
accepted mass in bin ``m``, the fraction ``lambda r[g, m]`` moves up one bin (repaid) and
``lambda (1 - r[g, m])`` down one bin (defaulted); mass at the top/bottom bin stays:

    pi_{t+1}[g, m] = pi_t[g, m] - up[m] - down[m] + up[m - 1] + down[m + 1],
    up[m] = lambda pi_t[g, m] acc_m r[g, m],  down[m] = lambda pi_t[g, m] acc_m (1 - r[g, m]).

Both updates are mean-field (deterministic given the thresholds); the noise is in the batches.

## Starting State

``pi_0`` as above; ``p_0 = initial_share`` if given, else ``p_bar + U(-0.1, 0.1)``
clipped to ``[0.01, 0.99]``.

## Episode End

Never terminates; truncates after ``horizon`` rounds.

## Info

``cost``, ``expected_cost`` (dicts, see above), ``expected_reward``, ``threshold``,
``acceptance_rate`` (realized ``[a_0, a_1]``), ``expected_acceptance_rate`` (``[alpha_0, alpha_1]``),
``group_share`` (``p_{t+1}``, the share the next batch is drawn from; ``p_0`` after reset),
``base_share`` (``p_bar``).

## Arguments

``dataset`` ("synthetic" | "german" | "compas"), ``n_thresholds`` (K >= 2), ``continuous``,
``batch_size`` (n >= 1), ``horizon`` (>= 1), ``eps`` (DP tolerance in [0, 1]), ``rho``
(minimum service rate in [0, 1] or None), ``default_cost`` (c > 0), ``eta`` (in (0, 1)),
``beta`` (feedback strength >= 0), ``initial_share`` (in (0, 1) or None), ``impact_rate``
(lambda in [0, 1]), ``n_score_bins`` (M >= 2), ``data_home`` (where the German/COMPAS files are;
None = ``gauntlet.data.fetch.data_home()``), ``render_mode`` (None | "ansi" | "rgb_array").

## Rendering

``"ansi"`` returns one line of text. ``"rgb_array"`` returns a (520, 900, 3) uint8 picture: the
two groups' score distributions (the population the next batch is drawn from, named by
``env.group_names``) with the last threshold and the accepted region; each group's acceptance
rate in the last batch next to its population rate; the constraint residuals of ``info["cost"]``
(batch) and ``info["expected_cost"]`` (population) and whether the round was feasible. Rendering
reads the state only: trajectories are the same with or without it.

## Version History

- v0: initial release. Later, without changing dynamics, spaces or rewards: ``render_mode="rgb_array"``;
  the round moved into numba kernels (:mod:`gauntlet.envs.fair_threshold.kernels`, the batch still
  drawn from ``np_random``, see :mod:`gauntlet.envs.fair_threshold.random`), with a native vector env
  (:class:`gauntlet.envs.fair_threshold.vector.FairThresholdVectorEnv`, the ids'
  ``vector_entry_point``); trajectories are identical to the numpy code's (tested against
  trajectories recorded from it in ``tests/data/trajectories``).
"""

from __future__ import annotations

import functools
import math
from typing import Any, Literal, Sequence

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from gauntlet.data import fetch
from gauntlet.envs.fair_threshold import kernels, random
from gauntlet.envs.validation import check_choice, check_int, check_range

DATASETS = ("synthetic", "german", "compas")
_SYNTHETIC_BETA = ((6.0, 4.0), (5.0, 5.0))
_SYNTHETIC_BASE_SHARE = 0.5
_N_HIST = 10
_SHRINK = 2.0


@functools.lru_cache(maxsize=16)
def _population(dataset: str, n_bins: int, data_home: str | None) -> tuple[np.ndarray, np.ndarray, float, tuple[str, str]]:
    """(pi_0 (2, M), r (2, M), p_bar, group names) for a dataset; cached because fitting the
    score model is slow."""
    centres = (np.arange(n_bins) + 0.5) / n_bins
    if dataset == "synthetic":
        from scipy.stats import beta as beta_dist

        edges = np.linspace(0.0, 1.0, n_bins + 1)
        pi = np.stack([np.diff(beta_dist.cdf(edges, a, b)) for a, b in _SYNTHETIC_BETA])
        r = np.stack([centres, centres])
        base = _SYNTHETIC_BASE_SHARE
        names = ("group 0", "group 1")
    else:
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        from gauntlet.data.fairness import LOADERS

        data = LOADERS[dataset](data_home)
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        scores = model.fit(data.X, data.y).predict_proba(data.X)[:, 1]
        bins = np.minimum((scores * n_bins).astype(np.int64), n_bins - 1)
        pi = np.zeros((2, n_bins))
        r = np.zeros((2, n_bins))
        for g in (0, 1):
            in_group = data.group == g
            counts = np.bincount(bins[in_group], minlength=n_bins)
            positives = np.bincount(bins[in_group], weights=data.y[in_group], minlength=n_bins)
            pi[g] = counts / counts.sum()
            r[g] = (positives + _SHRINK * centres) / (counts + _SHRINK)
        base = float(data.group.mean())
        names = data.group_names
    pi /= pi.sum(axis=1, keepdims=True)
    pi.setflags(write=False)
    r.setflags(write=False)
    return pi, r, base, names


class FairThresholdEnv(gym.Env):
    """Closed-loop fair threshold selection under demographic parity (see the module docstring)."""

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}

    def __init__(
        self,
        dataset: Literal["synthetic", "german", "compas"] = "synthetic",
        n_thresholds: int = 51,
        continuous: bool = False,
        batch_size: int = 400,
        horizon: int = 2000,
        eps: float = 0.1,
        rho: float | None = None,
        default_cost: float = 1.0,
        eta: float = 0.05,
        beta: float = 2.0,
        initial_share: float | None = None,
        impact_rate: float = 0.0,
        n_score_bins: int = 100,
        data_home: str | None = None,
        render_mode: str | None = None,
    ) -> None:
        self.dataset = check_choice("dataset", dataset, DATASETS)
        self.n_thresholds = check_int("n_thresholds", n_thresholds, 2)
        self.continuous = bool(continuous)
        self.batch_size = check_int("batch_size", batch_size, 1)
        self.horizon = check_int("horizon", horizon, 1)
        self.eps = check_range("eps", eps, 0.0, 1.0)
        self.rho = None if rho is None else check_range("rho", rho, 0.0, 1.0)
        self.default_cost = check_range("default_cost", default_cost, 0.0, open_low=True)
        self.eta = check_range("eta", eta, 0.0, 1.0, open_low=True, open_high=True)
        self.beta = check_range("beta", beta, 0.0)
        self.initial_share = (None if initial_share is None
                              else check_range("initial_share", initial_share, 0.0, 1.0, open_low=True, open_high=True))
        self.impact_rate = check_range("impact_rate", impact_rate, 0.0, 1.0)
        self.n_score_bins = check_int("n_score_bins", n_score_bins, 2)
        self.data_home = data_home
        self.render_mode = check_choice("render_mode", render_mode, (None, *self.metadata["render_modes"]))

        # The cache is keyed by the directory the data is read from, so a changed GAUNTLET_DATA_HOME
        # reads (and checks) that directory's files instead of reusing another directory's fit.
        home = None if dataset == "synthetic" else str(data_home if data_home is not None else fetch.data_home())
        self._pi0, self._r, self.base_share, self.group_names = _population(dataset, self.n_score_bins, home)
        self.scores = (np.arange(self.n_score_bins) + 0.5) / self.n_score_bins
        self.thresholds = np.linspace(0.0, 1.0, self.n_thresholds)
        cuts = np.searchsorted(self.scores, self.thresholds, side="left")
        self._grid = [(float(tau), int(cut)) for tau, cut in zip(self.thresholds, cuts)]
        self._hist_index = np.minimum((self.scores * _N_HIST).astype(np.int64), _N_HIST - 1)
        hist_lo = np.searchsorted(self._hist_index, np.arange(_N_HIST), side="left")
        hist_hi = np.searchsorted(self._hist_index, np.arange(_N_HIST), side="right")
        self._logit_base = math.log(self.base_share / (1.0 - self.base_share))
        self.constraint_names: tuple[str, ...] = ("dp",) if self.rho is None else ("dp", "service")
        self._consts = kernels.pack_constants(self.batch_size, self.default_cost, self.eps, self.rho, self.eta,
                                              self.beta, self._logit_base, self.impact_rate, self._r, hist_lo, hist_hi)

        if self.continuous:
            self.action_space: spaces.Space = spaces.Box(0.0, 1.0, shape=(1,), dtype=np.float32)
        else:
            self.action_space = spaces.Discrete(self.n_thresholds)
        self.observation_space = spaces.Box(0.0, 1.0, shape=(4 + _N_HIST,), dtype=np.float32)

        # The whole round state in one row (layout: gauntlet.envs.fair_threshold.kernels).
        self._state = np.zeros(kernels.state_size(self.n_score_bins))
        self._state[0] = self.base_share
        self._reset_scores(self._state)
        # Without delayed impact pi never changes, so every cut's cells are computed once.
        self._cut_cache = kernels.cut_cache(self._state, self._consts) if self.impact_rate == 0.0 else np.zeros((0, 0))
        self._t = 0
        self._last: dict[str, Any] = {}
        self._rng_owner: np.random.Generator | None = None
        self._rng_view = _NO_VIEW
        self._pool_row = _POOL_ROWS
        self._grid_actions = () if self.continuous else _PLAIN_INTS

    def __setstate__(self, state: dict[str, Any]) -> None:
        # The PCG64 view aliases the memory of one generator object; a copy (deepcopy, pickle)
        # holds a new generator, so the view is derived again from it at the next step.
        self.__dict__.update(state)
        self._rng_owner, self._rng_view = None, _NO_VIEW

    @property
    def config(self) -> dict[str, Any]:
        """The constructor keywords (without render_mode): enough to rebuild an identical env."""
        keys = ("dataset", "n_thresholds", "continuous", "batch_size", "horizon", "eps", "rho", "default_cost",
                "eta", "beta", "initial_share", "impact_rate", "n_score_bins", "data_home")
        return {k: getattr(self, k) for k in keys}

    @property
    def group_share(self) -> float:
        return float(self._state[0])

    @property
    def _pi(self) -> np.ndarray:
        """The current score distributions pi_t (2, M), a view of the state."""
        m = self.n_score_bins
        return self._state[2 : 2 + 2 * m].reshape(2, m)

    def _reset_scores(self, state: np.ndarray) -> None:
        """pi_0 and its cumulative sums into a state row."""
        m = self.n_score_bins
        state[2 : 2 + 2 * m] = self._pi0.ravel()
        kernels.set_scores(state, self._consts)

    # ------------------------------------------------------------------ gym API
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        share = self._initial_share(self.np_random)
        self._state[0] = share
        self._state[1] = 0.0
        self._reset_scores(self._state)
        self._t = 0
        self._last = {"threshold": None}
        return self._reset_observation(share), {"group_share": share, "base_share": self.base_share}

    def _initial_share(self, rng: np.random.Generator) -> float:
        if self.initial_share is not None:
            return self.initial_share
        return float(np.clip(self.base_share + rng.uniform(-0.1, 0.1), 0.01, 0.99))

    def _reset_observation(self, share: float) -> np.ndarray:
        mixture = (1.0 - share) * self._pi0[0] + share * self._pi0[1]
        obs = np.zeros(4 + _N_HIST, dtype=np.float32)
        obs[0], obs[1] = 1.0 - share, share
        obs[4:] = np.bincount(self._hist_index, weights=mixture, minlength=_N_HIST)
        return np.clip(obs, 0.0, 1.0)

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if type(action) in self._grid_actions and 0 <= action < self.n_thresholds:
            tau, cut = self._grid[action]
        else:
            tau, cut = self._threshold(action)
        generator = self.np_random
        if generator is not self._rng_owner:
            self._rng_owner, self._rng_view = generator, random.pcg64_state(generator)
            if self._rng_view is None:
                self._rng_view = _NO_VIEW
        row = self._pool_row
        if row == _POOL_ROWS:
            # Fresh output arrays for the next steps: each step hands out its own rows.
            self._obs_pool = np.empty((_POOL_ROWS, 4 + _N_HIST), dtype=np.float32)
            self._out_pool = np.empty((_POOL_ROWS, kernels.N_OUT))
            row = 0
        if self._rng_view is _NO_VIEW:
            # Not Gymnasium's PCG64: NumPy draws the batch from the env's generator itself.
            counts = generator.multinomial(self.batch_size, kernels.cell_probabilities(cut, self._state, self._consts))
            kernels.step_given(cut, self._state, self._consts, counts, self._obs_pool[row], self._out_pool[row])
        else:
            kernels.step_one(cut, self._state, self._consts, self._cut_cache, self._rng_view, self._obs_pool,
                             self._out_pool, row)
        self._pool_row = row + 1
        obs, out = self._obs_pool[row], self._out_pool[row]
        self._t += 1
        reward, expected_reward, dp, service, expected_dp, expected_service, rate0, rate1, alpha0, alpha1, share = out.tolist()
        if self.rho is None:
            cost, expected_cost = {"dp": dp}, {"dp": expected_dp}
        else:
            cost, expected_cost = {"dp": dp, "service": service}, {"dp": expected_dp, "service": expected_service}
        info = {
            "cost": cost,
            "expected_cost": expected_cost,
            "expected_reward": expected_reward,
            "threshold": tau,
            "acceptance_rate": out[6:8],
            "expected_acceptance_rate": out[8:10],
            "group_share": share,
            "base_share": self.base_share,
        }
        self._last = info
        return obs, reward, False, self._t >= self.horizon, info

    def render(self) -> str | np.ndarray | None:
        """``"ansi"``: one line of text; ``"rgb_array"``: the picture of
        :mod:`gauntlet.envs.fair_threshold.render` (score distributions per group, the threshold,
        acceptance rates per group, the constraint residuals and the round's feasibility)."""
        if self.render_mode == "rgb_array":
            from gauntlet.envs.fair_threshold.render import Round, draw

            last = None if self._last.get("threshold") is None else self._last
            return draw(Round(self.dataset, self.group_names, self._t, self.horizon, self.scores, self._pi.copy(),
                              self.group_share, self.base_share, self.eps, last))
        if self.render_mode != "ansi":
            return None
        last = self._last
        if last.get("threshold") is None:
            return f"t=0 group_share={self.group_share:.3f}"
        costs = " ".join(f"{k}={v:+.3f}" for k, v in last["cost"].items())
        a0, a1 = last["acceptance_rate"]
        return (f"t={self._t} tau={last['threshold']:.3f} acceptance=({a0:.3f}, {a1:.3f}) "
                f"group_share={self.group_share:.3f} {costs}")

    # ------------------------------------------------------------------ internals
    def _threshold(self, action: Any) -> tuple[float, int]:
        if self.continuous:
            try:
                a = np.asarray(action, dtype=np.float64)
            except (TypeError, ValueError):
                raise ValueError(f"action {action!r} is not a number; expected an array of shape (1,) in [0, 1]") from None
            if a.shape != (1,):
                raise ValueError(f"action has shape {a.shape}; expected (1,) (a threshold in [0, 1])")
            tau = float(a[0])
            if not math.isfinite(tau) or not 0.0 <= tau <= 1.0:
                raise ValueError(f"action {tau!r} is outside the action space [0, 1]")
            return tau, int(np.searchsorted(self.scores, tau, side="left"))
        if isinstance(action, (int, np.integer)) and not isinstance(action, bool):
            k = int(action)
        elif isinstance(action, np.ndarray) and action.shape == () and np.issubdtype(action.dtype, np.integer):
            k = int(action)
        else:
            raise ValueError(f"action {action!r} is not an integer threshold index in [0, {self.n_thresholds - 1}]")
        if not 0 <= k < self.n_thresholds:
            raise ValueError(f"action {k} is outside the action space: threshold index in [0, {self.n_thresholds - 1}]")
        return self._grid[k]


_NO_VIEW = np.zeros(0, dtype=np.uint64)
_POOL_ROWS = 64
# Integer actions that index the threshold grid directly (the common case, checked first).
_PLAIN_INTS = (int, np.int64)


def episode_metrics(rewards: Sequence[float] | np.ndarray, infos: Sequence[dict[str, Any]]) -> dict[str, float]:
    """One episode's metrics.

    - ``return``: sum of rewards; ``mean_reward``: its per-round mean.
    - ``violation``: ``sum_t sum_j max(expected_cost_j(t), 0)``, the population-level residuals
      of the chosen thresholds (noise-free, so a feasible fixed threshold scores 0).
    - ``feasible``: fraction of rounds whose chosen threshold was feasible (all expected residuals <= 0).
    - ``final_disparity``: ``|p_T - p_bar|``, how far the closed loop moved the final group-1
      share ``p_T`` from the base share.
    - ``realized_violation``: the same sum over the realized residuals ``info["cost"]``.
    """
    rewards = np.asarray(rewards, dtype=np.float64)
    if len(infos) == 0:
        return {"return": 0.0, "mean_reward": float("nan"), "violation": 0.0, "feasible": float("nan"),
                "final_disparity": float("nan"), "realized_violation": 0.0}
    expected = np.array([list(info["expected_cost"].values()) for info in infos], dtype=np.float64)
    realized = np.array([list(info["cost"].values()) for info in infos], dtype=np.float64)
    return {
        "return": float(rewards.sum()),
        "mean_reward": float(rewards.mean()),
        "violation": float(np.maximum(expected, 0.0).sum()),
        "feasible": float((expected <= 0.0).all(axis=1).mean()),
        "final_disparity": float(abs(infos[-1]["group_share"] - infos[-1]["base_share"])),
        "realized_violation": float(np.maximum(realized, 0.0).sum()),
    }
