"""Filling masked pixels from their surroundings (push-pull, i.e. multi-scale diffusion).

The known pixels are averaged down an image pyramid (push), then the coarse
averages flow back up into the holes (pull), each level blended by how much of
it was known. The result is a smooth membrane over each hole that meets the
known pixels at its edge, in O(pixels) time on any device. It is the inpainting
baseline of `swiftvr eval`, and the starting point our inpainting model refines.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def fill_masked(frames: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """frames [N, C, H, W] (any value scale), mask [N, 1, H, W] (1 = fill, 0 = keep).

    Known pixels are returned unchanged; a frame with no known pixel is filled with zeros.
    """
    if mask.shape[-2:] != frames.shape[-2:] or mask.shape[0] != frames.shape[0]:
        raise ValueError(f"mask {tuple(mask.shape)} does not match frames {tuple(frames.shape)}")
    x = frames.float()
    known = (1.0 - mask.float()).clamp(0.0, 1.0)
    pyramid: list[tuple[torch.Tensor, torch.Tensor]] = []
    colour, weight = x * known, known
    while True:
        pyramid.append((colour, weight))
        if min(colour.shape[-2:]) <= 1 or bool((weight > 0).all()):
            break
        colour = F.avg_pool2d(colour, 2, ceil_mode=True)
        weight = F.avg_pool2d(weight, 2, ceil_mode=True)
    colour, weight = pyramid.pop()
    value = torch.where(weight > 0, colour / weight.clamp_min(1e-12), torch.zeros_like(colour))
    for colour, weight in reversed(pyramid):
        up = F.interpolate(value, size=colour.shape[-2:], mode="bilinear", align_corners=False)
        value = colour + (1.0 - weight) * up  # colour is already weighted by what is known
    return value.to(frames.dtype)
