"""Text labels drawn into images (side-by-side PNGs and clips), with a built-in 5x7
bitmap font: no font file and no imaging library needed.

Letters are drawn upper-case; characters without a glyph are drawn as a space.
"""

from __future__ import annotations

import torch

GLYPH_WIDTH, GLYPH_HEIGHT = 5, 7

# Each glyph: 7 rows of 5 bits, most significant bit on the left.
_GLYPHS: dict[str, tuple[int, ...]] = {
    " ": (0, 0, 0, 0, 0, 0, 0),
    "A": (14, 17, 17, 31, 17, 17, 17), "B": (30, 17, 17, 30, 17, 17, 30), "C": (14, 17, 16, 16, 16, 17, 14),
    "D": (30, 17, 17, 17, 17, 17, 30), "E": (31, 16, 16, 30, 16, 16, 31), "F": (31, 16, 16, 30, 16, 16, 16),
    "G": (14, 17, 16, 23, 17, 17, 15), "H": (17, 17, 17, 31, 17, 17, 17), "I": (14, 4, 4, 4, 4, 4, 14),
    "J": (7, 2, 2, 2, 2, 18, 12), "K": (17, 18, 20, 24, 20, 18, 17), "L": (16, 16, 16, 16, 16, 16, 31),
    "M": (17, 27, 21, 21, 17, 17, 17), "N": (17, 17, 25, 21, 19, 17, 17), "O": (14, 17, 17, 17, 17, 17, 14),
    "P": (30, 17, 17, 30, 16, 16, 16), "Q": (14, 17, 17, 17, 21, 18, 13), "R": (30, 17, 17, 30, 20, 18, 17),
    "S": (15, 16, 16, 14, 1, 1, 30), "T": (31, 4, 4, 4, 4, 4, 4), "U": (17, 17, 17, 17, 17, 17, 14),
    "V": (17, 17, 17, 17, 17, 10, 4), "W": (17, 17, 17, 21, 21, 21, 10), "X": (17, 17, 10, 4, 10, 17, 17),
    "Y": (17, 17, 10, 4, 4, 4, 4), "Z": (31, 1, 2, 4, 8, 16, 31),
    "0": (14, 17, 19, 21, 25, 17, 14), "1": (4, 12, 4, 4, 4, 4, 14), "2": (14, 17, 1, 2, 4, 8, 31),
    "3": (31, 2, 4, 2, 1, 17, 14), "4": (2, 6, 10, 18, 31, 2, 2), "5": (31, 16, 30, 1, 1, 17, 14),
    "6": (6, 8, 16, 30, 17, 17, 14), "7": (31, 1, 2, 4, 8, 8, 8), "8": (14, 17, 17, 14, 17, 17, 14),
    "9": (14, 17, 17, 15, 1, 2, 12),
    ".": (0, 0, 0, 0, 0, 12, 12), ",": (0, 0, 0, 0, 12, 4, 8), ":": (0, 12, 12, 0, 12, 12, 0),
    "-": (0, 0, 0, 31, 0, 0, 0), "+": (0, 4, 4, 31, 4, 4, 0), "=": (0, 0, 31, 0, 31, 0, 0),
    "%": (24, 25, 2, 4, 8, 19, 3), "(": (2, 4, 8, 8, 8, 4, 2), ")": (8, 4, 2, 2, 2, 4, 8),
    "/": (0, 1, 2, 4, 8, 16, 0), "#": (10, 10, 31, 10, 31, 10, 10), "_": (0, 0, 0, 0, 0, 0, 31),
    "|": (4, 4, 4, 4, 4, 4, 4), "'": (4, 4, 8, 0, 0, 0, 0),
}  # fmt: skip


def text_mask(text: str, scale: int = 1) -> torch.Tensor:
    """Boolean [7*scale, 6*len*scale] mask of ``text`` (one blank column after each glyph)."""
    columns = []
    for char in text.upper():
        rows = _GLYPHS.get(char, _GLYPHS[" "])
        glyph = torch.tensor([[(row >> (GLYPH_WIDTH - 1 - i)) & 1 for i in range(GLYPH_WIDTH)] for row in rows], dtype=torch.bool)
        columns += [glyph, torch.zeros(GLYPH_HEIGHT, 1, dtype=torch.bool)]
    mask = torch.cat(columns, dim=1) if columns else torch.zeros(GLYPH_HEIGHT, 0, dtype=torch.bool)
    return mask.repeat_interleave(scale, 0).repeat_interleave(scale, 1)


def label_strip(text: str, width: int, scale: int = 1) -> torch.Tensor:
    """A black [3, h, width] strip with ``text`` in white, cut to the width."""
    mask = text_mask(text, scale)
    pad = scale + 1
    strip = torch.zeros(3, mask.shape[0] + 2 * pad, width)
    shown = mask[:, : max(0, width - pad)]
    strip[:, pad : pad + shown.shape[0], pad : pad + shown.shape[1]] = shown.float()
    return strip
