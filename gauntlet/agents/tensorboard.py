"""TensorBoard scalars for the hand-written agents, in the run directories SB3 uses."""

from __future__ import annotations

import math
import os
from typing import Any, Mapping


class ScalarLog:
    """Scalars written to ``log_dir/<name>_<k>``, where ``k`` is one more than the highest run id
    already there (Stable-Baselines3's layout, so SB3 and Gauntlet runs sit side by side in one
    TensorBoard). The run directory is created on the first :meth:`write`; with ``log_dir=None``
    every call does nothing, so agents call it unconditionally.

    Args:
        log_dir: the ``tensorboard_log`` directory the agent was given, or ``None`` (off).
        name: the run name (``"PDPPO"``, ``"GMORL"``, ...).
    """

    def __init__(self, log_dir: str | os.PathLike[str] | None, name: str) -> None:
        self.log_dir = None if log_dir is None else os.fspath(log_dir)
        self.name = name
        self._writer: Any = None

    @property
    def enabled(self) -> bool:
        return self.log_dir is not None

    @property
    def run_dir(self) -> str | None:
        """The run directory once the first scalar was written, else ``None``."""
        return None if self._writer is None else self._writer.log_dir

    def write(self, scalars: Mapping[str, float], step: int) -> None:
        """Add every scalar at ``step`` (NaN values, statistics not measured this time, are
        skipped) and flush, so a TensorBoard watching the run shows them at once."""
        if self.log_dir is None:
            return
        if self._writer is None:
            self._writer = self._open()
        for tag, value in scalars.items():
            if not math.isnan(value):
                self._writer.add_scalar(tag, float(value), int(step))
        self._writer.flush()

    def _open(self) -> Any:
        from stable_baselines3.common.utils import get_latest_run_id
        from torch.utils.tensorboard import SummaryWriter

        os.makedirs(self.log_dir, exist_ok=True)
        run_id = get_latest_run_id(self.log_dir, self.name) + 1
        return SummaryWriter(os.path.join(self.log_dir, f"{self.name}_{run_id}"))
