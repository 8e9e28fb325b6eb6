"""Restore a clip held in memory through the same chunker and restorer as files.

Used by `swiftvr eval` and the training validation, so what is measured is
exactly what `swiftvr restore` produces (minus the 8-bit encode).
"""

from __future__ import annotations

import torch

from ..model.swiftvr import SwiftVR
from .chunker import chunk_all
from .restorer import ChunkRestorer


def restore_tensor(
    model: SwiftVR,
    frames01: torch.Tensor,
    scale: float,
    clip_len: int = 24,
    overlap: int = 0,
    mask: torch.Tensor | None = None,
    strength: float | None = None,
) -> torch.Tensor:
    """[T, 3, h, w] in [0, 1] -> restored [T, 3, H, W] in [0, 1] (float32, CPU).

    mask: [T, 1, h, w], 1 = fill (inpainting), or None. strength: see `SwiftVR.restore_chunk`
    (None: the weights' default).
    """
    restorer = ChunkRestorer.for_input(model, frames01.shape[-2], frames01.shape[-1], scale, clip_len, overlap, strength=strength)
    state = restorer.new_state()
    outputs = []
    items = list(frames01 * 255.0) if mask is None else list(zip(frames01 * 255.0, mask))
    for chunk in chunk_all(items, clip_len):
        if mask is None:
            out, state = restorer.restore(torch.stack(chunk.items), chunk.kind, state)
        else:
            frames, masks = (torch.stack(part) for part in zip(*chunk.items))
            out, state = restorer.restore(frames, chunk.kind, state, mask=masks)
        outputs.append(out.float().cpu())
    return torch.cat(outputs)[: frames01.shape[0]]
