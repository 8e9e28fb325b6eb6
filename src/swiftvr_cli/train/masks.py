"""Fill masks for inpainting: boxes, brush strokes, logos and text overlays.

Training draws random masks (mostly fixed on screen, as logos, subtitles and
burnt-in timestamps are; some drifting); evaluation uses one fixed, documented
mask. Masks are [T, 1, H, W] float with 1 = fill.
"""

from __future__ import annotations

import math

import torch

from .degrade import _rand, _randint, _uniform


_MARGIN = 32


def _box(mask: torch.Tensor, top: int, left: int, height: int, width: int) -> None:
    mask[..., max(0, top) : top + height, max(0, left) : left + width] = 1.0


def _stroke(mask: torch.Tensor, points: list[tuple[float, float]], radius: float) -> None:
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


def _text(mask: torch.Tensor, top: int, left: int, height: int, width: int, g: torch.Generator) -> None:
    """A line of glyph-like blocks (a subtitle or a burnt-in caption)."""
    x = left
    while x < left + width:
        glyph = _randint(g, max(2, height // 3), max(3, height))
        if _rand(g) < 0.85:
            _box(mask, top + _randint(g, 0, height // 4), x, height - _randint(g, 0, height // 3), glyph)
        x += glyph + _randint(g, 1, max(2, height // 3))


def random_mask(frames: int, height: int, width: int, g: torch.Generator) -> torch.Tensor:
    """1-4 random shapes covering a few to ~25 % of the frame; 80 % static, else drifting."""
    m = _MARGIN
    canvas = torch.zeros(1, height + 2 * m, width + 2 * m)  # margin, so drifting shapes stay whole
    for _ in range(_randint(g, 1, 4)):
        kind = _rand(g)
        if kind < 0.3:  # box / logo
            bh, bw = _randint(g, height // 12, height // 3), _randint(g, width // 12, width // 3)
            _box(canvas, m + _randint(g, 0, height - bh), m + _randint(g, 0, width - bw), bh, bw)
        elif kind < 0.65:  # brush stroke
            points = [(m + _uniform(g, (0, height)), m + _uniform(g, (0, width))) for _ in range(_randint(g, 2, 5))]
            _stroke(canvas, points, _uniform(g, (2.0, max(3.0, height / 16))))
        else:  # text line
            th = _randint(g, max(4, height // 24), max(6, height // 8))
            tw = _randint(g, width // 4, width - 8)
            _text(canvas, m + _randint(g, 0, height - th), m + _randint(g, 0, width - tw), th, tw, g)
    drift = (0.0, 0.0) if _rand(g) < 0.8 else (_uniform(g, (-2.0, 2.0)), _uniform(g, (-2.0, 2.0)))
    out = torch.empty(frames, 1, height, width)
    for t in range(frames):
        oy = m + max(-m, min(m, int(round(drift[0] * t))))
        ox = m + max(-m, min(m, int(round(drift[1] * t))))
        out[t] = canvas[:, oy : oy + height, ox : ox + width]
    return out


def evaluation_mask(frames: int, height: int, width: int) -> torch.Tensor:
    """The fixed inpainting test mask: a corner logo, a subtitle line and a scratch (~7 %)."""
    mask = torch.zeros(1, height, width)
    _box(mask, height // 16, width - width // 5 - width // 16, height // 7, width // 5)  # logo, top right
    _text(mask, height - height // 6, width // 5, max(6, height // 14), (3 * width) // 5, torch.Generator().manual_seed(7))
    _stroke(mask, [(height * 0.15, width * 0.1), (height * 0.55, width * 0.35), (height * 0.7, width * 0.3)], max(1.5, height / 120))
    return mask.expand(frames, 1, height, width).clone()


def apply_mask(clip: torch.Tensor, mask: torch.Tensor, colour: tuple[float, float, float] = (1.0, 1.0, 1.0)) -> torch.Tensor:
    """Paint the masked pixels (an overlay: white by default) over a [T, 3, H, W] clip in [0, 1]."""
    paint = torch.tensor(colour, dtype=clip.dtype)[None, :, None, None]
    return clip * (1 - mask) + paint * mask


def coverage(mask: torch.Tensor) -> float:
    return float(mask.mean()) if mask.numel() else math.nan
