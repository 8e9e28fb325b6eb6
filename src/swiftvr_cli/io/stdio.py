"""File-like adapters that let PyAV read stdin and write stdout.

Stdin cannot be rewound, so the first bytes we sniff (to recognise y4m) are
replayed to FFmpeg by ``ReplayReader``. ``PipeWriter`` remembers an EPIPE so
the writer can report a closed downstream pipe distinctly.
"""

from __future__ import annotations

import errno
import os
import sys
from typing import BinaryIO

from .errors import BrokenPipe, OutputError, describe_av_error

Y4M_MAGIC = b"YUV4MPEG2"
Y4M_FRAME = b"FRAME\n"
_START_BYTES = 1024
_MAX_FRAME_HEADER = 256  # a FRAME line with parameters (interlacing, application data)


class FdReader:
    """Stdin read straight from its file descriptor.

    Not through ``sys.stdin.buffer``: a thread stalled in a read there holds
    the BufferedReader's lock, and at exit (after Ctrl-C or SIGTERM) Python
    aborts with "_enter_buffered_busy" instead of exiting with our code.
    """

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def read(self, size: int | None = -1) -> bytes:
        if size is not None and size >= 0:
            return os.read(self._fd, size)
        chunks = []
        while chunk := os.read(self._fd, 1 << 16):
            chunks.append(chunk)
        return b"".join(chunks)

    read1 = read

    def isatty(self) -> bool:
        return os.isatty(self._fd)


def stdin_reader() -> BinaryIO | FdReader | None:
    """Stdin for PyAV: its descriptor when it has one (see FdReader), else the buffer (tests)."""
    raw = getattr(sys.stdin, "buffer", None)
    try:
        return FdReader(raw.fileno()) if raw is not None else None
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both of the last two
        return raw


class ReplayReader:
    """Read-only, non-seekable stream that first returns ``prefix`` then ``raw``.

    A Ctrl-C or SIGTERM that arrives while FFmpeg waits in ``read`` would be
    swallowed by FFmpeg (as a read error); it is kept in ``interrupted``, the
    read reports the end of the stream, and the caller raises it again.
    """

    def __init__(self, raw: BinaryIO | FdReader, prefix: bytes = b"") -> None:
        self._raw = raw
        self._prefix = prefix
        self.consumed = 0  # bytes handed to FFmpeg (to spot a stream that ends mid-frame)
        self.start = b""  # the first bytes, for the y4m header line
        self.interrupted: KeyboardInterrupt | None = None
        self.keep: int | None = None  # how much of the stream's end to remember (None: all so far)
        self._tail = bytearray()

    def raise_if_interrupted(self) -> None:
        if self.interrupted is not None:
            raise self.interrupted

    def read(self, size: int = -1) -> bytes:
        if self.interrupted is not None:
            return b""
        try:
            data = self._read(size)
        except KeyboardInterrupt as stop:
            self.interrupted = stop
            return b""
        self.consumed += len(data)
        self._tail += data
        if self.keep is not None and len(self._tail) > 2 * self.keep:
            del self._tail[: -self.keep]
        if len(self.start) < _START_BYTES:
            self.start += data[: _START_BYTES - len(self.start)]
        return data

    def _read(self, size: int) -> bytes:
        if self._prefix:
            if size is None or size < 0:
                data, self._prefix = self._prefix, b""
                return data + self._raw.read()
            data, self._prefix = self._prefix[:size], self._prefix[size:]
            return data
        read1 = getattr(self._raw, "read1", None)
        return read1(size) if read1 is not None and size and size > 0 else self._raw.read(size)

    def readable(self) -> bool:
        return True

    def tail(self) -> bytes:
        """The last bytes read (at least ``keep`` of them, once it is set)."""
        return bytes(self._tail)


def y4m_leftover(reader: ReplayReader, frames: int, frame_bytes: int) -> int:
    """Bytes after the last whole frame of a y4m stream (> 0: it ended in the middle of a frame).

    Exact for plain ``FRAME`` headers, as FFmpeg and most tools write them; a
    stream whose frame headers carry parameters (``FRAME Ixyz``) is complete
    when it ends with such a header line and one whole frame.
    """
    header = reader.start.find(b"\n") + 1
    if header <= 0:
        return 0
    leftover = max(0, reader.consumed - header - frames * (len(Y4M_FRAME) + frame_bytes))
    if leftover and frames and _ends_with_whole_frame(reader.tail(), frame_bytes):
        return 0
    return leftover


def _ends_with_whole_frame(tail: bytes, frame_bytes: int) -> bool:
    head = tail[: len(tail) - frame_bytes]
    if len(tail) < frame_bytes + len(Y4M_FRAME) or not head.endswith(b"\n"):
        return False
    start = head.rfind(b"FRAME", max(0, len(head) - _MAX_FRAME_HEADER))
    return start >= 0 and head[start + 5 : start + 6] in (b" ", b"\n") and b"\n" not in head[start:-1]


def peek(raw: BinaryIO, size: int) -> bytes:
    """Read up to ``size`` bytes (fewer only at end of stream)."""
    chunks: list[bytes] = []
    remaining = size
    while remaining > 0:
        chunk = raw.read(remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def is_broken_pipe(error: BaseException) -> bool:
    """True for EPIPE however it surfaced (Python or FFmpeg error)."""
    if isinstance(error, BrokenPipeError):
        return True
    return getattr(error, "errno", None) in (errno.EPIPE, -errno.EPIPE)


class PipeWriter:
    """Write-only, non-seekable wrapper around stdout that never closes it."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.broken = False

    def write(self, data: bytes) -> int:
        try:
            self._raw.write(data)
        except OSError as error:
            if is_broken_pipe(error):
                self.broken = True
            raise
        return len(data)

    def writable(self) -> bool:
        return True

    def flush(self) -> None:
        try:
            self._raw.flush()
        except OSError as error:
            if is_broken_pipe(error):
                self.broken = True
            raise

    def close(self) -> None:
        """Flush only: stdout belongs to the process, not to the muxer."""
        self.flush()


def stdout_buffer() -> BinaryIO:
    """The binary stdout, or an OutputError when the process was started without one (``>&-``)."""
    stream = sys.stdout
    if stream is None or getattr(stream, "buffer", None) is None:
        raise OutputError("cannot write to stdout: it is closed")
    return stream.buffer


def print_stdout(text: str) -> None:
    """Write a line (a JSON summary) to stdout; a closed or full stdout is an OutputError (exit 4)."""
    buffer = stdout_buffer()
    try:
        sys.stdout.flush()  # whatever was printed as text comes first
        buffer.write(text.encode("utf-8", "surrogateescape") + b"\n")
        buffer.flush()
    except OSError as error:
        if is_broken_pipe(error):
            raise BrokenPipe("stdout was closed by the reader") from None
        raise OutputError(f"cannot write to stdout: {describe_av_error(error)}") from None


def quiet_broken_stdout() -> None:
    """Point stdout at /dev/null after EPIPE, so Python's exit-time flush stays silent.

    Call it when handling ``BrokenPipe`` before exiting (as ``head`` users expect).
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass
