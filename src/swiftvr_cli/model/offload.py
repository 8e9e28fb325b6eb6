"""Streamed DiT weights (`--offload`): only a few blocks live where the model computes.

The DiT blocks hold 99 % of the full-size model's weights (30 blocks of 327 MB in
bf16), but a forward pass needs one block at a time. With offload the blocks stay
out of the compute device and are brought in one block ahead of use:

* CPU: read from the memory-mapped safetensors file in a helper thread (the
  page cache serves repeated chunks) and dropped after use, so the process holds
  about two blocks instead of thirty;
* CUDA: kept in pinned host memory and copied on a side stream while the previous
  block computes, so GPU memory holds two blocks plus activations.

The blocks themselves stay on the meta device (structure only); a block's weights
are assigned for its forward pass and released after it. The arithmetic is that of
the resident model, so the output is the same.
"""

from __future__ import annotations

import concurrent.futures
import ctypes
import ctypes.util
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import torch
import torch.nn as nn
from safetensors import safe_open

BLOCK_PREFIX = "blocks."
AHEAD = 1  # blocks fetched ahead of the one computing
# Blocks' worth of weight memory alive at the peak, for the planner: the one computing,
# the AHEAD arriving, and two more in passing (the mapped file pages a copy reads, the
# packed weight copies of CPU matmuls, CUDA buffers freed only when the stream is past
# them); benchmarks/README.md ("Memory planner") has the measurement behind it.
RESIDENT_BLOCKS = AHEAD + 3
# glibc raises its mmap threshold (up to 32 MiB) after large blocks are freed; the
# streamed weight tensors would then be carved from the heap and their memory kept
# after release. A fixed threshold keeps them mapped and returned.
MALLOC_MMAP_THRESHOLD = 16 << 20
_M_MMAP_THRESHOLD = -3  # mallopt parameter number in glibc's malloc.h


@dataclass(frozen=True)
class BlockFiles:
    """Where each block's tensors are stored: {block index: {tensor name in the block: (file, key)}}."""

    tensors: dict[int, dict[str, tuple[Path, str]]]

    @classmethod
    def from_keys(cls, keys: dict[str, tuple[Path, str]], prefix: str) -> "BlockFiles":
        """Group `{model key: (file, key in the file)}` (model keys `<prefix>blocks.3.attn1.to_q.weight`) by block."""
        grouped: dict[int, dict[str, tuple[Path, str]]] = {}
        start = prefix + BLOCK_PREFIX
        for key, where in keys.items():
            if key.startswith(start):
                index, _, name = key[len(start) :].partition(".")
                grouped.setdefault(int(index), {})[name] = where
        return cls(grouped)


def read_block(files: BlockFiles, index: int, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """One block's tensors as CPU copies in `dtype` (the file's mapping is released on return)."""
    by_file: dict[Path, list[tuple[str, str]]] = {}
    for name, (path, key) in files.tensors[index].items():
        by_file.setdefault(path, []).append((name, key))
    out = {}
    for path, names in by_file.items():
        with safe_open(str(path), framework="pt", device="cpu") as f:
            for name, key in names:
                out[name] = f.get_tensor(key).to(dtype, copy=True)  # copy: own memory, the mapping goes
    return out


@contextmanager
def materialised(block: nn.Module, weights: dict[str, torch.Tensor]) -> Iterator[nn.Module]:
    """`block` with `weights` assigned for the duration; back on the meta device after."""
    block.load_state_dict(weights, strict=True, assign=True)
    try:
        yield block
    finally:
        block.to("meta")


class BlockStream:
    """Yields the DiT blocks with their weights in place, each fetched one block ahead."""

    def __init__(self, files: BlockFiles, device: torch.device, dtype: torch.dtype) -> None:
        self.files = files
        self.device = torch.device(device)
        self.dtype = dtype
        self._host: dict[int, dict[str, torch.Tensor]] | None = None
        if self.device.type == "cuda":
            self._host = {i: _pinned(read_block(files, i, dtype)) for i in sorted(files.tensors)}
            self._stream = torch.cuda.Stream(self.device)
        else:
            self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="swiftvr-offload")
            _return_large_frees_to_the_system()

    def _fetch(self, index: int) -> Callable[[], dict[str, torch.Tensor]]:
        """Start bringing block `index` in; returns a call that waits for it."""
        if self._host is None:
            future = self._pool.submit(read_block, self.files, index, self.dtype)
            return future.result
        main = torch.cuda.current_stream(self.device)
        with torch.cuda.stream(self._stream):
            weights = {k: v.to(self.device, non_blocking=True) for k, v in self._host[index].items()}
            ready = torch.cuda.Event()
            ready.record(self._stream)

        def wait() -> dict[str, torch.Tensor]:
            main.wait_event(ready)
            for tensor in weights.values():
                tensor.record_stream(main)  # allocated on the side stream, freed after main's use
            return weights

        return wait

    def run(self, blocks: nn.ModuleList) -> Iterator[nn.Module]:
        """Each block in order, materialised; the next one is on its way meanwhile."""
        order = sorted(self.files.tensors)
        pending = self._fetch(order[0]) if order else None
        for position, index in enumerate(order):
            weights = pending()
            pending = self._fetch(order[position + 1]) if position + 1 < len(order) else None
            with materialised(blocks[index], weights) as block:
                yield block
            del weights


def _return_large_frees_to_the_system() -> None:
    """Fix glibc's mmap threshold (see MALLOC_MMAP_THRESHOLD); a no-op elsewhere."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, MALLOC_MMAP_THRESHOLD)
    except (OSError, AttributeError):
        pass


def _pinned(weights: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Page-locked copies (fast, asynchronous host-to-GPU copies); plain memory if pinning fails."""
    try:
        return {k: v.pin_memory() for k, v in weights.items()}
    except RuntimeError:
        return weights

