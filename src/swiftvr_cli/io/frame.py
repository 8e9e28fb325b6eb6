"""One decoded picture, kept in its native sample format.

Frames stay as integer planes (no colour conversion) so a whole chunk can
be converted to RGB in one batched torch call by ``frames_to_rgb``.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import torch

LAYOUTS = ("yuv420", "yuv444", "rgb")


@dataclass
class Frame:
    """A decoded frame.

    ``layout`` is ``"yuv420"``/``"yuv444"`` (planes Y, U, V as integer tensors
    of shape [H,W] and [ceil(H/2),ceil(W/2)] or [H,W]) or ``"rgb"`` (a single
    [H,W,3] uint8 or uint16 plane). ``bit_depth`` tells how to scale the
    integers (8, 10, or 16 for 16-bit RGB).
    """

    index: int
    pts: int | None
    time_base: Fraction
    planes: tuple[torch.Tensor, ...]
    layout: str
    bit_depth: int = 8

    @property
    def height(self) -> int:
        return int(self.planes[0].shape[0])

    @property
    def width(self) -> int:
        return int(self.planes[0].shape[1])

    @property
    def time(self) -> float | None:
        """Presentation time in seconds (None when the stream has no pts)."""
        if self.pts is None:
            return None
        return float(self.pts * self.time_base)
