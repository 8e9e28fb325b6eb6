"""Which device and dtype a run computes on: what `auto` means, decided in one place.

Used by the CLI and by `batch` workers (which resolve on their own machine,
where other devices may be visible). torch is imported only when called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .failures import UsageError

if TYPE_CHECKING:
    import torch


def resolve_device(name: str) -> str:
    """'auto' -> 'cuda' when a GPU is visible, else 'cpu'; 'cuda' without one is a usage error."""
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda: no CUDA device is available (use --device cpu)")
    return name


def resolve_dtype(name: str, device: str) -> "torch.dtype":
    """'auto' -> bfloat16 on CUDA (half the memory, tensor cores), float32 on the CPU."""
    import torch

    if name == "auto":
        return torch.bfloat16 if device == "cuda" else torch.float32
    return getattr(torch, name)
