"""Decision latency for the ``decision_latency_ms`` metric of tasks that report it (UAMFleet)."""

from __future__ import annotations


class DecisionTimer:
    """Mixin: wall time per decision over an episode, planning at reset included. The agent
    calls ``_start_episode()`` in ``on_reset`` and ``_add(seconds, decisions)`` where it computes;
    the runner adds ``episode_report()`` to the episode's metrics."""

    def _start_episode(self) -> None:
        self._seconds, self._decisions = 0.0, 0

    def _add(self, seconds: float, decisions: int) -> None:
        self._seconds += seconds
        self._decisions += decisions

    def episode_report(self) -> dict[str, float]:
        return {"decision_latency_ms": 1000.0 * self._seconds / max(self._decisions, 1)}
