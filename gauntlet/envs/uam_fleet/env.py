"""Urban-air-mobility fleet scheduling under operational constraints, varying demand and uncertainty.

## Description

An operator runs ``n_aircraft`` electric aircraft between ``n_vertiports`` vertiports for one
day, 06:00-18:00. Passengers arrive at each vertiport for each destination as a Poisson
process with urban commuter peaks (towards attractive vertiports around 08:00, away from them
around 16:30), wait for a seat, and leave after ``patience_h`` hours. Whenever an aircraft
needs a decision (it is on the ground and ready), the agent sends it to a destination, boarding
up to ``seats`` of the passengers waiting for that destination (longest-waiting first), or
keeps it where it is for 15 minutes, charging it if a charging pad is free. The day is
event-driven: the aircraft whose next decision is earliest decides next (ties: lowest index).
This is the environment of CapTAIN (Paul, Witter, Chowdhury, "Graph Learning-based Fleet
Scheduling for Urban Air Mobility under Operational Constraints, Varying Demand &
Uncertainties", arXiv 2401.04851), rebuilt from the paper and its authors' earlier public
prototype, with the prototype's bugs fixed (state of charge is tracked instead of reset after
every flight; the afternoon peak is at 16:30, not 04:30) and the paper's uncertainties added.

### Operations

* Flight ``i -> j``: only along a route of the network (``env.unwrapped.network``, a networkx
  graph; routes are pairs a full battery can fly keeping the reserve). Flight time
  ``0.1 h take-off + miles / cruise_mph + 0.1 h landing``; energy ``kwh_per_mile * miles``,
  taken from the state of charge at take-off. Ticket revenue ``base_fare + fare_per_mile *
  miles`` per passenger (times ``peak_fare_multiplier`` within an hour of a demand peak) is
  earned at boarding; the operating cost ``operating_cost_per_hour`` per flight hour too.
* Take-off delay (``takeoff_delay_prob``, 5-15 min): the aircraft holds on the ground; it keeps
  its parking slot at the origin until it leaves, and its take-off counts in the window of its
  clearance (the decision time).
* After landing: with ``downtime_prob`` per flight the aircraft is unavailable for 1-3 hours
  (it stays parked). Then, if a charging pad is free, it charges to full at ``charging_kw``
  and decides when charged; otherwise it decides at once (and may stay to wait for a pad).
* Staying: decide again 15 minutes later; if the battery is not full and a pad is free, charge
  during those 15 minutes (or until full).
* Electricity is paid when charging starts, at the time-of-use price of that 15-minute bin:
  ``electricity_price`` x 0.6 (before 07:00), 1.05 (07:00-16:00), 1.5 (from 16:00).
* Capacities: ``parking_per_vertiport`` aircraft on the ground or inbound per vertiport (a
  flight reserves its slot at take-off), ``charging_pads_per_vertiport`` charging at once, at
  most ``max_takeoffs_per_window`` take-offs per vertiport per 15-minute window (airspace safety).
* Weather closes routes (``closure_prob`` per route and hour, 1-2 hours, both directions):
  closed routes accept no take-off.

Every random quantity of a day (arrivals, each aircraft's delays and downtimes by flight
number, closures) is drawn at ``reset`` (:func:`gauntlet.envs.uam_fleet.demand.draw_day`), so
the same seed gives the same day whatever the policy, in any process, and a copy of the env
after reset holds the realized scenario.

### Implementation

The per-decision bookkeeping (slots and pads in use, the mask, the constraint audit, the
observation arrays) runs in Numba kernels (:mod:`gauntlet.envs.uam_fleet.kernels`, compiled on
first use and cached); the event loop and the accounting are plain Python and numpy.
:meth:`UAMFleetEnv.decide` runs a step's dynamics without building the observation (for planners).

## Action Space

``Discrete(n_vertiports)``: the destination of the deciding aircraft; its own vertiport means
stay. Masked (``info["action_mask"]``, ``action_masks()`` for sb3-contrib): a destination is
allowed when it is a route, not closed now, reachable keeping ``reserve_fraction`` of the
battery, has a free parking slot (counting inbound aircraft), and the origin's take-off window
is not full. Staying is always allowed. A masked or malformed action raises ``ValueError``.
The space is a :class:`~gauntlet.envs.masked_spaces.MaskedDiscrete` whose ``sample()`` draws
among the allowed actions.

## Observation Space

A ``Dict`` of fixed-size float32 arrays in ``[0, 10]`` (``[0, 1]`` for the mask), which SB3's
``MultiInputPolicy`` and sb3-contrib's ``MaskablePPO`` consume (V vertiports, A aircraft,
L = ``lookahead_bins``):

* ``"vertiports"`` (V, 8): x, y (/ square side), passengers waiting to leave (/ 4 seats'
  worth), parking in use (/ capacity), pads in use (/ pads), take-offs left in this window
  (/ k), is the deciding aircraft's vertiport, attractiveness / 4.
* ``"aircraft"`` (A, 8): x, y of its vertiport or destination, state of charge (/ battery),
  hours to its next decision (/ 4, at most 1), flying (or holding for take-off), charging,
  down, is the deciding aircraft.
* ``"routes"`` (V, V, 5): miles (/ longest route), current fare (/ 100 $), closed now,
  passengers waiting i -> j (/ seats), route exists.
* ``"series"`` (L, V + 3): for the next L bins, the expected passengers leaving each vertiport
  (/ seats), the fare multiplier, the electricity price (/ base price / 1.5), the time of day
  (fraction of the day); zeros past 18:00.
* ``"action_mask"`` (V,): the mask above.

## Rewards

``reward="dense"`` (default): the profit made since the previous decision (ticket revenue
minus electricity minus operating cost) times ``reward_scale`` (0.01: hundreds of dollars).
``reward="sparse"``: 0 until the last step, which returns the whole day's profit times
``reward_scale``. ``info`` (every step) carries, in dollars and cumulated over the day:
``revenue``, ``energy_cost``, ``operating_cost``, ``profit`` (= revenue - energy_cost -
operating_cost), ``step_profit``; ``passengers_served``, ``passengers_lost`` (patience ran out,
or still waiting at 18:00), ``demand_total`` (the day's arrivals), ``violations`` (a dict of
constraint counters: ``parking``, ``charging``, ``takeoff_window``, ``reserve``, ``closure``,
``route``; audited from the state independently of the mask, so they stay 0 unless the state
is edited by hand), ``cost`` (violations this step, as Safety-Gymnasium reports costs),
``clock_h``, ``aircraft`` (the deciding aircraft) and ``action_mask``.

## Starting State

06:00, aircraft spread round-robin over the vertiports with full batteries, all ready (aircraft
0 decides first). The network is fixed by ``network_seed``; ``reset(seed=...)`` draws the day.

## Episode End

Terminated when the next decision would be at or after 18:00; passengers still waiting then
count as lost. An episode has about 12 to 48 decisions per aircraft.

## Arguments

``n_vertiports`` (8, >= 2), ``n_aircraft`` (40), ``parking_per_vertiport`` (10; times V must hold
the fleet), ``charging_pads_per_vertiport`` (6, <= parking), ``max_takeoffs_per_window`` (3,
<= pads), ``seats`` (4), ``battery_kwh`` (110), ``kwh_per_mile`` (2.2), ``charging_kw`` (150),
``reserve_fraction`` (0.1), ``cruise_mph`` (74.5), ``square_miles`` (50), ``network_seed`` (0),
``demand_rate`` (2.0 passengers per hour and route off-peak), ``peak_hours`` ((8.0, 16.5)),
``patience_h`` (0.5), ``base_fare`` (5 $), ``fare_per_mile`` (1.5 $), ``peak_fare_multiplier``
(1.2), ``electricity_price`` (0.148 $/kWh), ``operating_cost_per_hour`` (60 $),
``takeoff_delay_prob`` (0.1), ``closure_prob`` (0.05), ``downtime_prob`` (0.02) (each 0
switches that uncertainty off), ``reward`` ("dense" | "sparse"), ``reward_scale`` (0.01),
``lookahead_bins`` (8), ``render_mode`` (None | "rgb_array" | "ansi").

## Rendering

``"rgb_array"``: the map (:func:`gauntlet.envs.uam_fleet.render.draw`): vertiports with their
waiting passengers and parked aircraft, routes (closed ones dashed red), aircraft in flight at
their current position coloured by state of charge, the deciding aircraft, clock and profit.
``"ansi"``: one line per vertiport. Rendering reads the state only.

## Version History

* v0: initial version.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import networkx as nx
import numpy as np
from gymnasium import spaces

from gauntlet.envs.masked_spaces import MaskedDiscrete
from gauntlet.envs.uam_fleet import demand, kernels
from gauntlet.envs.uam_fleet.demand import BIN_H, DAY_END_H, DAY_START_H, MAX_FLIGHTS, N_BINS
from gauntlet.envs.uam_fleet.network import draw_network
from gauntlet.envs.validation import check, check_choice, check_int, check_range

TAKEOFF_H = 0.1
LANDING_H = 0.1
OBS_HIGH = 10.0
VERTIPORT_FEATURES, AIRCRAFT_FEATURES, ROUTE_FEATURES = 8, 8, 5
VIOLATIONS = ("parking", "charging", "takeoff_window", "reserve", "closure", "route")
# An aircraft's next event: a decision, the check for downtime after landing, or charging.
READY, LANDED, CHARGE = 0, 1, 2
_EPS = 1e-9


class UAMFleetEnv(gym.Env):
    """Fleet scheduling of electric aircraft across vertiports; see the module docstring."""

    metadata = {"render_modes": ["rgb_array", "ansi"], "render_fps": 4}

    def __init__(
        self,
        *,
        n_vertiports: int = 8,
        n_aircraft: int = 40,
        parking_per_vertiport: int = 10,
        charging_pads_per_vertiport: int = 6,
        max_takeoffs_per_window: int = 3,
        seats: int = 4,
        battery_kwh: float = 110.0,
        kwh_per_mile: float = 2.2,
        charging_kw: float = 150.0,
        reserve_fraction: float = 0.1,
        cruise_mph: float = 74.5,
        square_miles: float = 50.0,
        network_seed: int = 0,
        demand_rate: float = 2.0,
        peak_hours: tuple[float, float] = (8.0, 16.5),
        patience_h: float = 0.5,
        base_fare: float = 5.0,
        fare_per_mile: float = 1.5,
        peak_fare_multiplier: float = 1.2,
        electricity_price: float = 0.148,
        operating_cost_per_hour: float = 60.0,
        takeoff_delay_prob: float = 0.1,
        closure_prob: float = 0.05,
        downtime_prob: float = 0.02,
        reward: str = "dense",
        reward_scale: float = 0.01,
        lookahead_bins: int = 8,
        render_mode: str | None = None,
    ) -> None:
        check_choice("render_mode", render_mode, (None, *self.metadata["render_modes"]))
        self.n_vertiports = v = check_int("n_vertiports", n_vertiports, 2)
        self.n_aircraft = a = check_int("n_aircraft", n_aircraft, 1)
        self.parking = check_int("parking_per_vertiport", parking_per_vertiport, 1)
        check("parking_per_vertiport", parking_per_vertiport, self.parking * v >= a,
              f"integers >= {-(-a // v)}: {v} vertiports must park the {a} aircraft (n_vertiports * parking >= n_aircraft)")
        self.pads = check_int("charging_pads_per_vertiport", charging_pads_per_vertiport, 1, self.parking)
        self.max_takeoffs = check_int("max_takeoffs_per_window", max_takeoffs_per_window, 1, self.pads)
        self.seats = check_int("seats", seats, 1)
        self.battery_kwh = check_range("battery_kwh", battery_kwh, 0.0, open_low=True, unit="kWh")
        self.kwh_per_mile = check_range("kwh_per_mile", kwh_per_mile, 0.0, open_low=True, unit="kWh per mile")
        self.charging_kw = check_range("charging_kw", charging_kw, 0.0, open_low=True, unit="kW")
        self.reserve_fraction = check_range("reserve_fraction", reserve_fraction, 0.0, 1.0, open_high=True)
        self.cruise_mph = check_range("cruise_mph", cruise_mph, 0.0, open_low=True, unit="miles per hour")
        self.square_miles = check_range("square_miles", square_miles, 0.0, open_low=True, unit="miles")
        self.network_seed = check_int("network_seed", network_seed, 0)
        self.demand_rate = check_range("demand_rate", demand_rate, 0.0, unit="passengers per hour and route")
        peaks = tuple(peak_hours) if isinstance(peak_hours, (tuple, list)) else ()
        check("peak_hours", peak_hours, len(peaks) == 2 and all(
            isinstance(p, (int, float)) and DAY_START_H <= p <= DAY_END_H for p in peaks),
            f"two hours of the day (morning, evening peak) in [{DAY_START_H}, {DAY_END_H}]")
        self.peak_hours = (float(peaks[0]), float(peaks[1]))
        self.patience_h = check_range("patience_h", patience_h, 0.0, open_low=True, unit="hours")
        self.base_fare = check_range("base_fare", base_fare, 0.0, unit="$")
        self.fare_per_mile = check_range("fare_per_mile", fare_per_mile, 0.0, unit="$ per mile")
        self.peak_fare_multiplier = check_range("peak_fare_multiplier", peak_fare_multiplier, 0.0)
        self.electricity_price = check_range("electricity_price", electricity_price, 0.0, unit="$ per kWh")
        self.operating_cost_per_hour = check_range("operating_cost_per_hour", operating_cost_per_hour, 0.0,
                                                   unit="$ per flight hour")
        self.takeoff_delay_prob = check_range("takeoff_delay_prob", takeoff_delay_prob, 0.0, 1.0)
        self.closure_prob = check_range("closure_prob", closure_prob, 0.0, 1.0)
        self.downtime_prob = check_range("downtime_prob", downtime_prob, 0.0, 1.0)
        self.reward_mode = check_choice("reward", reward, ("dense", "sparse"))
        self.reward_scale = check_range("reward_scale", reward_scale, 0.0, open_low=True)
        self.lookahead_bins = check_int("lookahead_bins", lookahead_bins, 1, N_BINS)
        self.render_mode = render_mode

        self.reserve_kwh = self.reserve_fraction * self.battery_kwh
        self.max_route_miles = (self.battery_kwh - self.reserve_kwh) / self.kwh_per_mile
        self.layout = draw_network(v, self.square_miles, self.max_route_miles, self.network_seed)
        self.network: nx.Graph = self.layout.graph
        """The vertiport network (nodes: ``pos``, ``attractiveness``; edges: ``miles``)."""
        self.distance = self.layout.distance
        self.routes = self.layout.routes
        self.energy_need = self.kwh_per_mile * self.distance
        self.flight_h = TAKEOFF_H + self.distance / self.cruise_mph + LANDING_H
        self.base_fares = np.where(self.routes, self.base_fare + self.fare_per_mile * self.distance, 0.0)
        self.mean_arrivals = demand.expected_demand(self.routes, self.layout.attractiveness, self.demand_rate,
                                                    self.peak_hours)
        self.prices = demand.electricity_prices(self.electricity_price)
        self.fare_multiplier = demand.fare_multipliers(self.peak_hours, self.peak_fare_multiplier)
        self._longest_route = float(self.distance[self.routes].max())
        self._series = self._series_table()

        self.action_space = MaskedDiscrete(v)
        box = lambda *shape: spaces.Box(0.0, OBS_HIGH, shape=shape, dtype=np.float32)  # noqa: E731
        self.observation_space = spaces.Dict({
            "vertiports": box(v, VERTIPORT_FEATURES),
            "aircraft": box(a, AIRCRAFT_FEATURES),
            "routes": box(v, v, ROUTE_FEATURES),
            "series": box(self.lookahead_bins, v + 3),
            "action_mask": spaces.Box(0.0, 1.0, shape=(v,), dtype=np.float32),
        })
        self.init_kwargs: dict[str, Any] = {}
        self._static_vertiports = np.zeros((v, VERTIPORT_FEATURES), dtype=np.float32)
        self._static_vertiports[:, :2] = self.layout.positions / self.square_miles
        self._static_vertiports[:, 7] = self.layout.attractiveness / 4.0
        self._port_xy = (self.layout.positions / self.square_miles).astype(np.float32)
        self._static_routes = np.zeros((v, v, ROUTE_FEATURES), dtype=np.float32)
        self._static_routes[..., 0] = self.distance / self._longest_route
        self._static_routes[..., 1] = np.minimum(self.base_fares / 100.0, OBS_HIGH / max(self.peak_fare_multiplier, 1.0))
        self._static_routes[..., 4] = self.routes
        self._needs_reset = True
        self.clock = DAY_START_H
        self.deciding = 0
        self._mask = np.ones(v, dtype=bool)
        self.violations = dict.fromkeys(VIOLATIONS, 0)

    # ------------------------------------------------------------------ API
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        v, a = self.n_vertiports, self.n_aircraft
        self.day = demand.draw_day(self.np_random, self.mean_arrivals, self.routes, a, self.takeoff_delay_prob,
                                   self.closure_prob, self.downtime_prob)
        self.waiting = self.day.arrivals.copy()
        self.demand_total = int(self.day.arrivals.sum())
        self._arrived = 0
        self._expired = 0
        self.loc = np.arange(a, dtype=np.int64) % v
        self.origin = self.loc.copy()
        self.soc = np.full(a, self.battery_kwh)
        self.next_time = np.full(a, DAY_START_H)
        self.phase = np.full(a, READY, dtype=np.int8)
        self.takeoff_time = np.full(a, DAY_START_H)
        # One array, so the observation compares all three with the clock at once.
        self._until = np.full((3, a), DAY_START_H)
        self.flights = np.zeros(a, dtype=np.int64)
        self.takeoffs = np.zeros((v, N_BINS), dtype=np.int64)
        self.revenue = self.energy_cost = self.operating_cost = 0.0
        self.energy_kwh = 0.0
        self.passengers_served = self.passengers_lost = 0
        self.violations = dict.fromkeys(VIOLATIONS, 0)
        self.last_flight: tuple[int, int, int, int] | None = None
        self.clock = DAY_START_H
        self._bin = 0
        self.done = False
        self._advance()
        self._needs_reset = False
        return self._observation(), self._info(0.0, 0)

    def step(self, action: Any):
        violations_before = sum(self.violations.values())
        step_profit = self.decide(action)
        if self.reward_mode == "dense":
            reward = step_profit * self.reward_scale
        else:
            reward = self.profit * self.reward_scale if self.done else 0.0
        cost = sum(self.violations.values()) - violations_before
        return self._observation(), float(reward), self.done, False, self._info(step_profit, cost)

    def decide(self, action: Any) -> float:
        """The dynamics of :meth:`step` without the observation and info: apply the deciding
        aircraft's ``action``, run the day to the next decision and return the profit ($) made
        meanwhile. Planners (the GA baseline) simulate days on a copy of the env with it."""
        if self._needs_reset:
            raise gym.error.ResetNeeded("call reset() before step() (the day has ended or never started)")
        if isinstance(action, (int, np.integer)) and 0 <= action < self.n_vertiports and self._mask[action]:
            j = int(action)
        else:
            j = self._check_action(action, self._mask)
        before = self.profit
        a, i = self.deciding, int(self.loc[self.deciding])
        if j == i:
            self._stay(a, i)
        else:
            self._fly(a, i, j)
        self._advance()
        self._needs_reset = self.done
        return self.profit - before

    def action_masks(self) -> np.ndarray:
        """The allowed destinations of the deciding aircraft, bool (V,); only staying once the day is over."""
        return self._mask.copy()

    def _update_mask(self) -> None:
        """Recompute the deciding aircraft's mask (and the occupancy and pads it reads) from the state."""
        self._occupancy, self._pads, self._parking_over, self._charging_over = self._ground_state()
        a = self.deciding
        i = int(self.loc[a])
        if self.done:
            ok = np.zeros(self.n_vertiports, dtype=bool)
        else:
            b = self._bin
            ok = kernels.destinations(self.routes[i], self.day.closed[b, i], self.energy_need[i],
                                      self.soc[a] - self.reserve_kwh + _EPS, self._occupancy, self.parking, i,
                                      self.takeoffs[i, b] >= self.max_takeoffs)
        ok[i] = True
        self._mask = ok
        self.action_space.mask = ok

    # ------------------------------------------------------------------ queries
    @property
    def profit(self) -> float:
        return self.revenue - self.energy_cost - self.operating_cost

    @property
    def arrival_time(self) -> np.ndarray:
        """Per aircraft, the end of its last or current flight (h); a view: writes go to the state."""
        return self._until[0]

    @property
    def charge_until(self) -> np.ndarray:
        """Per aircraft, when its current or last charge ends (h); a view."""
        return self._until[1]

    @property
    def down_until(self) -> np.ndarray:
        """Per aircraft, when its current or last downtime ends (h); a view."""
        return self._until[2]

    def occupancy(self) -> np.ndarray:
        """Parking slots taken per vertiport: aircraft there or inbound, plus aircraft still holding for
        take-off from it."""
        return self._ground_state()[0]

    def pads_in_use(self) -> np.ndarray:
        return self._ground_state()[1]

    def _ground_state(self) -> tuple[np.ndarray, np.ndarray, int, int]:
        """Per vertiport now, the slots taken and the pads in use; and the number of vertiports
        over their parking and over their charging capacity (the audit)."""
        return kernels.ground_state(self.loc, self.origin, self.takeoff_time, self._until, self.clock,
                                    self.n_vertiports, self.parking, self.pads)

    def waiting_matrix(self) -> np.ndarray:
        """Passengers waiting now per (origin, destination), int64 (V, V)."""
        return self.waiting[self._expired:self._arrived].sum(axis=0)

    def current_fares(self) -> np.ndarray:
        """Ticket price now per (origin, destination) in $, 0 where there is no route."""
        return self.base_fares * self.fare_multiplier[demand.time_bin(self.clock)]

    def render(self) -> np.ndarray | str | None:
        if self.render_mode == "rgb_array":
            from gauntlet.envs.uam_fleet.render import draw

            return draw(self)
        if self.render_mode != "ansi":
            return None
        waiting = self.waiting_matrix().sum(axis=1)
        occupancy = self.occupancy()
        hours, minutes = divmod(int(round(self.clock * 60)), 60)
        lines = [f"{hours:02d}:{minutes:02d} aircraft {self.deciding} deciding, profit ${self.profit:,.0f}, "
                 f"served {self.passengers_served}, lost {self.passengers_lost}"]
        for p in range(self.n_vertiports):
            lines.append(f"  vertiport {p}: waiting {waiting[p]:3d}, slots {occupancy[p]}/{self.parking}, "
                         f"charging {self._pads[p]}/{self.pads}")
        return "\n".join(lines)

    # ------------------------------------------------------------------ dynamics
    def _stay(self, a: int, i: int) -> None:
        t = self.clock
        if self.soc[a] < self.battery_kwh - _EPS and self._pads[i] < self.pads:
            hours = min(BIN_H, (self.battery_kwh - self.soc[a]) / self.charging_kw)
            self._charge(a, hours)
        self.next_time[a] = t + BIN_H
        self.phase[a] = READY

    def _fly(self, a: int, i: int, j: int) -> None:
        t, b = self.clock, self._bin
        flight = min(int(self.flights[a]), MAX_FLIGHTS - 1)
        takeoff = t + self.day.takeoff_delay_h[a, flight]
        hours = self.flight_h[i, j]
        self.soc[a] -= self.energy_need[i, j]
        boarded = self._board(i, j)
        self.revenue += boarded * self.base_fares[i, j] * self.fare_multiplier[b]
        self.operating_cost += hours * self.operating_cost_per_hour
        self.passengers_served += boarded
        self.takeoffs[i, b] += 1
        self._audit_takeoff(a, i, j, b)
        self.origin[a], self.loc[a] = i, j
        self.takeoff_time[a], self.arrival_time[a] = takeoff, takeoff + hours
        self.next_time[a] = takeoff + hours
        self.phase[a] = LANDED
        self.flights[a] += 1
        self.last_flight = (a, i, j, boarded)

    def _board(self, i: int, j: int) -> int:
        """Seat up to ``seats`` passengers waiting for i -> j, longest-waiting first."""
        free = self.seats
        for b in range(self._expired, self._arrived):
            take = min(free, int(self.waiting[b, i, j]))
            self.waiting[b, i, j] -= take
            free -= take
            if free == 0:
                break
        return self.seats - free

    def _charge(self, a: int, hours: float) -> None:
        kwh = hours * self.charging_kw
        self.soc[a] = min(self.soc[a] + kwh, self.battery_kwh)
        self.energy_kwh += kwh
        self.energy_cost += kwh * self.prices[self._bin]
        self.charge_until[a] = self.clock + hours

    def _advance(self) -> None:
        """Process events (landings, downtimes, charging) in time order until an aircraft must
        decide (it becomes ``deciding``) or the day ends."""
        while True:
            a = int(self.next_time.argmin())
            t = float(self.next_time[a])
            if t >= DAY_END_H:
                self._end_day()
                return
            self._set_clock(t)
            if self.phase[a] == LANDED:
                self.phase[a] = CHARGE
                down = self.day.downtime_h[a, min(int(self.flights[a]) - 1, MAX_FLIGHTS - 1)]
                if down > 0:
                    self.down_until[a] = t + down
                    self.next_time[a] = t + down
                    continue
            if self.phase[a] == CHARGE:
                self.phase[a] = READY
                port = int(self.loc[a])
                if self.soc[a] < self.battery_kwh - _EPS and self.pads_in_use()[port] < self.pads:
                    hours = (self.battery_kwh - self.soc[a]) / self.charging_kw
                    self._charge(a, hours)
                    self.next_time[a] = t + hours
                    continue
            self.deciding = a
            self._update_mask()
            self._audit_ground()
            return

    def _set_clock(self, t: float) -> None:
        """Move the clock to ``t``: passengers of bins that started by then arrive, those whose
        patience ran out leave."""
        self.clock = t
        self._bin = demand.time_bin(t)
        self._arrived = min(int((t - DAY_START_H) / BIN_H + _EPS) + 1, N_BINS)
        expired = min(max(int(np.floor((t - DAY_START_H - self.patience_h) / BIN_H + _EPS)) + 1, 0), N_BINS)
        if expired > self._expired:
            self.passengers_lost += int(self.waiting[self._expired:expired].sum())
            self.waiting[self._expired:expired] = 0
            self._expired = expired

    def _end_day(self) -> None:
        self.clock = DAY_END_H
        self._bin = N_BINS - 1
        self._arrived = N_BINS
        self.passengers_lost += int(self.waiting[self._expired:].sum())
        self.waiting[self._expired:] = 0
        self._expired = N_BINS
        self.done = True
        self._update_mask()

    # ------------------------------------------------------------------ constraint audit
    def _audit_takeoff(self, a: int, i: int, j: int, b: int) -> None:
        self.violations["route"] += int(not self.routes[i, j])
        self.violations["closure"] += int(self.day.closed[b, i, j])
        self.violations["reserve"] += int(self.soc[a] < self.reserve_kwh - _EPS)
        self.violations["takeoff_window"] += int(self.takeoffs[i, b] > self.max_takeoffs)

    def _audit_ground(self) -> None:
        self.violations["parking"] += self._parking_over
        self.violations["charging"] += self._charging_over

    # ------------------------------------------------------------------ observation and info
    def _series_table(self) -> np.ndarray:
        """The look-ahead rows of every bin (bins + lookahead, V + 3), zero past the day."""
        v = self.n_vertiports
        table = np.zeros((N_BINS + self.lookahead_bins, v + 3), dtype=np.float32)
        table[:N_BINS, :v] = self.mean_arrivals.sum(axis=2) / self.seats
        table[:N_BINS, v] = self.fare_multiplier
        table[:N_BINS, v + 1] = self.prices / (max(self.electricity_price, _EPS) * 1.5)
        table[:N_BINS, v + 2] = (demand.bin_starts() - DAY_START_H) / (DAY_END_H - DAY_START_H)
        return np.clip(table, 0.0, OBS_HIGH)

    def _observation(self) -> dict[str, np.ndarray]:
        v, b = self.n_vertiports, self._bin
        ports = np.empty((v, VERTIPORT_FEATURES), dtype=np.float32)
        fleet = np.empty((self.n_aircraft, AIRCRAFT_FEATURES), dtype=np.float32)
        routes = np.empty((v, v, ROUTE_FEATURES), dtype=np.float32)
        kernels.observe(ports, fleet, routes, self.waiting, self._expired, self._arrived, self._occupancy, self._pads,
                        self.takeoffs[:, b], self.deciding, self.loc, self.soc, self.next_time, self._until,
                        self.clock, self._port_xy, self._static_vertiports, self._static_routes,
                        self.fare_multiplier[b], self.day.closed[b], self.seats, self.parking, self.pads,
                        self.max_takeoffs, self.battery_kwh, OBS_HIGH)
        return {
            "vertiports": ports,
            "aircraft": fleet,
            "routes": routes,
            "series": self._series[b:b + self.lookahead_bins].copy(),
            "action_mask": self._mask.astype(np.float32),
        }

    def _info(self, step_profit: float, cost: int) -> dict[str, Any]:
        return {
            "action_mask": self._mask.copy(),
            "clock_h": self.clock,
            "aircraft": self.deciding,
            "revenue": float(self.revenue),
            "energy_cost": float(self.energy_cost),
            "operating_cost": float(self.operating_cost),
            "profit": float(self.profit),
            "step_profit": float(step_profit),
            "energy_kwh": float(self.energy_kwh),
            "passengers_served": self.passengers_served,
            "passengers_lost": self.passengers_lost,
            "demand_total": self.demand_total,
            "violations": dict(self.violations),
            "cost": float(cost),
        }

    def _check_action(self, action: Any, mask: np.ndarray) -> int:
        v = self.n_vertiports
        arr = np.asarray(action)
        if arr.shape not in ((), (1,)):
            raise ValueError(f"action must be a scalar integer in [0, {v - 1}], got shape {arr.shape}")
        value = arr.reshape(()).item()
        if isinstance(value, float) and not np.isfinite(value):
            raise ValueError(f"action must be a finite integer in [0, {v - 1}], got {value!r}")
        if (isinstance(value, bool) or not isinstance(value, (int, float)) or not float(value).is_integer()
                or not 0 <= value < v):
            raise ValueError(f"action must be an integer in [0, {v - 1}] (a vertiport), got {action!r}")
        j = int(value)
        if not mask[j]:
            i = int(self.loc[self.deciding])
            raise ValueError(
                f"action {j} is masked for aircraft {self.deciding} at vertiport {i} at {self.clock:.2f} h "
                f"({self._masked_reason(i, j)}); allowed now: {np.flatnonzero(mask).tolist()} "
                f"(see info['action_mask'] / action_masks())"
            )
        return j

    def _masked_reason(self, i: int, j: int) -> str:
        b = self._bin
        if not self.routes[i, j]:
            return f"no route {i} -> {j}"
        if self.day.closed[b, i, j]:
            return f"route {i} -> {j} is closed by weather"
        if self.energy_need[i, j] > self.soc[self.deciding] - self.reserve_kwh + _EPS:
            return f"{self.energy_need[i, j]:.1f} kWh needed, {self.soc[self.deciding] - self.reserve_kwh:.1f} kWh above the reserve"
        if self.takeoffs[i, b] >= self.max_takeoffs:
            return f"vertiport {i} has used its {self.max_takeoffs} take-offs of this 15-minute window"
        return f"vertiport {j} has no free parking slot"


def episode_metrics(rewards: np.ndarray, infos: list[dict[str, Any]]) -> dict[str, float]:
    """The day's figures from its last info: daily profit ($), passengers served and lost,
    demand served (%), constraint violations (count), and the profit's components."""
    last = infos[-1]
    total = last["demand_total"]
    return {
        "daily_profit": float(last["profit"]),
        "passengers_served": float(last["passengers_served"]),
        "passengers_lost": float(last["passengers_lost"]),
        "demand_served_pct": 100.0 * last["passengers_served"] / total if total else 0.0,
        "constraint_violations": float(sum(last["violations"].values())),
        "revenue": float(last["revenue"]),
        "energy_cost": float(last["energy_cost"]),
        "operating_cost": float(last["operating_cost"]),
    }
