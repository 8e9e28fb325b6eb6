"""Helpers for tests and parity checks (no model code here).

`write_tiny_official_checkpoint` writes a small random checkpoint laid out exactly
like the official SwiftVR release, so loaders can be exercised without the real
multi-gigabyte weights.
"""

from .tiny_checkpoint import (
    TinyCheckpointSpec,
    dit_config,
    official_tensor_shapes,
    reae_tensor_shapes,
    dit_tensor_shapes,
    write_tiny_official_checkpoint,
)

__all__ = [
    "TinyCheckpointSpec",
    "dit_config",
    "official_tensor_shapes",
    "reae_tensor_shapes",
    "dit_tensor_shapes",
    "write_tiny_official_checkpoint",
]
