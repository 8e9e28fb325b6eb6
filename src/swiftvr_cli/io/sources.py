"""Opening any supported input: a media file, stdin ("-") or an image sequence."""

from __future__ import annotations

from .container_source import ContainerSource
from .errors import InputError
from .image_source import ImageSequenceSource
from .naming import display_name, is_image_sequence

Source = ContainerSource | ImageSequenceSource

__all__ = ["ContainerSource", "ImageSequenceSource", "Source", "open_source"]


def open_source(source: str, stream: int | None = None, *, strict: bool = True, hwaccel: str | None = None) -> Source:
    """Open any supported input; raises InputError with a one-line reason."""
    if is_image_sequence(source):
        if stream not in (None, 0):
            raise InputError(f"cannot read {display_name(source)}: an image sequence has only stream 0")
        return ImageSequenceSource(source)
    return ContainerSource(source, stream, strict=strict, hwaccel=hwaccel)
