"""Decoding the video stream of a media file or of stdin.

Every FFmpeg/OS failure becomes an ``InputError`` with a one-line message
that names the frame where decoding stopped. The first frame is decoded
eagerly: it carries facts the stream header may lack (rotation, actual
pixel format, colour tags) and proves the input decodes at all.
"""

from __future__ import annotations

import os
import sys
from typing import Iterator

import av

from .errors import InputError, describe_av_error
from .naming import STDIN, display_name
from .stdio import Y4M_MAGIC, ReplayReader, peek


def _open_error(source: str, error: BaseException) -> InputError:
    name = display_name(source)
    if isinstance(error, FileNotFoundError):
        return InputError(f"cannot read {name}: file not found")
    if isinstance(error, PermissionError):
        return InputError(f"cannot read {name}: permission denied")
    return InputError(f"cannot read {name}: not a video FFmpeg can read ({describe_av_error(error)})")


class ContainerSource:
    """A video stream in a media file or on stdin, decoded frame by frame."""

    def __init__(self, source: str, stream: int | None = None, *, strict: bool = True) -> None:
        self.source = source
        self.name = display_name(source)
        self.kind = "stdin" if source == STDIN else "file"
        self.strict = strict
        self.problems: list[str] = []
        self.frames_decoded = 0
        self.container = self._open()
        try:
            self.stream = self._select_stream(stream)
            self.stream.thread_type = "AUTO"
            self._frames = self._decode()
            self.first_frame = self._first()
        except BaseException:
            self.container.close()
            raise

    def _open(self) -> "av.container.InputContainer":
        if self.kind == "stdin":
            return self._open_stdin()
        if not os.path.exists(self.source):
            raise InputError(f"cannot read {self.name}: file not found")
        if os.path.isfile(self.source) and os.path.getsize(self.source) == 0:
            raise InputError(f"cannot read {self.name}: file is empty")
        try:
            return av.open(self.source, metadata_errors="replace")
        except (av.FFmpegError, OSError, ValueError) as error:
            raise _open_error(self.source, error) from None

    def _open_stdin(self) -> "av.container.InputContainer":
        raw = getattr(sys.stdin, "buffer", None)
        if raw is None:
            raise InputError("cannot read stdin: no standard input")
        if raw.isatty():
            raise InputError("cannot read stdin: it is a terminal; pipe a video in or pass a file path")
        head = peek(raw, len(Y4M_MAGIC))
        if not head:
            raise InputError("cannot read stdin: no data received")
        fmt = "yuv4mpegpipe" if head == Y4M_MAGIC else None
        try:
            return av.open(ReplayReader(raw, head), format=fmt, metadata_errors="replace")
        except (av.FFmpegError, OSError, ValueError) as error:
            raise _open_error(self.source, error) from None

    def _select_stream(self, index: int | None) -> "av.video.stream.VideoStream":
        videos = list(self.container.streams.video)
        if not videos:
            raise InputError(f"cannot read {self.name}: no video stream found")
        if index is None:
            chosen = next((s for s in videos if not s.disposition & av.stream.Disposition.attached_pic), None)
            if chosen is None:
                raise InputError(f"cannot read {self.name}: the only video stream is a cover picture")
        else:
            chosen = next((s for s in videos if s.index == index), None)
            if chosen is None:
                listed = ", ".join(str(s.index) for s in videos)
                raise InputError(
                    f"cannot read {self.name}: stream {index} is not a video stream (video streams: {listed})"
                )
        if chosen.codec_context is None or chosen.codec_context.codec is None:
            raise InputError(f"cannot read {self.name}: no decoder for its video codec")
        return chosen

    def _fail(self, what: str, error: BaseException | None) -> InputError:
        n = self.frames_decoded
        reason = f": {describe_av_error(error)}" if error is not None else ""
        return InputError(
            f"cannot read {self.name}: {what} at frame {n} ({n} frames decoded so far){reason}", frames_decoded=n
        )

    def _missing_bytes(self) -> bool:
        """Does the container's index point past the end of the file (truncated download/copy)?"""
        if self.kind != "file":
            return False
        try:
            entries = self.stream.index_entries
            end = max((e.pos + e.size for e in entries if e.size > 0 and not e.is_discard), default=0)
            return end > os.path.getsize(self.source)
        except (OSError, AttributeError):
            return False

    def _end_of_stream(self) -> None:
        if not self._missing_bytes():
            return
        if self.strict:
            raise self._fail("the file is truncated", None)
        self.problems.append(f"file is truncated after frame {self.frames_decoded}")

    def _decode(self) -> Iterator[av.VideoFrame]:
        packets = self.container.demux(self.stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                self._end_of_stream()
                return
            except (av.FFmpegError, OSError) as error:
                if self.strict:
                    raise self._fail("reading failed (truncated or corrupt file?)", error) from None
                self.problems.append(f"stopped at frame {self.frames_decoded}: {describe_av_error(error)}")
                return
            try:
                frames = self.stream.decode(packet)
            except (av.FFmpegError, OSError) as error:
                if self.strict:
                    raise self._fail("decoding failed (truncated or corrupt stream?)", error) from None
                self.problems.append(f"skipped undecodable data at frame {self.frames_decoded}")
                continue
            for frame in frames:
                if frame.is_corrupt:
                    if self.strict:
                        raise self._fail("corrupt picture", None)
                    self.problems.append(f"frame {self.frames_decoded} is corrupt")
                self.frames_decoded += 1
                yield frame

    def _first(self) -> av.VideoFrame:
        try:
            return next(self._frames)
        except StopIteration:
            raise InputError(f"cannot read {self.name}: the video stream has no decodable frames") from None

    def frames(self) -> Iterator[av.VideoFrame]:
        """All frames, the eagerly decoded first one included (single pass)."""
        first, self.first_frame = self.first_frame, None
        if first is not None:
            yield first
        yield from self._frames

    def close(self) -> None:
        self._frames.close()
        self.container.close()
