"""The rich progress bar every learning agent shows with ``learn(..., progress_bar=True)``."""

from __future__ import annotations

from typing import Any


class TrainingProgress:
    """A context manager showing a rich progress bar over ``total`` units, or nothing when disabled."""

    def __init__(self, enabled: bool, total: int, label: str) -> None:
        self._bar = None
        self._total = int(total)
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
        if self._bar is not None:
            self._bar.advance(self._task, n)

    def update(self, completed: int) -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=min(int(completed), self._total))
