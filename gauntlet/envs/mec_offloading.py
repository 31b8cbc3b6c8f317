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
  expensive in both objectives; ``tx_power_w`` changes that balance.
* Transmissions do not interfere. A task starts executing on its server when its upload
  completes; a server of frequency ``f`` runs its ``n`` executing tasks by processor
  sharing, each at ``f / (n * eta)`` bit/s (``eta = 1000`` cycles/bit). The simulation is
  event-exact within each step.
* Energy of offloading a task of ``L`` bits from user ``u`` to server ``s``:
  ``E = p * L / C[s, u] + kappa * eta * f_s^2 * L`` J with ``kappa = 5e-31``.
* Delay (closed form): let ``tau = L / C[s, u]`` be the upload time, ``c = f_s / eta`` and
  ``r_j`` the remaining sizes of the tasks executing on ``s`` (tasks still uploading to ``s``
  are not counted, as in the paper). During ``tau`` those tasks run alone: with the water
  level ``x`` solving ``sum_j min(r_j, x) = c * tau`` they are left with
  ``r'_j = max(r_j - x, 0)``. Under processor sharing a task of size ``L`` joining tasks of
  sizes ``r'_j`` adds ``L/c + 2 * sum_j min(r'_j, L)/c`` to the sum of completion times
  (its own execution time plus the extra delay it imposes on the running tasks), so
  ``D = tau + (L + 2 * sum_j min(r'_j, L)) / c`` seconds.

## Action Space

``Discrete(max_edges + 1)``: 0 = cloud, ``e`` = edge ``e``. Actions of absent edges
(``e > E``) are masked: ``info["action_mask"]`` and ``action_masks()`` (sb3-contrib layout);
choosing one raises ``ValueError``.

## Observation Space

``Box(-1, high, (max_edges + 1) * (5 + hist_bins) [+ 2], float32)`` (``high`` = the largest of 100,
``episode_steps``, ``max_edges`` and the fixed frequencies): one row per server,
flattened row-major, each row

``[task size (Mbit), log10(1 + C[s, u] / 1 Mbit/s), f_s (GHz), executing tasks n_s, E,
histogram of the remaining sizes of the tasks executing on s (hist_bins bins of
hist_bin_mbit Mbit, the last one open-ended)]``

where the task is the one to offload now. Rows of absent edges are all ``-1``. With
``preference_in_obs=True`` the preference ``w`` is appended (last two entries).

## Rewards

``r = [r_T, r_E] = [-alpha_T * D, -alpha_E * E]`` with ``alpha_T = 0.01`` per second and
``alpha_E = 50`` per joule (the paper's scales); both entries are higher-is-better.
``gauntlet/mo-MECOffloading-v0`` (``MOMECOffloadingEnv``) returns this float32 vector and
sets ``reward_space`` / ``reward_dim = 2``; ``gauntlet/MECOffloading-v0``
(``MECOffloadingEnv``) returns ``w . r`` and puts the vector in ``info["reward_vector"]``.
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
(16.6e6), ``weights`` ((0.5, 0.5): non-negative, summing to 1), ``preference_in_obs``
(False), ``render_mode`` (None | "ansi").
``reset(options={"weights": w})`` sets the preference until the next such option.

## Version History

* v0: initial version.
"""

from __future__ import annotations

from typing import Any, Literal

import gymnasium as gym
import numpy as np
from gymnasium import spaces

N_OBJECTIVES = 2
ALPHA_T = 0.01
ALPHA_E = 50.0
ETA = 1e3
KAPPA = 5e-31
NOISE_DBM_PER_HZ = -174.0
SHADOWING_DB = 8.0
DT = 1.0
_ZERO_BITS = 1e-6
# An upload with more than this left (s) outlasts the step (dt = 1 s) whatever the events in it.
_FAR_UPLOAD_S = 2.0
_TASK_SIZE_RANGE = (0.1e6, 100e6)
_CLOUD_DIST_M = (1000.0, 2000.0)
_EDGE_DIST_M = (50.0, 500.0)
N_SERVER_FEATURES = 5

CONTEXTS: dict[str, dict[str, tuple[float, float]]] = {
    "train": {"edges": (1, 8), "cloud_ghz": (3.5, 4.5), "edge_ghz": (1.75, 2.25)},
    "test": {"edges": (1, 10), "cloud_ghz": (3.0, 5.0), "edge_ghz": (1.5, 2.5)},
    "fixed": {"edges": (6, 6), "cloud_ghz": (4.0, 4.0), "edge_ghz": (2.0, 2.0)},
}


def validate_weights(weights: Any, name: str = "weights") -> np.ndarray:
    """A preference vector as float64 of length 2, non-negative and summing to 1."""
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (N_OBJECTIVES,):
        raise ValueError(f"{name} must have length {N_OBJECTIVES} (delay, energy), got shape {w.shape}: {weights!r}")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError(f"{name} must be finite and non-negative, got {weights!r}")
    if abs(w.sum() - 1.0) > 1e-6:
        raise ValueError(f"{name} must sum to 1, got {weights!r} (sum {w.sum()!r})")
    return w


def uplink_rate(distance_m: np.ndarray, fading: np.ndarray, tx_power_w: float, bandwidth_hz: float) -> np.ndarray:
    """Shannon rate in bit/s: ``W log2(1 + p g |h|^2 / (N0 W))``, ``g`` = path loss + shadowing."""
    loss_db = 35.0 * np.log10(distance_m / 1000.0) + 133.6 + SHADOWING_DB
    gain = 10.0 ** (-loss_db / 10.0)
    noise_w = 10.0 ** ((NOISE_DBM_PER_HZ - 30.0) / 10.0) * bandwidth_hz
    return bandwidth_hz * np.log2(1.0 + tx_power_w * gain * fading / noise_w)


def task_energy(size_bits: np.ndarray, rate: np.ndarray, freq_hz: np.ndarray, tx_power_w: float) -> np.ndarray:
    """Upload plus execution energy in joules: ``p L / C + kappa eta f^2 L``."""
    upload = np.divide(tx_power_w * size_bits, rate, out=np.zeros_like(size_bits, dtype=np.float64), where=size_bits > 0)
    return upload + KAPPA * ETA * freq_hz**2 * size_bits


def task_delay(size_bits: np.ndarray, rate: np.ndarray, capacity: np.ndarray, remaining: np.ndarray) -> np.ndarray:
    """Closed-form added delay (s) of offloading tasks of ``size_bits`` (shape (N,)) to servers
    with upload ``rate``, ``capacity = f / eta`` bit/s and executing remaining sizes
    ``remaining`` (shape (N, K), zero-padded): ``tau + (L + 2 sum_j min(r'_j, L)) / c``.
    The number of zero pads does not change the result, bit for bit."""
    size_bits = np.asarray(size_bits, dtype=np.float64)
    real = size_bits > 0
    tau = np.divide(size_bits, rate, out=np.zeros_like(size_bits), where=real)
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
    # Sequential (cumsum) rather than pairwise summation: the scalar path adds in the same order.
    extra = np.cumsum(np.minimum(left, size_bits[:, None]), axis=1)[:, -1]
    delay = tau + np.divide(size_bits + 2.0 * extra, capacity, out=np.zeros_like(size_bits), where=real)
    return np.where(real, delay, 0.0)


def _extra_sharing(running: list[float], work: float, size: float) -> float:
    """Scalar twin of the water-level part of :func:`task_delay` for ascending ``running``
    sizes: ``sum_j min(r'_j, L)`` with the same operations in the same order."""
    m = len(running)
    level_work = []
    cum = 0.0
    for i, v in enumerate(running):
        cum += v
        level_work.append((cum - v) + v * (m - i))
    k = sum(1 for x in level_work if x <= work)
    if k == m:
        return 0.0
    level = 0.0 + (work - 0.0) / m if k == 0 else running[k - 1] + (work - level_work[k - 1]) / (m - k)
    extra = 0.0
    for v in running:
        extra += min(max(v - level, 0.0), size)
    return extra


def _synced_array(name: str) -> property:
    """A state array of :class:`MECCore`, first brought up to date from the scalar path."""

    def get(core: MECCore) -> np.ndarray:
        if core._stale:
            core._flush_scalar()
        return getattr(core, name)

    return property(get)


def _rows_padded(row: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Non-empty ``values`` grouped by ``row`` (ascending, in [0, n)) into an (n, k) array
    padded with zeros."""
    starts = np.searchsorted(row, np.arange(n))
    position = np.arange(len(row)) - starts[row]
    out = np.zeros((n, int(position.max()) + 1))
    out[row, position] = values
    return out


def _subtract_all(values: list[float], amounts: list[float]) -> list[float]:
    """``[((v - a0) - a1) - ... for v in values]``: the same roundings as subtracting one by one."""
    if len(amounts) == 1:
        a0 = amounts[0]
        return [v - a0 for v in values]
    if len(amounts) == 2:
        a0, a1 = amounts
        return [v - a0 - a1 for v in values]
    for a in amounts:
        values = [v - a for v in values]
    return values


class MECCore:
    """State and dynamics of ``n`` independent MEC systems as arrays with a leading batch axis.

    Both the single env (``n = 1``) and the native vector env run this code, so they agree
    bit for bit on the same seeds. Randomness is drawn only in :meth:`reset_rows`, from the
    generator given for each row; ``step`` is deterministic. ``n > 1`` steps the live tasks
    of all rows as flat numpy arrays; ``n = 1`` takes a scalar path on Python lists that
    performs the same float operations (see :meth:`step_single`).
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
    ) -> None:
        if context not in CONTEXTS:
            raise ValueError(f"context must be one of {sorted(CONTEXTS)}, got {context!r}")
        if not (isinstance(max_edges, (int, np.integer)) and max_edges >= 1):
            raise ValueError(f"max_edges must be an integer >= 1, got {max_edges!r}")
        if n_edges is not None and not (isinstance(n_edges, (int, np.integer)) and 0 <= n_edges <= max_edges):
            raise ValueError(f"n_edges must be an integer in [0, max_edges={max_edges}], got {n_edges!r}")
        if context != "fixed" and n_edges is None and CONTEXTS[context]["edges"][1] > max_edges:
            raise ValueError(
                f"context {context!r} draws up to {CONTEXTS[context]['edges'][1]} edges, above max_edges={max_edges}; "
                "raise max_edges or fix n_edges"
            )
        for name, value in (("cloud_freq_ghz", cloud_freq_ghz), ("edge_freq_ghz", edge_freq_ghz)):
            if value is not None and not (np.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive finite number of GHz or None, got {value!r}")
        for name, value, lo in (("n_users", n_users, 1), ("episode_steps", episode_steps, 1), ("hist_bins", hist_bins, 1)):
            if not (isinstance(value, (int, np.integer)) and value >= lo):
                raise ValueError(f"{name} must be an integer >= {lo}, got {value!r}")
        for name, value in (("arrival_rate", arrival_rate), ("hist_bin_mbit", hist_bin_mbit),
                            ("tx_power_w", tx_power_w), ("bandwidth_hz", bandwidth_hz)):
            if not (np.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive finite number, got {value!r}")
        self.n = n
        self.context = context
        self.n_edges = n_edges
        self.cloud_freq_ghz = cloud_freq_ghz
        self.edge_freq_ghz = edge_freq_ghz
        self.max_edges = int(max_edges)
        self.n_servers = self.max_edges + 1
        self.n_users = int(n_users)
        self.arrival_rate = float(arrival_rate)
        self.episode_steps = int(episode_steps)
        self.hist_bins = int(hist_bins)
        self.hist_bin_bits = float(hist_bin_mbit) * 1e6
        self.tx_power_w = float(tx_power_w)
        self.bandwidth_hz = float(bandwidth_hz)
        self.row_features = N_SERVER_FEATURES + self.hist_bins
        # Every feature is bounded by the largest task (100 Mbit), count, edge number or frequency.
        self.obs_high = float(max(100.0, self.episode_steps, self.max_edges, cloud_freq_ghz or 0.0, edge_freq_ghz or 0.0))

        s, t, u = self.n_servers, self.episode_steps, self.n_users
        self.edges = np.zeros(n, dtype=np.int64)
        self.present = np.zeros((n, s), dtype=bool)
        self.freq = np.zeros((n, s))
        self._capacity = np.zeros((n, s))
        self.rate = np.ones((n, s, u))
        self.rate_feature = np.zeros((n, s, u), dtype=np.float32)
        self.mean_size = np.zeros(n)
        # Tasks in arrival order; at most episode_steps of them can ever be offloaded.
        self.size = np.zeros((n, t))
        self.user = np.zeros((n, t), dtype=np.int64)
        self.arrival = np.zeros((n, t), dtype=np.int64)
        self._server = np.zeros((n, t), dtype=np.int64)
        self._phase = np.zeros((n, t), dtype=np.int8)  # 0 waiting, 1 uploading, 2 executing, 3 done
        self._remaining = np.zeros((n, t))
        self._upload_left = np.zeros((n, t))
        self._t = np.zeros(n, dtype=np.int64)
        self._served = np.zeros(n, dtype=np.int64)
        self._head_size = np.zeros(n)
        self._head_user = np.zeros(n, dtype=np.int64)
        self._stale = False
        self._rows = np.arange(n)
        if n == 1:
            # The flat observation with room for a preference, filled by the scalar path.
            self._p_obs_buffer = np.zeros(self.n_servers * self.row_features + N_OBJECTIVES, dtype=np.float32)
            self._p_obs_flat = self._p_obs_buffer[: self.n_servers * self.row_features]
            self._p_obs = self._p_obs_flat.reshape(self.n_servers, self.row_features)
        else:
            # Observation rows with the per-episode columns filled in, and the executing tasks
            # of the last step (row * servers + server, remaining bits) for their histograms.
            self._obs_template = np.zeros((n, s, self.row_features), dtype=np.float32)
            self._exec_key = np.zeros(0, dtype=np.int64)
            self._exec_remaining = np.zeros(0)

    # The step state, exposed as arrays: per task slot (n, episode_steps) the server, the phase
    # (0 waiting, 1 uploading, 2 executing, 3 done), the remaining bits and the remaining
    # upload time (s); per row the step count, the tasks offloaded so far and the current task.
    server = _synced_array("_server")
    phase = _synced_array("_phase")
    remaining = _synced_array("_remaining")
    upload_left = _synced_array("_upload_left")
    t = _synced_array("_t")
    served = _synced_array("_served")
    head_size = _synced_array("_head_size")
    head_user = _synced_array("_head_user")

    # ------------------------------------------------------------------ reset
    def reset_rows(self, rows: np.ndarray, rngs: list[np.random.Generator]) -> None:
        ctx = CONTEXTS[self.context]
        s, t, u = self.n_servers, self.episode_steps, self.n_users
        rows = np.asarray(rows)
        self._stale = False  # the scalar path's state is replaced below, not written back
        lo, hi = ctx["edges"]
        k = len(rows)
        edges = np.empty(k, dtype=np.int64)
        cloud_ghz = np.empty(k)
        edge_ghz = np.zeros((k, s - 1))
        # Absent servers get a harmless distance and fading; their rate is set to 1 below.
        dist = np.full((k, s, u), _CLOUD_DIST_M[0])
        fading = np.ones((k, s, u))
        arrivals = np.empty((k, t), dtype=np.int64)
        sizes = np.empty((k, t))
        # Only the draws run row by row, each row from its own generator in a fixed order;
        # the arithmetic is batched below (elementwise or per row, so a row's values do not
        # depend on the batch). exponential(scale) draws scale * standard_exponential().
        for j, rng in enumerate(rngs):
            edges[j] = e = int(rng.integers(lo, hi + 1)) if self.n_edges is None else int(self.n_edges)
            cloud_ghz[j] = rng.uniform(*ctx["cloud_ghz"]) if self.cloud_freq_ghz is None else self.cloud_freq_ghz
            edge_ghz[j, :e] = rng.uniform(*ctx["edge_ghz"], size=e) if self.edge_freq_ghz is None else self.edge_freq_ghz
            dist[j, 0] = rng.uniform(*_CLOUD_DIST_M, size=u)
            dist[j, 1 : e + 1] = rng.uniform(*_EDGE_DIST_M, size=(e, u))
            fading[j, : e + 1] = rng.standard_exponential(size=(e + 1, u))
            arrivals[j] = rng.poisson(self.arrival_rate * u, size=t)
            sizes[j] = rng.standard_exponential(size=t)
            self.user[rows[j]] = rng.integers(0, u, size=t)
        freq = np.empty((k, s))
        freq[:, 0] = cloud_ghz * 1e9
        freq[:, 1:] = edge_ghz * 1e9
        mean = DT * freq.sum(axis=1) / (ETA * self.arrival_rate * u)
        self.edges[rows] = edges
        self.freq[rows] = freq
        self.mean_size[rows] = mean
        present = np.arange(s) <= edges[:, None]
        self.present[rows] = present
        rate = np.where(present[:, :, None], uplink_rate(dist, fading, self.tx_power_w, self.bandwidth_hz), 1.0)
        self.rate[rows] = rate
        self.rate_feature[rows] = np.log10(1.0 + rate / 1e6)
        self._capacity[rows] = freq / ETA
        self.size[rows] = np.clip(mean[:, None] * sizes, *_TASK_SIZE_RANGE)
        # Task k arrives in the first step whose cumulative arrival count exceeds k: one
        # searchsorted over all rows, each row's counts shifted above the previous row's.
        cum = np.cumsum(arrivals, axis=1)
        shift = (np.arange(len(rows)) * (int(cum[:, -1].max()) + t + 1))[:, None]
        found = np.searchsorted((cum + shift).ravel(), (np.arange(t) + shift).ravel(), side="right")
        self.arrival[rows] = found.reshape(len(rows), t) - (np.arange(len(rows)) * t)[:, None]
        self._phase[rows] = 0
        self._remaining[rows] = 0.0
        self._upload_left[rows] = 0.0
        self._server[rows] = 0
        self._t[rows] = 0
        self._served[rows] = 0
        self._update_head(rows)
        if self.n == 1:
            self.sync_from_arrays()
            return
        template = self._obs_template[rows]
        template[:] = 0.0
        template[:, :, 2] = self.freq[rows] / 1e9
        template[:, :, 4] = self.edges[rows, None]
        template[~self.present[rows]] = -1.0
        self._obs_template[rows] = template
        kept = np.ones(self.n, dtype=bool)
        kept[rows] = False
        kept = kept[self._exec_key // self.n_servers]
        self._exec_key, self._exec_remaining = self._exec_key[kept], self._exec_remaining[kept]

    def _update_head(self, rows: np.ndarray) -> None:
        served, t_max = self._served[rows], self.episode_steps
        flat = rows * t_max + np.minimum(served, t_max - 1)
        available = (served < t_max) & (self.arrival.ravel()[flat] <= self._t[rows])
        self._head_size[rows] = np.where(available, self.size.ravel()[flat], 0.0)
        self._head_user[rows] = np.where(available, self.user.ravel()[flat], 0)

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
            delay[i, srv] = task_delay(size, rate, self.capacity[i, srv], running)
            energy[i, srv] = task_energy(size, rate, self.freq[i, srv], self.tx_power_w)
        return delay, energy

    # ------------------------------------------------------------------ step
    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Offload the current task of every row; advance ``dt``. Returns (reward vectors
        (n, 2) float32, delay s, energy J). Actions must be valid (checked by the callers)."""
        if self.n == 1:
            delay1, energy1 = self.step_single(int(actions[0]))
            return np.array([[-ALPHA_T * delay1, -ALPHA_E * energy1]], dtype=np.float32), np.array([delay1]), np.array([energy1])
        rows, n, t_max = self._rows, self.n, self.episode_steps
        size, user = self._head_size, self._head_user
        # The live tasks (uploading or executing) of all rows as flat arrays, in row order:
        # every later operation costs in the number of live tasks, not n * episode_steps.
        flat = np.flatnonzero(self._phase.view(np.uint8) - np.uint8(1) <= 1)
        task_row = flat // t_max
        phase = self._phase.ravel()[flat]
        server = self._server.ravel()[flat]
        remaining = self._remaining.ravel()[flat]
        upload = self._upload_left.ravel()[flat]

        executing = phase == 2
        on_chosen = np.flatnonzero(executing & (server == actions[task_row]))
        rate = self.rate[rows, actions, user]
        capacity = self._capacity[rows, actions]
        # Without running tasks the closed form is tau + L / c; task_delay gives exactly
        # that, so it only runs on the rows sharing the chosen server.
        delay = np.where(size > 0, np.divide(size, rate, out=np.zeros(n), where=size > 0) + size / capacity, 0.0)
        if len(on_chosen):
            chosen_row = task_row[on_chosen]
            first = np.ones(len(chosen_row), dtype=bool)
            first[1:] = chosen_row[1:] != chosen_row[:-1]
            shared = chosen_row[first]
            running = _rows_padded(np.cumsum(first) - 1, remaining[on_chosen], len(shared))
            delay[shared] = task_delay(size[shared], rate[shared], capacity[shared], running)
        energy = task_energy(size, rate, self.freq[rows, actions], self.tx_power_w)

        real = np.flatnonzero(size > 0)
        slot = self._served[real]
        new_flat = real * t_max + slot
        self._server.ravel()[new_flat] = actions[real]
        new_up = self.size[real, slot] / rate[real]
        task_row = np.concatenate([task_row, real])
        flat = np.concatenate([flat, new_flat])
        phase = np.concatenate([phase, np.ones(len(real), np.int8)])
        server = np.concatenate([server, actions[real]])
        remaining = np.concatenate([remaining, self.size[real, slot]])
        upload = np.concatenate([upload, new_up])
        self._served[real] += 1

        self._advance(task_row, phase, server, remaining, upload)
        self._phase.ravel()[flat] = phase
        self._remaining.ravel()[flat] = remaining
        self._upload_left.ravel()[flat] = upload
        self._t += 1
        self._update_head(rows)
        executing = np.flatnonzero(phase == 2)
        self._exec_key = task_row[executing] * self.n_servers + server[executing]
        self._exec_remaining = remaining[executing]
        reward = np.stack([-ALPHA_T * delay, -ALPHA_E * energy], axis=1).astype(np.float32)
        return reward, delay, energy

    def _advance(self, row: np.ndarray, phase: np.ndarray, server: np.ndarray, remaining: np.ndarray,
                 upload: np.ndarray) -> None:
        """Event-driven processor sharing over one ``dt`` for the live tasks given as flat
        arrays (updated in place): in each row jump to the next upload or execution
        completion until the step's time is used up. Rows drop out once their time is
        used up, so the cost follows the number of events. Uploads with more than
        ``_FAR_UPLOAD_S`` left can neither finish nor set an event time within the step;
        they only take the row's event times afterwards, one subtraction at a time."""
        n, s = self.n, self.n_servers
        left = np.zeros(n)
        left[row] = DT
        uploading = phase == 1
        far = np.flatnonzero(uploading & (upload > _FAR_UPLOAD_S))
        ex = np.flatnonzero(phase == 2)
        up = np.flatnonzero(uploading & (upload <= _FAR_UPLOAD_S))
        key = row * s + server
        capacity = self._capacity.ravel()
        steps = []
        while left.any():
            # Rows whose time is used up have left = 0 and no tasks in ex or up, so h = 0 there.
            h = left.copy()
            row_ex, key_ex = row[ex], key[ex]
            counts = np.bincount(key_ex, minlength=n * s)
            speed = capacity[key_ex] / counts[key_ex]
            rem = remaining[ex]
            np.minimum.at(h, row_ex, rem / speed)
            row_up, upl = row[up], upload[up]
            np.minimum.at(h, row_up, upl)
            steps.append(h)
            rem = rem - speed * h[row_ex]
            finished = rem <= _ZERO_BITS
            rem[finished] = 0.0
            remaining[ex] = rem
            phase[ex[finished]] = 3
            upl = upl - h[row_up]
            joined = upl <= 1e-12
            upl[joined] = 0.0
            upload[up] = upl
            phase[up[joined]] = 2
            left = np.where(h >= left, 0.0, left - h)
            still = left > 0
            on_ex, on_up = still[row_ex], still[row_up]
            ex = np.concatenate([ex[on_ex & ~finished], up[on_up & joined]])
            up = up[on_up & ~joined]
        if len(far):
            # Most rows see one to three events: sort the far uploads by their row's number
            # of event times, so that the j-th time is subtracted from a contiguous suffix.
            events = np.zeros(n, dtype=np.uint8)
            for h in steps:
                events += h > 0
            far = far[np.argsort(events[row[far]], kind="stable")]
            far_row, far_up = row[far], upload[far]
            starts = np.searchsorted(events[far_row], np.arange(1, len(steps) + 1))
            for h, start in zip(steps, starts):
                far_up[start:] -= h[far_row[start:]]
            upload[far] = far_up

    # ------------------------------------------------------------------ scalar path (n == 1)
    # A single system is stepped with plain Python floats and lists: numpy's per-call
    # overhead dominates arrays this small. Every float operation mirrors the batched code
    # in the same order, so both paths give bit-identical results (tested against the
    # native vector env). Executing tasks are kept per server. Uploads with more than
    # _FAR_UPLOAD_S left ("far": mostly cloud uploads, which take thousands of seconds) can
    # neither finish nor set an event time within a step, so the step's event times are
    # only queued for them and subtracted, in order, once one of them may come near (or
    # the arrays are read). The state arrays are written from these lists only when read.
    def sync_from_arrays(self) -> None:
        """Rebuild the scalar path's state from row 0 of the arrays (after a reset or a direct edit)."""
        if self._stale:
            self._flush_scalar()
        self._p_size = self.size[0].tolist()
        self._p_user = self.user[0].tolist()
        self._p_arrival = self.arrival[0].tolist()
        self._p_rate = self.rate[0].tolist()
        self._p_cap = self.capacity[0].tolist()
        self._p_freq = self.freq[0].tolist()
        self._p_edges = int(self.edges[0])
        self._p_t, self._p_served = int(self._t[0]), int(self._served[0])
        self._p_head_size, self._p_head_user = float(self._head_size[0]), int(self._head_user[0])
        phase, server = self._phase[0], self._server[0]
        self._p_server = server[: self._p_served].tolist()
        self._p_exec_slot: list[list[int]] = [[] for _ in range(self.n_servers)]
        self._p_exec_rem: list[list[float]] = [[] for _ in range(self.n_servers)]
        for k in np.flatnonzero(phase == 2).tolist():
            self._p_exec_slot[server[k]].append(k)
            self._p_exec_rem[server[k]].append(float(self._remaining[0, k]))
        # The smallest remaining size per server and the amounts not yet subtracted.
        self._p_low = [min(rems) if rems else 0.0 for rems in self._p_exec_rem]
        self._p_queued: list[list[float]] = [[] for _ in range(self.n_servers)]
        self._p_up: list[list[Any]] = [[], [], []]  # slots, servers, upload seconds left
        # Far uploads as [slot, server, seconds left, index of the first queued event time
        # not yet subtracted, that time left plus the sum of the earlier queued times]: their
        # time left is at least the last entry minus the sum of all queued times.
        self._p_far: list[list[Any]] = []
        self._p_far_queued: list[float] = []
        self._p_far_queued_sum = 0.0
        self._p_far_bound = np.inf
        for k in np.flatnonzero(phase == 1).tolist():
            self._add_upload(k, int(server[k]), float(self._upload_left[0, k]))
        p = self._p_edges + 1
        obs = self._p_obs
        obs[:] = -1.0
        obs[:p] = 0.0
        obs[:p, 2] = self.freq[0, :p] / 1e9
        obs[:p, 4] = self._p_edges
        # Row u: the rate feature of user u to every present server, one slice write per step;
        # the columns from the count on as they are before the counts and histograms are added.
        self._p_rate_feature = np.ascontiguousarray(self.rate_feature[0, :p].T)
        self._p_obs_idle = obs[:p, 3:].copy()
        self._observe_scalar()

    def _add_upload(self, slot: int, server: int, left: float) -> None:
        if left > _FAR_UPLOAD_S:
            key = left + self._p_far_queued_sum
            self._p_far.append([slot, server, left, len(self._p_far_queued), key])
            self._p_far_bound = min(self._p_far_bound, key)
        else:
            self._p_up[0].append(slot)
            self._p_up[1].append(server)
            self._p_up[2].append(left)

    def _settle_far(self, everything: bool = False) -> None:
        """Subtract the queued event times from the far uploads that may come near (or from
        all of them) and move those within a step of _FAR_UPLOAD_S to the near uploads, so
        the next settling is at least a step away."""
        queued, total, kept = self._p_far_queued, self._p_far_queued_sum, []
        for task in self._p_far:
            if everything or task[4] - total <= _FAR_UPLOAD_S + 2 * DT:
                left = task[2]
                for h in queued[task[3] :]:
                    left -= h
                if left <= _FAR_UPLOAD_S + DT:
                    self._p_up[0].append(task[0])
                    self._p_up[1].append(task[1])
                    self._p_up[2].append(left)
                    continue
                task[2], task[3], task[4] = left, len(queued), left + total
            kept.append(task)
        self._p_far = kept
        self._p_far_bound = min([task[4] for task in kept], default=np.inf)

    def _flush_scalar(self) -> None:
        """Write the scalar path's state into row 0 of the state arrays."""
        self._settle_far(everything=True)
        self._stale = False
        served = self._p_served
        self._t[0], self._served[0] = self._p_t, served
        self._head_size[0], self._head_user[0] = self._p_head_size, self._p_head_user
        self._server[0, :served] = self._p_server
        # Every task offloaded or live at the last write is done unless still live below.
        done = self._phase[0].view(np.uint8) - np.uint8(1) <= 1
        done[:served] = True
        self._phase[0, done] = 3
        self._remaining[0, done] = 0.0
        self._upload_left[0, done] = 0.0
        for slots, rems in zip(self._p_exec_slot, self._p_exec_rem):
            self._phase[0, slots] = 2
            self._remaining[0, slots] = rems
        slots = self._p_up[0] + [task[0] for task in self._p_far]
        self._phase[0, slots] = 1
        self._remaining[0, slots] = [self._p_size[k] for k in slots]
        self._upload_left[0, slots] = self._p_up[2] + [task[2] for task in self._p_far]

    def step_single(self, a: int) -> tuple[float, float]:
        """:meth:`step` of a single system (``n == 1``) with a valid action; returns (delay s, energy J)."""
        size, user = self._p_head_size, self._p_head_user
        delay = energy = 0.0
        if size > 0:
            rate, cap = self._p_rate[a][user], self._p_cap[a]
            tau = size / rate
            running = self._p_exec_rem[a]
            extra = _extra_sharing(sorted(running), cap * tau, size) if running else 0.0
            delay = tau + (size + 2.0 * extra) / cap
            f = self._p_freq[a]
            energy = self.tx_power_w * size / rate + KAPPA * ETA * (f * f) * size
            slot = self._p_served
            self._p_server.append(a)
            self._add_upload(slot, a, self._p_size[slot] / rate)
            self._p_served = slot + 1
        self._advance_scalar()
        self._stale = True
        self._p_t = t = self._p_t + 1
        served = self._p_served
        idx = min(served, self.episode_steps - 1)
        if served < self.episode_steps and self._p_arrival[idx] <= t:
            self._p_head_size, self._p_head_user = self._p_size[idx], self._p_user[idx]
        else:
            self._p_head_size, self._p_head_user = 0.0, 0
        self._observe_scalar()
        return delay, energy

    def _advance_scalar(self) -> None:
        # The event loop only tracks each group's smallest value (subtracting the same amount
        # keeps the order, so the smallest stays the smallest); the amounts subtracted are
        # queued and applied to a whole group, in the same order, when one of its tasks
        # finishes or joins it and at the end of the step.
        cap, exec_slot, exec_rem = self._p_cap, self._p_exec_slot, self._p_exec_rem
        low, queued = self._p_low, self._p_queued
        up_slot, up_srv, up_left = self._p_up
        servers = range(self._p_edges + 1)
        busy = [s for s in servers if exec_rem[s]]
        low_up = min(up_left) if up_left else 0.0
        queued_up: list[float] = []
        steps = []
        left = DT
        while busy or up_left:
            h = left
            speed = [cap[s] / len(exec_rem[s]) for s in busy]
            for s, v in zip(busy, speed):
                t = low[s] / v
                if t < h:
                    h = t
            if up_left and low_up < h:
                h = low_up
            steps.append(h)
            changed = False
            for s, v in zip(busy, speed):
                d = v * h
                queued[s].append(d)
                low[s] -= d
                if low[s] <= _ZERO_BITS:
                    rems = _subtract_all(exec_rem[s], queued[s])
                    queued[s] = []
                    keep = [i for i, r in enumerate(rems) if r > _ZERO_BITS]
                    exec_slot[s] = [exec_slot[s][i] for i in keep]
                    exec_rem[s] = rems = [rems[i] for i in keep]
                    low[s] = min(rems) if rems else 0.0
                    changed = True
            if up_left:
                queued_up.append(h)
                low_up -= h
                if low_up <= 1e-12:
                    up_left[:] = _subtract_all(up_left, queued_up)
                    queued_up = []
                    for i in reversed(range(len(up_left))):
                        if up_left[i] <= 1e-12:
                            slot, s = up_slot.pop(i), up_srv.pop(i)
                            del up_left[i]
                            if queued[s]:
                                exec_rem[s] = _subtract_all(exec_rem[s], queued[s])
                                queued[s] = []
                            size = self._p_size[slot]
                            low[s] = min(low[s], size) if exec_rem[s] else size
                            exec_slot[s].append(slot)
                            exec_rem[s].append(size)
                    low_up = min(up_left) if up_left else 0.0
                    changed = True
            left = 0.0 if h >= left else left - h
            if left <= 0:
                break
            if changed:
                busy = [s for s in servers if exec_rem[s]]
        else:
            steps.append(left)
        for s in servers:
            amounts = queued[s]
            if amounts:
                if len(amounts) == 1:
                    d = amounts[0]
                    exec_rem[s] = [r - d for r in exec_rem[s]]
                else:
                    exec_rem[s] = _subtract_all(exec_rem[s], amounts)
                queued[s] = []
        if queued_up:
            up_left[:] = _subtract_all(up_left, queued_up)
        if self._p_far:
            self._p_far_queued += steps
            self._p_far_queued_sum += sum(steps)
            if self._p_far_bound - self._p_far_queued_sum <= _FAR_UPLOAD_S:
                self._settle_far()

    def _observe_scalar(self) -> None:
        obs, flat, p = self._p_obs, self._p_obs_flat, self._p_edges + 1
        obs[:p, 0] = self._p_head_size / 1e6
        obs[:p, 1] = self._p_rate_feature[self._p_head_user]
        obs[:p, 3:] = self._p_obs_idle
        width, top, bin_bits = self.row_features, self.hist_bins - 1, self.hist_bin_bits
        # Counts and histogram entries are gathered first: one numpy write per nonzero entry.
        entries: dict[int, int] = {}
        for s, rems in enumerate(self._p_exec_rem[:p]):
            if rems:
                entries[s * width + 3] = len(rems)
                base = s * width + N_SERVER_FEATURES
                for r in rems:
                    k = int(r / bin_bits)
                    k = base + (k if k < top else top)
                    entries[k] = entries.get(k, 0) + 1
        for k, count in entries.items():
            flat[k] = count

    # ------------------------------------------------------------------ observation
    def observe(self, out: np.ndarray | None = None) -> np.ndarray:
        """Per-server rows (n, servers, 5 + hist_bins) as float32; absent rows are -1. With
        ``out`` (a C-contiguous float32 array (n, width >= servers * (5 + hist_bins))) the
        rows are written, flattened, into the first columns of ``out``, which is returned."""
        n, s, rf = self.n, self.n_servers, self.row_features
        if out is None:
            return self.observe(np.empty((n, s * rf), dtype=np.float32)).reshape(n, s, rf)
        if self.n == 1:
            out[0, : s * rf] = self._p_obs_flat
            return out
        obs = out[:, : s * rf].reshape(n, s, rf)
        obs[:] = self._obs_template
        present = self.present
        obs[:, :, 0] = np.where(present, (self._head_size / 1e6)[:, None], -1.0)
        obs[:, :, 1] = np.where(present, self.rate_feature[self._rows, :, self._head_user], -1.0)
        counts = np.bincount(self._exec_key, minlength=n * s).reshape(n, s)
        obs[:, :, 3] = np.where(present, counts, -1.0)
        bins = np.minimum((self._exec_remaining / self.hist_bin_bits).astype(np.int64), self.hist_bins - 1)
        row, server = np.divmod(self._exec_key, s)
        # A flat index array and a float32 one: the case numpy's ufunc.at runs fast.
        np.add.at(out.reshape(-1), row * out.shape[1] + server * rf + N_SERVER_FEATURES + bins, np.float32(1.0))
        return out


class MOMECOffloadingEnv(gym.Env):
    """Multi-objective MEC offloading: float32 reward vector ``[-0.01 * delay, -50 * energy]``.
    See the module docstring for the model, spaces and arguments."""

    metadata = {"render_modes": ["ansi"], "render_fps": 1}

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
        weights: tuple[float, float] = (0.5, 0.5),
        preference_in_obs: bool = False,
        render_mode: str | None = None,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be None or one of {self.metadata['render_modes']}, got {render_mode!r}")
        self.core = MECCore(
            1, context=context, n_edges=n_edges, cloud_freq_ghz=cloud_freq_ghz, edge_freq_ghz=edge_freq_ghz,
            max_edges=max_edges, n_users=n_users, arrival_rate=arrival_rate, episode_steps=episode_steps,
            hist_bins=hist_bins, hist_bin_mbit=hist_bin_mbit, tx_power_w=tx_power_w, bandwidth_hz=bandwidth_hz,
        )
        self.weights = validate_weights(weights)
        self.preference_in_obs = bool(preference_in_obs)
        self.render_mode = render_mode
        self.init_kwargs: dict[str, Any] = {
            "context": context, "n_edges": n_edges, "cloud_freq_ghz": cloud_freq_ghz, "edge_freq_ghz": edge_freq_ghz,
            "max_edges": max_edges, "n_users": n_users, "arrival_rate": arrival_rate, "episode_steps": episode_steps,
            "hist_bins": hist_bins, "hist_bin_mbit": hist_bin_mbit, "tx_power_w": tx_power_w,
            "bandwidth_hz": bandwidth_hz, "weights": tuple(self.weights), "preference_in_obs": self.preference_in_obs,
        }
        """The constructor's arguments (without ``render_mode``), e.g. to build the native vector env."""
        self.reward_dim = N_OBJECTIVES
        self.action_space = spaces.Discrete(self.core.n_servers)
        dim = self.core.n_servers * self.core.row_features + (N_OBJECTIVES if self.preference_in_obs else 0)
        self.observation_space = spaces.Box(-1.0, self.core.obs_high, shape=(dim,), dtype=np.float32)
        self.reward_space = spaces.Box(-np.inf, 0.0, shape=(N_OBJECTIVES,), dtype=np.float32)
        self._needs_reset = True

    # ------------------------------------------------------------------ API
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if options and "weights" in options:
            self.weights = validate_weights(options["weights"], 'options["weights"]')
        self.core.reset_rows(np.array([0]), [self.np_random])
        self.core._p_obs_buffer[-N_OBJECTIVES:] = self.weights
        self._needs_reset = False
        return self._obs(), self._info(np.zeros(N_OBJECTIVES, np.float32), 0.0, 0.0, 0.0)

    def step(self, action: Any):
        if self._needs_reset:
            raise gym.error.ResetNeeded("call reset() before step() (the episode has ended or never started)")
        core = self.core
        # Fast path for the plain integers policies emit; anything else gets the full checks.
        if isinstance(action, (int, np.integer)) and 0 <= action <= core._p_edges:
            a = int(action)
        else:
            a = self._check_action(action)
        size = core._p_head_size
        delay, energy = core.step_single(a)
        reward = np.array([-ALPHA_T * delay, -ALPHA_E * energy], dtype=np.float32)
        truncated = core._p_t >= core.episode_steps
        self._needs_reset = truncated
        return self._obs(), self._reward(reward), False, truncated, self._info(reward, delay, energy, size)

    def action_masks(self) -> np.ndarray:
        return self.core.present[0].copy()

    def server_estimates(self) -> tuple[np.ndarray, np.ndarray]:
        """(delay s, energy J) of offloading the current task to each server (``inf`` if
        absent): the one-step estimates the reward uses, for heuristic baselines."""
        delay, energy = self.core.all_estimates()
        return delay[0], energy[0]

    def render(self) -> str | None:
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
        # The core leaves room for the preference after its observation (set at reset).
        return (self.core._p_obs_buffer if self.preference_in_obs else self.core._p_obs_flat).copy()

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
