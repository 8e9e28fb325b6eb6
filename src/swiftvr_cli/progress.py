"""A Rich progress bar on stderr, only when stderr is a terminal."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


class FrameProgress:
    """frames / total, fps, ETA. Silent when disabled or when stderr is not a TTY."""

    def __init__(self, enabled: bool = True, label: str = "restoring") -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.label = label
        self._progress: Progress | None = None
        self._task = None

    def __enter__(self) -> "FrameProgress":
        if self.enabled:
            self._progress = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[fps]}"),
                TimeElapsedColumn(), TimeRemainingColumn(),
                console=Console(stderr=True), transient=False,
            )  # fmt: skip
            self._progress.__enter__()
            self._task = self._progress.add_task(self.label, total=None, fps="")
        return self

    def update(self, done: int, total: int | None) -> None:
        if self._progress is None:
            return
        task = self._progress.tasks[0]
        elapsed = task.elapsed or 0.0
        fps = f"{done / elapsed:.1f} fps" if elapsed > 0 else ""
        self._progress.update(self._task, completed=done, total=total, fps=fps)

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)
