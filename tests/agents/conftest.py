import pytest

from gauntlet.agents.progress import TrainingProgress


@pytest.fixture
def progress_bars(monkeypatch):
    """``progress_bars(module) -> list``: every :class:`TrainingProgress` that ``module`` creates
    from then on is appended to the list, so a test can read where the bar ended."""

    def record(module) -> list[TrainingProgress]:
        bars: list[TrainingProgress] = []

        class Recorded(TrainingProgress):
            def __init__(self, *args, **kwargs) -> None:
                super().__init__(*args, **kwargs)
                bars.append(self)

        monkeypatch.setattr(module, "TrainingProgress", Recorded)
        return bars

    return record
