"""Decoding the video stream of a media file or of stdin.

Every FFmpeg/OS failure becomes an ``InputError`` with a one-line message
that names the frame where decoding stopped. The first frame is decoded
eagerly: it carries facts the stream header may lack (rotation, actual
pixel format, colour tags) and proves the input decodes at all.
"""

from __future__ import annotations

import os
from typing import Iterator

import av

from .errors import InputError, describe_av_error
from .ledger import LostFrame, PtsLedger
from .naming import STDIN, display_name
from .extras import hdr10_note
from .stdin_side import SidePacketTap, open_tap
from .stdio import Y4M_MAGIC, ReplayReader, peek, stdin_reader, y4m_leftover


def _open_error(source: str, error: BaseException) -> InputError:
    name = display_name(source)
    if isinstance(error, FileNotFoundError):
        return InputError(f"cannot read {name}: file not found")
    if isinstance(error, PermissionError):
        return InputError(f"cannot read {name}: permission denied")
    return InputError(f"cannot read {name}: not a video FFmpeg can read ({describe_av_error(error)})")


class ContainerSource:
    """A video stream in a media file or on stdin, decoded frame by frame."""

    def __init__(self, source: str, stream: int | None = None, *, strict: bool = True, hwaccel: str | None = None) -> None:
        self.source = source
        self.hwaccel = hwaccel
        self.notes: list[str] = []
        self.name = display_name(source)
        self.kind = "stdin" if source == STDIN else "file"
        self.strict = strict
        self.problems: list[str] = []
        self.frames_decoded = 0
        self._leading: list[LostFrame] = []  # lost frames before the first good one (lenient mode)
        self._damage: BaseException | None = None  # the latest decode error
        self._pipe: ReplayReader | None = None  # stdin, counting bytes
        self._packets, self._frame_bytes = 0, 0  # demuxed so far, size of the latest
        self._tap: SidePacketTap | None = None  # stdin: audio/subtitle packets for the writer
        self.container = self._open()
        try:
            self.stream = self._select_stream(stream)
            if self.kind == "stdin":
                self._tap = open_tap([s for s in self.container.streams if s.type in ("audio", "subtitle")])
            # Frame threading decodes several frames at once; on a file cut short, how many of
            # the last ones survive would then depend on timing. Truncated files decode one
            # frame at a time, so the frame the error names is always the same.
            self._cut_short = self._missing_bytes()
            self.stream.thread_type = "SLICE" if self._cut_short else "AUTO"
            self._frames = self._decode()
            self.first_frame = self._first()
            hdr = hdr10_note(self.first_frame)
            if hdr:
                self.notes.append(hdr)
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
        if self.hwaccel:
            container = self._open_hardware()
            if container is not None:
                return container
        try:
            return av.open(self.source, metadata_errors="replace")
        except (av.FFmpegError, OSError, ValueError) as error:
            raise _open_error(self.source, error) from None

    def _open_hardware(self) -> "av.container.InputContainer | None":
        """Decode on the GPU (e.g. NVDEC with 'cuda'); None, with a note, when that is not possible.

        Frames come back in system memory, so everything after decoding is unchanged;
        codecs the hardware cannot decode fall back to software inside FFmpeg.
        """
        from av.codec.hwaccel import HWAccel, hwdevices_available

        if self.hwaccel not in hwdevices_available():
            self.notes.append(f"--hwaccel {self.hwaccel}: not supported by this FFmpeg build; decoding on the CPU")
            return None
        try:
            accel = HWAccel(device_type=self.hwaccel, allow_software_fallback=True)
            return av.open(self.source, metadata_errors="replace", hwaccel=accel)
        except (av.FFmpegError, OSError, ValueError) as error:
            self.notes.append(f"--hwaccel {self.hwaccel}: no usable device ({describe_av_error(error)}); decoding on the CPU")
            return None

    def _open_stdin(self) -> "av.container.InputContainer":
        raw = stdin_reader()
        if raw is None:
            raise InputError("cannot read stdin: no standard input")
        if raw.isatty():
            raise InputError("cannot read stdin: it is a terminal; pipe a video in or pass a file path")
        head = peek(raw, len(Y4M_MAGIC))
        if not head:
            raise InputError("cannot read stdin: no data received")
        fmt = "yuv4mpegpipe" if head == Y4M_MAGIC else None
        self._pipe = ReplayReader(raw, head)
        try:
            container = av.open(self._pipe, format=fmt, metadata_errors="replace")
            self._pipe.raise_if_interrupted()
            return container
        except (av.FFmpegError, OSError, ValueError) as error:
            self._pipe.raise_if_interrupted()
            if fmt is not None:  # FFmpeg's own reason (often an unrelated errno) would only confuse
                line = self._pipe.start.split(b"\n", 1)[0][:80].decode("ascii", "replace")
                raise InputError(f"cannot read stdin: invalid YUV4MPEG2 header {line!r}") from None
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
        if getattr(self, "_cut_short", False):  # damage at the end of a file cut short is the cut
            what, error = "the file is truncated", None
        n = self.frames_decoded
        reason = f": {describe_av_error(error)}" if error is not None else ""
        hint = "; --skip-corrupt replaces damaged frames and carries on" if what != "the file is truncated" else ""
        return InputError(
            f"cannot read {self.name}: {what} at frame {n} ({n} frames decoded so far){reason}{hint}", frames_decoded=n
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

    def _raise_if_interrupted(self) -> None:
        """A signal FFmpeg swallowed while it waited for stdin (see ReplayReader)."""
        if self._pipe is not None:
            self._pipe.raise_if_interrupted()

    def _end_of_stream(self) -> None:
        if self._pipe is not None and self.container.format.name == "yuv4mpegpipe":
            self._check_y4m_end()
        if not self._missing_bytes():
            return
        if self.strict:
            raise self._fail("the file is truncated", None)
        self.problems.append(f"file is truncated after frame {self.frames_decoded}")

    def _check_y4m_end(self) -> None:
        """A y4m pipe that stops mid-frame was cut (the producer died): treated like a truncated file."""
        if not self._frame_bytes or not y4m_leftover(self._pipe, self._packets, self._frame_bytes):
            return
        n = self._packets
        if self.strict:
            raise InputError(
                f"cannot read stdin: the stream ended in the middle of frame {n} ({n} complete frames received); "
                "--skip-corrupt restores the complete frames",
                frames_decoded=n,
            )
        self.problems.append(f"stdin ended in the middle of frame {n}; the {n} complete frames were restored")

    def _decode(self) -> Iterator[av.VideoFrame | LostFrame]:
        """Frames in order; in lenient mode undecodable ones come back as ``LostFrame`` markers.

        A decode error is not raised on the spot: with frame threading it
        surfaces a packet or two late. Decoding goes on until the ledger shows
        which frame never came out, so the error names the right frame.
        """
        side = self._tap.streams if self._tap is not None else []
        packets = self.container.demux([self.stream, *side])
        ledger = PtsLedger()
        while True:
            try:
                packet = next(packets)
                if packet.stream.index != self.stream.index:  # stdin's audio/subtitles: for the writer
                    if packet.size:
                        self._tap.put(packet)
                    continue
            except StopIteration:
                self._raise_if_interrupted()
                if self._tap is not None:
                    self._tap.finish()
                # flush first: with frame threading, how many frames are still inside the
                # decoder depends on timing, and the count below must not
                yield from self._drain(ledger)
                self._end_of_stream()
                break
            except (av.FFmpegError, OSError) as error:
                self._raise_if_interrupted()
                if self.strict:
                    raise self._fail("reading failed (truncated or corrupt file?)", error) from None
                self.problems.append(f"stopped at frame {self.frames_decoded}: {describe_av_error(error)}")
                yield from self._drain(ledger)
                break
            if packet.size and not packet.is_discard:
                ledger.expect(packet.pts)
                self._packets, self._frame_bytes = self._packets + 1, packet.size
                if self._pipe is not None and self._pipe.keep is None:
                    self._pipe.keep = packet.size + 4096  # the last frame and its header line
            try:
                frames = self.stream.decode(packet)
            except (av.FFmpegError, OSError) as error:
                if packet.pts is None:  # unstamped: the ledger cannot tell which frame it was
                    if self.strict:
                        raise self._fail("damaged data", error) from None
                    self.problems.append(f"skipped undecodable data at frame {self.frames_decoded}")
                self._damage = error
                continue
            yield from self._emit(frames, ledger)
        yield from self._lost(ledger.remaining(), "undecodable")
        if self.strict and self._damage is not None:  # an error no missing frame explains
            raise self._fail("damaged data", self._damage) from None

    def _lost(self, stamps: list[int], reason: str) -> Iterator[LostFrame]:
        """Markers for frames that never decoded; strict mode fails on the first one after an error."""
        for pts in stamps:
            if self.strict:
                if self._damage is None and reason != "corrupt":
                    continue  # a silent gap (e.g. leading frames a decoder skips by design) is not damage
                raise self._fail("damaged data" if reason != "corrupt" else "corrupt picture", self._damage) from None
            yield LostFrame(pts, reason)

    def _emit(self, frames: list[av.VideoFrame], ledger: PtsLedger) -> Iterator[av.VideoFrame | LostFrame]:
        for frame in frames:
            yield from self._lost(ledger.arrived(frame.pts), "undecodable")
            if frame.is_corrupt:
                yield from self._lost([frame.pts], "corrupt")
                continue
            self.frames_decoded += 1
            yield frame

    def _drain(self, ledger: PtsLedger) -> Iterator[av.VideoFrame | LostFrame]:
        """Frames still inside the decoder after the demuxer gave up."""
        try:
            frames = self.stream.decode(None)
        except (av.FFmpegError, OSError):
            return
        yield from self._emit(frames, ledger)

    def _first(self) -> av.VideoFrame:
        """The first decodable frame; lost frames before it are kept for ``frames``."""
        try:
            while isinstance(item := next(self._frames), LostFrame):
                self._leading.append(item)
            return item
        except StopIteration:
            raise InputError(f"cannot read {self.name}: the video stream has no decodable frames") from None

    def frames(self) -> Iterator[av.VideoFrame | LostFrame]:
        """All frames, the eagerly decoded first one included (single pass)."""
        first, self.first_frame = self.first_frame, None
        yield from self._leading
        if first is not None:
            yield first
        yield from self._frames

    def close(self) -> None:
        if self._tap is not None:
            self._tap.finish()
        self._frames.close()
        self.container.close()
