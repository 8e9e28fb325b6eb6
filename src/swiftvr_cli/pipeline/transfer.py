"""Device -> host copies that do not stall the GPU thread.

On CUDA the restored chunk is copied into pinned host memory on a separate
stream; the restore thread goes straight on to the next chunk and the encode
thread waits for the copy's event only when it needs the pixels. On CPU this
is a no-op.
"""

from __future__ import annotations

from typing import Callable

import torch

_copy_streams: dict[torch.device, "torch.cuda.Stream"] = {}


def to_host_async(tensor: torch.Tensor) -> tuple[torch.Tensor, Callable[[], None]]:
    """Start copying `tensor` to the CPU; returns (host tensor, wait-until-ready)."""
    if tensor.device.type != "cuda":
        return tensor, lambda: None
    device = tensor.device
    stream = _copy_streams.setdefault(device, torch.cuda.Stream(device))
    host = torch.empty(tensor.shape, dtype=tensor.dtype, pin_memory=True)
    stream.wait_stream(torch.cuda.current_stream(device))  # the chunk must be computed first
    with torch.cuda.stream(stream):
        host.copy_(tensor, non_blocking=True)
        tensor.record_stream(stream)  # keep the GPU buffer alive until the copy is done
        done = torch.cuda.Event()
        done.record(stream)
    return host, done.synchronize
