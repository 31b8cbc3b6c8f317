"""Multi-objective task offloading in mobile edge computing (delay vs. energy).

## Description

A base station receives computation tasks from ``n_users`` mobile users and must offload
each one, in arrival order, to one of ``1 + E`` servers: the cloud (index 0) or one of the
``E`` edge servers (indices 1..E). Two objectives conflict: the cloud computes faster, but
every bit costs about four times the energy of an edge (``kappa * eta * f^2``); edges near
the user have a fast uplink but a slow CPU that is shared by every task running on it.
One task is offloaded per step. The system (``E``, CPU frequencies) is drawn anew at every
reset from a *train* or a *test* context distribution, so a single policy has to
generalize across heterogeneous systems. This is the environment of GMORL (Yang, Wen,
Zhang, Tang, "Generalizable Pareto-Optimal Offloading with Reinforcement Learning in
Mobile Edge Computing", IEEE TSC 2025, arXiv 2509.10474).

### System model (every step lasts ``dt = 1`` s)

* Arrivals: each user generates tasks as a Poisson process of rate ``arrival_rate`` per
  step; tasks wait in one FIFO queue. Exactly one task leaves the queue per step; when the
  queue is empty the agent is shown a zero-size dummy task whose reward is ``(0, 0)``.
* Task size: exponential with mean ``L = dt * sum_e f_e / (eta * arrival_rate * n_users)``
  (the mean that balances total load and total capacity; with a 4 GHz cloud and six 2 GHz
  edges ``L = 16`` Mbit), clipped to ``[0.1, 100]`` Mbit.
* Uplink: user ``u`` transmits to server ``s`` at
  ``C[s, u] = W * log2(1 + p * g[s, u] * |h[s, u]|^2 / (N0 * W))`` bit/s with bandwidth
  ``W = bandwidth_hz`` (16.6 MHz), power ``p = tx_power_w`` (10 mW), noise density
  ``N0 = -174`` dBm/Hz, path gain ``g = 10^(-(35 log10(d / km) + 133.6 + 8) / 10)`` (path loss
  plus an 8 dB shadowing margin, as in the authors' code) and Rayleigh fading
  ``|h|^2 ~ Exp(1)`` drawn once per episode (quasi-static). Distances: ``d ~ U[1000, 2000]`` m
  to the cloud, ``d ~ U[50, 500]`` m to each edge. The SNR is linear in the channel *power*
  gain (the authors' public code squares it, which inflates the rates by orders of
  magnitude). Consequence at the default parameters: cloud uplinks run at a few kbit/s
  (SNR around -35 dB), edge uplinks at 0.3-100 Mbit/s, so offloading to the cloud is
  expensive in both objectives (v0); v1 reaches the cloud through the access network below.
* Cloud access (v1, ``backhaul_rate_bps`` set): the standard MEC model, in which the cloud
  is reached through the access network. The user transmits over the radio to its serving
  base station, the edge base station with the strongest link (max-rate association; the
  edge servers are co-located with the base stations), which forwards the task over a wired
  backhaul of rate ``R_bh = backhaul_rate_bps`` and fixed latency ``l = backhaul_latency_s``
  (store and forward). Transfer time to the cloud ``L / C_serving + L / R_bh + l``, i.e. an
  end-to-end rate ``1 / (1 / C_serving + 1 / R_bh)`` plus ``l``; the user's energy covers its
  radio hop only, ``p L / C_serving`` (the backhaul runs on the network's power). The
  registered v1 uses ``R_bh = 100`` Mbit/s and ``l = 50`` ms, representative orders of
  magnitude rather than values from the GMORL paper (which has no backhaul): a fibre or
  microwave backhaul per base-station site carries of the order of 100 Mbit/s to 1 Gbit/s
  (NGMN Alliance, "Guidelines for LTE Backhaul Traffic Estimation", 2011), and reaching a
  cloud data centre over the WAN adds tens to hundreds of ms (Satyanarayanan et al., "The
  Case for VM-Based Cloudlets in Mobile Computing", IEEE Pervasive Computing 2009; Mao et
  al., "A Survey on Mobile Edge Computing: The Communication Perspective", IEEE COMST 2017).
  For a 16 Mbit task the backhaul adds about 0.2 s to seconds of radio and execution time,
  so the cloud trades a CPU twice as fast (shared by every task sent there) against four
  times the execution energy per bit and the backhaul delay. v1 draws the same random
  numbers as v0 (the unused direct cloud link included), so a seed gives both versions the
  same system, tasks and edge links. v0 (``backhaul_rate_bps=None``) keeps the direct radio
  link to the cloud 1-2 km away.
* Transmissions do not interfere. A task starts executing on its server when its upload
  completes; a server of frequency ``f`` runs its ``n`` executing tasks by processor
  sharing, each at ``f / (n * eta)`` bit/s (``eta = 1000`` cycles/bit). The simulation is
  event-exact within each step.
* Energy of offloading a task of ``L`` bits from user ``u`` to server ``s``:
  ``E = p * L / C[s, u] + kappa * eta * f_s^2 * L`` J with ``kappa = 5e-31``.
* Delay (closed form): let ``tau = L / C[s, u]`` be the upload time, ``c = f_s / eta`` and
  ``r_j`` the remaining sizes of the tasks executing on ``s`` (tasks still uploading to ``s``
  are not counted, as in the paper; in v1 the cloud's ``tau`` is its transfer time above).
  During ``tau`` those tasks run alone: with the water level ``x`` solving ``sum_j min(r_j, x) = c * tau`` they are left with
  ``r'_j = max(r_j - x, 0)``. Under processor sharing a task of size ``L`` joining tasks of
  sizes ``r'_j`` adds ``L/c + 2 * sum_j min(r'_j, L)/c`` to the sum of completion times
  (its own execution time plus the extra delay it imposes on the running tasks), so
  ``D = tau + (L + 2 * sum_j min(r'_j, L)) / c`` seconds.

### Implementation

The step (delay and energy of the offloaded task, the event-by-event processor-sharing replay
over ``dt``, the next task and the observation) is one Numba kernel,
:func:`gauntlet.envs.mec_offloading.kernels.step_rows`, that loops over the systems of a batch; the
single env runs it on a batch of one and the native vector env
(:class:`~gauntlet.envs.mec_offloading.vector.MECOffloadingVectorEnv`) on all its copies, so
the two agree bit for bit. ``observe_rows`` (the observation after a reset) and
``arrival_steps`` (task arrival steps) are compiled too; the random draws and the channel
model stay in numpy. The kernels are compiled on first use (a few seconds) and cached
(``numba.njit(cache=True)``). They reproduce the float operations of the earlier pure
numpy/Python implementation in the same order, so v0 trajectories are unchanged.

## Action Space

``Discrete(max_edges + 1)``: 0 = cloud, ``e`` = edge ``e``. Actions of absent edges
(``e > E``) are masked: ``info["action_mask"]`` and ``action_masks()`` (sb3-contrib layout);
choosing one raises ``ValueError``. The space is a
:class:`~gauntlet.envs.masked_spaces.MaskedDiscrete` whose ``sample()`` draws among the
present servers of the current system (its mask is set at every reset), so tools that act
through ``action_space.sample()`` (Gymnasium's and SB3's env checkers) take valid actions;
``contains`` and equality are plain ``Discrete``.

## Observation Space

``Box(-1, high, (max_edges + 1) * (5 + hist_bins) [+ 2], float32)`` (``high`` = the largest of 100,
``episode_steps``, ``max_edges`` and the fixed frequencies): one row per server,
flattened row-major, each row

``[task size (Mbit), log10(1 + C[s, u] / 1 Mbit/s), f_s (GHz), executing tasks n_s, E,
histogram of the remaining sizes of the tasks executing on s (hist_bins bins of
hist_bin_mbit Mbit, the last one open-ended)]``

where the task is the one to offload now (in v1 the cloud's ``C`` is the end-to-end rate
through the serving base station and the backhaul; the latency is not shown, it is a constant
of the task). Rows of absent edges are all ``-1``. With
``preference_in_obs=True`` the preference ``w`` is appended (last two entries).

## Rewards

``r = [r_T, r_E] = [-alpha_T * D, -alpha_E * E]`` with ``alpha_T = 0.01`` per second and
``alpha_E = 50`` per joule (the paper's scales); both entries are higher-is-better.
``gauntlet/mo-MECOffloading-v0`` (``MOMECOffloadingEnv``) returns this float32 vector and
sets ``reward_space`` / ``reward_dim = 2``; ``gauntlet/MECOffloading-v0``
(``MECOffloadingEnv``) returns ``w . r`` and puts the vector in ``info["reward_vector"]``.
v1's ids are ``gauntlet/mo-MECOffloading-v1`` and ``gauntlet/MECOffloading-v1``.
Both put ``info["delay"]`` (s), ``info["energy"]`` (J), ``info["task_size"]`` (bit, 0 for
a dummy task) and ``info["weights"]`` in every step's info.

## Starting State

At reset the context is drawn (``context="train"``: ``E ~ U{1..8}``, cloud
``f ~ U[3.5, 4.5]`` GHz, edge ``f ~ U[1.75, 2.25]`` GHz; ``"test"``: ``E ~ U{1..10}``,
cloud ``U[3.0, 5.0]``, edge ``U[1.5, 2.5]``; ``"fixed"``: 4 GHz cloud, 2 GHz edges, E = 6),
then distances, fading, and the episode's arrivals. Servers start idle.
``n_edges``, ``cloud_freq_ghz``, ``edge_freq_ghz`` override the drawn values.

## Episode End

Truncated after ``episode_steps`` (100) steps; there is no terminal state. Tasks still
running then have been charged already (their rewards are estimates at offloading time).

## Arguments

``context`` ("train" | "test" | "fixed"), ``n_edges`` (0..max_edges or None),
``cloud_freq_ghz``, ``edge_freq_ghz`` (> 0 or None), ``max_edges`` (>= 1, default 10),
``n_users`` (10), ``arrival_rate`` (0.1 per user per step), ``episode_steps`` (100),
``hist_bins`` (60), ``hist_bin_mbit`` (1.0), ``tx_power_w`` (0.01), ``bandwidth_hz``
(16.6e6), ``backhaul_rate_bps`` (None: v0's direct cloud link; v1: 100e6, > 0),
``backhaul_latency_s`` (0 without a backhaul; v1: 0.05, >= 0), ``weights`` ((0.5, 0.5):
non-negative, summing to 1), ``preference_in_obs`` (False), ``render_mode`` (None | "rgb_array" | "ansi").
``reset(options={"weights": w})`` sets the preference until the next such option.

## Rendering

``"rgb_array"`` returns an (H, W, 3) uint8 picture
(:func:`gauntlet.envs.mec_offloading.render.draw`): per server (cloud and edges, absent
edges greyed out as masked) the remaining work of its executing tasks and the tasks still
uploading to it, its CPU frequency and load; the uplink rate of the current task's user to
every server; the task being placed; and the last decision with its delay and energy.
``"ansi"`` returns a text summary (step, task, and per server its frequency, running tasks
and uplink rate). The native vector env draws one picture per copy. Rendering reads the
state only: it draws no random number and changes nothing.

## Version History

* v1: the cloud is reached through the user's serving base station and a wired backhaul
  (100 Mbit/s, 50 ms) instead of a direct radio link 1-2 km away, whose few kbit/s made every
  cloud offload dominated (random's and all-cloud's hypervolume was 0). New benchmark
  reference point (-120, -4300), see ``scripts/check_mec_front.py``. ``gauntlet/MECOffloading-v1``
  defaults to the training contexts (E in 1..8 of at most 10).
* v0: initial version. Later additions that leave trajectories unchanged: ``"rgb_array"``
  rendering, the masked ``sample()`` of the action space.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from gauntlet.envs.masked_spaces import MaskedDiscrete
from gauntlet.envs.validation import check, check_choice, check_int, check_preference, check_range
from gauntlet.envs.mec_offloading.kernels import (
    DT,
    ETA,
    KAPPA,
    N_SERVER_FEATURES,
    arrival_steps,
    observe_rows,
    step_rows,
)

N_OBJECTIVES = 2
ALPHA_T = 0.01
ALPHA_E = 50.0
NOISE_DBM_PER_HZ = -174.0
SHADOWING_DB = 8.0
_TASK_SIZE_RANGE = (0.1e6, 100e6)
_CLOUD_DIST_M = (1000.0, 2000.0)
_EDGE_DIST_M = (50.0, 500.0)

CONTEXTS: dict[str, dict[str, tuple[float, float]]] = {
    "train": {"edges": (1, 8), "cloud_ghz": (3.5, 4.5), "edge_ghz": (1.75, 2.25)},
    "test": {"edges": (1, 10), "cloud_ghz": (3.0, 5.0), "edge_ghz": (1.5, 2.5)},
    "fixed": {"edges": (6, 6), "cloud_ghz": (4.0, 4.0), "edge_ghz": (2.0, 2.0)},
}


def validate_weights(weights: Any, name: str = "weights") -> np.ndarray:
    """A preference vector as float64 of length 2, non-negative and summing to 1."""
    return check_preference(name, weights, ("delay", "energy"))


def uplink_rate(distance_m: np.ndarray, fading: np.ndarray, tx_power_w: float, bandwidth_hz: float) -> np.ndarray:
    """Shannon rate in bit/s: ``W log2(1 + p g |h|^2 / (N0 W))``, ``g`` = path loss + shadowing."""
    loss_db = 35.0 * np.log10(distance_m / 1000.0) + 133.6 + SHADOWING_DB
    gain = 10.0 ** (-loss_db / 10.0)
    noise_w = 10.0 ** ((NOISE_DBM_PER_HZ - 30.0) / 10.0) * bandwidth_hz
    return bandwidth_hz * np.log2(1.0 + tx_power_w * gain * fading / noise_w)


def transfer_rate(radio_rate: np.ndarray, backhaul_rate_bps: float) -> np.ndarray:
    """End-to-end rate (bit/s) of a radio hop followed by a store-and-forward backhaul hop:
    ``L / rate = L / C + L / R_bh``."""
    return 1.0 / (1.0 / radio_rate + 1.0 / backhaul_rate_bps)


def task_energy(size_bits: np.ndarray, radio_rate: np.ndarray, freq_hz: np.ndarray, tx_power_w: float) -> np.ndarray:
    """The user's transmit energy plus the execution energy in joules: ``p L / C + kappa eta f^2 L``
    (``C`` the radio rate: the backhaul is powered by the network, not by the user's battery)."""
    upload = np.divide(tx_power_w * size_bits, radio_rate, out=np.zeros_like(size_bits, dtype=np.float64),
                       where=size_bits > 0)
    return upload + KAPPA * ETA * freq_hz**2 * size_bits


def task_delay(size_bits: np.ndarray, rate: np.ndarray, capacity: np.ndarray, remaining: np.ndarray,
               latency: np.ndarray | float = 0.0) -> np.ndarray:
    """Closed-form added delay (s) of offloading tasks of ``size_bits`` (shape (N,)) to servers
    with transfer ``rate`` and fixed transfer ``latency`` (s), ``capacity = f / eta`` bit/s and
    executing remaining sizes ``remaining`` (shape (N, K), zero-padded):
    ``tau + (L + 2 sum_j min(r'_j, L)) / c`` with ``tau = L / rate + latency``.
    The number of zero pads does not change the result, bit for bit."""
    size_bits = np.asarray(size_bits, dtype=np.float64)
    real = size_bits > 0
    tau = np.divide(size_bits, rate, out=np.zeros_like(size_bits), where=real) + np.where(real, latency, 0.0)
    work = capacity * tau
    r = np.sort(remaining, axis=1)
    k_total = r.shape[1]
    # Work needed to bring the water level up to each sorted size.
    level_work = np.cumsum(r, axis=1) - r + r * (k_total - np.arange(k_total))
    k = (level_work <= work[:, None]).sum(axis=1)
    rows = np.arange(len(size_bits))
    prev = np.maximum(k - 1, 0)
    base = np.where(k > 0, level_work[rows, prev], 0.0)
    lvl = np.where(k > 0, r[rows, prev], 0.0)
    slope = np.maximum(k_total - k, 1)
    level = np.where(k < k_total, lvl + (work - base) / slope, np.inf)
    left = np.maximum(r - level[:, None], 0.0)
    # Sequential (cumsum) rather than pairwise summation: the compiled step
    # (kernels.extra_sharing) adds in the same order, so estimates equal charges bit for bit.
    extra = np.cumsum(np.minimum(left, size_bits[:, None]), axis=1)[:, -1]
    delay = tau + np.divide(size_bits + 2.0 * extra, capacity, out=np.zeros_like(size_bits), where=real)
    return np.where(real, delay, 0.0)


class MECCore:
    """State and dynamics of ``n`` independent MEC systems as arrays with a leading batch axis.

    Both the single env (``n = 1``) and the native vector env run this code, so they agree
    bit for bit on the same seeds. Randomness is drawn only in :meth:`reset_rows`, from the
    generator given for each row; ``step`` is deterministic and runs the compiled kernel
    :func:`~gauntlet.envs.mec_offloading.kernels.step_rows` over all rows. The state arrays are the
    state: edits to them take effect at the next step.
    """

    def __init__(
        self,
        n: int,
        *,
        context: str,
        n_edges: int | None,
        cloud_freq_ghz: float | None,
        edge_freq_ghz: float | None,
        max_edges: int,
        n_users: int,
        arrival_rate: float,
        episode_steps: int,
        hist_bins: int,
        hist_bin_mbit: float,
        tx_power_w: float,
        bandwidth_hz: float,
        backhaul_rate_bps: float | None = None,
        backhaul_latency_s: float = 0.0,
    ) -> None:
        check_choice("context", context, sorted(CONTEXTS))
        self.max_edges = check_int("max_edges", max_edges, 1)
        if n_edges is not None:
            check_int("n_edges", n_edges, 0, self.max_edges)
        most = CONTEXTS[context]["edges"][1]
        check("max_edges", max_edges, context == "fixed" or n_edges is not None or most <= max_edges,
              f"integers >= {most}, the most edges context={context!r} draws (or fix n_edges)")
        self.n = n
        self.context = context
        self.n_edges = n_edges
        self.cloud_freq_ghz = (None if cloud_freq_ghz is None
                               else check_range("cloud_freq_ghz", cloud_freq_ghz, 0.0, open_low=True, unit="GHz"))
        self.edge_freq_ghz = (None if edge_freq_ghz is None
                              else check_range("edge_freq_ghz", edge_freq_ghz, 0.0, open_low=True, unit="GHz"))
        self.n_servers = self.max_edges + 1
        self.n_users = check_int("n_users", n_users, 1)
        self.arrival_rate = check_range("arrival_rate", arrival_rate, 0.0, open_low=True, unit="tasks per user and step")
        self.episode_steps = check_int("episode_steps", episode_steps, 1)
        self.hist_bins = check_int("hist_bins", hist_bins, 1)
        self.hist_bin_bits = check_range("hist_bin_mbit", hist_bin_mbit, 0.0, open_low=True, unit="Mbit") * 1e6
        self.tx_power_w = check_range("tx_power_w", tx_power_w, 0.0, open_low=True, unit="W")
        self.bandwidth_hz = check_range("bandwidth_hz", bandwidth_hz, 0.0, open_low=True, unit="Hz")
        self.backhaul_rate_bps = (None if backhaul_rate_bps is None
                                  else check_range("backhaul_rate_bps", backhaul_rate_bps, 0.0, open_low=True,
                                                   unit="bit/s"))
        self.backhaul_latency_s = check_range("backhaul_latency_s", backhaul_latency_s, 0.0, unit="s")
        check("backhaul_latency_s", backhaul_latency_s, backhaul_rate_bps is not None or self.backhaul_latency_s == 0.0,
              "0 without a backhaul (backhaul_rate_bps=None: the v0 direct radio link to the cloud)")
        check("n_edges", n_edges, backhaul_rate_bps is None or n_edges != 0,
              "None or 1..max_edges with a backhaul (the cloud is reached through an edge's base station)")
        self.row_features = N_SERVER_FEATURES + self.hist_bins
        # Every feature is bounded by the largest task (100 Mbit), count, edge number or frequency.
        self.obs_high = float(max(100.0, self.episode_steps, self.max_edges, self.cloud_freq_ghz or 0.0,
                                  self.edge_freq_ghz or 0.0))

        s, t, u = self.n_servers, self.episode_steps, self.n_users
        self.edges = np.zeros(n, dtype=np.int64)
        self.present = np.zeros((n, s), dtype=bool)
        self.freq = np.zeros((n, s))
        self._capacity = np.zeros((n, s))
        self.rate = np.ones((n, s, u))
        # Without a backhaul the radio rate is the transfer rate: one array, so v0's step is unchanged.
        self.radio_rate = self.rate if self.backhaul_rate_bps is None else np.ones((n, s, u))
        self.latency = np.zeros((n, s))
        self.latency[:, 0] = self.backhaul_latency_s
        self.rate_feature = np.zeros((n, s, u), dtype=np.float32)
        self.mean_size = np.zeros(n)
        # Tasks in arrival order; at most episode_steps of them can ever be offloaded.
        self.size = np.zeros((n, t))
        self.user = np.zeros((n, t), dtype=np.int64)
        self.arrival = np.zeros((n, t), dtype=np.int64)
        # The step state: per task slot the server, the phase (0 waiting, 1 uploading,
        # 2 executing, 3 done), the remaining bits and the remaining upload time (s); per row
        # the step count, the tasks offloaded so far and the current task (size 0: none).
        self.server = np.zeros((n, t), dtype=np.int64)
        self.phase = np.zeros((n, t), dtype=np.int8)
        self.remaining = np.zeros((n, t))
        self.upload_left = np.zeros((n, t))
        self.t = np.zeros(n, dtype=np.int64)
        self.served = np.zeros(n, dtype=np.int64)
        self.head_size = np.zeros(n)
        self.head_user = np.zeros(n, dtype=np.int64)
        self._rows = np.arange(n)
        self._action = np.zeros(1, dtype=np.int64)
        self._delay, self._energy = np.zeros(1), np.zeros(1)

    # ------------------------------------------------------------------ reset
    def reset_rows(self, rows: np.ndarray, rngs: list[np.random.Generator]) -> None:
        ctx = CONTEXTS[self.context]
        s, t, u = self.n_servers, self.episode_steps, self.n_users
        rows = np.asarray(rows)
        k = len(rows)
        lo, hi = ctx["edges"]
        cloud_lo, cloud_hi = ctx["cloud_ghz"]
        edge_lo, edge_hi = ctx["edge_ghz"]
        mean_arrivals = self.arrival_rate * u
        edges, cloud_ghz, edge_ghz, cloud_dist, edge_dist, fading, arrivals, sizes, users = ([] for _ in range(9))
        # Only the draws run row by row, each row from its own generator in a fixed order;
        # the arithmetic is batched below (elementwise or per row, so a row's values do not
        # depend on the batch). exponential(scale) draws scale * standard_exponential().
        for rng in rngs:
            e = int(rng.integers(lo, hi + 1)) if self.n_edges is None else int(self.n_edges)
            edges.append(e)
            cloud_ghz.append(rng.uniform(cloud_lo, cloud_hi) if self.cloud_freq_ghz is None else self.cloud_freq_ghz)
            if self.edge_freq_ghz is None:
                edge_ghz.append(rng.uniform(edge_lo, edge_hi, size=e))
            cloud_dist.append(rng.uniform(*_CLOUD_DIST_M, size=u))
            edge_dist.append(rng.uniform(*_EDGE_DIST_M, size=(e, u)))
            fading.append(rng.standard_exponential(size=(e + 1, u)))
            arrivals.append(rng.poisson(mean_arrivals, size=t))
            sizes.append(rng.standard_exponential(size=t))
            users.append(rng.integers(0, u, size=t))
        edges = np.array(edges, dtype=np.int64)
        present = np.arange(s) <= edges[:, None]
        edge_freq = np.zeros((k, s - 1))
        edge_freq[present[:, 1:]] = np.concatenate(edge_ghz) if self.edge_freq_ghz is None else self.edge_freq_ghz
        # Absent servers get a harmless distance and fading; their rate is set to 1 below.
        dist = np.full((k, s, u), _CLOUD_DIST_M[0])
        dist[:, 0] = cloud_dist
        dist[:, 1:][present[:, 1:]] = np.concatenate(edge_dist)
        gain = np.ones((k, s, u))
        gain[present] = np.concatenate(fading)
        self.user[rows] = users
        freq = np.empty((k, s))
        freq[:, 0] = np.array(cloud_ghz) * 1e9
        freq[:, 1:] = edge_freq * 1e9
        mean = DT * freq.sum(axis=1) / (ETA * self.arrival_rate * u)
        self.edges[rows] = edges
        self.freq[rows] = freq
        self.mean_size[rows] = mean
        self.present[rows] = present
        rate = np.where(present[:, :, None], uplink_rate(dist, gain, self.tx_power_w, self.bandwidth_hz), 1.0)
        if self.backhaul_rate_bps is not None:
            # v1: the user reaches the cloud through its serving base station, the one with the
            # strongest link (max-rate association); the edges are co-located with the base
            # stations. The direct cloud link drawn above is not used (v1 keeps v0's draws, so a
            # seed gives both versions the same system, tasks and edge links).
            rate[:, 0] = np.where(present[:, 1:, None], rate[:, 1:], 0.0).max(axis=1)
            self.radio_rate[rows] = rate
            rate[:, 0] = transfer_rate(rate[:, 0], self.backhaul_rate_bps)
        self.rate[rows] = rate
        self.rate_feature[rows] = np.log10(1.0 + rate / 1e6)
        self._capacity[rows] = freq / ETA
        self.size[rows] = np.clip(mean[:, None] * np.array(sizes), *_TASK_SIZE_RANGE)
        self.arrival[rows] = arrival_steps(np.array(arrivals))
        self.phase[rows] = 0
        self.remaining[rows] = 0.0
        self.upload_left[rows] = 0.0
        self.server[rows] = 0
        self.t[rows] = 0
        self.served[rows] = 0
        self._update_head(rows)

    def _update_head(self, rows: np.ndarray) -> None:
        served, t_max = self.served[rows], self.episode_steps
        flat = rows * t_max + np.minimum(served, t_max - 1)
        available = (served < t_max) & (self.arrival.ravel()[flat] <= self.t[rows])
        self.head_size[rows] = np.where(available, self.size.ravel()[flat], 0.0)
        self.head_user[rows] = np.where(available, self.user.ravel()[flat], 0)

    # ------------------------------------------------------------------ queries
    @property
    def capacity(self) -> np.ndarray:
        """Execution speed ``f / eta`` (bit/s) of every server, shape (n, servers)."""
        return self._capacity

    def action_masks(self) -> np.ndarray:
        return self.present.copy()

    def head_rates(self) -> np.ndarray:
        """Upload rate of the current task's user to every server, shape (n, servers)."""
        return self.rate[self._rows, :, self.head_user]

    def all_estimates(self) -> tuple[np.ndarray, np.ndarray]:
        """(delay, energy) for every server, shape (n, servers); ``inf`` for absent servers."""
        delay = np.full((self.n, self.n_servers), np.inf)
        energy = np.full((self.n, self.n_servers), np.inf)
        for i in range(self.n):
            srv = np.flatnonzero(self.present[i])
            size = np.full(len(srv), self.head_size[i])
            rate = self.rate[i, srv, self.head_user[i]]
            running = np.where((self.phase[i] == 2) & (self.server[i] == srv[:, None]), self.remaining[i], 0.0)
            delay[i, srv] = task_delay(size, rate, self.capacity[i, srv], running, self.latency[i, srv])
            energy[i, srv] = task_energy(size, self.radio_rate[i, srv, self.head_user[i]], self.freq[i, srv],
                                         self.tx_power_w)
        return delay, energy

    # ------------------------------------------------------------------ step
    def step(self, actions: np.ndarray, out: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Offload the current task of every row to ``actions`` (int64 (n,), valid: the callers
        check them) and advance ``dt``. Returns (reward vectors (n, 2) float32, delay s, energy J);
        with ``out`` (see :meth:`observe`) the observation rows of the new state are written there."""
        delay, energy = np.empty(self.n), np.empty(self.n)
        self._step(np.asarray(actions, dtype=np.int64), self._scratch_obs() if out is None else out, delay, energy)
        reward = np.stack([-ALPHA_T * delay, -ALPHA_E * energy], axis=1).astype(np.float32)
        return reward, delay, energy

    def step_single(self, action: int, out: np.ndarray) -> tuple[float, float]:
        """:meth:`step` of a single system (``n == 1``) with a valid action, writing the
        observation rows into ``out`` (1, width); returns (delay s, energy J)."""
        self._action[0] = action
        self._step(self._action, out, self._delay, self._energy)
        return self._delay.item(), self._energy.item()

    def _step(self, actions: np.ndarray, out: np.ndarray, delay: np.ndarray, energy: np.ndarray) -> None:
        step_rows(actions, self.size, self.user, self.arrival, self.rate, self.radio_rate, self.latency, self._capacity,
                  self.freq, self.server,
                  self.phase, self.remaining, self.upload_left, self.t, self.served, self.head_size, self.head_user,
                  self.edges, self.rate_feature, out, delay, energy, self.tx_power_w, self.hist_bins,
                  self.hist_bin_bits)

    def _scratch_obs(self) -> np.ndarray:
        return np.empty((self.n, self.n_servers * self.row_features), dtype=np.float32)

    # ------------------------------------------------------------------ observation
    def observe(self, out: np.ndarray | None = None, rows: np.ndarray | None = None) -> np.ndarray:
        """Per-server rows (n, servers, 5 + hist_bins) as float32; absent rows are -1. With
        ``out`` (a C-contiguous float32 array (n, width >= servers * (5 + hist_bins))) the
        rows are written, flattened, into the first columns of ``out`` (only those of
        ``rows`` if given), which is returned."""
        if out is None:
            return self.observe(self._scratch_obs()).reshape(self.n, self.n_servers, self.row_features)
        observe_rows(self._rows if rows is None else np.asarray(rows, dtype=np.int64), self.server, self.phase,
                     self.remaining, self.head_size, self.head_user, self.edges, self.freq, self.rate_feature, out,
                     self.hist_bins, self.hist_bin_bits)
        return out


class LastDecision(NamedTuple):
    """The most recent step, for rendering: the server chosen, the task it received (size in
    bits, 0 for a dummy task, and its user) and what it cost."""

    action: int
    size_bits: float
    user: int
    delay_s: float
    energy_j: float
    reward: np.ndarray


class MOMECOffloadingEnv(gym.Env):
    """Multi-objective MEC offloading: float32 reward vector ``[-0.01 * delay, -50 * energy]``.
    See the module docstring for the model, spaces and arguments."""

    metadata = {"render_modes": ["rgb_array", "ansi"], "render_fps": 1}

    def __init__(
        self,
        *,
        context: Literal["train", "test", "fixed"] = "train",
        n_edges: int | None = None,
        cloud_freq_ghz: float | None = None,
        edge_freq_ghz: float | None = None,
        max_edges: int = 10,
        n_users: int = 10,
        arrival_rate: float = 0.1,
        episode_steps: int = 100,
        hist_bins: int = 60,
        hist_bin_mbit: float = 1.0,
        tx_power_w: float = 0.01,
        bandwidth_hz: float = 16.6e6,
        backhaul_rate_bps: float | None = None,
        backhaul_latency_s: float = 0.0,
        weights: tuple[float, float] = (0.5, 0.5),
        preference_in_obs: bool = False,
        render_mode: str | None = None,
    ) -> None:
        check_choice("render_mode", render_mode, (None, *self.metadata["render_modes"]))
        self.core = MECCore(
            1, context=context, n_edges=n_edges, cloud_freq_ghz=cloud_freq_ghz, edge_freq_ghz=edge_freq_ghz,
            max_edges=max_edges, n_users=n_users, arrival_rate=arrival_rate, episode_steps=episode_steps,
            hist_bins=hist_bins, hist_bin_mbit=hist_bin_mbit, tx_power_w=tx_power_w, bandwidth_hz=bandwidth_hz,
            backhaul_rate_bps=backhaul_rate_bps, backhaul_latency_s=backhaul_latency_s,
        )
        self.weights = validate_weights(weights)
        self.preference_in_obs = bool(preference_in_obs)
        self.render_mode = render_mode
        self.init_kwargs: dict[str, Any] = {
            "context": context, "n_edges": n_edges, "cloud_freq_ghz": cloud_freq_ghz, "edge_freq_ghz": edge_freq_ghz,
            "max_edges": max_edges, "n_users": n_users, "arrival_rate": arrival_rate, "episode_steps": episode_steps,
            "hist_bins": hist_bins, "hist_bin_mbit": hist_bin_mbit, "tx_power_w": tx_power_w,
            "bandwidth_hz": bandwidth_hz, "backhaul_rate_bps": backhaul_rate_bps,
            "backhaul_latency_s": backhaul_latency_s, "weights": tuple(self.weights),
            "preference_in_obs": self.preference_in_obs,
        }
        """The constructor's arguments (without ``render_mode``), e.g. to build the native vector env."""
        self.reward_dim = N_OBJECTIVES
        self.action_space = MaskedDiscrete(self.core.n_servers)
        dim = self.core.n_servers * self.core.row_features + (N_OBJECTIVES if self.preference_in_obs else 0)
        self.observation_space = spaces.Box(-1.0, self.core.obs_high, shape=(dim,), dtype=np.float32)
        self.reward_space = spaces.Box(-np.inf, 0.0, shape=(N_OBJECTIVES,), dtype=np.float32)
        self._last: LastDecision | None = None
        # The core writes the observation rows of every step here, the preference follows them.
        self._obs_width = self.core.n_servers * self.core.row_features
        self._obs_buffer = np.zeros((1, self._obs_width + N_OBJECTIVES), dtype=np.float32)
        self._needs_reset = True

    # ------------------------------------------------------------------ API
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if options and "weights" in options:
            self.weights = validate_weights(options["weights"], "options['weights']")
        self.core.reset_rows(np.array([0]), [self.np_random])
        self.core.observe(self._obs_buffer)
        self._obs_buffer[0, -N_OBJECTIVES:] = self.weights
        self.action_space.mask = self.core.present[0]
        self._needs_reset = False
        self._last = None
        return self._obs(), self._info(np.zeros(N_OBJECTIVES, np.float32), 0.0, 0.0, 0.0)

    def step(self, action: Any):
        if self._needs_reset:
            raise gym.error.ResetNeeded("call reset() before step() (the episode has ended or never started)")
        core = self.core
        # Fast path for the plain integers policies emit; anything else gets the full checks.
        if isinstance(action, (int, np.integer)) and 0 <= action <= core.edges[0]:
            a = int(action)
        else:
            a = self._check_action(action)
        size, user = core.head_size.item(), core.head_user.item()
        delay, energy = core.step_single(a, self._obs_buffer)
        reward = np.array([-ALPHA_T * delay, -ALPHA_E * energy], dtype=np.float32)
        self._last = LastDecision(a, size, user, delay, energy, reward)
        truncated = bool(core.t[0] >= core.episode_steps)
        self._needs_reset = truncated
        return self._obs(), self._reward(reward), False, truncated, self._info(reward, delay, energy, size)

    def action_masks(self) -> np.ndarray:
        return self.core.present[0].copy()

    def server_estimates(self) -> tuple[np.ndarray, np.ndarray]:
        """(delay s, energy J) of offloading the current task to each server (``inf`` if
        absent): the one-step estimates the reward uses, for heuristic baselines."""
        delay, energy = self.core.all_estimates()
        return delay[0], energy[0]

    def render(self) -> np.ndarray | str | None:
        if self.render_mode == "rgb_array":
            from gauntlet.envs.mec_offloading.render import draw

            return draw(self.core, self.weights, self._last)
        if self.render_mode != "ansi":
            return None
        core = self.core
        executing = core.phase[0] == 2
        lines = [f"t={core.t[0]}/{core.episode_steps} E={core.edges[0]} task={core.head_size[0] / 1e6:.2f} Mbit"]
        for s in np.flatnonzero(core.present[0]):
            n = int((executing & (core.server[0] == s)).sum())
            name = "cloud" if s == 0 else f"edge{s}"
            lines.append(f"  {name:7s} f={core.freq[0, s] / 1e9:.2f} GHz running={n} rate={core.head_rates()[0, s] / 1e6:.3f} Mbit/s")
        return "\n".join(lines)

    # ------------------------------------------------------------------ helpers
    def _reward(self, vector: np.ndarray) -> Any:
        return vector

    def _check_action(self, action: Any) -> int:
        arr = np.asarray(action)
        if arr.shape not in ((), (1,)):
            raise ValueError(f"action must be a scalar integer in [0, {self.core.max_edges}], got shape {arr.shape}")
        value = arr.reshape(()).item()
        if isinstance(value, float) and not np.isfinite(value):
            raise ValueError(f"action must be a finite integer, got {value!r}")
        if not float(value).is_integer() or not self.action_space.contains(int(value)):
            raise ValueError(f"action must be an integer in [0, {self.core.max_edges}], got {action!r}")
        a = int(value)
        if not self.core.present[0, a]:
            raise ValueError(
                f"action {a} is masked: this system has {self.core.edges[0]} edge servers, so valid actions are "
                f"0 (cloud) .. {self.core.edges[0]}; see info['action_mask'] / action_masks()"
            )
        return a

    def _obs(self) -> np.ndarray:
        return (self._obs_buffer[0] if self.preference_in_obs else self._obs_buffer[0, : self._obs_width]).copy()

    def _info(self, reward: np.ndarray, delay: float, energy: float, size: float) -> dict[str, Any]:
        return {
            "action_mask": self.core.present[0].copy(),
            "reward_vector": np.asarray(reward, dtype=np.float32),
            "delay": delay,
            "energy": energy,
            "task_size": size,
            "weights": self.weights.copy(),
        }


class MECOffloadingEnv(MOMECOffloadingEnv):
    """Scalarized MEC offloading: reward ``w . r`` for the preference ``weights`` (default
    (0.5, 0.5)); the vector is in ``info["reward_vector"]``."""

    def _reward(self, vector: np.ndarray) -> float:
        # The float64 arithmetic of scalarize() on Python floats (numpy's call overhead
        # dominates one row), so single and vector envs still round identically.
        w = self.weights
        return float(w[0]) * float(vector[0]) + float(w[1]) * float(vector[1])


def scalarize(vectors: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Row-wise ``w . r`` in float64, written out so single and vector envs round identically."""
    v = vectors.astype(np.float64)
    return weights[:, 0] * v[:, 0] + weights[:, 1] * v[:, 1]


def episode_metrics(rewards: np.ndarray, infos: list[dict[str, Any]]) -> dict[str, float]:
    """Mean delay (s) and energy (J) per real (non-dummy) task of one episode."""
    sizes = np.array([info.get("task_size", 0.0) for info in infos], dtype=np.float64)
    delays = np.array([info.get("delay", 0.0) for info in infos], dtype=np.float64)
    energies = np.array([info.get("energy", 0.0) for info in infos], dtype=np.float64)
    real = sizes > 0
    if not real.any():
        return {"mean_delay": 0.0, "mean_energy": 0.0, "tasks": 0.0}
    return {
        "mean_delay": float(delays[real].mean()),
        "mean_energy": float(energies[real].mean()),
        "tasks": float(real.sum()),
    }
