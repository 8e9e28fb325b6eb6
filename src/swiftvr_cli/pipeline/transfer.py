"""Device -> host copies that do not stall the GPU thread.

On CUDA the restored chunk is copied into pinned host memory on a separate
stream; the restore thread goes straight on to the next chunk and the encode
thread waits for the copy's event only when it needs the pixels. On CPU this
is a no-op.
"""

from __future__ import annotations

from typing import Callable, TypeVar

import torch

from ..io.colour import YUVFrames

_copy_streams: dict[torch.device, "torch.cuda.Stream"] = {}
Frames = TypeVar("Frames", torch.Tensor, YUVFrames)


def to_host_async(frames: Frames) -> tuple[Frames, Callable[[], None]]:
    """Start copying a tensor (or each plane of a YUVFrames) to the CPU; returns (host copy, wait-until-ready)."""
    device = (frames.y if isinstance(frames, YUVFrames) else frames).device
    if device.type != "cuda":
        return frames, lambda: None
    stream = _copy_streams.setdefault(device, torch.cuda.Stream(device))
    stream.wait_stream(torch.cuda.current_stream(device))  # the chunk must be computed first

    def copy(tensor: torch.Tensor) -> torch.Tensor:
        host = torch.empty(tensor.shape, dtype=tensor.dtype, pin_memory=True)
        host.copy_(tensor, non_blocking=True)
        tensor.record_stream(stream)  # keep the GPU buffer alive until the copy is done
        return host

    with torch.cuda.stream(stream):
        host = frames.map(copy) if isinstance(frames, YUVFrames) else copy(frames)
        done = torch.cuda.Event()
        done.record(stream)
    return host, done.synchronize
