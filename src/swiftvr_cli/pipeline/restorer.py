"""The boundary between the pipeline and any model: `ChunkRestorer.restore`.

The pipeline only knows chunks of RGB frames in and restored frames out; the
model keeps its own cross-chunk state. Any model with the same
`restore_chunk(frames, kind, state, size=, clip_len=, overlap=, reae_group=)` drops
in (and `mask=` for inpainting).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..fill import fill_masked
from ..model.swiftvr import ChunkKind, RestoreState, SwiftVR, output_size
from .settings import RestoreSettings


@dataclass
class ChunkRestorer:
    """A model bound to one video's settings (output size, chunk length, overlap, ReAE pass size)."""

    model: SwiftVR
    out_size: tuple[int, int]  # (H, W) of the restored frames
    clip_len: int = 24
    overlap: int = 0
    reae_group: int = 0  # latents per ReAE pass (0: automatic); the output is the same
    strength: float | None = None  # share of the model's correction (None: the weights' default)

    @classmethod
    def for_input(
        cls, model: SwiftVR, height: int, width: int, scale: float, clip_len: int, overlap: int = 0, *,
        reae_group: int = 0, strength: float | None = None,
    ) -> "ChunkRestorer":  # fmt: skip
        return cls(model, output_size(height, width, scale), clip_len, overlap, reae_group, strength)

    @classmethod
    def for_run(cls, model: SwiftVR, height: int, width: int, settings: RestoreSettings) -> "ChunkRestorer":
        """Bound to one run's settings, for its input of ``height`` x ``width``."""
        return cls.for_input(
            model, height, width, settings.scale, settings.clip_len, settings.overlap,
            reae_group=settings.reae_group, strength=settings.strength,
        )  # fmt: skip

    def new_state(self) -> RestoreState:
        return RestoreState()

    def restore(
        self, frames: torch.Tensor, kind: ChunkKind, state: RestoreState, mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, RestoreState]:
        """frames [T, 3, h, w] on the 0..255 scale -> restored [T', 3, H, W] in [0, 1].

        mask (inpainting): [T, 1, h, w], 1 = fill, aligned with ``frames``. The
        masked pixels are first filled from their surroundings, then the model
        (which also sees the mask) restores the filled frames.
        """
        with torch.inference_mode():
            if mask is not None:
                frames = fill_masked(frames, mask.to(frames.device))
            extra = {} if self.strength is None else {"strength": self.strength}  # None: the model's default
            return self.model.restore_chunk(
                frames, kind, state, size=self.out_size, clip_len=self.clip_len, overlap=self.overlap, mask=mask,
                reae_group=self.reae_group, **extra,
            )  # fmt: skip
