"""Decoding an image sequence (a folder or a printf pattern), one file per frame.

Files carry no timing, so frames are stamped 0, 1, 2... at 25 fps.
"""

from __future__ import annotations

import os
from fractions import Fraction
from typing import Iterator

import av

from . import imageseq
from .errors import InputError, describe_av_error
from .naming import display_name

IMAGE_SEQUENCE_FPS = Fraction(25)


class ImageSequenceSource:
    """A folder of images or a printf pattern, one file per frame."""

    kind = "images"

    def __init__(self, source: str, fps: Fraction = IMAGE_SEQUENCE_FPS) -> None:
        self.source = source
        self.name = display_name(source)
        self.problems: list[str] = []
        self.fps = fps
        self.time_base = 1 / fps
        self.files = self._list()
        self.frames_decoded = 0
        self.codec_name = ""
        self.first_frame = self._read(0)

    def _list(self) -> list[str]:
        if os.path.isdir(self.source):
            files = imageseq.list_directory(self.source)
            if not files:
                exts = ", ".join(sorted(imageseq.IMAGE_EXTENSIONS))
                raise InputError(f"cannot read {self.name}: no images ({exts}) in this folder")
            return files
        if not os.path.isdir(os.path.dirname(self.source) or "."):
            raise InputError(f"cannot read {self.name}: folder not found")
        files = imageseq.list_frames(self.source)
        if not files:
            raise InputError(f"cannot read {self.name}: no files match this pattern")
        return files

    def _read(self, index: int) -> av.VideoFrame:
        path = self.files[index]
        try:
            with av.open(path) as container:
                stream = container.streams.video[0]
                if index == 0:
                    self.codec_name = stream.codec_context.name
                frame = next(iter(container.decode(stream)))
        except (av.FFmpegError, OSError, IndexError, StopIteration) as error:
            why = "no picture in it" if isinstance(error, (IndexError, StopIteration)) else describe_av_error(error)
            raise InputError(
                f"cannot read {self.name}: image {os.path.basename(path)!r} (frame {index}) is unreadable ({why})",
                frames_decoded=index,
            ) from None
        return frame

    def frames(self) -> Iterator[av.VideoFrame]:
        """Frames stamped 0, 1, 2... in a 1/``fps`` time base (files carry no timing)."""
        first, self.first_frame = self.first_frame, None
        for index in range(len(self.files)):
            frame = first if index == 0 and first is not None else self._read(index)
            frame.pts = index
            frame.time_base = self.time_base
            self.frames_decoded = index + 1
            yield frame

    def close(self) -> None:
        """Nothing stays open between images."""
