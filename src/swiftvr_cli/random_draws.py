"""Random draws from a caller's ``torch.Generator``: a seed fixes every choice.

Used by the training degradations and masks, and by the one fixed
evaluation mask (drawn from a fixed seed).
"""

from __future__ import annotations

import torch


def rand(g: torch.Generator) -> float:
    """Uniform in [0, 1)."""
    return float(torch.rand((), generator=g))


def uniform(g: torch.Generator, r: tuple[float, float]) -> float:
    return r[0] + (r[1] - r[0]) * rand(g)


def chance(g: torch.Generator, p: float) -> bool:
    return rand(g) < p


def pick(g: torch.Generator, weights: tuple[float, ...]) -> int:
    u = rand(g) * sum(weights)
    acc = 0.0
    for i, w in enumerate(weights):
        acc += w
        if u < acc:
            return i
    return len(weights) - 1


def randint(g: torch.Generator, lo: int, hi: int) -> int:
    """Uniform integer in ``[lo, hi]``."""
    return min(hi, lo + int(rand(g) * (hi - lo + 1)))
