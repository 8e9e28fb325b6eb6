"""Encoding settings chosen by the user (re-exported by ``encode``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class EncodeOptions:
    """How to encode the output.

    ``pix_fmt`` None means yuv420p, or yuv420p10le when the source has more
    than 8 bits and the encoder supports it; for PNG output "rgb48" asks for
    16-bit files. ``container_format`` forces the muxer (for stdout the
    default is "yuv4mpegpipe"; "nut" and "matroska" also stream well).
    ``copy_streams`` carries the source's audio and subtitles over.
    """

    codec: str = "libx264"
    crf: int | None = 18
    preset: str | None = "medium"
    pix_fmt: str | None = None
    container_format: str | None = None
    copy_streams: bool = True
