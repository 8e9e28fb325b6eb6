"""Writing frames as numbered PNG files.

Quantisation is truncation, ``floor(clamp(255*v, 0, 255))``, to match the
reference implementation bit for bit. Files go to a hidden sibling folder
that replaces (or is merged into) the target folder on ``close``.
"""

from __future__ import annotations

import os
import shutil

import av
import numpy as np
import torch

from .errors import OutputError, describe_av_error
from .pixfmt import planes_to_frame
from .targets import Target, existing_frames, temp_dir_for

SIXTEEN_BIT_REQUESTS = frozenset({"rgb48", "rgb48be", "rgb48le"})


def quantise(rgb01: torch.Tensor, bits: int) -> np.ndarray:
    """[T,3,H,W] floats in [0,1] -> [T,H,W,3] integers by truncation."""
    top = float((1 << bits) - 1)
    levels = torch.floor(torch.clamp(rgb01.to(torch.float32) * top, 0.0, top))
    dtype = torch.uint8 if bits == 8 else torch.int32
    array = levels.to(dtype).permute(0, 2, 3, 1).cpu().numpy()
    return array if bits == 8 else array.astype(">u2")  # PNG stores 16-bit big-endian


class ImageSink:
    """PNG sequence writer with an all-or-nothing rename at the end."""

    def __init__(self, target: Target, *, width: int, height: int, pix_fmt: str | None) -> None:
        if pix_fmt not in (None, "rgb24", *SIXTEEN_BIT_REQUESTS):
            raise OutputError(f"cannot write PNG frames as {pix_fmt!r}; use rgb24 (8-bit) or rgb48 (16-bit)")
        self._bits = 16 if pix_fmt in SIXTEEN_BIT_REQUESTS else 8
        self._pix_fmt = "rgb48be" if self._bits == 16 else "rgb24"
        self.target = target
        self.width, self.height = width, height
        self.frames_written = 0
        self._names: list[str] = []
        try:
            self._temp = temp_dir_for(target.path)
        except OSError as error:
            raise OutputError(f"cannot create a folder next to {target.path!r}: {describe_av_error(error)}") from None
        self._encoder = av.CodecContext.create("png", "w")
        self._encoder.width, self._encoder.height = width, height
        self._encoder.pix_fmt = self._pix_fmt

    def write(self, rgb01: torch.Tensor) -> None:
        pixels = quantise(rgb01, self._bits)
        for image in pixels:
            name = self.target.frame_name(self.frames_written)
            frame = planes_to_frame([image.reshape(self.height, -1)], self._pix_fmt, self.width, self.height)
            try:
                data = b"".join(bytes(p) for p in self._encoder.encode(frame))
                with open(os.path.join(self._temp, name), "wb") as handle:
                    handle.write(data)
            except (av.FFmpegError, OSError) as error:
                raise OutputError(f"cannot write frame {name!r}: {describe_av_error(error)}") from None
            self._names.append(name)
            self.frames_written += 1

    def close(self) -> None:
        """Move the finished frames into place; stale frames from an earlier run are removed."""
        final = self.target.path
        try:
            if not os.path.exists(final):
                os.rename(self._temp, final)
                return
            stale = set(existing_frames(self.target)) - set(self._names)
            for name in self._names:
                os.replace(os.path.join(self._temp, name), os.path.join(final, name))
            for name in stale:
                os.remove(os.path.join(final, name))
            os.rmdir(self._temp)
        except OSError as error:
            raise OutputError(f"cannot move frames into {final!r}: {describe_av_error(error)}") from None

    def abort(self) -> None:
        shutil.rmtree(self._temp, ignore_errors=True)
