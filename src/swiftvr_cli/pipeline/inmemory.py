"""Restore a clip held in memory through the same chunker and restorer as files.

Used by `swiftvr eval` and the training validation, so what is measured is
exactly what `swiftvr restore` produces (minus the 8-bit encode).
"""

from __future__ import annotations

import torch

from ..model.swiftvr import SwiftVR
from .chunker import chunk_all
from .restorer import ChunkRestorer


def restore_tensor(model: SwiftVR, frames01: torch.Tensor, scale: float, clip_len: int = 24, overlap: int = 0) -> torch.Tensor:
    """[T, 3, h, w] in [0, 1] -> restored [T, 3, H, W] in [0, 1] (float32, CPU)."""
    restorer = ChunkRestorer.for_input(model, frames01.shape[-2], frames01.shape[-1], scale, clip_len, overlap)
    state = restorer.new_state()
    outputs = []
    for chunk in chunk_all(list(frames01 * 255.0), clip_len):
        out, state = restorer.restore_chunk(torch.stack(chunk.items), chunk.kind, state)
        outputs.append(out.float().cpu())
    return torch.cat(outputs)[: frames01.shape[0]]
