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

from ..metrics import luma


def _laplacian(plane: torch.Tensor) -> torch.Tensor:
    return 4 * plane[:, 1:-1, 1:-1] - plane[:, :-2, 1:-1] - plane[:, 2:, 1:-1] - plane[:, 1:-1, :-2] - plane[:, 1:-1, 2:]


MIN_SIDE = 16  # pixels; smaller frames are padded for the features


def damage_features(frames: torch.Tensor) -> torch.Tensor:
    """Input frames [N, 3, h, w] in [0, 1], as the model receives them (before any upscale)
    -> [N, FEATURES] numbers that tell a codec's output from a plain downscale.

    - Luma gradients averaged at each position of an 8-pixel grid, against their overall
      mean: a codec's transform blocks leave edges on that grid; a downscale leaves none.
    - How much of the picture is flat (gradients under 0.5 to 6 grey levels): quantization
      wipes out the faint texture that a downscale keeps.
    - Fine against coarse detail (the Laplacian against the gradient): blur removes it.
    - Chroma detail against luma detail: codecs store colour at half resolution (4:2:0).
    All are ratios or shares, so they do not depend on how busy the picture is.
    """
    x = frames.float() * 255
    short = (max(0, MIN_SIDE - x.shape[-1]), max(0, MIN_SIDE - x.shape[-2]))
    if any(short):  # a tiny frame: its edges repeated, so every statistic has samples
        x = F.pad(x, (0, short[0], 0, short[1]), mode="replicate")
    y = luma(x)
    dh = (y[:, :, 1:] - y[:, :, :-1]).abs()
    dv = (y[:, 1:] - y[:, :-1]).abs()
    log_h, log_v = torch.log(dh.mean(dim=(1, 2)) + 1e-3), torch.log(dv.mean(dim=(1, 2)) + 1e-3)
    feats = [
        torch.log(_phase_means(dh, 2, 8) + 1e-3) - log_h[:, None],
        torch.log(_phase_means(dv, 1, 8) + 1e-3) - log_v[:, None],
        log_h[:, None],
        torch.stack([(dh < level).float().mean(dim=(1, 2)) for level in (0.5, 1.5, 3.0, 6.0)], dim=1),
        (torch.log(_laplacian(y).abs().mean(dim=(1, 2)) + 1e-3) - log_h)[:, None],
    ]
    for chroma in (x[:, 2] - y, x[:, 0] - y):
        dc = (chroma[:, :, 1:] - chroma[:, :, :-1]).abs()
        feats.append(torch.log(_phase_means(dc, 2, 2) + 0.05) - log_h[:, None])
        feats.append((torch.log(_laplacian(chroma).abs().mean(dim=(1, 2)) + 0.05) - torch.log(dc.mean(dim=(1, 2)) + 0.05))[:, None])
    return torch.cat(feats, dim=1)


def _phase_means(grad: torch.Tensor, dim: int, period: int) -> torch.Tensor:
    """[N, H, W] gradient magnitudes -> [N, period]: their mean at each position mod
    `period` along `dim` (1: rows, 2: columns)."""
    size = grad.shape[dim] // period * period
    cut = grad.narrow(dim, 0, size).unflatten(dim, (-1, period))  # [N, H/p, p, W] or [N, H, W/p, p]
    return cut.mean(dim=(1, 3)) if dim == 1 else cut.mean(dim=(1, 2))


FEATURES = 8 + 8 + 1 + 4 + 1 + 2 * (2 + 1)


class FrameRouter(nn.Module):
    """One input frame -> alpha in [0, 1], the specialist's share.

    A small network reads `damage_features` of the frame as it arrives (the low-resolution
    input: the upscale would blur the block edges and the chroma it looks for) and gives
    the log-odds that the frame is the specialist's kind (compressed or soft) rather than a
    plain downscale. `offset` moves the decision: a wrong route costs more one way than the
    other, so the specialist's share is sigmoid(log-odds - offset). `feature_mean` and
    `feature_std` standardize the features (set from the training frames). Why these
    features: weights/README.md, ninth round.
    """

    def __init__(self, hidden: int = 32) -> None:
        super().__init__()
        self.register_buffer("feature_mean", torch.zeros(FEATURES))
        self.register_buffer("feature_std", torch.ones(FEATURES))
        self.register_buffer("offset", torch.zeros(()))
        self.head = nn.Sequential(nn.Linear(FEATURES, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    @torch.no_grad()
    def standardize(self, features: torch.Tensor) -> None:
        """Set the standardization from the `damage_features` [N, FEATURES] of training frames."""
        self.feature_mean.copy_(features.mean(dim=0))
        self.feature_std.copy_(features.std(dim=0).clamp_min(1e-6))

    def logit(self, frames: torch.Tensor) -> torch.Tensor:
        """frames [N, 3, h, w] in [0, 1] -> the classifier's log-odds [N] (no offset)."""
        feats = (damage_features(frames) - self.feature_mean) / self.feature_std
        return self.head(feats.to(self.head[0].weight.dtype)).squeeze(1)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """frames [N, 3, h, w] in [0, 1] -> alpha [N]."""
        return torch.sigmoid(self.logit(frames) - self.offset)


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
