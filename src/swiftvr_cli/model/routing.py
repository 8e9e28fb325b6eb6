"""Two experts in one detail branch, blended per frame by what the frame looks like.

A model trained for the common case (plain downscales) and one fine-tuned from it for
compressed or soft input disagree where it matters: each loses on the other's input.
Running both would double the cost. Instead a small router reads each frame and gives
one number, alpha in [0, 1]; the frame runs through a single network whose weights are
the experts' weights interpolated by alpha. Two experts of one lineage (one fine-tuned
from the other) interpolate smoothly, so a frame between the two kinds of input gets a
network between the two.

Alpha depends on the frame alone, never on earlier frames, so any span of a video
restores as it does inside the whole run.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


class FrameRouter(nn.Module):
    """One frame (pixel-unshuffled, centred) -> alpha in [0, 1], the specialist's share.

    A bank of learned filters with no response to flat areas (each kernel sums to zero)
    measures detail; the mean of each filter's magnitude over the frame, taken separately
    at each position of a 4x4 grid (a codec's transform blocks leave their edges on such
    a grid; a plain downscale has none), is a fingerprint of the degradation. The head
    reads its logarithm, so it weighs ratios (block edges against the rest, fine detail
    against coarse) that do not depend on how busy the picture is. Why these choices:
    weights/README.md, eighth round.
    """

    PHASES = 4

    def __init__(self, channels: int, width: int = 12) -> None:
        super().__init__()
        self.filters = nn.Parameter(torch.randn(width, channels, 3, 3) / (3 * channels**0.5))
        self.head = nn.Linear(width * self.PHASES**2, 1)

    def logit(self, frames: torch.Tensor) -> torch.Tensor:
        """frames [N, C, H, W] -> the log-odds that a frame is the specialist's kind [N]."""
        kernels = self.filters - self.filters.mean(dim=(1, 2, 3), keepdim=True)
        p = self.PHASES
        f = F.conv2d(frames[:, :, : frames.shape[2] // p * p, : frames.shape[3] // p * p], kernels, padding=1).abs()
        energy = F.pixel_unshuffle(f, p).unflatten(1, (f.shape[1], p * p)).mean(dim=(3, 4)).flatten(1)
        return self.head(torch.log(energy + 1e-4)).squeeze(1)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """frames [N, C, H, W] -> alpha [N]."""
        return torch.sigmoid(self.logit(frames))


# The blend is taken in steps of 1/LEVELS, so the frames of a chunk, which share a kind of
# damage, share a few blends and run as a batch (one frame at a time the stack runs far
# slower on a multi-threaded CPU). A step moves the output far less than the experts differ.
LEVELS = 8


def quantized(alpha: torch.Tensor) -> torch.Tensor:
    """alpha rounded to the nearest 1/LEVELS, with alpha's own gradient (straight through),
    so training sees the blends that run and still moves the router."""
    return alpha + (torch.round(alpha * LEVELS) / LEVELS - alpha).detach()


def blended_stack(base: nn.Sequential, alt: nn.Sequential, inputs: torch.Tensor, stem_columns: int, alpha: torch.Tensor) -> torch.Tensor:
    """Run each frame of `inputs` [N, C, H, W] through the stack whose weights are
    base + a * (alt - base), a its alpha [N] in steps of 1/LEVELS (`quantized`).

    `stem_columns`: the first convolution's input channels in use (the mask's columns are
    left out when there is no mask). Frames with the same blend run as one batch.
    """
    alpha = quantized(alpha)
    out: torch.Tensor | None = None
    for level in torch.unique(alpha.detach()):
        members = (alpha.detach() == level).nonzero().squeeze(1)
        share = alpha[members].mean()  # equal values; the gradient is shared by the members
        x = inputs[members]
        for index, (a, b) in enumerate(zip(base, alt)):
            if isinstance(a, nn.Conv2d):
                weight = torch.lerp(a.weight, b.weight, share)
                if index == 0:
                    weight = weight[:, :stem_columns]
                x = F.conv2d(x, weight, torch.lerp(a.bias, b.bias, share), padding=1)
            else:
                x = a(x)
        if out is None:
            out = x.new_empty((inputs.shape[0], *x.shape[1:]))
        out = out.index_copy(0, members, x)
    assert out is not None
    return out
