"""Errors raised by the I/O layer.

The CLI prints ``str(error)`` verbatim, so every message is a single
user-facing line such as ``cannot read 'x.mp4': no video stream found``;
raw FFmpeg tracebacks never escape this package.
"""

from __future__ import annotations

import errno


class InputError(Exception):
    """The input is missing, unreadable, not a video, or fails to decode.

    ``frames_decoded`` is set when decoding failed part-way through, so
    callers can report how far they got.
    """

    def __init__(self, message: str, *, frames_decoded: int | None = None) -> None:
        super().__init__(message)
        self.frames_decoded = frames_decoded


class OutputError(Exception):
    """The output cannot be created, encoded or written."""


class BrokenPipe(OutputError):
    """The process reading our stdout went away (EPIPE).

    Kept distinct so the CLI can exit quietly, as Unix tools do under
    ``swiftvr ... | head``.
    """


def one_line(text: object) -> str:
    """Collapse a message to one line so CLI output stays tidy."""
    return " ".join(str(text).split())


def describe_av_error(error: BaseException) -> str:
    """Short reason for an FFmpeg/PyAV/OS error, without file names or errno noise."""
    if getattr(error, "errno", None) in (errno.ENOSPC, -errno.ENOSPC):
        return "disk full (no space left on device)"  # say it plainly: the user has to free space
    reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
    return one_line(reason).rstrip(".").lower() if reason else type(error).__name__
