"""Synthetic low-quality clips from clean ones, for training and for fixed evaluations.

Training uses a second-order degradation in the spirit of Real-ESRGAN / RealBasicVSR:
``[blur -> resize -> noise -> JPEG]`` once, optionally a second, milder time, then a final
resize to the target scale and real codec compression (libx264 / libx265 encoded and decoded
in memory with PyAV, plus optional per-frame JPEG through FFmpeg's mjpeg encoder).

Every random parameter (kernel, sizes, noise level, CRF, ...) is drawn once per clip and
shared by all frames, so a static scene stays static: the restorer must learn from real
temporal statistics, not from frame-to-frame changes of the degradation. Only the noise
*realisation* differs per frame, as sensor noise does. All randomness comes from the
caller's ``torch.Generator`` and encoders run single-threaded, so a seed fixes the output.

The fixed degradations of `swiftvr eval`, and the primitives both use, live in
``swiftvr_cli.degradations``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

import av
import numpy as np
import torch

from ..degradations import (
    apply_kernel,
    check_clip,
    codec_roundtrip,
    crop_to_multiple,
    decode_all,
    degrade_fixed,
    from_uint8_frames,
    gaussian_kernel,
    pad_frames,
    quantize,
    resize,
    to_uint8_frames,
    video_roundtrip,
)
from ..metrics import luma
from ..random_draws import chance, pick, randint, uniform

__all__ = [
    "CompressConfig", "DegradeConfig", "StageConfig", "add_noise", "crop_to_multiple", "degrade_clip", "degrade_fixed",
    "from_uint8_frames", "gaussian_kernel", "jpeg_qscale", "jpeg_roundtrip", "motion_kernel", "quantize", "to_uint8_frames",
    "video_roundtrip",
]  # fmt: skip

Range = tuple[float, float]

_MAX_KERNEL_HALF = 10  # kernels are at most 21x21 (as in degradations.gaussian_kernel)


# --------------------------------------------------------------------------- configs


@dataclass(frozen=True)
class StageConfig:
    """One ``blur -> resize -> noise -> JPEG`` pass. Noise sigmas are on a 0..255 scale."""

    blur_prob: float = 0.9
    blur_sigma: Range = (0.2, 2.0)
    blur_kind_probs: tuple[float, float, float] = (0.5, 0.35, 0.15)  # isotropic, anisotropic, motion
    motion_length: Range = (2.0, 9.0)  # pixels
    resize_probs: tuple[float, float, float] = (0.2, 0.5, 0.3)  # up, down, keep
    resize_up: Range = (1.0, 1.5)
    resize_down: Range = (0.4, 1.0)
    noise_prob: float = 0.5
    gaussian_prob: float = 0.6  # otherwise Poisson (shot) noise
    gaussian_sigma: Range = (1.0, 15.0)
    poisson_scale: Range = (0.05, 2.0)
    gray_noise_prob: float = 0.4
    jpeg_prob: float = 0.3
    jpeg_quality: Range = (40.0, 95.0)


def _second_stage() -> StageConfig:
    return StageConfig(
        blur_prob=0.6,
        blur_sigma=(0.2, 1.2),
        resize_down=(0.6, 1.0),
        resize_up=(1.0, 1.2),
        noise_prob=0.4,
        gaussian_sigma=(1.0, 10.0),
        poisson_scale=(0.05, 1.5),
        jpeg_prob=0.2,
        jpeg_quality=(50.0, 95.0),
    )


@dataclass(frozen=True)
class CompressConfig:
    """Final compression at the low-quality size."""

    jpeg_prob: float = 0.2
    jpeg_quality: Range = (50.0, 95.0)
    video_prob: float = 0.9
    codec_probs: tuple[tuple[str, float], ...] = (("libx264", 0.7), ("libx265", 0.3))
    crf: tuple[int, int] = (18, 36)  # inclusive
    presets: tuple[str, ...] = ("veryfast", "fast", "medium")


@dataclass(frozen=True)
class DegradeConfig:
    """Random degradation ranges and probabilities.

    The first stage resizes relative to the input (HR) size; the second stage relative to
    the target (LQ) size, so its result stays near the final size. Defaults are moderate:
    meant for real-world video (mild blur, sensor noise, codec artefacts), not the extreme
    corruptions of Real-ESRGAN's photo setting.
    """

    scale: int = 4
    first: StageConfig = field(default_factory=StageConfig)
    second_prob: float = 0.5
    second: StageConfig = field(default_factory=_second_stage)
    resize_modes: tuple[str, ...] = ("bicubic", "bilinear", "area")
    antialias_prob: float = 0.5  # anti-aliased (MATLAB/PIL-like) vs plain (cheap scaler) downscaling
    final: CompressConfig = field(default_factory=CompressConfig)

    def __post_init__(self) -> None:
        if self.scale not in (1, 2, 4):
            raise ValueError(f"scale must be 1, 2 or 4, got {self.scale}")
        for mode in self.resize_modes:
            if mode not in ("bicubic", "bilinear", "area"):
                raise ValueError(f"unknown resize mode {mode!r}")


# --------------------------------------------------------------------------- blur


def motion_kernel(length: float, theta: float) -> torch.Tensor:
    """Anti-aliased straight line of ``length`` pixels at angle ``theta``: linear camera shake."""
    half = min(_MAX_KERNEL_HALF, max(1, math.ceil(length / 2)))
    ax = torch.arange(-half, half + 1, dtype=torch.float64)
    yy, xx = torch.meshgrid(ax, ax, indexing="ij")
    dx, dy = math.cos(theta), math.sin(theta)
    along = (xx * dx + yy * dy).clamp(-length / 2, length / 2)
    dist = torch.hypot(xx - along * dx, yy - along * dy)
    k = (1.0 - dist).clamp(min=0.0)
    return (k / k.sum()).float()


def random_kernel(stage: StageConfig, g: torch.Generator) -> torch.Tensor:
    kind = pick(g, stage.blur_kind_probs)
    theta = uniform(g, (0.0, math.pi))
    if kind == 0:
        sigma = uniform(g, stage.blur_sigma)
        return gaussian_kernel(sigma, sigma)
    if kind == 1:
        return gaussian_kernel(uniform(g, stage.blur_sigma), uniform(g, stage.blur_sigma), theta)
    return motion_kernel(uniform(g, stage.motion_length), theta)


# --------------------------------------------------------------------------- resize


def _random_resize_to(x: torch.Tensor, size: tuple[int, int], cfg: DegradeConfig, g: torch.Generator) -> torch.Tensor:
    shrinking = size[0] <= x.shape[-2] and size[1] <= x.shape[-1]
    modes = cfg.resize_modes if shrinking else tuple(m for m in cfg.resize_modes if m != "area")
    mode = modes[randint(g, 0, len(modes) - 1)] if modes else "bicubic"
    return resize(x, size, mode, chance(g, cfg.antialias_prob))


def _scaled(ref: tuple[int, int], ratio: float) -> tuple[int, int]:
    return max(2, round(ref[0] * ratio)), max(2, round(ref[1] * ratio))


# --------------------------------------------------------------------------- noise


def add_noise(x: torch.Tensor, stage: StageConfig, g: torch.Generator) -> torch.Tensor:
    """Gaussian or Poisson noise, colour or grey, fresh per frame with clip-wide strength."""
    gray = chance(g, stage.gray_noise_prob)
    if chance(g, stage.gaussian_prob):
        sigma = uniform(g, stage.gaussian_sigma) / 255.0
        shape = (x.shape[0], 1, *x.shape[2:]) if gray else tuple(x.shape)
        noise = torch.randn(shape, generator=g, dtype=x.dtype) * sigma
    else:
        strength = uniform(g, stage.poisson_scale)
        src = luma(x)[:, None] if gray else x
        lam = src.clamp(0.0, 1.0) * 255.0
        noise = (torch.poisson(lam, generator=g) - lam) / 255.0 * strength
    return (x + noise).clamp(0.0, 1.0)


# --------------------------------------------------------------------------- codecs


def jpeg_qscale(quality: float) -> int:
    """FFmpeg mjpeg quantizer (1..31) closest to an IJG/libjpeg quality (1..100).

    IJG scales its base tables by ``5000/q`` % (q < 50) or ``200 - 2q`` %; FFmpeg's table
    equals the base table at qscale 8, so qscale ~= 8 * percent / 100.
    """
    q = min(100.0, max(1.0, quality))
    percent = 5000.0 / q if q < 50 else 200.0 - 2.0 * q
    return int(min(31, max(1, round(8.0 * percent / 100.0))))


def jpeg_roundtrip(frames: np.ndarray, quality: float) -> np.ndarray:
    """JPEG-compress (4:2:0) and decode each ``[H, W, 3]`` uint8 frame independently."""
    _, h, w, _ = frames.shape
    padded = pad_frames(frames, 2, 2)
    qscale = str(jpeg_qscale(quality))
    out = []
    for img in padded:
        enc = av.CodecContext.create("mjpeg", "w")
        enc.width, enc.height = img.shape[1], img.shape[0]
        enc.pix_fmt = "yuvj420p"
        enc.time_base = Fraction(1, 25)
        enc.options = {"qmin": qscale, "qmax": qscale}
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24").reformat(format="yuvj420p")
        frame.pts = 0
        packets = list(enc.encode(frame)) + list(enc.encode(None))
        decoded = decode_all("mjpeg", packets)
        out.append(decoded[0].to_ndarray(format="rgb24")[:h, :w])
    return np.stack(out)


def _jpeg(x: torch.Tensor, quality: float) -> torch.Tensor:
    return from_uint8_frames(jpeg_roundtrip(to_uint8_frames(x), quality))


# --------------------------------------------------------------------------- pipeline


def _stage(
    x: torch.Tensor, stage: StageConfig, ref: tuple[int, int], cfg: DegradeConfig, g: torch.Generator
) -> torch.Tensor:
    if chance(g, stage.blur_prob):
        x = apply_kernel(x, random_kernel(stage, g))
    direction = pick(g, stage.resize_probs)
    if direction == 0:
        x = _random_resize_to(x, _scaled(ref, uniform(g, stage.resize_up)), cfg, g)
    elif direction == 1:
        x = _random_resize_to(x, _scaled(ref, uniform(g, stage.resize_down)), cfg, g)
    else:
        x = _random_resize_to(x, ref, cfg, g)
    if chance(g, stage.noise_prob):
        x = add_noise(x, stage, g)
    if chance(g, stage.jpeg_prob):
        x = _jpeg(x, uniform(g, stage.jpeg_quality))
    return x


def degrade_clip(clip: torch.Tensor, cfg: DegradeConfig, generator: torch.Generator) -> torch.Tensor:
    """Random second-order degradation of ``[T, 3, H, W]`` in [0, 1] -> ``[T, 3, H/s, W/s]``.

    One parameter draw per clip; the same generator state gives the same output.
    """
    check_clip(clip, cfg.scale)
    g = generator
    h, w = clip.shape[-2:]
    target = (h // cfg.scale, w // cfg.scale)
    x = clip.detach().float().clamp(0.0, 1.0)
    x = _stage(x, cfg.first, (h, w), cfg, g)
    if chance(g, cfg.second_prob):
        x = _stage(x, cfg.second, target, cfg, g)
    x = _random_resize_to(x, target, cfg, g)
    final = cfg.final
    if chance(g, final.jpeg_prob):
        x = _jpeg(x, uniform(g, final.jpeg_quality))
    if chance(g, final.video_prob):
        names = tuple(name for name, _ in final.codec_probs)
        codec = names[pick(g, tuple(p for _, p in final.codec_probs))]
        crf = randint(g, *final.crf)
        preset = final.presets[randint(g, 0, len(final.presets) - 1)]
        x = codec_roundtrip(x, codec, crf, preset)
    return quantize(x)


