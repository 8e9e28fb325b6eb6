"""Restoration tasks (`--task`): what each one does, at which scale, with which weights.

`sr` (super-resolution, `--scale`) uses the embedded default model; `clean`
(compression artefacts, noise and blur at the same size), `deblur`, `denoise`
and `inpaint` (and `sr` at `--scale 1`) use the task model shipped beside it,
trained on those degradations.
`inpaint` needs a mask (white = fill): the masked pixels are first filled from
their surroundings (`fill.fill_masked`), then the model, which also sees the
mask, restores the filled region consistently over time.
"""

from __future__ import annotations

import enum
from pathlib import Path

from .model.loading import default_weights_path


class Task(str, enum.Enum):
    sr = "sr"
    clean = "clean"
    deblur = "deblur"
    denoise = "denoise"
    inpaint = "inpaint"


TASK_WEIGHTS_NAME = "swiftvr-tiny-tasks.json"  # beside the embedded default
# Tasks with a model of their own (beside the embedded default). Denoising and
# deblurring need every pixel: their models run the detail branch at half size,
# which the shared task model (quarter size) could not do well (measured: it did
# not denoise at all, -0.06 dB against the noisy input).
DEDICATED_WEIGHTS: dict[Task, str] = {}


def task_scale(task: Task, scale: float | None) -> float:
    """The output scale: --scale for sr (default 4), 1 for every other task."""
    if task is Task.sr:
        return 4.0 if scale is None else scale
    if scale not in (None, 1, 1.0):
        raise ValueError(f"--task {task.value} restores at the input size; drop --scale (or use --task sr)")
    return 1.0


def same_size_model(task: Task, scale: float | None) -> bool:
    """Whether the task runs at the input size (then the same-size task model serves it)."""
    return task is not Task.sr or scale in (1, 1.0)


def task_weights(task: Task, scale: float | None = None) -> Path:
    """The shipped weights for a task (used when --weights is not given).

    Two weight files: the embedded default for super-resolution (x2, x4) and the
    task model for everything at the input size (clean-up, deblur, denoise, inpaint,
    and `--scale 1`). One small model could not hold both: trained on the mix, its
    x1 path made x264 CRF 35 video worse (-0.26 dB at 1,500 steps, and falling).
    """
    default = default_weights_path()
    if not same_size_model(task, scale):
        return default
    if task is Task.sr:  # --scale 1 is clean-up
        task = Task.clean
    return default.with_name(DEDICATED_WEIGHTS.get(task, TASK_WEIGHTS_NAME))


# The fixed evaluation degradations (`swiftvr eval --degrade`, train.degrade.EVAL_PRESETS)
# and the task and scale that restore them.
PRESET_TASKS: dict[str, tuple[Task, float]] = {
    "x4": (Task.sr, 4.0), "x2": (Task.sr, 2.0), "x4-clean": (Task.sr, 4.0), "crf35": (Task.clean, 1.0),
    "deblur": (Task.deblur, 1.0), "denoise": (Task.denoise, 1.0), "inpaint": (Task.inpaint, 1.0),
}  # fmt: skip


def preset_weights(preset: str) -> Path:
    """The shipped weights `swiftvr eval --degrade PRESET` measures by default."""
    return task_weights(*PRESET_TASKS[preset])


def needs_mask(task: Task) -> bool:
    return task is Task.inpaint
