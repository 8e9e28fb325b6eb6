"""Random fill masks for training the inpainting model: logos, brush strokes and text overlays.

Mostly fixed on screen, as logos, subtitles and burnt-in timestamps are;
some drifting. The shapes, and the fixed evaluation mask, live in
``swiftvr_cli.mask_shapes``. Masks are [T, 1, H, W] float with 1 = fill.
"""

from __future__ import annotations

import math

import torch

from ..mask_shapes import apply_mask, box, evaluation_mask, stroke, text_line
from ..random_draws import rand, randint, uniform

__all__ = ["apply_mask", "coverage", "evaluation_mask", "random_mask"]


_MARGIN = 32


def random_mask(frames: int, height: int, width: int, g: torch.Generator) -> torch.Tensor:
    """1-4 random shapes covering a few to ~25 % of the frame; 80 % static, else drifting."""
    m = _MARGIN
    canvas = torch.zeros(1, height + 2 * m, width + 2 * m)  # margin, so drifting shapes stay whole
    for _ in range(randint(g, 1, 4)):
        kind = rand(g)
        if kind < 0.3:  # box / logo
            bh, bw = randint(g, height // 12, height // 3), randint(g, width // 12, width // 3)
            box(canvas, m + randint(g, 0, height - bh), m + randint(g, 0, width - bw), bh, bw)
        elif kind < 0.65:  # brush stroke
            points = [(m + uniform(g, (0, height)), m + uniform(g, (0, width))) for _ in range(randint(g, 2, 5))]
            stroke(canvas, points, uniform(g, (2.0, max(3.0, height / 16))))
        else:  # text line
            th = randint(g, max(4, height // 24), max(6, height // 8))
            tw = randint(g, width // 4, width - 8)
            text_line(canvas, m + randint(g, 0, height - th), m + randint(g, 0, width - tw), th, tw, g)
    drift = (0.0, 0.0) if rand(g) < 0.8 else (uniform(g, (-2.0, 2.0)), uniform(g, (-2.0, 2.0)))
    out = torch.empty(frames, 1, height, width)
    for t in range(frames):
        oy = m + max(-m, min(m, int(round(drift[0] * t))))
        ox = m + max(-m, min(m, int(round(drift[1] * t))))
        out[t] = canvas[:, oy : oy + height, ox : ox + width]
    return out


def coverage(mask: torch.Tensor) -> float:
    return float(mask.mean()) if mask.numel() else math.nan
