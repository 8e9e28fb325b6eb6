"""Which settings fit a given memory, fastest first (`swiftvr plan`, and `restore`'s offload choice).

Every figure comes from `budget.estimate` (one formula for the plan, the memory check
and the automatic choices). The order is a ranking, not a timing. Settings that give
the same output come first: the asked chunk resident, then streamed (`--offload`: a
transfer per block and chunk, overlapped with compute), each with the largest ReAE
group that fits (on CUDA fewer, larger passes are faster; on CPU one latent per pass
is both the fastest and the smallest, benchmarks/README.md, so it is the only group).
Only then smaller chunks, which change the output slightly (the DiT sees fewer frames
at once) and repeat the per-chunk costs more often.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..model.config import SwiftVRConfig
from . import budget


@dataclass(frozen=True)
class Setting:
    """One way to run: the options a user would pass, and the predicted peak."""

    chunk: int
    reae_group: int  # 0: the whole chunk in one ReAE pass
    offload: bool
    peak: int  # bytes where the model runs (RAM on CPU, GPU memory on CUDA)

    def flags(self) -> str:
        group = "" if self.reae_group == 0 else f" --reae-group {self.reae_group}"
        return f"--chunk {self.chunk}{group}{' --offload' if self.offload else ''}"


def settings(
    cfg: SwiftVRConfig,
    in_size: tuple[int, int],
    out_size: tuple[int, int],
    clip_len: int,
    dtype: torch.dtype,
    device: torch.device,
    *,
    prompt_len: int = budget.OFFICIAL_PROMPT_LEN,
    frames: int | None = None,
    overlap: int = 0,
    lower_chunk: bool = True,
) -> list[Setting]:
    """Every candidate (chunk halving to 4 when ``lower_chunk``, offload off/on, ReAE groups), fastest first."""
    out = []
    for chunk in budget.halved_chunks(clip_len) if lower_chunk else [clip_len]:
        for offload in (False, True) if cfg.use_dit else (False,):
            latents = budget.estimate(cfg, in_size, out_size, chunk, dtype, frames).chunk_frames // 4
            groups = [1] if device.type == "cpu" else budget.reae_groups(latents)
            for group in groups:
                found = budget.estimate(
                    cfg, in_size, out_size, chunk, dtype, frames, overlap=overlap, reae_group=group,
                    offload=offload, device=device, prompt_len=prompt_len,
                )  # fmt: skip
                out.append(Setting(chunk, group, offload, found.peak(device)))
    return out


def first_fit(candidates: list[Setting], limit: int | None) -> Setting | None:
    """The fastest setting within ``limit`` bytes (the first one when there is no limit)."""
    if limit is None:
        return candidates[0] if candidates else None
    return next((s for s in candidates if s.peak <= limit), None)


def needs_offload(
    cfg: SwiftVRConfig,
    in_size: tuple[int, int] | None,
    out_size: tuple[int, int] | None,
    clip_len: int,
    dtype: torch.dtype,
    device: torch.device,
    limit: int | None,
    *,
    prompt_len: int = budget.OFFICIAL_PROMPT_LEN,
    frames: int | None = None,
    lower_chunk: bool = False,
) -> bool:
    """Whether the first setting that fits ``limit`` streams the DiT blocks (or, when none
    fits, whether streaming is the smallest). ``lower_chunk``: `--auto` may lower the chunk.

    Without the input's size (a pipe), only the weights and the runtime are compared.
    """
    if limit is None or not cfg.use_dit:
        return False
    if in_size is None or out_size is None:
        resident = budget.RUNTIME.get(device.type, 0) + budget.weight_bytes(cfg, dtype, False, prompt_len)
        return resident > limit
    candidates = settings(
        cfg, in_size, out_size, clip_len, dtype, device, prompt_len=prompt_len, frames=frames, lower_chunk=lower_chunk
    )
    chosen = first_fit(candidates, limit)
    if chosen is not None:
        return chosen.offload
    smallest = min(candidates, key=lambda s: s.peak)  # nothing fits: the least memory is the best chance
    return smallest.offload


def table(candidates: list[Setting], limit: int | None) -> list[dict]:
    """Rows for printing: flags, predicted GiB, whether each fits, and the one `restore` would pick."""
    chosen = first_fit(candidates, limit)
    return [
        {
            "settings": s.flags(),
            "peak_gib": round(s.peak / budget.GIB, 2),
            "fits": None if limit is None else s.peak <= limit,
            "chosen": s == chosen,
        }
        for s in candidates
    ]


def choose_offload(
    weights: str | None,
    source: str,
    device: torch.device,
    dtype: torch.dtype,
    scale: float,
    clip_len: int,
    *,
    max_memory: int | None,
    auto: bool,
    stream: int | None = None,
) -> str | None:
    """`restore` without --offload/--no-offload: a note when the blocks must stream, else None.

    Decided before loading (loading is what would not fit): the config is read from
    the weights' headers and the input's size from its container headers.
    """
    from ..io.naming import STDIN, is_image_sequence
    from ..io.scan import header_size
    from ..model.loading import WeightsError, model_config
    from ..model.swiftvr import output_size

    try:
        cfg, prompt_len = model_config(weights)
    except WeightsError:
        return None  # the load that follows reports what is wrong with the weights, in its own words
    limit = max_memory if max_memory is not None else budget.available_bytes(device)
    head = header_size(source, stream) if source != STDIN and not is_image_sequence(source) else None
    in_size = (head[1], head[0]) if head else None
    out_size = output_size(*in_size, scale) if in_size else None
    if not needs_offload(
        cfg, in_size, out_size, clip_len, dtype, device, limit, prompt_len=prompt_len,
        frames=head[2] if head else None, lower_chunk=auto,
    ):  # fmt: skip
        return None
    resident = budget.weight_bytes(cfg, dtype, False, prompt_len) / budget.GIB
    allowed = "--max-memory allows" if max_memory is not None else "free:"
    return f"the model's weights need {resident:.1f} GiB ({allowed} {limit / budget.GIB:.1f} GiB): streaming the DiT blocks (--offload; same output)"
