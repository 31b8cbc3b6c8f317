"""The rich progress bar every learning agent shows with ``learn(..., progress_bar=True)``."""

from __future__ import annotations

from typing import Any


class TrainingProgress:
    """A context manager showing a rich progress bar over ``total`` units, or nothing when disabled.

    The bar never passes ``total``: agents that train in whole rollouts or vector steps do a few
    steps more than the budget, and report those in their ``num_timesteps``, not on the bar.
    """

    def __init__(self, enabled: bool, total: int, label: str) -> None:
        self._bar = None
        self._total = int(total)
        self.completed = 0
        """Units shown as done (at most ``total``)."""
        if enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._bar = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
            self._task = self._bar.add_task(label, total=self._total)

    def __enter__(self) -> "TrainingProgress":
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None:
            self._bar.stop()

    def advance(self, n: int = 1) -> None:
        self.update(self.completed + int(n))

    def update(self, completed: int) -> None:
        self.completed = min(int(completed), self._total)
        if self._bar is not None:
            self._bar.update(self._task, completed=self.completed)
