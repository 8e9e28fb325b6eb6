"""`swiftvr eval`: compare a restored video with its reference, or run
degrade -> restore -> compare against simple baselines in one go."""

from __future__ import annotations

import math
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import torch
import torch.nn.functional as F

from .io import InputError, VideoReader, frames_to_rgb
from .metrics import ClipMetrics, gain_summary


def load_clip(path: str, max_frames: int | None = None) -> torch.Tensor:
    """A whole (short) clip as [T, 3, H, W] float in [0, 1]."""
    with VideoReader(path) as reader:
        frames = []
        for frame in reader:
            frames.append(frame)
            if max_frames and len(frames) >= max_frames:
                break
        if not frames:
            raise InputError(f"'{path}' has no video frames")
        return frames_to_rgb(frames, reader.info).float() / 255.0


def lanczos_resize(x: torch.Tensor, size: tuple[int, int], a: int = 3) -> torch.Tensor:
    """Separable Lanczos-a resize (upscaling), [T, C, h, w] -> [T, C, H, W]; edges replicated."""

    def weights(n_in: int, n_out: int) -> torch.Tensor:
        scale = n_in / n_out
        centres = (torch.arange(n_out, dtype=torch.float64) + 0.5) * scale - 0.5
        taps = torch.arange(-a + 1, a + 1, dtype=torch.float64)
        idx = centres.floor()[:, None] + taps[None]  # [n_out, 2a]
        d = centres[:, None] - idx
        w = torch.special.sinc(d) * torch.special.sinc(d / a)
        w = w / w.sum(1, keepdim=True)
        matrix = torch.zeros(n_out, n_in, dtype=torch.float64)
        matrix.index_put_((torch.arange(n_out)[:, None].expand_as(idx), idx.clamp(0, n_in - 1).long()), w, accumulate=True)
        return matrix.to(x.dtype)

    rows = weights(x.shape[-2], size[0])
    cols = weights(x.shape[-1], size[1])
    return torch.einsum("Hh,tchw,Ww->tcHW", rows, x, cols)


def iter_clip(path: str, max_frames: int | None = None) -> Iterator[torch.Tensor]:
    """The frames of a video one at a time, each [1, 3, H, W] float in [0, 1]."""
    with VideoReader(path) as reader:
        for index, frame in enumerate(reader):
            if max_frames and index >= max_frames:
                return
            yield frames_to_rgb([frame], reader.info) / 255.0


@dataclass
class EvalRow:
    """One compared output: its metrics (JSON-ready) and its PSNR-Y per frame."""

    name: str
    metrics: dict[str, float | int | str]
    psnr_y_frames: list[float] = field(default_factory=list)


@dataclass
class Evaluation:
    """What `swiftvr eval` reports: a row per output, the frame to show (the worst one)
    and, when the two clips differ in length, how many frames each has."""

    rows: list[EvalRow]
    worst_frame: int
    worst_tiles: dict[str, torch.Tensor]  # that frame, by name (reference last)
    lengths: dict[str, int] = field(default_factory=dict)


def pick_baseline(per_frame: dict[str, list[float]]) -> str | None:
    """The plain method a model must beat: bicubic for super-resolution, else the best
    (by mean PSNR-Y) of the degraded input and the task's simple method."""
    if "bicubic" in per_frame:
        return "bicubic"
    if not per_frame:
        return None
    return max(per_frame, key=lambda name: sum(per_frame[name]) / len(per_frame[name]))


def frame_gains(ours: list[float], baseline: list[float]) -> list[float]:
    """Per-frame PSNR gain in dB; a frame identical in both counts as no gain."""
    return [0.0 if a == b else a - b for a, b in zip(ours, baseline)]


def gains_over_baseline(outputs: dict[str, torch.Tensor], clean: torch.Tensor) -> tuple[str | None, list[float], list[float]]:
    """Outputs by name ("ours" and the plain methods) -> the baseline's name, our PSNR-Y per
    frame and our per-frame gain over the baseline (the rule of `pick_baseline`)."""
    from .metrics import psnr_per_frame

    per_frame = {name: psnr_per_frame(out, clean, y_only=True) for name, out in outputs.items()}
    ours = per_frame.pop("ours")
    baseline = pick_baseline(per_frame)
    return baseline, ours, frame_gains(ours, per_frame[baseline])


def summarise(rows: list[EvalRow], ours: str) -> int:
    """Add the per-frame summary to each row (frames, worst and worst-10 % PSNR-Y) and to
    ours its gain over the baseline (mean, worst frame, worst 10 %); the worst frame's index
    (lowest gain, or lowest PSNR-Y without a baseline)."""
    for row in rows:
        spread = gain_summary(row.psnr_y_frames)
        row.metrics.update(frames=len(row.psnr_y_frames), psnr_y_worst=spread["worst"], psnr_y_worst10=spread["worst10"])
    mine = next(r for r in rows if r.name == ours)
    others = {r.name: r.psnr_y_frames for r in rows if r.name != ours}
    baseline = pick_baseline(others)
    if baseline is None:
        scores = mine.psnr_y_frames
    else:
        scores = frame_gains(mine.psnr_y_frames, others[baseline])
        summary = gain_summary(scores)
        mine.metrics.update(
            baseline=baseline, gain_db=summary["mean"], worst_frame_gain_db=summary["worst"], worst10_gain_db=summary["worst10"]
        )  # fmt: skip
    worst = min(range(len(scores)), key=scores.__getitem__)
    mine.metrics["worst_frame"] = worst
    return worst


def _rows(clips: dict[str, ClipMetrics]) -> list[EvalRow]:
    return [EvalRow(name, dict(clip.result()), list(clip.psnr_y)) for name, clip in clips.items()]


def compare_files(restored: str, reference: str, max_frames: int | None = None, lq: str | None = None) -> Evaluation:
    """Stream RESTORED and REFERENCE (and the LQ input they came from, as the baseline)
    frame by frame: memory does not grow with the clips' length.

    The LQ input is upscaled with bicubic when its size differs (super-resolution), else
    it is the baseline as it is. Clips of different lengths are compared on their common
    frames; `lengths` then says how many frames each has (up to `max_frames`).
    """
    names = {"restored": restored, "reference": reference} | ({"input": lq} if lq else {})
    with ExitStack() as stack:
        streams = {name: stack.enter_context(closing(iter_clip(path, max_frames))) for name, path in names.items()}
        clips: dict[str, ClipMetrics] = {}
        worst: tuple[float, int, dict[str, torch.Tensor]] | None = None
        frames = 0
        while True:
            latest = {name: next(stream, None) for name, stream in streams.items()}
            if any(frame is None for frame in latest.values()):
                break
            batch = dict(latest)
            ref = batch.pop("reference")
            if frames == 0:
                _check_sizes(batch["restored"], ref)
            if "input" in batch:
                low = batch.pop("input")
                name = "input" if low.shape[-2:] == ref.shape[-2:] else "bicubic"
                batch[name] = low if name == "input" else F.interpolate(low, size=ref.shape[-2:], mode="bicubic", align_corners=False).clamp(0, 1)
            for name, frame in batch.items():
                clips.setdefault(name, ClipMetrics()).add(frame.clamp(0, 1), ref)
            score = _frame_score(clips)
            if worst is None or score < worst[0]:
                worst = (score, frames, {name: frame[0] for name, frame in batch.items()} | {"reference": ref[0]})
            frames += 1
        lengths = {name: frames + (0 if latest[name] is None else 1 + sum(1 for _ in stream)) for name, stream in streams.items()}
    if not frames:
        raise InputError(f"nothing to compare: {', '.join(f'{n} has {c} frames' for n, c in lengths.items())}")
    rows = _rows(clips)
    worst_frame = summarise(rows, "restored")
    assert worst is not None and worst[1] == worst_frame  # the same rule, kept while streaming
    return Evaluation(rows, worst_frame, worst[2], lengths if len(set(lengths.values())) > 1 else {})


def _check_sizes(restored: torch.Tensor, reference: torch.Tensor) -> None:
    if restored.shape[-2:] != reference.shape[-2:]:
        raise InputError(
            f"sizes differ: restored {restored.shape[-1]}x{restored.shape[-2]}, reference {reference.shape[-1]}x{reference.shape[-2]}"
        )


def _frame_score(clips: dict[str, ClipMetrics]) -> float:
    """How good the latest frame is: the gain over the baseline, or PSNR-Y without one."""
    ours = clips["restored"].psnr_y[-1]
    baseline = next((clip.psnr_y[-1] for name, clip in clips.items() if name != "restored"), None)
    return ours if baseline is None else frame_gains([ours], [baseline])[0]


def restore_with_baselines(
    model, clean: torch.Tensor, task: str, clip_len: int = 24, strength: float | None = None
) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
    """Degrade a clean clip with a fixed degradation; restore it and make the plain baselines.

    Returns (clean clip cropped to the degradation's multiple, LQ clip, outputs by name):
    ours plus bicubic and lanczos for super-resolution, or the degraded input and the
    task's simple baseline at scale 1.
    """
    from .pipeline.inmemory import restore_tensor
    from .degradations import EVAL_DEGRADATIONS, crop_to_multiple, degrade_fixed

    if task not in EVAL_DEGRADATIONS:
        raise InputError(f"unknown --degrade {task!r}; choose from {', '.join(EVAL_DEGRADATIONS)}")
    degradation = EVAL_DEGRADATIONS[task]
    scale = degradation.scale
    clean = crop_to_multiple(clean, 2 * scale)
    lq = degrade_fixed(clean, task)
    size = tuple(clean.shape[-2:])
    mask = degradation.fill_mask(clean)
    outputs = {"ours": restore_tensor(model, lq, scale, clip_len, mask=mask, strength=strength)}
    if scale == 1:
        outputs["input"] = lq
        outputs.update(task_baselines(task, lq, mask))
    else:
        outputs["bicubic"] = F.interpolate(lq, size=size, mode="bicubic", align_corners=False).clamp(0, 1)
        outputs["lanczos"] = lanczos_resize(lq, size).clamp(0, 1)
    return clean, lq, outputs


def unsharp_mask(x: torch.Tensor, sigma: float = 2.0, amount: float = 1.0) -> torch.Tensor:
    """x + amount * (x - blur(x)): the classic sharpening filter."""
    from .degradations import apply_kernel, gaussian_kernel

    return (x + amount * (x - apply_kernel(x, gaussian_kernel(sigma, sigma)))).clamp(0, 1)


def task_baselines(task: str, lq: torch.Tensor, mask: torch.Tensor | None) -> dict[str, torch.Tensor]:
    """The simple method each --task must beat: unsharp mask (deblur), a light Gaussian
    blur (denoise), the push-pull diffusion fill (inpaint)."""
    from .fill import fill_masked
    from .degradations import apply_kernel, gaussian_kernel

    if task == "deblur":
        return {"unsharp": unsharp_mask(lq)}
    if task == "denoise":
        return {"gaussian": apply_kernel(lq, gaussian_kernel(1.0, 1.0)).clamp(0, 1)}
    if task == "inpaint" and mask is not None:
        return {"fill": fill_masked(lq, mask).clamp(0, 1)}
    return {}


def degrade_eval(model, clean: torch.Tensor, task: str, clip_len: int = 24, strength: float | None = None) -> Evaluation:
    """Degrade a clean clip with a fixed degradation, restore it, compare with baselines
    (metrics a few frames at a time, so their memory does not grow with the clip)."""
    clean, _, outputs = restore_with_baselines(model, clean, task, clip_len, strength)
    clips = {name: ClipMetrics() for name in outputs}
    for t in range(0, clean.shape[0], 4):
        for name, out in outputs.items():
            clips[name].add(out[t : t + 4].clamp(0, 1), clean[t : t + 4])
    rows = _rows(clips)
    worst = summarise(rows, "ours")
    tiles = {name: out[worst] for name, out in outputs.items()} | {"reference": clean[worst]}
    return Evaluation(rows, worst, tiles)


def _crop_corner(tiles: dict[str, torch.Tensor], ours: str, baseline: str | None, crop: tuple[int, int]) -> tuple[int, int]:
    """Top-left corner of the (h, w) crop to show: where ours is furthest from the reference
    (beyond the baseline's error, when there is one). Every candidate lies fully inside the
    frame, so the crop always has the asked size wherever the error is."""
    reference = tiles["reference"]
    error = (tiles[ours] - reference).pow(2).mean(0)
    if baseline is not None:
        error = error - (tiles[baseline] - reference).pow(2).mean(0)
    # window sums from an integral image, at every quarter-crop step and at the far edges
    # (so an error in the last rows or columns is reachable too)
    integral = F.pad(error.double().cumsum(0).cumsum(1), (1, 0, 1, 0))
    starts = [
        torch.tensor(sorted(set(range(0, size - side + 1, max(1, side // 4))) | {size - side}))
        for size, side in zip(error.shape, crop)
    ]
    top, left = starts[0][:, None], starts[1][None, :]
    bottom, right = top + crop[0], left + crop[1]
    score = integral[bottom, right] - integral[top, right] - integral[bottom, left] + integral[top, left]
    index = int(score.argmax())
    return int(starts[0][index // score.shape[1]]), int(starts[1][index % score.shape[1]])


def save_worst_frame(evaluation: Evaluation, path: Path, crop: int = 256) -> Path:
    """One labelled PNG: the same crop of the worst frame from each output, left to right
    (ours, the baselines, the reference), each under its name and PSNR-Y on that frame."""
    from .sidebyside import save_png, side_by_side

    tiles = evaluation.worst_tiles
    height, width = tiles["reference"].shape[-2:]
    crop_h, crop_w = min(crop, height), min(crop, width)
    ours = evaluation.rows[0]
    top, left = _crop_corner(tiles, ours.name, ours.metrics.get("baseline"), (crop_h, crop_w))
    psnr = {row.name: row.psnr_y_frames[evaluation.worst_frame] for row in evaluation.rows}
    labelled = {
        (name if name not in psnr else f"{name} {psnr[name]:.2f} dB"): tile[:, top : top + crop_h, left : left + crop_w]
        for name, tile in tiles.items()
    }
    return save_png(side_by_side(labelled, title=f"frame {evaluation.worst_frame} (worst)"), path)


def report_table(evaluation: Evaluation, title: str):
    """A rich table: the mean metrics per output, then the per-frame view (worst frame,
    worst 10 %) and ours' gain over the baseline."""
    from rich.table import Table

    columns = {
        "psnr_y": "psnr_y", "psnr_rgb": "psnr_rgb", "ssim": "ssim", "flicker": "flicker",
        "psnr_y_worst": "psnr_y worst", "gain_db": "gain", "worst_frame_gain_db": "worst frame", "worst10_gain_db": "worst 10 %",
    }  # fmt: skip
    table = Table(title=title)
    table.add_column("output")
    for label in columns.values():
        table.add_column(label, justify="right")
    for row in evaluation.rows:
        cells = []
        for key in columns:
            value = row.metrics.get(key)
            cells.append("-" if value is None else f"{value:.4f}" if key == "ssim" else f"{value:+.2f}" if "gain" in key else f"{value:.2f}")
        table.add_row(row.name, *cells)
    return table


def finite(metrics: dict[str, float]) -> dict[str, float | None]:
    """JSON has no inf: identical clips report PSNR as null."""
    return {k: (None if isinstance(v, float) and math.isinf(v) else v) for k, v in metrics.items()}
