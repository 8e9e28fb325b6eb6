"""Reading one timestamp span of a video file: what a segment of a long video needs.

Decoding seeks to the keyframe at or before the first wanted frame, so a
worker never decodes the whole video up to its segment. Frames are
converted exactly as ``VideoReader`` converts them. The span also says
which of the restored frames to keep: the segment's warm-up before
``keep_from`` and its tail from ``stop`` on are restored (for the model's
context) but not written.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Iterator

import av

from .errors import InputError, describe_av_error
from .frame import Frame
from .pixfmt import convert_frame, frame_to_planes, nearest_layout
from .probe import VideoInfo, probe


@dataclass(frozen=True)
class Span:
    """Decode first <= pts < end (None: to the end of the video); keep keep_from <= pts < stop."""

    first: int
    keep_from: int
    stop: int | None
    end: int | None
    seek: bool = True  # False: decode from the start of the file (the first segment)

    def keeps(self, pts: int | None) -> bool:
        return pts is not None and pts >= self.keep_from and (self.stop is None or pts < self.stop)


class SpanReader:
    """The frames of one span of a file, with ``VideoReader``'s interface (``info``, notes, iteration).

    Strict, as ``VideoReader`` is by default: a corrupt picture is an ``InputError``.
    """

    def __init__(self, path: str, span: Span, stream: int | None = None) -> None:
        self.info: VideoInfo = probe(path, stream)
        self.span = span
        self.notes: list[str] = []
        self.problems: list[str] = []
        self._started = False

    def __enter__(self) -> "SpanReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Nothing stays open between iterations (each one opens and closes the file)."""

    def __iter__(self) -> Iterator[Frame]:
        if self._started:
            raise RuntimeError("a SpanReader can be iterated only once")
        self._started = True
        return read_span(self.info, self.span)


def read_span(info: VideoInfo, span: Span) -> Iterator[Frame]:
    """Frames with span.first <= pts < span.end, decoded from the keyframe at or before span.first."""
    path = info.path
    try:
        frames = _decode(info, span, span.seek)
        head = next(frames, None)
        if head is None and span.seek:  # the seek overshot or the index is unusable: decode from the start
            frames = _decode(info, span, seek=False)
            head = next(frames, None)
        if head is not None:
            yield head
            yield from frames
    except (av.FFmpegError, OSError) as error:
        raise InputError(f"cannot read {path!r}: {describe_av_error(error)}") from None


def _decode(info: VideoInfo, span: Span, seek: bool) -> Iterator[Frame]:
    """Yields nothing at all if a seek landed after span.first (so frames are never lost)."""
    path = info.path
    layout = nearest_layout(info.pix_fmt)
    with av.open(path, metadata_errors="replace") as container:
        stream = container.streams[info.video_stream_index]
        stream.thread_type = "AUTO"
        if seek:
            container.seek(span.first, stream=stream, backward=True, any_frame=False)
        started = False
        for index, raw in enumerate(container.decode(stream)):
            if raw.pts is None:
                raise InputError(f"cannot restore part of {path!r}: a frame has no timestamp")
            if raw.is_corrupt:
                raise InputError(f"cannot read {path!r}: corrupt picture at pts {raw.pts}")
            if not started and raw.pts > span.first:
                return
            started = True
            if raw.pts < span.first:
                continue
            if span.end is not None and raw.pts >= span.end:
                return
            converted = convert_frame(raw, layout, full_range=info.full_range, width=info.width, height=info.height)
            yield Frame(
                index=index,
                pts=raw.pts,
                time_base=Fraction(raw.time_base) if raw.time_base else info.time_base,
                planes=frame_to_planes(converted, layout),
                layout=layout.layout,
                bit_depth=layout.bit_depth,
            )
