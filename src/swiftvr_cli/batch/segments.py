"""Splitting a long video into segments that restore like one pass.

A segment keeps frames [start, stop). Cuts lie on the single pass's chunk
grid (chunk boundaries at clip+4, 2*clip+4, ...), and each segment restores
extra frames it then drops: a warm-up before ``start`` (a whole number of
chunks, so its chunks line up with the single pass's) and a tail after
``stop`` (so the chunk at ``stop`` is a MIDDLE chunk, as in the single pass,
and the decoder's 3-frame delay is filled). The model's memory reaches back
a bounded number of frames, so with enough warm-up a segment sees what the
single pass saw and the joined video matches it to float rounding.
Workers seek to the keyframe at or before their first frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import av

from ..io import InputError
from ..io.errors import describe_av_error

DEFAULT_WARMUP_FRAMES = 32  # at least this many frames of context; rounded up to whole chunks
AUTO_SPLIT_SECONDS = 600.0  # with no --segment-seconds, longer videos are split...
AUTO_SEGMENT_SECONDS = 300.0  # ...into segments of about this length


@dataclass(frozen=True)
class FrameTimes:
    """Presentation timestamps of every frame, in order."""

    pts: list[int]
    time_base: Fraction

    def seconds(self, index: int) -> float:
        return float((self.pts[index] - self.pts[0]) * self.time_base)


@dataclass(frozen=True)
class Segment:
    """Frames [first, end) are restored; only [start, stop) are kept."""

    index: int
    first: int
    start: int
    stop: int
    end: int

    @property
    def frames(self) -> int:
        return self.stop - self.start

    @property
    def warmup(self) -> int:
        return self.start - self.first


def scan_frames(path: str, stream_index: int) -> FrameTimes:
    """Demux (no decoding) the video stream: every frame's pts."""
    try:
        with av.open(path, metadata_errors="replace") as container:
            stream = container.streams[stream_index]
            stamps = [p.pts for p in container.demux(stream) if p.size and p.pts is not None]
            time_base = Fraction(stream.time_base)
    except (av.FFmpegError, OSError, IndexError) as error:
        raise InputError(f"cannot scan {path!r} for timestamps: {describe_av_error(error)}") from None
    if not stamps:
        raise InputError(f"cannot scan {path!r} for timestamps: no timestamped video packets")
    order = sorted(stamps)
    if len(set(order)) != len(order):
        raise InputError(f"cannot split {path!r}: duplicate video timestamps")
    return FrameTimes(order, time_base)


def chunk_boundaries(total: int, clip_len: int) -> list[int]:
    """Frame indices where the single pass starts a new chunk (FIRST holds clip_len + 4 frames)."""
    return list(range(clip_len + 4, total, clip_len))


def warmup_frames(clip_len: int, minimum: int) -> int:
    """Smallest whole-chunk warm-up (clip_len + 4 + j * clip_len) of at least ``minimum`` frames."""
    extra = max(0, -(-(minimum - clip_len - 4) // clip_len))
    return clip_len + 4 + extra * clip_len


def plan_segments(times: FrameTimes, segment_seconds: float, clip_len: int, min_warmup: int = DEFAULT_WARMUP_FRAMES) -> list[Segment]:
    """Cut at the first chunk boundary at least ``segment_seconds`` after the previous cut."""
    if segment_seconds <= 0:
        raise ValueError("segment_seconds must be > 0")
    total = len(times.pts)
    cuts = [0]
    for boundary in chunk_boundaries(total, clip_len):
        if times.seconds(boundary) - times.seconds(cuts[-1]) >= segment_seconds:
            cuts.append(boundary)
    warmup = warmup_frames(clip_len, min_warmup)
    stops = cuts[1:] + [total]
    return [
        Segment(i, max(0, start - warmup), start, stop, min(total, stop + clip_len + 1) if stop < total else total)
        for i, (start, stop) in enumerate(zip(cuts, stops))
    ]


def should_split(duration_s: float | None, segment_seconds: float | None) -> float | None:
    """The segment length to use for a video, or None to restore it whole."""
    if segment_seconds is not None:
        return segment_seconds if segment_seconds > 0 and (duration_s or 0) > segment_seconds else None
    return AUTO_SEGMENT_SECONDS if (duration_s or 0) > AUTO_SPLIT_SECONDS else None
