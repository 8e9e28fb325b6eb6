"""Restoration tasks (`--task`): what each one does, at which scale, with which weights.

`sr` (super-resolution, `--scale`) uses the embedded default model; `clean`
(compression artefacts, noise and blur at the same size; also `sr` at `--scale 1`),
`deblur`, `denoise` and `inpaint` each use their own model shipped beside it,
trained on that task's degradations.
`inpaint` needs a mask (white = fill): the masked pixels are first filled from
their surroundings (`fill.fill_masked`), then the model, which also sees the
mask, restores the filled region consistently over time.
"""

from __future__ import annotations

import enum
from pathlib import Path


class Task(str, enum.Enum):
    sr = "sr"
    clean = "clean"
    deblur = "deblur"
    denoise = "denoise"
    inpaint = "inpaint"


# The shipped weights of each same-size task, beside the embedded default (`sr`).
# One model per task: each runs the detail branch at half size (every pixel is
# restored; see model/presets.py `tiny-fine`), trained on its own degradations, so each
# task has every step of training (why one shared model was not enough: weights/README.md).
TASK_WEIGHTS: dict[Task, str] = {
    Task.clean: "swiftvr-tiny-clean.json",
    Task.deblur: "swiftvr-tiny-deblur.json",
    Task.denoise: "swiftvr-tiny-denoise.json",
    Task.inpaint: "swiftvr-tiny-inpaint.json",
}


def default_weights_path() -> Path:
    """The embedded default model's json (imported on use: model.loading loads torch, and
    the CLI checks --task and --scale before that)."""
    from .model import loading

    return loading.default_weights_path()


def task_scale(task: Task, scale: float | None) -> float:
    """The output scale: --scale for sr (default 4), 1 for every other task."""
    if task is Task.sr:
        return 4.0 if scale is None else scale
    if scale not in (None, 1, 1.0):
        raise ValueError(f"--task {task.value} restores at the input size; drop --scale (or use --task sr)")
    return 1.0


def same_size_model(task: Task, scale: float | None) -> bool:
    """Whether the task runs at the input size (then a same-size task model serves it)."""
    return task is not Task.sr or scale in (1, 1.0)


def task_weights(task: Task, scale: float | None = None) -> Path:
    """The shipped weights for a task (used when --weights is not given).

    Super-resolution (x2, x4) uses the embedded default; every task at the input
    size has its own file, and `--scale 1` is clean-up: one small model trained on
    both sizes made the same-size case worse (weights/README.md, Training).
    """
    default = default_weights_path()
    if not same_size_model(task, scale):
        return default
    return default.with_name(TASK_WEIGHTS[Task.clean if task is Task.sr else task])


# The fixed evaluation degradations (`swiftvr eval --degrade`, degradations.EVAL_DEGRADATIONS)
# and the task and scale that restore them.
DEGRADATION_TASKS: dict[str, tuple[Task, float]] = {
    "x4": (Task.sr, 4.0), "x2": (Task.sr, 2.0), "x4-clean": (Task.sr, 4.0), "x4-area": (Task.sr, 4.0), "crf35": (Task.clean, 1.0),
    "deblur": (Task.deblur, 1.0), "denoise": (Task.denoise, 1.0), "inpaint": (Task.inpaint, 1.0),
}  # fmt: skip


def degradation_weights(degradation: str) -> Path:
    """The shipped weights `swiftvr eval --degrade NAME` measures by default."""
    return task_weights(*DEGRADATION_TASKS[degradation])


def weights_for_task(task: Task, weights: str | None, scale: float | None = None) -> str:
    """`--weights`, or the shipped weights of the task (a WeightsError naming the file when they are missing)."""
    from .model.loading import WeightsError

    if weights is not None:
        return weights
    path = task_weights(task, scale)
    if not path.exists():
        raise WeightsError(f"no weights for --task {task.value}: {path} does not exist (pass --weights PATH)")
    return str(path)


def batch_weights(weights: str | None, scale: float, task: Task = Task.sr) -> str | None:
    """`batch`: --weights; else the task's shipped weights (at --scale 1, sr is the same-size clean-up
    model); else None for sr at x2/x4, the embedded default (None, not its path: the manifest's
    settings of earlier runs stay valid)."""
    if weights is not None or same_size_model(task, scale):
        return weights_for_task(task, weights, scale)
    return None


def needs_mask(task: Task) -> bool:
    return task is Task.inpaint
