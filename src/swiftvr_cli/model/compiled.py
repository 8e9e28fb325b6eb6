"""`--compile`: torch.compile the model's heavy, shape-stable parts in place.

Compiled: every DiT block, the convolution stack inside every ReAE memory block,
and the detail branch's convolution stack. Everything that carries state across chunks or
changes shape by chunk kind (pools, grows, the chunk protocol) stays eager, so
the compiled graphs only see a few shapes: the FIRST chunk's, the MIDDLE
chunks' and the LAST chunk's. After the first recompile PyTorch marks the
changing frame count as dynamic, and `RECOMPILE_LIMIT` caps what is left.

Measured on the 2-core CPU development machine (640x360 output, chunk 24, model
FPS; benchmarks/README.md): the task models 1.52x (float32) and 1.29x (bfloat16) faster,
`swiftvr-tiny` 1.04x / 1.08x; compiling costs a few seconds at the start (about 4 s with
inductor's cache warm, 9 s cold, for the denoiser).
"""

from __future__ import annotations

import shutil
from typing import Callable

import torch

from .reae import MemBlock
from .swiftvr import SwiftVR

RECOMPILE_LIMIT = 16  # per compiled function: chunk kinds x a few resolutions


class CompileUnavailable(RuntimeError):
    """torch.compile cannot run on this device (no C++ compiler on CPU, no Triton on CUDA)."""


def compile_unavailable_reason(device: torch.device) -> str | None:
    """Why torch.compile's default backend cannot run here, or None when it can."""
    if device.type == "cuda":
        from torch.utils._triton import has_triton

        return None if has_triton() else "Triton is not installed (pip install triton)"
    if device.type == "cpu":
        if not any(shutil.which(name) for name in ("g++", "c++", "clang++")):
            return "no C++ compiler found (install g++, e.g. apt-get install g++)"
        return None
    return f"not supported on {device.type}"


def compile_model(model: SwiftVR, mode: str = "default") -> int:
    """Compile `model`'s heavy parts in place; returns how many modules were compiled.

    Raises CompileUnavailable (one clear line) when the backend cannot run here.
    The weights, their names and the outputs stay the same (up to float rounding).
    """
    reason = compile_unavailable_reason(model.device)
    if reason:
        raise CompileUnavailable(f"--compile: torch.compile cannot run on {model.device.type}: {reason}")
    import torch._dynamo

    torch._dynamo.config.recompile_limit = max(torch._dynamo.config.recompile_limit, RECOMPILE_LIMIT)
    count = 0
    if model.transformer is not None and not model.streams_weights:  # streamed blocks change weights per call
        for block in model.transformer.blocks:
            block.compile(mode=mode)
            count += 1
    for module in model.reae.modules():
        if isinstance(module, MemBlock):
            module.conv.compile(mode=mode)
            count += 1
    detail = getattr(model.reae, "detail", None)
    if detail is not None:
        detail.compile_stack(mode=mode)
        count += 1
    return count


def compile_or_note(model: SwiftVR, on_note: Callable[[str], None]) -> bool:
    """`--compile` for restoring: where it cannot run, say why once and go on uncompiled
    (the output is the same); returns whether the model was compiled."""
    try:
        compile_model(model)
    except CompileUnavailable as exc:
        on_note(f"{exc}; restoring without it")
        return False
    return True


def reset_compiled() -> None:
    """Forget compiled graphs (between benchmark shapes, so each shape's time is its own)."""
    import torch._dynamo

    torch._dynamo.reset()
