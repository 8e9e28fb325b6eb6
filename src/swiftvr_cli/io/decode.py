"""Streaming decoder: ``VideoReader`` yields integer-plane ``Frame`` objects.

Frames keep their native samples (no per-frame colour conversion); the
pipeline converts a chunk at once with ``frames_to_rgb``. Every frame of a
stream is normalised to the first frame's layout and size so chunks stack.
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from typing import Iterator, Sequence

import av
import torch

from .colour import planes_to_rgb
from .errors import InputError, describe_av_error
from .frame import Frame
from .ledger import LostFrame
from .pixfmt import PixelLayout, convert_frame, frame_to_planes, nearest_layout
from .probe import VideoInfo, describe
from .sources import open_source


class VideoReader:
    """Decode a video file, stdin ("-") or image sequence.

    ``stream`` is the container's stream index (as ffprobe numbers them);
    None picks the first video stream. With ``strict`` (default) corrupt or
    truncated data raises ``InputError``. Otherwise (``--skip-corrupt``) each
    undecodable or corrupt-flagged frame is replaced by the previous good
    frame, keeping its timestamp, so the frame count and timing survive;
    ``replaced`` lists them and ``notes`` says so. Truncation is noted in
    ``problems``.
    """

    def __init__(self, source: str, stream: int | None = None, *, strict: bool = True, hwaccel: str | None = None) -> None:
        self._src = open_source(source, stream, strict=strict, hwaccel=hwaccel)
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
        self.notes: list[str] = list(getattr(self._src, "notes", []))  # e.g. a hardware decoder fallback
        self._size_noted = False
        self.replaced: list[int] = []  # indices of frames that stand in for damaged ones
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
        last: Frame | None = None
        held: list[LostFrame] = []  # lost before any good frame: they take the first good one's picture
        index = 0
        for raw in self._src.frames():
            if isinstance(raw, LostFrame):
                if last is None:
                    held.append(raw)
                    continue
                yield self._stand_in(last, raw, index)
                index += 1
                continue
            frame = self._convert(raw, index + len(held))
            for lost in held:
                yield self._stand_in(frame, lost, index)
                index += 1
            held.clear()
            frame.index = index
            yield frame
            last, index = frame, index + 1
        if self.replaced:
            self.notes.append(replaced_note(self.replaced, index))

    def _convert(self, raw: av.VideoFrame, index: int) -> Frame:
        width, height = self._size
        if (raw.width, raw.height) != self._size and not self._size_noted:
            self._size_noted = True
            self.notes.append(
                f"frame size changes mid-stream at frame {index} ({raw.width}x{raw.height}); scaled to {width}x{height}"
            )
        try:
            frame = convert_frame(raw, self._layout, full_range=self.info.full_range, width=width, height=height)
        except (av.FFmpegError, ValueError) as error:
            raise InputError(
                f"cannot read {self._src.name}: cannot convert frame {index} ({describe_av_error(error)})",
                frames_decoded=index,
            ) from None
        return Frame(
            index=index,
            pts=raw.pts,
            time_base=Fraction(raw.time_base) if raw.time_base else self._time_base,
            planes=frame_to_planes(frame, self._layout),
            layout=self._layout.layout,
            bit_depth=self._layout.bit_depth,
        )

    def _stand_in(self, good: Frame, lost: LostFrame, index: int) -> Frame:
        """The good frame's picture at the lost frame's place and time (``--skip-corrupt``)."""
        self.replaced.append(index)
        return dataclasses.replace(good, index=index, pts=lost.pts)


def replaced_note(replaced: list[int], total: int) -> str:
    """One line for the user: how many frames were damaged, which, and what stands in for them."""
    shown = ", ".join(str(i) for i in replaced[:8]) + (", ..." if len(replaced) > 8 else "")
    which = f"frame{'s' if len(replaced) > 1 else ''} {shown}"
    return (
        f"--skip-corrupt: {len(replaced)} of {total} frames were damaged ({which}) and replaced by the "
        "previous good frame, keeping their timestamps"
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
