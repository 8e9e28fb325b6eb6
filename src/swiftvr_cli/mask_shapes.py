"""Mask shapes for inpainting (1 = fill): boxes, brush strokes, lines of text, and the
one fixed evaluation mask (`swiftvr eval --degrade inpaint`).

Masks are [T, 1, H, W] float. The training masks (``train/masks.py``) are
random arrangements of the same shapes.
"""

from __future__ import annotations

import torch

from .random_draws import rand, randint


def box(mask: torch.Tensor, top: int, left: int, height: int, width: int) -> None:
    mask[..., max(0, top) : top + height, max(0, left) : left + width] = 1.0


def stroke(mask: torch.Tensor, points: list[tuple[float, float]], radius: float) -> None:
    """A thick polyline through `points` (pixel coordinates (y, x))."""
    h, w = mask.shape[-2:]
    yy = torch.arange(h, dtype=torch.float32)[:, None]
    xx = torch.arange(w, dtype=torch.float32)[None, :]
    for (y0, x0), (y1, x1) in zip(points, points[1:]):
        dy, dx = y1 - y0, x1 - x0
        length2 = max(dy * dy + dx * dx, 1e-6)
        t = (((yy - y0) * dy + (xx - x0) * dx) / length2).clamp(0, 1)
        distance2 = (yy - (y0 + t * dy)) ** 2 + (xx - (x0 + t * dx)) ** 2
        mask[..., distance2 <= radius * radius] = 1.0


def text_line(mask: torch.Tensor, top: int, left: int, height: int, width: int, g: torch.Generator) -> None:
    """A line of glyph-like blocks (a subtitle or a burnt-in caption)."""
    x = left
    while x < left + width:
        glyph = randint(g, max(2, height // 3), max(3, height))
        if rand(g) < 0.85:
            box(mask, top + randint(g, 0, height // 4), x, height - randint(g, 0, height // 3), glyph)
        x += glyph + randint(g, 1, max(2, height // 3))


def evaluation_mask(frames: int, height: int, width: int) -> torch.Tensor:
    """The fixed inpainting test mask: a corner logo, a subtitle line and a scratch (~7 %)."""
    mask = torch.zeros(1, height, width)
    box(mask, height // 16, width - width // 5 - width // 16, height // 7, width // 5)  # logo, top right
    text_line(mask, height - height // 6, width // 5, max(6, height // 14), (3 * width) // 5, torch.Generator().manual_seed(7))
    stroke(mask, [(height * 0.15, width * 0.1), (height * 0.55, width * 0.35), (height * 0.7, width * 0.3)], max(1.5, height / 120))
    return mask.expand(frames, 1, height, width).clone()


def apply_mask(clip: torch.Tensor, mask: torch.Tensor, colour: tuple[float, float, float] = (1.0, 1.0, 1.0)) -> torch.Tensor:
    """Paint the masked pixels (an overlay: white by default) over a [T, 3, H, W] clip in [0, 1]."""
    paint = torch.tensor(colour, dtype=clip.dtype)[None, :, None, None]
    return clip * (1 - mask) + paint * mask
