"""Numba kernels of MEC offloading: one compiled step (delay and energy of the offloaded task,
event-exact processor sharing over ``dt``, next task, observation) shared by the single env
(``n = 1``) and the native vector env (all systems in one call, looping over them inside the
kernel), so the two agree bit for bit by construction.

The kernels are compiled with ``numba.njit(cache=True)``: the first call on a machine compiles
them (a few seconds) and stores the machine code next to this file (or under
``NUMBA_CACHE_DIR``); later processes load it.

Bit-for-bit contract: the kernels repeat the float operations of the Python/numpy code they
replaced, in the same order and precision (no fast-math, so no fused multiply-adds), and call
no transcendental function; the trajectories of v0 are unchanged.

Array layout (``n`` systems, ``S`` servers, ``T = episode_steps`` task slots, ``U`` users):

- per task slot (n, T): ``size`` (bits), ``user``, ``arrival`` (step), ``server``, ``phase``
  (int8: 0 waiting, 1 uploading, 2 executing, 3 done), ``remaining`` (bits), ``upload_left`` (s);
- per system (n,): ``t`` (steps done), ``served`` (tasks offloaded), ``head_size`` (bits, 0 for
  a dummy task), ``head_user``, ``edges``;
- per server (n, S): ``capacity = f / eta`` (bit/s), ``freq`` (Hz), ``latency`` (s, a fixed
  transfer delay: the cloud's backhaul latency in v1, 0 otherwise); per server and user
  (n, S, U): ``rate`` (bit/s, the end-to-end transfer rate that sets the upload time),
  ``radio_rate`` (bit/s, the user's radio link, which sets the transmit energy; the same array
  as ``rate`` when there is no backhaul), ``rate_feature`` (float32 observation column);
- ``obs`` (n, >= S * (5 + hist_bins)) float32: the rows of the observation, flattened.
"""

from __future__ import annotations

import numpy as np
from numba import njit

ETA = 1e3
KAPPA = 5e-31
DT = 1.0
N_SERVER_FEATURES = 5
# A task with at most this many bits left has finished; an upload with at most this many
# seconds left has arrived.
ZERO_BITS = 1e-6
ZERO_SECONDS = 1e-12
# An upload with more than this many seconds left outlasts the step (dt = 1 s) whatever happens in it.
FAR_UPLOAD_S = 2.0


@njit(cache=True)
def arrival_steps(arrivals: np.ndarray) -> np.ndarray:
    """Arrival step of every task from the arrivals per step (k, T): task ``j`` arrives in the
    first step whose cumulative arrival count exceeds ``j`` (``T`` if none does)."""
    k, n_steps = arrivals.shape
    out = np.empty((k, n_steps), dtype=np.int64)
    for row in range(k):
        step = 0
        cum = arrivals[row, 0]
        for task in range(n_steps):
            while step < n_steps and cum <= task:
                step += 1
                if step < n_steps:
                    cum += arrivals[row, step]
            out[row, task] = step
    return out


@njit(cache=True)
def extra_sharing(running: np.ndarray, m: int, work: float, size: float, level_work: np.ndarray) -> float:
    """``sum_j min(r'_j, L)`` for the ascending remaining sizes ``running[:m]`` of the tasks
    executing on a server, ``work = c * tau`` bits executed during the upload and ``L = size``:
    the water level ``x`` solves ``sum_j min(r_j, x) = work`` and ``r'_j = max(r_j - x, 0)``.
    ``level_work`` is scratch space of length >= m."""
    cum = 0.0
    k = 0
    for j in range(m):
        v = running[j]
        cum += v
        # Work needed to bring the water level up to the j-th size.
        level_work[j] = (cum - v) + v * (m - j)
        if level_work[j] <= work:
            k += 1
    if k == m:
        return 0.0
    if k == 0:
        level = work / m
    else:
        level = running[k - 1] + (work - level_work[k - 1]) / (m - k)
    extra = 0.0
    for j in range(m):
        extra += min(max(running[j] - level, 0.0), size)
    return extra


@njit(cache=True)
def _sort(values: np.ndarray, m: int) -> None:
    """Sort ``values[:m]`` in place (insertion sort: a server runs few tasks at a time)."""
    for j in range(1, m):
        v = values[j]
        k = j - 1
        while k >= 0 and values[k] > v:
            values[k + 1] = values[k]
            k -= 1
        values[k + 1] = v


@njit(cache=True)
def observe_row(i, executing, n_executing, server, remaining, head_size, head_user, edges, freq, rate_feature, obs,
                hist_bins, hist_bin_bits):
    """Write the observation rows of system ``i`` into ``obs[i]``: per present server the task
    size (Mbit), rate feature, GHz, executing tasks, E and the histogram of their remaining
    sizes; absent servers' rows are -1. ``executing[:n_executing]`` are the executing slots."""
    n_servers = freq.shape[1]
    width = N_SERVER_FEATURES + hist_bins
    e = edges[i]
    size_mbit = head_size[i] / 1e6
    u = head_user[i]
    row = obs[i]
    # Absent servers are the last ones (s > E): their rows are -1, the others start at 0.
    row[: (e + 1) * width] = 0.0
    row[(e + 1) * width : n_servers * width] = -1.0
    for s in range(e + 1):
        base = s * width
        row[base] = size_mbit
        row[base + 1] = rate_feature[i, s, u]
        row[base + 2] = freq[i, s] / 1e9
        row[base + 4] = e
    top = hist_bins - 1
    for j in range(n_executing):
        k = executing[j]
        base = server[i, k] * width
        b = int(remaining[i, k] / hist_bin_bits)
        row[base + 3] += 1.0
        row[base + N_SERVER_FEATURES + (b if b < top else top)] += 1.0


@njit(cache=True)
def observe_rows(rows, server, phase, remaining, head_size, head_user, edges, freq, rate_feature, obs, hist_bins,
                 hist_bin_bits):
    """:func:`observe_row` for every system in ``rows``."""
    executing = np.empty(phase.shape[1], dtype=np.int64)
    for i in rows:
        m = 0
        for k in range(phase.shape[1]):
            if phase[i, k] == 2:
                executing[m] = k
                m += 1
        observe_row(i, executing, m, server, remaining, head_size, head_user, edges, freq, rate_feature, obs,
                    hist_bins, hist_bin_bits)


@njit(cache=True)
def step_rows(actions, size, user, arrival, rate, radio_rate, latency, capacity, freq, server, phase, remaining,
              upload_left, t, served, head_size, head_user, edges, rate_feature, obs, delay, energy, tx_power_w,
              hist_bins, hist_bin_bits):
    """Offload the current task of every system to ``actions[i]`` (valid actions), advance
    ``dt`` and write the observation of the new state. ``delay`` and ``energy`` (n,) receive
    the closed-form delay (s) and the energy (J) charged for the offloaded task (0 for a dummy
    task). The transfer time is ``L / rate + latency`` (``x + 0.0 == x``, so a zero latency
    leaves v0's arithmetic unchanged), the transmit energy ``p L / radio_rate``."""
    n, n_tasks = size.shape
    n_servers = capacity.shape[1]
    running = np.empty(n_tasks)
    level_work = np.empty(n_tasks)
    executing = np.empty(n_tasks, dtype=np.int64)
    near = np.empty(n_tasks, dtype=np.int64)
    far = np.empty(n_tasks, dtype=np.int64)
    # Each event but the last ends an upload or an execution: 2 T + 1 suffice but for rounding.
    events = np.empty(2 * n_tasks + 1)
    count = np.empty(n_servers, dtype=np.int64)
    speed = np.empty(n_servers)
    low = np.empty(n_servers)
    for i in range(n):
        # The live tasks of the row: executing, uploading near and far. Branch-free: the
        # phases follow no pattern a branch predictor could learn, so every slot is written
        # to each list and only its own list grows.
        n_ex = n_near = n_far = 0
        for k in range(n_tasks):
            p = phase[i, k]
            executing[n_ex] = k
            n_ex += p == 2
            isfar = upload_left[i, k] > FAR_UPLOAD_S
            far[n_far] = k
            n_far += (p == 1) & isfar
            near[n_near] = k
            n_near += (p == 1) & (not isfar)

        a = actions[i]
        sz = head_size[i]
        d = 0.0
        en = 0.0
        if sz > 0:
            r = rate[i, a, head_user[i]]
            lat = latency[i, a]
            c = capacity[i, a]
            tau = sz / r + lat
            m = 0
            for j in range(n_ex):
                if server[i, executing[j]] == a:
                    running[m] = remaining[i, executing[j]]
                    m += 1
            extra = 0.0
            if m > 0:
                _sort(running, m)
                extra = extra_sharing(running, m, c * tau, sz, level_work)
            d = tau + (sz + 2.0 * extra) / c
            f = freq[i, a]
            en = tx_power_w * sz / radio_rate[i, a, head_user[i]] + KAPPA * ETA * (f * f) * sz
            slot = served[i]
            server[i, slot] = a
            phase[i, slot] = 1
            remaining[i, slot] = size[i, slot]
            upload_left[i, slot] = x = size[i, slot] / r + lat
            if x > FAR_UPLOAD_S:
                far[n_far] = slot
                n_far += 1
            else:
                near[n_near] = slot
                n_near += 1
            served[i] = slot + 1
        delay[i] = d
        energy[i] = en

        # Event-driven processor sharing: jump to the next upload arrival or execution
        # completion until dt is used up; a server's n executing tasks each run at c / n. Far
        # uploads can neither arrive nor set an event time within dt: they only take the
        # step's event times afterwards, one subtraction at a time, in order.
        count[:] = 0
        for j in range(n_ex):
            count[server[i, executing[j]]] += 1
        left = DT
        n_events = 0
        while True:
            low[:] = np.inf
            for j in range(n_ex):
                k = executing[j]
                s = server[i, k]
                if remaining[i, k] < low[s]:
                    low[s] = remaining[i, k]
            h = left
            for s in range(n_servers):
                if count[s] > 0:
                    speed[s] = capacity[i, s] / count[s]
                    # Dividing by the same positive speed keeps the order, so the smallest
                    # remaining size gives the smallest completion time, bit for bit.
                    x = low[s] / speed[s]
                    if x < h:
                        h = x
            for j in range(n_near):
                x = upload_left[i, near[j]]
                if x < h:
                    h = x
            if n_events == len(events):
                events = np.concatenate((events, np.empty(len(events))))
            events[n_events] = h
            n_events += 1
            kept = 0
            for j in range(n_ex):
                k = executing[j]
                s = server[i, k]
                x = remaining[i, k] - speed[s] * h
                if x <= ZERO_BITS:
                    x = 0.0
                    phase[i, k] = 3
                    count[s] -= 1
                else:
                    executing[kept] = k
                    kept += 1
                remaining[i, k] = x
            n_ex = kept
            kept = 0
            for j in range(n_near):
                k = near[j]
                x = upload_left[i, k] - h
                if x <= ZERO_SECONDS:
                    x = 0.0
                    phase[i, k] = 2
                    count[server[i, k]] += 1
                    executing[n_ex] = k
                    n_ex += 1
                else:
                    near[kept] = k
                    kept += 1
                upload_left[i, k] = x
            n_near = kept
            if h >= left:
                break
            left = left - h
        for j in range(n_far):
            k = far[j]
            x = upload_left[i, k]
            for e in range(n_events):
                x -= events[e]
            upload_left[i, k] = x

        t[i] += 1
        nxt = min(served[i], n_tasks - 1)
        if served[i] < n_tasks and arrival[i, nxt] <= t[i]:
            head_size[i] = size[i, nxt]
            head_user[i] = user[i, nxt]
        else:
            head_size[i] = 0.0
            head_user[i] = 0
        observe_row(i, executing, n_ex, server, remaining, head_size, head_user, edges, freq, rate_feature, obs,
                    hist_bins, hist_bin_bits)
