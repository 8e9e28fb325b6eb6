"""The fixed degradations of `swiftvr eval --degrade`, and the primitives they are made of.

Each named degradation (``EVAL_DEGRADATIONS``) turns a clean clip into a
model's input the same way every time, so evaluations compare. The training
data (``train/degrade.py``) draws random degradations from the same
primitives: blur kernels, resizing, a real codec round trip, 8-bit
quantisation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np
import torch
import torch.nn.functional as F

from .io.encoders import x264_reproducible_options
from .mask_shapes import apply_mask, evaluation_mask

_MAX_KERNEL_HALF = 10  # kernels are at most 21x21


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


def apply_kernel(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Filter every frame and channel of ``[T, C, H, W]`` with the same 2-D kernel."""
    t, c, h, w = x.shape
    half = kernel.shape[-1] // 2
    padded = F.pad(x.reshape(t * c, 1, h, w), (half, half, half, half), mode="replicate")
    return F.conv2d(padded, kernel[None, None].to(x.dtype)).reshape(t, c, h, w)


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


def quantize(x: torch.Tensor) -> torch.Tensor:
    """Round to 8-bit levels: real low-quality inputs always arrive as 8-bit video."""
    return (x.clamp(0.0, 1.0) * 255.0).round() / 255.0


@dataclass(frozen=True)
class _VideoCodec:
    decoder: str
    multiple: int  # pad frame sizes up to a multiple of this
    minimum: int  # and at least this many pixels per side
    options: tuple[tuple[str, str], ...] = ()


# yuv420p needs even sizes. libx265 (as bundled with PyAV 18) corrupts the heap on frames
# narrower than about 56 px (seen with valgrind), so its input is padded to >= 64x64.
_VIDEO_CODECS = {
    "libx264": _VideoCodec("h264", 2, 2, tuple(x264_reproducible_options().items())),
    "libx265": _VideoCodec("hevc", 8, 64, (("x265-params", "log-level=error:pools=none:frame-threads=1"),)),
}


def to_uint8_frames(clip: torch.Tensor) -> np.ndarray:
    """``[T, 3, H, W]`` float in [0, 1] -> ``[T, H, W, 3]`` uint8 (rounded)."""
    u8 = (clip.detach().clamp(0.0, 1.0) * 255.0).round().to(torch.uint8)
    return u8.permute(0, 2, 3, 1).contiguous().numpy()


def from_uint8_frames(frames: np.ndarray) -> torch.Tensor:
    """``[T, H, W, 3]`` uint8 -> ``[T, 3, H, W]`` float32 in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float() / 255.0


def pad_frames(frames: np.ndarray, multiple: int, minimum: int) -> np.ndarray:
    _, h, w, _ = frames.shape
    ph = max(minimum, -(-h // multiple) * multiple) - h
    pw = max(minimum, -(-w // multiple) * multiple) - w
    if ph == 0 and pw == 0:
        return frames
    return np.pad(frames, ((0, 0), (0, ph), (0, pw), (0, 0)), mode="edge")


def decode_all(decoder: str, packets: list[av.Packet]) -> list[av.VideoFrame]:
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
    padded = pad_frames(frames, spec.multiple, spec.minimum)
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
    decoded = decode_all(spec.decoder, packets)
    if len(decoded) != t:
        raise RuntimeError(f"{codec} round trip returned {len(decoded)} of {t} frames")
    decoded.sort(key=lambda f: f.pts if f.pts is not None else 0)
    return np.stack([f.to_ndarray(format="rgb24")[:h, :w] for f in decoded])


def codec_roundtrip(x: torch.Tensor, codec: str, crf: int, preset: str) -> torch.Tensor:
    """``video_roundtrip`` of a ``[T, 3, H, W]`` clip in [0, 1]."""
    return from_uint8_frames(video_roundtrip(to_uint8_frames(x), codec, crf, preset))


def check_clip(clip: torch.Tensor, scale: int) -> None:
    if clip.dim() != 4 or clip.shape[1] != 3:
        raise ValueError(f"expected a [T, 3, H, W] clip, got {tuple(clip.shape)}")
    h, w = clip.shape[-2:]
    if h % scale or w % scale:
        raise ValueError(f"clip size {h}x{w} is not divisible by scale {scale}; use crop_to_multiple first")


class EvalDegradation:
    """A fixed degradation of a clean clip ([T, 3, H, W] in [0, 1]) into a model's input."""

    scale: int  # the model's upscale factor for this input

    def apply(self, clip: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def fill_mask(self, clip: torch.Tensor) -> torch.Tensor | None:
        """The mask of what the restorer must fill (1 = fill), for inpainting; None otherwise."""
        return None


@dataclass(frozen=True)
class FixedDegradation(EvalDegradation):
    """A deterministic degradation: Gaussian blur, downscale, then one codec pass."""

    scale: int
    blur_sigma: float  # 0 disables the blur
    resize_mode: str = "bicubic"  # anti-aliased (MATLAB imresize-like)
    codec: str | None = "libx264"  # None: no codec pass (8-bit frames only)
    crf: int = 28
    preset: str = "medium"

    def apply(self, clip: torch.Tensor) -> torch.Tensor:
        check_clip(clip, self.scale)
        x = clip.detach().float().clamp(0.0, 1.0)
        if self.blur_sigma > 0:
            x = apply_kernel(x, gaussian_kernel(self.blur_sigma, self.blur_sigma))
        h, w = x.shape[-2:]
        x = resize(x, (h // self.scale, w // self.scale), self.resize_mode, antialias=True)
        if self.codec is None:
            return quantize(x)
        return quantize(codec_roundtrip(quantize(x), self.codec, self.crf, self.preset))


@dataclass(frozen=True)
class NoiseDegradation(EvalDegradation):
    """Additive Gaussian colour noise (sigma on the 0..255 scale), fixed seed, 8-bit."""

    sigma: float
    scale: int = 1
    seed: int = 0

    def apply(self, clip: torch.Tensor) -> torch.Tensor:
        g = torch.Generator().manual_seed(self.seed)
        noise = torch.randn(clip.shape, generator=g) * (self.sigma / 255.0)
        return quantize(clip.detach().float() + noise)


@dataclass(frozen=True)
class MaskDegradation(EvalDegradation):
    """The fixed inpainting mask (`mask_shapes.evaluation_mask`) painted white over the clip."""

    scale: int = 1

    def fill_mask(self, clip: torch.Tensor) -> torch.Tensor:
        return evaluation_mask(clip.shape[0], *clip.shape[-2:])

    def apply(self, clip: torch.Tensor) -> torch.Tensor:
        return quantize(apply_mask(clip.detach().float(), self.fill_mask(clip)))


EVAL_DEGRADATIONS: dict[str, EvalDegradation] = {
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
    """Apply the named evaluation degradation (see ``EVAL_DEGRADATIONS``)."""
    if name not in EVAL_DEGRADATIONS:
        raise KeyError(f"unknown degradation {name!r}; choose from {sorted(EVAL_DEGRADATIONS)}")
    return EVAL_DEGRADATIONS[name].apply(clip)


def crop_to_multiple(clip: torch.Tensor, multiple: int) -> torch.Tensor:
    """Top-left crop so height and width are multiples of ``multiple`` (e.g. the scale)."""
    h, w = clip.shape[-2:]
    return clip[..., : h - h % multiple, : w - w % multiple]
