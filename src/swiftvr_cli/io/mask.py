"""Fill masks for `--task inpaint` (`--mask PATH`): white = fill, black = keep.

A mask is either one still image (PNG, JPEG...) used for every frame, or a
mask video (or image folder / pattern) with one mask frame per input frame,
read in step with the input so memory stays bounded. Each mask frame becomes
a [1, h, w] boolean tensor: luma above half of full scale (> 127 of 255)
means fill. A mask must have exactly the input's size, and a mask video
exactly the input's frame count.
"""

from __future__ import annotations

from typing import Iterator

import av
import torch

from ..metrics import luma
from .errors import InputError
from .imageseq import is_image_file
from .naming import STDIN, is_image_sequence
from .sources import Source, open_source

def mask_from_frame(frame: av.VideoFrame) -> torch.Tensor:
    """One decoded mask picture -> bool [1, H, W] (True = fill)."""
    rgb = torch.from_numpy(frame.to_ndarray(format="rgb24")).permute(2, 0, 1)[None].float()
    return luma(rgb / 255.0) > 0.5  # the weighting hardly matters on black-and-white masks


class MaskReader:
    """The masks of one video's frames, in order: ``next()`` once per decoded input frame, then ``finish()``."""

    def __init__(self, path: str, width: int, height: int) -> None:
        if path == STDIN:
            raise InputError("--mask cannot read stdin; give an image or a mask video file")
        self.path = path
        self.size = (width, height)
        try:
            self._src: Source = open_source(path)
        except InputError as error:
            raise InputError(f"--mask: {error}") from None
        try:
            first = self._src.first_frame
            self._check_size(first)
            self.still = self._is_still()
            self.what = "mask video" if not self.still else "mask"
            self._frames: Iterator = self._src.frames()
            self._still_mask = self._convert(first) if self.still else None
        except BaseException:
            self._src.close()
            raise
        self.used = 0  # mask frames handed out (input frames seen)

    def _is_still(self) -> bool:
        """A single image file (its container may hold nothing else) is one mask for every frame."""
        if is_image_sequence(self.path):
            return False
        container = getattr(self._src, "container", None)
        fmt = container.format.name if container is not None else ""
        return is_image_file(self.path) or fmt == "image2" or any(name.endswith("_pipe") for name in fmt.split(","))

    def _check_size(self, frame: av.VideoFrame) -> None:
        if (frame.width, frame.height) != self.size:
            raise InputError(
                f"mask {self.path} is {frame.width}x{frame.height} but the video is {self.size[0]}x{self.size[1]}"
            )

    def _convert(self, frame: av.VideoFrame) -> torch.Tensor:
        try:
            return mask_from_frame(frame)
        except (av.FFmpegError, ValueError) as error:
            raise InputError(f"cannot read mask {self.path}: cannot convert frame {self.used} ({error})") from None

    def next(self) -> torch.Tensor:
        """The mask of the next input frame: bool [1, h, w], True = fill (shared, do not modify)."""
        if self.still:
            self.used += 1
            return self._still_mask
        frame = next(self._frames, None)
        if frame is None:
            raise InputError(f"{self.what} {self.path} has {self.used} frames, the input has more")
        self._check_size(frame)
        mask = self._convert(frame)
        self.used += 1
        return mask

    def finish(self) -> None:
        """The input has ended: a mask video must end here too."""
        if self.still:
            return
        if next(self._frames, None) is not None:
            raise InputError(f"{self.what} {self.path} has more frames than the input ({self.used})")

    def close(self) -> None:
        self._src.close()

    def __enter__(self) -> "MaskReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def stack_masks(masks: list[torch.Tensor], device: torch.device | str | None) -> torch.Tensor:
    """A chunk's masks (padding frames included) as float [T, 1, h, w] on ``device``."""
    if all(m is masks[0] for m in masks):  # a still mask: move one frame, not T copies
        one = masks[0].to(device=device, dtype=torch.float32)
        return one[None].expand(len(masks), -1, -1, -1).contiguous()
    return torch.stack(masks).to(device=device, dtype=torch.float32)
