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
    ``remaining`` (shape (N, K), zero-padded): ``tau + (L + 2 sum_j min(r'_j, L)) / c``."""
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


class MECCore:
    """State and dynamics of ``n`` independent MEC systems as arrays with a leading batch axis.

    Both the single env (``n = 1``) and the native vector env run this code, so they agree
    bit for bit on the same seeds. Randomness is drawn only in :meth:`reset_rows`, from the
    generator given for each row; ``step`` is deterministic.
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
        self.rate = np.ones((n, s, u))
        self.rate_feature = np.zeros((n, s, u), dtype=np.float32)
        self.mean_size = np.zeros(n)
        # Tasks in arrival order; at most episode_steps of them can ever be offloaded.
        self.size = np.zeros((n, t))
        self.user = np.zeros((n, t), dtype=np.int64)
        self.arrival = np.zeros((n, t), dtype=np.int64)
        self.server = np.zeros((n, t), dtype=np.int64)
        self.phase = np.zeros((n, t), dtype=np.int8)  # 0 waiting, 1 uploading, 2 executing, 3 done
        self.remaining = np.zeros((n, t))
        self.upload_left = np.zeros((n, t))
        self.t = np.zeros(n, dtype=np.int64)
        self.served = np.zeros(n, dtype=np.int64)
        self.head_size = np.zeros(n)
        self.head_user = np.zeros(n, dtype=np.int64)
        self._rows = np.arange(n)

    # ------------------------------------------------------------------ reset
    def reset_rows(self, rows: np.ndarray, rngs: list[np.random.Generator]) -> None:
        ctx = CONTEXTS[self.context]
        s, t, u = self.n_servers, self.episode_steps, self.n_users
        for i, rng in zip(rows, rngs):
            lo, hi = ctx["edges"]
            e = int(rng.integers(lo, hi + 1)) if self.n_edges is None else int(self.n_edges)
            fc = rng.uniform(*ctx["cloud_ghz"]) if self.cloud_freq_ghz is None else self.cloud_freq_ghz
            fe = rng.uniform(*ctx["edge_ghz"], size=e) if self.edge_freq_ghz is None else np.full(e, self.edge_freq_ghz)
            dist = np.concatenate([rng.uniform(*_CLOUD_DIST_M, size=(1, u)), rng.uniform(*_EDGE_DIST_M, size=(e, u))])
            fading = rng.exponential(1.0, size=(e + 1, u))
            counts = rng.poisson(self.arrival_rate * u, size=t)
            freq = np.zeros(s)
            freq[0] = fc * 1e9
            freq[1 : e + 1] = fe * 1e9
            mean = DT * freq.sum() / (ETA * self.arrival_rate * u)
            self.edges[i] = e
            self.present[i] = np.arange(s) <= e
            self.freq[i] = freq
            self.rate[i] = 1.0
            self.rate[i, : e + 1] = uplink_rate(dist, fading, self.tx_power_w, self.bandwidth_hz)
            self.rate_feature[i] = np.log10(1.0 + self.rate[i] / 1e6)
            self.mean_size[i] = mean
            self.size[i] = np.clip(rng.exponential(mean, size=t), *_TASK_SIZE_RANGE)
            self.user[i] = rng.integers(0, u, size=t)
            self.arrival[i] = np.searchsorted(np.cumsum(counts), np.arange(t), side="right")
        self.phase[rows] = 0
        self.remaining[rows] = 0.0
        self.upload_left[rows] = 0.0
        self.server[rows] = 0
        self.t[rows] = 0
        self.served[rows] = 0
        self._update_head(rows)
        if self.n == 1:
            self.sync_from_arrays()

    def _update_head(self, rows: np.ndarray) -> None:
        idx = np.minimum(self.served[rows], self.episode_steps - 1)
        available = (self.served[rows] < self.episode_steps) & (self.arrival[rows, idx] <= self.t[rows])
        self.head_size[rows] = np.where(available, self.size[rows, idx], 0.0)
        self.head_user[rows] = np.where(available, self.user[rows, idx], 0)

    # ------------------------------------------------------------------ queries
    @property
    def capacity(self) -> np.ndarray:
        return self.freq / ETA

    def action_masks(self) -> np.ndarray:
        return self.present.copy()

    def head_rates(self) -> np.ndarray:
        """Upload rate of the current task's user to every server, shape (n, servers)."""
        return self.rate[self._rows, :, self.head_user]

    def executing_on(self, servers: np.ndarray) -> np.ndarray:
        """Remaining bits of the tasks executing on ``servers[i]`` in row i (zero elsewhere)."""
        mask = (self.phase == 2) & (self.server == servers[:, None])
        return np.where(mask, self.remaining, 0.0)

    def estimates(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(delay s, energy J) of offloading the current task to ``actions`` (shape (n,))."""
        rows = self._rows
        rate = self.rate[rows, actions, self.head_user]
        delay = task_delay(self.head_size, rate, self.capacity[rows, actions], self.executing_on(actions))
        energy = task_energy(self.head_size, rate, self.freq[rows, actions], self.tx_power_w)
        return delay, energy

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
            return self._step_scalar(int(actions[0]))
        rows = self._rows
        delay, energy = self.estimates(actions)
        real = self.head_size > 0
        slot = np.minimum(self.served, self.episode_steps - 1)
        rr, ss = rows[real], slot[real]
        self.server[rr, ss] = actions[real]
        self.phase[rr, ss] = 1
        self.remaining[rr, ss] = self.size[rr, ss]
        self.upload_left[rr, ss] = self.size[rr, ss] / self.rate[rr, actions[real], self.head_user[real]]
        self.served += real
        self._advance()
        self.t += 1
        self._update_head(rows)
        reward = np.stack([-ALPHA_T * delay, -ALPHA_E * energy], axis=1).astype(np.float32)
        return reward, delay, energy

    def _advance(self) -> None:
        """Event-driven processor sharing over one ``dt``: jump to the next upload or
        execution completion in each row until the step's time is used up. Only rows with
        live tasks, the column window holding them, and rows still short of ``dt`` are
        touched, so the cost follows the number of events, not the batch size."""
        live = (self.phase == 1) | (self.phase == 2)
        rows = np.flatnonzero(live.any(axis=1))
        if not len(rows):
            return
        cols = np.flatnonzero(live[rows].any(axis=0))
        window = slice(int(cols[0]), int(cols[-1]) + 1)
        s = self.n_servers
        phase = self.phase[rows, window]
        server = self.server[rows, window]
        remaining = self.remaining[rows, window]
        upload = self.upload_left[rows, window]
        capacity = self.capacity[rows]
        left = np.full(len(rows), DT)
        sub = np.arange(len(rows))
        while len(sub):
            ph, sv, rem, up, lf = phase[sub], server[sub], remaining[sub], upload[sub], left[sub]
            executing, uploading = ph == 2, ph == 1
            flat = np.arange(len(sub))[:, None] * s + sv
            counts = np.bincount(flat[executing], minlength=len(sub) * s)
            cap = capacity[sub].ravel()
            share = np.divide(cap, counts, out=np.zeros_like(cap), where=counts > 0)
            speed = share[flat]
            t_exec = np.where(executing, rem / np.where(executing, speed, 1.0), np.inf)
            t_up = np.where(uploading, up, np.inf)
            h = np.minimum(np.minimum(t_exec.min(axis=1), t_up.min(axis=1)), lf)
            rem = np.where(executing, rem - speed * h[:, None], rem)
            up = np.where(uploading, up - h[:, None], up)
            finished = executing & (rem <= _ZERO_BITS)
            ph[finished] = 3
            rem[finished] = 0.0
            joined = uploading & (up <= 1e-12)
            ph[joined] = 2
            up[joined] = 0.0
            lf = np.where(h >= lf, 0.0, lf - h)
            phase[sub], remaining[sub], upload[sub], left[sub] = ph, rem, up, lf
            sub = sub[lf > 0]
        self.phase[rows, window] = phase
        self.remaining[rows, window] = remaining
        self.upload_left[rows, window] = upload

    # ------------------------------------------------------------------ scalar path (n == 1)
    # A single system is stepped with plain Python floats over its few live tasks: numpy's
    # per-call overhead dominates arrays this small. Every operation mirrors the batched
    # code in the same order, so both paths give bit-identical results (tested against the
    # native vector env), and the state arrays are kept up to date for every other method.
    def sync_from_arrays(self) -> None:
        """Rebuild the scalar path's mirror of row 0 (after a reset or a direct edit of the arrays)."""
        self._p_size = self.size[0].tolist()
        self._p_user = self.user[0].tolist()
        self._p_arrival = self.arrival[0].tolist()
        self._p_rate = self.rate[0].tolist()
        self._p_cap = self.capacity[0].tolist()
        self._p_freq = self.freq[0].tolist()
        self._p_present = np.flatnonzero(self.present[0])
        self._p_live = {
            int(k): [int(self.server[0, k]), int(self.phase[0, k]), float(self.remaining[0, k]), float(self.upload_left[0, k])]
            for k in np.flatnonzero((self.phase[0] == 1) | (self.phase[0] == 2))
        }
        template = np.full((self.n_servers, self.row_features), -1.0, dtype=np.float32)
        template[self._p_present] = 0.0
        template[self._p_present, 2] = self.freq[0, self._p_present] / 1e9
        template[self._p_present, 4] = self.edges[0]
        self._p_template = template

    def _step_scalar(self, a: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        size, user = float(self.head_size[0]), int(self.head_user[0])
        live = self._p_live
        rate, cap = self._p_rate[a][user], self._p_cap[a]
        delay = energy = 0.0
        if size > 0:
            tau = size / rate
            running = sorted(v[2] for v in live.values() if v[1] == 2 and v[0] == a)
            delay = tau + (size + 2.0 * _extra_sharing(running, cap * tau, size)) / cap
            f = self._p_freq[a]
            energy = self.tx_power_w * size / rate + KAPPA * ETA * (f * f) * size
            slot = int(self.served[0])
            live[slot] = [a, 1, self._p_size[slot], self._p_size[slot] / rate]
            self.served[0] = slot + 1
        touched = set(live)
        if live:
            self._advance_scalar(touched)
        if touched:
            # Finished tasks left the live set: phase 3, nothing remaining; the server stays.
            keys = list(touched)
            _, phase, rem, up = zip(*[live.get(k, (0, 3, 0.0, 0.0)) for k in keys])
            self.phase[0, keys], self.remaining[0, keys], self.upload_left[0, keys] = phase, rem, up
            alive = [k for k in keys if k in live]
            self.server[0, alive] = [live[k][0] for k in alive]
        self.t[0] += 1
        served, t = int(self.served[0]), int(self.t[0])
        idx = min(served, self.episode_steps - 1)
        available = served < self.episode_steps and self._p_arrival[idx] <= t
        self.head_size[0] = self._p_size[idx] if available else 0.0
        self.head_user[0] = self._p_user[idx] if available else 0
        reward = np.array([[-ALPHA_T * delay, -ALPHA_E * energy]], dtype=np.float32)
        return reward, np.array([delay]), np.array([energy])

    def _advance_scalar(self, touched: set[int]) -> None:
        live, cap = self._p_live, self._p_cap
        left = DT
        while True:
            counts = [0] * self.n_servers
            for v in live.values():
                if v[1] == 2:
                    counts[v[0]] += 1
            h = left
            for v in live.values():
                h = min(h, v[2] / (cap[v[0]] / counts[v[0]]) if v[1] == 2 else v[3])
            for k in list(live):
                v = live[k]
                if v[1] == 2:
                    v[2] = v[2] - cap[v[0]] / counts[v[0]] * h
                    if v[2] <= _ZERO_BITS:
                        del live[k]
                else:
                    v[3] = v[3] - h
                    if v[3] <= 1e-12:
                        v[1], v[3] = 2, 0.0
            left = 0.0 if h >= left else left - h
            if left <= 0:
                return

    def _observe_scalar(self) -> np.ndarray:
        obs = self._p_template.copy()
        present = self._p_present
        obs[present, 0] = self.head_size[0] / 1e6
        obs[present, 1] = self.rate_feature[0, present, self.head_user[0]]
        counts = [0] * self.n_servers
        hist: dict[tuple[int, int], int] = {}
        top = self.hist_bins - 1
        for v in self._p_live.values():
            if v[1] == 2:
                counts[v[0]] += 1
                key = (v[0], N_SERVER_FEATURES + min(int(v[2] / self.hist_bin_bits), top))
                hist[key] = hist.get(key, 0) + 1
        obs[present, 3] = np.array(counts)[present]
        for (srv, col), c in hist.items():
            obs[srv, col] = c
        return obs[None]

    # ------------------------------------------------------------------ observation
    def observe(self) -> np.ndarray:
        """Per-server rows (n, servers, 5 + hist_bins) as float32; absent rows are -1."""
        if self.n == 1:
            return self._observe_scalar()
        n, s, b = self.n, self.n_servers, self.hist_bins
        executing = self.phase == 2
        counts = np.bincount(((self._rows * s)[:, None] + self.server)[executing], minlength=n * s).reshape(n, s)
        bins = np.minimum((self.remaining / self.hist_bin_bits).astype(np.int64), b - 1)
        flat = ((self._rows * s)[:, None] + self.server) * b + bins
        hist = np.bincount(flat[executing], minlength=n * s * b).reshape(n, s, b)
        obs = np.empty((n, s, self.row_features), dtype=np.float32)
        obs[:, :, 0] = (self.head_size / 1e6)[:, None]
        obs[:, :, 1] = self.rate_feature[self._rows, :, self.head_user]
        obs[:, :, 2] = self.freq / 1e9
        obs[:, :, 3] = counts
        obs[:, :, 4] = self.edges[:, None]
        obs[:, :, N_SERVER_FEATURES:] = hist
        obs[~self.present] = -1.0
        return obs


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
        self._needs_reset = False
        return self._obs(), self._info(np.zeros(N_OBJECTIVES, np.float32), 0.0, 0.0, 0.0)

    def step(self, action: Any):
        if self._needs_reset:
            raise gym.error.ResetNeeded("call reset() before step() (the episode has ended or never started)")
        a = self._check_action(action)
        size = float(self.core.head_size[0])
        reward, delay, energy = self.core.step(np.array([a]))
        truncated = bool(self.core.t[0] >= self.core.episode_steps)
        self._needs_reset = truncated
        info = self._info(reward[0], float(delay[0]), float(energy[0]), size)
        return self._obs(), self._reward(reward[0]), False, truncated, info

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
        obs = self.core.observe()[0].ravel()
        if self.preference_in_obs:
            obs = np.concatenate([obs, self.weights.astype(np.float32)])
        return obs

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
        return float(scalarize(vector[None], self.weights[None])[0])


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
