"""`swiftvr eval`: compare a restored video with its reference, or run
degrade -> restore -> compare against simple baselines in one go."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from .io import InputError, VideoReader, frames_to_rgb
from .metrics import evaluate


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


@dataclass
class EvalRow:
    name: str
    metrics: dict[str, float]


def compare(restored: torch.Tensor, reference: torch.Tensor) -> dict[str, float]:
    frames = min(restored.shape[0], reference.shape[0])
    if restored.shape[-2:] != reference.shape[-2:]:
        raise InputError(
            f"sizes differ: restored {restored.shape[-1]}x{restored.shape[-2]}, reference {reference.shape[-1]}x{reference.shape[-2]}"
        )
    return evaluate(restored[:frames].clamp(0, 1), reference[:frames])


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


def degrade_eval(
    model, clean: torch.Tensor, task: str, clip_len: int = 24, strength: float | None = None
) -> tuple[list[EvalRow], dict[str, torch.Tensor]]:
    """Degrade a clean clip with a fixed degradation, restore it, compare with baselines."""
    clean, _, outputs = restore_with_baselines(model, clean, task, clip_len, strength)
    rows = [EvalRow(name, compare(out, clean)) for name, out in outputs.items()]
    outputs["reference"] = clean
    return rows, outputs


def _texture_centre(clip: torch.Tensor, crop: int) -> tuple[int, int]:
    """Top-left corner of the most detailed crop (so the picture shows something)."""
    y = clip[0].mean(0)
    grad = F.pad((y[1:, :-1] - y[:-1, :-1]).abs() + (y[:-1, 1:] - y[:-1, :-1]).abs(), (0, 1, 0, 1))
    score = F.avg_pool2d(grad[None, None], crop, stride=max(1, crop // 4))[0, 0]
    index = int(score.argmax())
    stride = max(1, crop // 4)
    return (index // score.shape[1]) * stride, (index % score.shape[1]) * stride


def save_side_by_side(outputs: dict[str, torch.Tensor], path: Path, crop: int = 160) -> Path:
    """One PNG: the same crop of the middle frame from each output, left to right."""
    import av

    reference = outputs["reference"]
    t = reference.shape[0] // 2
    crop = min(crop, *reference.shape[-2:])
    top, left = _texture_centre(reference[t : t + 1], crop)
    tiles = [out[t, :, top : top + crop, left : left + crop] for out in outputs.values()]
    gap = torch.ones(3, crop, 4)
    row = torch.cat([piece for tile in tiles for piece in (tile, gap)][:-1], dim=2)
    rgb = (row.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).contiguous().numpy()
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
    with av.open(str(path), "w", format="image2", options={"update": "1"}) as container:
        stream = container.add_stream("png", rate=1)
        stream.width, stream.height, stream.pix_fmt = rgb.shape[1], rgb.shape[0], "rgb24"
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def finite(metrics: dict[str, float]) -> dict[str, float | None]:
    """JSON has no inf: identical clips report PSNR as null."""
    return {k: (None if isinstance(v, float) and math.isinf(v) else v) for k, v in metrics.items()}
