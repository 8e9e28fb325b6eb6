"""Moving pixels between PyAV frames and integer tensors/arrays.

Decoded frames are reduced to a handful of layouts (8/10-bit 4:2:0 or
4:4:4, 8/16-bit packed RGB) so the colour code only handles those. Copies
honour FFmpeg's padded line sizes, which makes odd sizes work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import av
import numpy as np
import torch
from av.video.format import VideoFormat

from .colourtags import RANGE_JPEG, RANGE_MPEG


@dataclass(frozen=True)
class PixelLayout:
    """A pixel format we read or write directly."""

    pix_fmt: str
    layout: str  # "yuv420" | "yuv444" | "rgb"
    bit_depth: int

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.uint8 if self.bit_depth <= 8 else "<u2")


LAYOUTS: dict[str, PixelLayout] = {
    name: PixelLayout(name, layout, depth)
    for name, layout, depth in (
        ("yuv420p", "yuv420", 8),
        ("yuvj420p", "yuv420", 8),
        ("yuv444p", "yuv444", 8),
        ("yuvj444p", "yuv444", 8),
        ("yuv420p10le", "yuv420", 10),
        ("yuv444p10le", "yuv444", 10),
        ("rgb24", "rgb", 8),
        ("rgb48le", "rgb", 16),
    )
}
WRITABLE_YUV = ("yuv420p", "yuv444p", "yuv420p10le", "yuv444p10le")


def _probe_format(name: str) -> VideoFormat:
    return VideoFormat(name, 64, 64)


def component_bits(name: str) -> int:
    """Bits per colour component (alpha ignored) of an FFmpeg pixel format."""
    comps = [c for c in _probe_format(name).components if not c.is_alpha]
    return max((c.bits for c in comps), default=8)


def is_full_range_format(name: str) -> bool:
    """The deprecated ``yuvj*`` formats imply full range regardless of tags."""
    return name.startswith("yuvj")


def nearest_layout(name: str, *, rgb: bool = False) -> PixelLayout:
    """The supported layout closest to ``name`` (``rgb=True`` forces RGB, for images)."""
    if not rgb and name in LAYOUTS:
        return LAYOUTS[name]
    fmt = _probe_format(name)
    deep = component_bits(name) > 8
    if rgb or fmt.is_rgb or fmt.has_palette or fmt.is_bayer:
        return LAYOUTS["rgb48le" if deep else "rgb24"]
    colour = [c for c in fmt.components if not c.is_alpha]
    if len(colour) < 3:  # grey: neutral chroma is exact at either subsampling
        return LAYOUTS["yuv420p10le" if deep else "yuv420p"]
    luma, chroma = colour[0], colour[1]
    subsampled = chroma.width < luma.width and chroma.height < luma.height
    if subsampled:
        return LAYOUTS["yuv420p10le" if deep else "yuv420p"]
    return LAYOUTS["yuv444p10le" if deep else "yuv444p"]


def convert_frame(
    frame: av.VideoFrame, target: PixelLayout, *, full_range: bool, width: int | None = None, height: int | None = None
) -> av.VideoFrame:
    """Reformat ``frame`` to ``target`` (and size) without changing its colour range."""
    same_size = (width is None or width == frame.width) and (height is None or height == frame.height)
    native = LAYOUTS.get(frame.format.name)
    if same_size and native is not None and (native.layout, native.bit_depth) == (target.layout, target.bit_depth):
        return frame  # e.g. yuvj420p is read as yuv420p: same planes, range tracked separately
    src_range = RANGE_JPEG if full_range else RANGE_MPEG
    dst_range = RANGE_JPEG if target.layout == "rgb" else src_range
    return frame.reformat(
        width=width, height=height, format=target.pix_fmt, src_color_range=src_range, dst_color_range=dst_range
    )


def _plane_array(plane: "av.video.plane.VideoPlane", height: int, row_bytes: int) -> np.ndarray:
    """Copy ``height`` rows of ``row_bytes`` each out of a (padded) plane buffer."""
    stride = plane.line_size
    buf = np.frombuffer(plane, dtype=np.uint8)
    return buf[: stride * height].reshape(height, stride)[:, :row_bytes].copy()


def frame_to_planes(frame: av.VideoFrame, target: PixelLayout) -> tuple[torch.Tensor, ...]:
    """Integer tensors of a frame already in ``target`` format.

    YUV gives (Y, U, V) uint8 or int16 (10-bit); RGB gives one [H,W,3]
    uint8 or uint16 tensor.
    """
    itemsize = target.dtype.itemsize
    if target.layout == "rgb":
        raw = _plane_array(frame.planes[0], frame.height, frame.width * 3 * itemsize)
        arr = raw.view(target.dtype).reshape(frame.height, frame.width, 3)
        return (torch.from_numpy(arr),)
    planes = []
    for plane in frame.planes[:3]:
        raw = _plane_array(plane, plane.height, plane.width * itemsize)
        arr = raw.view(target.dtype)
        planes.append(torch.from_numpy(arr.view(np.int16) if itemsize == 2 else arr))
    return tuple(planes)


def planes_to_frame(planes: Sequence[np.ndarray], pix_fmt: str, width: int, height: int) -> av.VideoFrame:
    """Build an ``av.VideoFrame`` from per-plane arrays (uint8, or uint16 for >8-bit).

    RGB formats take a single [H, W*3] (or [H,W,3]) array.
    """
    frame = av.VideoFrame(width, height, pix_fmt)
    if len(planes) != len(frame.planes):
        raise ValueError(f"{pix_fmt} needs {len(frame.planes)} planes, got {len(planes)}")
    for plane, src in zip(frame.planes, planes):
        data = np.ascontiguousarray(src).view(np.uint8).reshape(plane.height, -1)
        stride = plane.line_size
        if data.shape[1] > stride:
            raise ValueError(f"plane of {data.shape[1]} bytes per row does not fit a {stride}-byte line")
        dst = np.frombuffer(plane, dtype=np.uint8)[: stride * plane.height].reshape(plane.height, stride)
        dst[:, : data.shape[1]] = data
    return frame
