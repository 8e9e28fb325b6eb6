"""Saving the model's cross-chunk state, so `--resume` continues exactly where a run stopped.

`RestoreState` holds the ReAE memory blocks' last frames, the previous
chunk's latents, the delayed input frames and two counters; that is all a
restart needs to produce bit-identical frames. Stored with safetensors
(tensors + string metadata, no pickle).
"""

from __future__ import annotations

import os

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from .reae import DetailMemory, StreamState
from .swiftvr import RestoreState

_COUNTERS = ("latents_seen", "frames_decoded")
_TENSORS = ("previous_latents", "lq_tail", "route_tail")


def snapshot(state: RestoreState) -> RestoreState:
    """A CPU copy that later chunks cannot change (they replace tensors, but be safe)."""

    def copy(t: torch.Tensor | None) -> torch.Tensor | None:
        return None if t is None else t.detach().to("cpu", copy=True).contiguous()

    return RestoreState(
        encoder=StreamState({k: copy(v) for k, v in state.encoder.past.items()}),
        decoder=StreamState({k: copy(v) for k, v in state.decoder.past.items()}, _copy_memory(state.decoder.detail_past, copy)),
        latents_seen=state.latents_seen,
        previous_latents=copy(state.previous_latents),
        frames_decoded=state.frames_decoded,
        lq_tail=copy(state.lq_tail),
        route_tail=copy(state.route_tail),
    )


def _copy_memory(memory: DetailMemory | None, copy) -> DetailMemory | None:
    return None if memory is None else DetailMemory(copy(memory.frame))


def save_state(state: RestoreState, path: str) -> None:
    """Write atomically (temp file + rename): a kill mid-write leaves the old file intact."""
    tensors: dict[str, torch.Tensor] = {}
    for part in ("encoder", "decoder"):
        for index, tensor in getattr(state, part).past.items():
            tensors[f"{part}.past.{index}"] = tensor.detach().cpu().contiguous()
    memory = state.decoder.detail_past
    if memory is not None:
        tensors["decoder.detail_past"] = memory.frame.detach().cpu().contiguous()
    for name in _TENSORS:
        value = getattr(state, name)
        if value is not None:
            tensors[name] = value.detach().cpu().contiguous()
    meta = {name: str(getattr(state, name)) for name in _COUNTERS}
    temp = f"{path}.tmp"
    save_file(tensors, temp, metadata=meta)
    os.replace(temp, path)


def load_state(path: str, device: torch.device | str = "cpu") -> RestoreState:
    state = RestoreState()
    detail: dict[str, torch.Tensor] = {}
    with safe_open(path, framework="pt", device=str(device)) as f:
        meta = f.metadata() or {}
        for key in f.keys():
            tensor = f.get_tensor(key)
            part, _, index = key.partition(".past.")
            if index:
                getattr(state, part).past[int(index)] = tensor
            elif key == "decoder.detail_past":
                detail[key] = tensor
            elif key in _TENSORS:
                setattr(state, key, tensor)
    if "decoder.detail_past" in detail:
        state.decoder.detail_past = DetailMemory(detail["decoder.detail_past"])
    for name in _COUNTERS:
        setattr(state, name, int(meta.get(name, 0)))
    return state
