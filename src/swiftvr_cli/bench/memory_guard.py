"""Refusing a random-weights benchmark that cannot fit, before it allocates anything.

`bench --random-weights official` builds a 5B-parameter model from random
numbers; on a CPU machine that is ~20 GB of float32 before the first
frame, and running out of it half-way gets the process killed. The
parameter count comes from the model built on the meta device (free).
"""

from __future__ import annotations

import torch

from ..model.config import SwiftVRConfig
from ..model.swiftvr import SwiftVR
from ..pipeline.budget import MemoryBudgetError, available_bytes

GIB = 1 << 30
HEADROOM = 1.1  # activations of the first chunk, allocator slack


def random_model_bytes(cfg: SwiftVRConfig, dtype: torch.dtype) -> tuple[int, int]:
    """(parameters, bytes needed to build them): random values are drawn in float32, then cast."""
    with torch.device("meta"):
        model = SwiftVR(cfg, torch.empty(1, cfg.dit.text_dim) if cfg.use_dit else None)
    params = sum(p.numel() for p in model.parameters())
    size = torch.empty((), dtype=dtype).element_size()
    return params, int(params * max(4, size) * HEADROOM)


def check_random_model_fits(cfg: SwiftVRConfig, device: str | torch.device, dtype: torch.dtype, label: str) -> None:
    """Raise MemoryBudgetError (exit 6) with the numbers when the model would not fit in free memory."""
    device = torch.device(device)
    params, needed = random_model_bytes(cfg, dtype)
    free = available_bytes(device)
    if free is not None and needed > free:
        raise MemoryBudgetError(
            f"not enough memory for --random-weights {label}: {params / 1e9:.2f} B parameters need about "
            f"{needed / GIB:.1f} GiB on {device.type}, {free / GIB:.1f} GiB is free"
        )
