"""A restore worker: one model, many work items (a whole video or one segment).

Plain Python, so it runs as a Ray actor (``ray.remote(RestoreWorker)``) and
in tests without Ray. Failures come back as data, never as exceptions, so
the driver always knows which task failed and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..io import VideoInfo
from ..pipeline.runner import RestoreSettings, restore_video
from ..io.span import Span
from ..devices import resolve_device, resolve_dtype
from ..failures import classify


@dataclass(frozen=True)
class WorkerSpec:
    """How a worker loads its model (resolved on the worker, which may have other devices)."""

    weights: str | None = None
    device: str = "auto"  # auto | cuda | cpu
    dtype: str = "auto"  # auto | float32 | bfloat16 | float16
    threads: int | None = None  # torch CPU threads
    compile: bool = False  # torch.compile the model (`model.compiled`; skipped with a note where it cannot run)


@dataclass(frozen=True)
class WorkItem:
    key: str  # the video (its relative input path)
    source: str
    target: str
    info: VideoInfo
    frames: int  # frames this task outputs (for progress)
    segment: int | None = None
    span: Span | None = None  # None: the whole video, with audio and subtitles


@dataclass
class WorkResult:
    key: str
    segment: int | None
    frames: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    error_kind: str | None = None


def resolve(spec: WorkerSpec):
    """(device, dtype) on this machine (see `devices`)."""
    device = resolve_device(spec.device)
    return device, resolve_dtype(spec.dtype, device)


def load_for(spec: WorkerSpec, on_note: Callable[[str], None] = lambda note: None):
    """The worker's model on its device and dtype, compiled if the spec asks and it can be."""
    from ..model.compiled import compile_or_note
    from ..model.loading import load_model

    device, dtype = resolve(spec)
    model = load_model(spec.weights, device, dtype)
    if spec.compile:
        compile_or_note(model, on_note)
    return model


class RestoreWorker:
    """Loads the model once; ``run`` restores one task."""

    def __init__(self, spec: WorkerSpec, settings: RestoreSettings) -> None:
        import torch

        self.settings = settings
        self.model = None
        self.startup_error: tuple[str, str] | None = None
        if spec.threads:
            torch.set_num_threads(spec.threads)
        try:
            notes: list[str] = []
            self.model = load_for(spec, notes.append)
            compiled = ", not compiled: " + notes[0] if notes else (", compiled" if spec.compile else "")
            self.device = f"{self.model.device.type} ({self.model.dtype}{compiled})".replace("torch.", "")
        except Exception as error:  # noqa: BLE001 - reported by ready(), so the driver can say why
            self.startup_error = (type(error).__name__, classify(error).message)
            self.device = "none"

    def ready(self) -> dict:
        return {"device": self.device, "error": self.startup_error}

    def run(self, task: WorkItem) -> WorkResult:
        import time

        start = time.perf_counter()
        result = WorkResult(task.key, task.segment)
        try:
            if self.model is None:
                raise RuntimeError("the worker has no model")
            summary = restore_video(self.model, task.source, task.target, self.settings, span=task.span)
            result.frames, result.notes = summary.frames, list(summary.notes)
        except Exception as error:  # noqa: BLE001 - returned to the driver as data
            failure = classify(error)
            result.error, result.error_kind = failure.message, failure.kind
        result.seconds = time.perf_counter() - start
        return result
