"""How a board is read: which statistic ranks, which entries are feasible, which are bounds.

- Policies rank by the primary metric in its direction, on its shifted geometric mean when the
  metric has a shift (solver statistics) and on its mean otherwise.
- On constrained tasks (``protocol.constraints``), entries whose mean of every constraint
  metric is within its budget rank first; the others follow, least violation first. The
  violation of one constraint is its excess over the budget in units of the budget
  (``excess / |budget|``; the plain excess for a budget of 0), summed over the constraints.
- Entries of kind ``bound`` (a perfect-information lower bound, say) are not policies: they are
  listed apart and never ranked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

BOUND = "bound"


@dataclass(frozen=True)
class ConstraintCheck:
    metric: str
    budget: float
    direction: str
    value: float | None

    @property
    def excess(self) -> float:
        """How far past the budget the mean is (0 within it, inf without data)."""
        if self.value is None:
            return math.inf
        over = self.value - self.budget if self.direction == "min" else self.budget - self.value
        return max(over, 0.0)

    def describe(self) -> str:
        from gauntlet.bench.formatting import format_number

        sign = "<=" if self.direction == "min" else ">="
        return f"{self.metric} {format_number(self.value)} (budget {sign} {format_number(self.budget)})"


def _metric(board: dict[str, Any], name: str) -> dict[str, Any]:
    return next(m for m in board["protocol"]["metrics"] if m["name"] == name)


def ranking_statistic(board: dict[str, Any]) -> str:
    """``"sgm"`` when the primary metric has a shift (solver statistics), else ``"mean"``."""
    return "sgm" if "shift" in _metric(board, board["protocol"]["primary_metric"]) else "mean"


def interval_statistic(metric: dict[str, Any]) -> str:
    """The statistic shown with a CI: the mean for proportions (unit "fraction"), whose IQM over
    0/1 outcomes is 0 or 1, and the IQM (rliable's robust choice) for everything else."""
    return "mean" if metric.get("unit") == "fraction" else "iqm"


def interval_label(metric: dict[str, Any]) -> str:
    """The column header of :func:`interval`."""
    return "IQM [95% CI]" if interval_statistic(metric) == "iqm" else "mean [95% CI]"


def interval(stat: dict[str, Any], metric: dict[str, Any]) -> tuple[float | None, list[float | None] | None]:
    """(value, 95% CI) of :func:`interval_statistic` for one result."""
    if interval_statistic(metric) == "mean":
        return stat.get("mean"), stat.get("mean_ci95")
    return stat.get("iqm"), stat.get("ci95")


def is_constrained(board: dict[str, Any]) -> bool:
    return bool(board["protocol"]["constraints"])


def constraint_checks(board: dict[str, Any], entry: dict[str, Any]) -> list[ConstraintCheck]:
    return [
        ConstraintCheck(c["metric"], c["budget"], _metric(board, c["metric"])["direction"],
                        entry["results"].get(c["metric"], {}).get("mean"))
        for c in board["protocol"]["constraints"]
    ]


def violation(board: dict[str, Any], entry: dict[str, Any]) -> float:
    """0 for an entry within every budget; see the module docstring."""
    return sum(c.excess / abs(c.budget) if c.budget else c.excess for c in constraint_checks(board, entry))


def feasibility(board: dict[str, Any], entry: dict[str, Any]) -> str:
    """``"yes"``, or ``"no: violation 258 (budget <= 20)"`` naming each budget it exceeds;
    ``"–"`` on a task without constraints."""
    if not is_constrained(board):
        return "–"
    exceeded = [c.describe() for c in constraint_checks(board, entry) if c.excess > 0]
    return "yes" if not exceeded else "no: " + ", ".join(exceeded)


def policies(board: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in board["entries"] if e["kind"] != BOUND]


def bounds(board: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in board["entries"] if e["kind"] == BOUND]


def ranked(board: dict[str, Any]) -> list[dict[str, Any]]:
    """The policies best first (bounds excluded): feasible ones first on constrained tasks,
    then by the primary metric's :func:`ranking_statistic` (entries without it last)."""
    primary = board["protocol"]["primary_metric"]
    sign = -1.0 if _metric(board, primary)["direction"] == "max" else 1.0
    statistic = ranking_statistic(board)

    def key(entry: dict[str, Any]) -> tuple[float, float]:
        value = entry["results"].get(primary, {}).get(statistic)
        return violation(board, entry), math.inf if value is None else sign * value

    return sorted(policies(board), key=key)


def bound_metrics(board: dict[str, Any]) -> list[str]:
    """The figures a bound is read by: the metrics bounds report and no policy does (a
    perfect-information MILP's proven ``cost_lower_bound``); its other metrics come from
    whatever it plays, so the primary metric is shown only when there is nothing else."""
    own = [m["name"] for m in board["protocol"]["metrics"]
           if any(m["name"] in e["results"] for e in bounds(board))
           and not any(m["name"] in e["results"] for e in policies(board))]
    return own or [board["protocol"]["primary_metric"]]
