"""Streaming decoder: ``VideoReader`` yields integer-plane ``Frame`` objects.

Frames keep their native samples (no per-frame colour conversion); the
pipeline converts a chunk at once with ``frames_to_rgb``. Every frame of a
stream is normalised to the first frame's layout and size so chunks stack.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Iterator, Sequence

import av
import torch

from .colour import planes_to_rgb
from .errors import InputError, describe_av_error
from .frame import Frame
from .pixfmt import PixelLayout, convert_frame, frame_to_planes, nearest_layout
from .probe import VideoInfo, describe
from .sources import open_source


class VideoReader:
    """Decode a video file, stdin ("-") or image sequence.

    ``stream`` is the container's stream index (as ffprobe numbers them);
    None picks the first video stream. With ``strict`` (default) corrupt or
    truncated data raises ``InputError``; otherwise it is skipped and noted
    in ``problems``.
    """

    def __init__(self, source: str, stream: int | None = None, *, strict: bool = True) -> None:
        self._src = open_source(source, stream, strict=strict)
        try:
            self.info: VideoInfo = describe(self._src)
        except BaseException:
            self._src.close()
            raise
        first = self._src.first_frame
        # Images are always read as RGB (JPEGs included); videos keep their Y'CbCr.
        self._layout: PixelLayout = nearest_layout(first.format.name, rgb=self._src.kind == "images")
        self._size = (first.width, first.height)
        self._time_base = self.info.time_base
        self.notes: list[str] = []
        self._started = False

    @property
    def problems(self) -> list[str]:
        """Data skipped in non-strict mode."""
        return self._src.problems

    @property
    def frames_decoded(self) -> int:
        return self._src.frames_decoded

    def __enter__(self) -> "VideoReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._src.close()

    def __iter__(self) -> Iterator[Frame]:
        if self._started:
            raise RuntimeError("a VideoReader can be iterated only once")
        self._started = True
        width, height = self._size
        for index, raw in enumerate(self._src.frames()):
            if (raw.width, raw.height) != self._size and not self.notes:
                self.notes.append(
                    f"frame size changes mid-stream at frame {index} ({raw.width}x{raw.height}); "
                    f"scaled to {width}x{height}"
                )
            try:
                frame = convert_frame(raw, self._layout, full_range=self.info.full_range, width=width, height=height)
            except (av.FFmpegError, ValueError) as error:
                raise InputError(
                    f"cannot read {self._src.name}: cannot convert frame {index} ({describe_av_error(error)})",
                    frames_decoded=index,
                ) from None
            yield Frame(
                index=index,
                pts=raw.pts,
                time_base=Fraction(raw.time_base) if raw.time_base else self._time_base,
                planes=frame_to_planes(frame, self._layout),
                layout=self._layout.layout,
                bit_depth=self._layout.bit_depth,
            )


def frames_to_rgb(
    frames: Sequence[Frame], info: VideoInfo, device: torch.device | str | None = None
) -> torch.Tensor:
    """Stack a chunk of frames and convert once: float32 [T,3,H,W] on the 0..255 scale.

    Integer planes are moved to ``device`` before conversion (4x less data
    to transfer than float RGB).
    """
    if not frames:
        raise ValueError("frames_to_rgb needs at least one frame")
    layout, depth = frames[0].layout, frames[0].bit_depth
    if any(f.layout != layout or f.bit_depth != depth for f in frames):
        raise ValueError("frames in one chunk must share layout and bit depth")
    if layout == "rgb":
        packed = torch.stack([f.planes[0] for f in frames])
        if packed.dtype == torch.uint16:  # few ops (and devices) support uint16
            packed = packed.to(torch.int32)
        packed = packed.to(device)
        scale = 255.0 / ((1 << depth) - 1)
        return packed.permute(0, 3, 1, 2).to(torch.float32).mul_(scale).contiguous()
    y, u, v = (torch.stack([f.planes[i] for f in frames]).to(device) for i in range(3))
    return planes_to_rgb(y, u, v, matrix=info.color_matrix, full_range=info.full_range, bit_depth=depth)
