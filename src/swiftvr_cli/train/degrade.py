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

``EVAL_PRESETS`` are fixed degradations with documented parameters for benchmarks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

import av
import numpy as np
import torch
import torch.nn.functional as F

Range = tuple[float, float]

_LUMA = (0.299, 0.587, 0.114)
_MAX_KERNEL_HALF = 10  # kernels are at most 21x21


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


# --------------------------------------------------------------------------- random draws


def _rand(g: torch.Generator) -> float:
    return float(torch.rand((), generator=g))


def _uniform(g: torch.Generator, r: Range) -> float:
    return r[0] + (r[1] - r[0]) * _rand(g)


def _chance(g: torch.Generator, p: float) -> bool:
    return _rand(g) < p


def _pick(g: torch.Generator, weights: tuple[float, ...]) -> int:
    u = _rand(g) * sum(weights)
    acc = 0.0
    for i, w in enumerate(weights):
        acc += w
        if u < acc:
            return i
    return len(weights) - 1


def _randint(g: torch.Generator, lo: int, hi: int) -> int:
    """Uniform integer in ``[lo, hi]``."""
    return min(hi, lo + int(_rand(g) * (hi - lo + 1)))


# --------------------------------------------------------------------------- blur


def gaussian_kernel(sigma_x: float, sigma_y: float, theta: float = 0.0) -> torch.Tensor:
    """Normalized 2-D Gaussian, axes rotated by ``theta`` (radians); size covers 3 sigma."""
    half = min(_MAX_KERNEL_HALF, max(1, math.ceil(3 * max(sigma_x, sigma_y))))
    c, s = math.cos(theta), math.sin(theta)
    rot = torch.tensor([[c, -s], [s, c]], dtype=torch.float64)
    cov = rot @ torch.diag(torch.tensor([sigma_x**2, sigma_y**2], dtype=torch.float64)) @ rot.T
    inv = torch.linalg.inv(cov)
    ax = torch.arange(-half, half + 1, dtype=torch.float64)
    yy, xx = torch.meshgrid(ax, ax, indexing="ij")
    pts = torch.stack([xx, yy], dim=-1)
    k = torch.exp(-0.5 * torch.einsum("...i,ij,...j->...", pts, inv, pts))
    return (k / k.sum()).float()


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
    kind = _pick(g, stage.blur_kind_probs)
    theta = _uniform(g, (0.0, math.pi))
    if kind == 0:
        sigma = _uniform(g, stage.blur_sigma)
        return gaussian_kernel(sigma, sigma)
    if kind == 1:
        return gaussian_kernel(_uniform(g, stage.blur_sigma), _uniform(g, stage.blur_sigma), theta)
    return motion_kernel(_uniform(g, stage.motion_length), theta)


def apply_kernel(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Filter every frame and channel of ``[T, C, H, W]`` with the same 2-D kernel."""
    t, c, h, w = x.shape
    half = kernel.shape[-1] // 2
    padded = F.pad(x.reshape(t * c, 1, h, w), (half, half, half, half), mode="replicate")
    return F.conv2d(padded, kernel[None, None].to(x.dtype)).reshape(t, c, h, w)


# --------------------------------------------------------------------------- resize


def resize(x: torch.Tensor, size: tuple[int, int], mode: str, antialias: bool) -> torch.Tensor:
    """Resize ``[T, C, H, W]`` to ``size=(h, w)``; anti-aliasing only applies when shrinking."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    if mode == "area":
        out = F.interpolate(x, size=size, mode="area")
    else:
        shrinking = size[0] < x.shape[-2] or size[1] < x.shape[-1]
        out = F.interpolate(x, size=size, mode=mode, align_corners=False, antialias=antialias and shrinking)
    return out.clamp(0.0, 1.0)


def _random_resize_to(x: torch.Tensor, size: tuple[int, int], cfg: DegradeConfig, g: torch.Generator) -> torch.Tensor:
    shrinking = size[0] <= x.shape[-2] and size[1] <= x.shape[-1]
    modes = cfg.resize_modes if shrinking else tuple(m for m in cfg.resize_modes if m != "area")
    mode = modes[_randint(g, 0, len(modes) - 1)] if modes else "bicubic"
    return resize(x, size, mode, _chance(g, cfg.antialias_prob))


def _scaled(ref: tuple[int, int], ratio: float) -> tuple[int, int]:
    return max(2, round(ref[0] * ratio)), max(2, round(ref[1] * ratio))


# --------------------------------------------------------------------------- noise


def add_noise(x: torch.Tensor, stage: StageConfig, g: torch.Generator) -> torch.Tensor:
    """Gaussian or Poisson noise, colour or grey, fresh per frame with clip-wide strength."""
    gray = _chance(g, stage.gray_noise_prob)
    if _chance(g, stage.gaussian_prob):
        sigma = _uniform(g, stage.gaussian_sigma) / 255.0
        shape = (x.shape[0], 1, *x.shape[2:]) if gray else tuple(x.shape)
        noise = torch.randn(shape, generator=g, dtype=x.dtype) * sigma
    else:
        strength = _uniform(g, stage.poisson_scale)
        src = luma(x)[:, None] if gray else x
        lam = src.clamp(0.0, 1.0) * 255.0
        noise = (torch.poisson(lam, generator=g) - lam) / 255.0 * strength
    return (x + noise).clamp(0.0, 1.0)


def luma(x: torch.Tensor) -> torch.Tensor:
    """BT.601 luma of ``[T, 3, H, W]`` in the input's range, ``[T, H, W]``."""
    return _LUMA[0] * x[:, 0] + _LUMA[1] * x[:, 1] + _LUMA[2] * x[:, 2]


# --------------------------------------------------------------------------- codecs


@dataclass(frozen=True)
class _VideoCodec:
    decoder: str
    multiple: int  # pad frame sizes up to a multiple of this
    minimum: int  # and at least this many pixels per side
    options: tuple[tuple[str, str], ...] = ()


# yuv420p needs even sizes. libx265 (as bundled with PyAV 18) corrupts the heap on frames
# narrower than about 56 px (seen with valgrind), so its input is padded to >= 64x64.
_VIDEO_CODECS = {
    "libx264": _VideoCodec("h264", 2, 2),
    "libx265": _VideoCodec("hevc", 8, 64, (("x265-params", "log-level=error:pools=none:frame-threads=1"),)),
}


def to_uint8_frames(clip: torch.Tensor) -> np.ndarray:
    """``[T, 3, H, W]`` float in [0, 1] -> ``[T, H, W, 3]`` uint8 (rounded)."""
    u8 = (clip.detach().clamp(0.0, 1.0) * 255.0).round().to(torch.uint8)
    return u8.permute(0, 2, 3, 1).contiguous().numpy()


def from_uint8_frames(frames: np.ndarray) -> torch.Tensor:
    """``[T, H, W, 3]`` uint8 -> ``[T, 3, H, W]`` float32 in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float() / 255.0


def _pad_frames(frames: np.ndarray, multiple: int, minimum: int) -> np.ndarray:
    _, h, w, _ = frames.shape
    ph = max(minimum, -(-h // multiple) * multiple) - h
    pw = max(minimum, -(-w // multiple) * multiple) - w
    if ph == 0 and pw == 0:
        return frames
    return np.pad(frames, ((0, 0), (0, ph), (0, pw), (0, 0)), mode="edge")


def _decode_all(decoder: str, packets: list[av.Packet]) -> list[av.VideoFrame]:
    dec = av.CodecContext.create(decoder, "r")
    dec.thread_count = 1
    frames: list[av.VideoFrame] = []
    for packet in packets:
        frames.extend(dec.decode(packet))
    frames.extend(dec.decode(None))
    return frames


def video_roundtrip(frames: np.ndarray, codec: str = "libx264", crf: int = 28, preset: str = "medium") -> np.ndarray:
    """Encode ``[T, H, W, 3]`` uint8 RGB as one yuv420p stream and decode it back.

    Frames are edge-padded to sizes the encoder accepts and cropped back afterwards.
    """
    if codec not in _VIDEO_CODECS:
        raise ValueError(f"unsupported codec {codec!r}; choose from {sorted(_VIDEO_CODECS)}")
    spec = _VIDEO_CODECS[codec]
    t, h, w, _ = frames.shape
    padded = _pad_frames(frames, spec.multiple, spec.minimum)
    enc = av.CodecContext.create(codec, "w")
    enc.width, enc.height = padded.shape[2], padded.shape[1]
    enc.pix_fmt = "yuv420p"
    enc.time_base = Fraction(1, 25)
    enc.framerate = Fraction(25, 1)
    enc.thread_count = 1  # reproducible bitstreams, no oversubscription in data workers
    enc.options = {"crf": str(crf), "preset": preset, **dict(spec.options)}
    packets: list[av.Packet] = []
    for i, img in enumerate(padded):
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24").reformat(format="yuv420p")
        frame.pts = i
        packets.extend(enc.encode(frame))
    packets.extend(enc.encode(None))
    decoded = _decode_all(spec.decoder, packets)
    if len(decoded) != t:
        raise RuntimeError(f"{codec} round trip returned {len(decoded)} of {t} frames")
    decoded.sort(key=lambda f: f.pts if f.pts is not None else 0)
    return np.stack([f.to_ndarray(format="rgb24")[:h, :w] for f in decoded])


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
    padded = _pad_frames(frames, 2, 2)
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
        decoded = _decode_all("mjpeg", packets)
        out.append(decoded[0].to_ndarray(format="rgb24")[:h, :w])
    return np.stack(out)


def _jpeg(x: torch.Tensor, quality: float) -> torch.Tensor:
    return from_uint8_frames(jpeg_roundtrip(to_uint8_frames(x), quality))


def _video(x: torch.Tensor, codec: str, crf: int, preset: str) -> torch.Tensor:
    return from_uint8_frames(video_roundtrip(to_uint8_frames(x), codec, crf, preset))


# --------------------------------------------------------------------------- pipeline


def _stage(
    x: torch.Tensor, stage: StageConfig, ref: tuple[int, int], cfg: DegradeConfig, g: torch.Generator
) -> torch.Tensor:
    if _chance(g, stage.blur_prob):
        x = apply_kernel(x, random_kernel(stage, g))
    direction = _pick(g, stage.resize_probs)
    if direction == 0:
        x = _random_resize_to(x, _scaled(ref, _uniform(g, stage.resize_up)), cfg, g)
    elif direction == 1:
        x = _random_resize_to(x, _scaled(ref, _uniform(g, stage.resize_down)), cfg, g)
    else:
        x = _random_resize_to(x, ref, cfg, g)
    if _chance(g, stage.noise_prob):
        x = add_noise(x, stage, g)
    if _chance(g, stage.jpeg_prob):
        x = _jpeg(x, _uniform(g, stage.jpeg_quality))
    return x


def _check_clip(clip: torch.Tensor, scale: int) -> None:
    if clip.dim() != 4 or clip.shape[1] != 3:
        raise ValueError(f"expected a [T, 3, H, W] clip, got {tuple(clip.shape)}")
    h, w = clip.shape[-2:]
    if h % scale or w % scale:
        raise ValueError(f"clip size {h}x{w} is not divisible by scale {scale}; use crop_to_multiple first")


def quantize(x: torch.Tensor) -> torch.Tensor:
    """Round to 8-bit levels: real low-quality inputs always arrive as 8-bit video."""
    return (x.clamp(0.0, 1.0) * 255.0).round() / 255.0


def degrade_clip(clip: torch.Tensor, cfg: DegradeConfig, generator: torch.Generator) -> torch.Tensor:
    """Random second-order degradation of ``[T, 3, H, W]`` in [0, 1] -> ``[T, 3, H/s, W/s]``.

    One parameter draw per clip; the same generator state gives the same output.
    """
    _check_clip(clip, cfg.scale)
    g = generator
    h, w = clip.shape[-2:]
    target = (h // cfg.scale, w // cfg.scale)
    x = clip.detach().float().clamp(0.0, 1.0)
    x = _stage(x, cfg.first, (h, w), cfg, g)
    if _chance(g, cfg.second_prob):
        x = _stage(x, cfg.second, target, cfg, g)
    x = _random_resize_to(x, target, cfg, g)
    final = cfg.final
    if _chance(g, final.jpeg_prob):
        x = _jpeg(x, _uniform(g, final.jpeg_quality))
    if _chance(g, final.video_prob):
        names = tuple(name for name, _ in final.codec_probs)
        codec = names[_pick(g, tuple(p for _, p in final.codec_probs))]
        crf = _randint(g, *final.crf)
        preset = final.presets[_randint(g, 0, len(final.presets) - 1)]
        x = _video(x, codec, crf, preset)
    return quantize(x)


# --------------------------------------------------------------------------- evaluation presets


@dataclass(frozen=True)
class FixedDegradation:
    """A deterministic degradation: Gaussian blur, downscale, then one codec pass."""

    scale: int
    blur_sigma: float  # 0 disables the blur
    resize_mode: str = "bicubic"  # anti-aliased (MATLAB imresize-like)
    codec: str | None = "libx264"  # None: no codec pass (8-bit frames only)
    crf: int = 28
    preset: str = "medium"

    def apply(self, clip: torch.Tensor) -> torch.Tensor:
        _check_clip(clip, self.scale)
        x = clip.detach().float().clamp(0.0, 1.0)
        if self.blur_sigma > 0:
            x = apply_kernel(x, gaussian_kernel(self.blur_sigma, self.blur_sigma))
        h, w = x.shape[-2:]
        x = resize(x, (h // self.scale, w // self.scale), self.resize_mode, antialias=True)
        if self.codec is None:
            return quantize(x)
        return quantize(_video(quantize(x), self.codec, self.crf, self.preset))


@dataclass(frozen=True)
class NoiseDegradation:
    """Additive Gaussian colour noise (sigma on the 0..255 scale), fixed seed, 8-bit."""

    sigma: float
    scale: int = 1
    seed: int = 0

    def apply(self, clip: torch.Tensor) -> torch.Tensor:
        g = torch.Generator().manual_seed(self.seed)
        noise = torch.randn(clip.shape, generator=g) * (self.sigma / 255.0)
        return quantize(clip.detach().float() + noise)


@dataclass(frozen=True)
class MaskDegradation:
    """The fixed inpainting mask (`masks.evaluation_mask`) painted white over the clip."""

    scale: int = 1

    def mask(self, clip: torch.Tensor) -> torch.Tensor:
        from .masks import evaluation_mask

        return evaluation_mask(clip.shape[0], *clip.shape[-2:])

    def apply(self, clip: torch.Tensor) -> torch.Tensor:
        from .masks import apply_mask

        return quantize(apply_mask(clip.detach().float(), self.mask(clip)))


EVAL_PRESETS: dict[str, FixedDegradation | NoiseDegradation | MaskDegradation] = {
    # light, realistic SR input: sigma-1.0 Gaussian (7x7), anti-aliased bicubic x4, x264 CRF 28 (medium)
    "x4": FixedDegradation(scale=4, blur_sigma=1.0, crf=28),
    "x2": FixedDegradation(scale=2, blur_sigma=1.0, crf=28),
    # the classic super-resolution benchmark: anti-aliased bicubic x4 of a sharp source, 8-bit, no codec
    "x4-clean": FixedDegradation(scale=4, blur_sigma=0.0, codec=None),
    # a plain box-filter (area) x4 downscale of a sharp or soft source, 8-bit, no codec:
    # what a camera's or an editor's downscale does to real footage
    "x4-area": FixedDegradation(scale=4, blur_sigma=0.0, resize_mode="area", codec=None),
    # heavy compression, no resize: x264 CRF 35 (medium)
    "crf35": FixedDegradation(scale=1, blur_sigma=0.0, crf=35),
    # --task deblur / denoise / inpaint, all at the same size and without a codec pass
    "deblur": FixedDegradation(scale=1, blur_sigma=2.0, codec=None),
    "denoise": NoiseDegradation(sigma=15.0),
    "inpaint": MaskDegradation(),
}


def degrade_fixed(clip: torch.Tensor, name: str) -> torch.Tensor:
    """Apply the named evaluation preset (see ``EVAL_PRESETS``)."""
    if name not in EVAL_PRESETS:
        raise KeyError(f"unknown preset {name!r}; choose from {sorted(EVAL_PRESETS)}")
    return EVAL_PRESETS[name].apply(clip)


def crop_to_multiple(clip: torch.Tensor, multiple: int) -> torch.Tensor:
    """Top-left crop so height and width are multiples of ``multiple`` (e.g. the scale)."""
    h, w = clip.shape[-2:]
    return clip[..., : h - h % multiple, : w - w % multiple]
