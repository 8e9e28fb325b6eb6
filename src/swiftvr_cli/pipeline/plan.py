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


def settings(shape: budget.RunShape, clip_len: int, *, lower_chunk: bool = True) -> list[Setting]:
    """Every candidate (chunk halving to 4 when ``lower_chunk``, offload off/on, ReAE groups), fastest first."""
    out = []
    for chunk in budget.halved_chunks(clip_len) if lower_chunk else [clip_len]:
        for offload in (False, True) if shape.cfg.use_dit else (False,):
            latents = budget.estimate(shape, chunk).chunk_frames // 4
            groups = [1] if shape.device.type == "cpu" else budget.reae_groups(latents)
            for group in groups:
                found = budget.estimate(shape, chunk, reae_group=group, offload=offload)
                out.append(Setting(chunk, group, offload, found.peak(shape.device)))
    return out


def first_fit(candidates: list[Setting], limit: int | None) -> Setting | None:
    """The fastest setting within ``limit`` bytes (the first one when there is no limit)."""
    if limit is None:
        return candidates[0] if candidates else None
    return next((s for s in candidates if s.peak <= limit), None)


def needs_offload(shape: budget.RunShape, clip_len: int, limit: int | None, *, lower_chunk: bool = False) -> bool:
    """Whether the first setting that fits ``limit`` streams the DiT blocks (or, when none
    fits, whether streaming is the smallest). ``lower_chunk``: `--auto` may lower the chunk."""
    if limit is None or not shape.cfg.use_dit:
        return False
    candidates = settings(shape, clip_len, lower_chunk=lower_chunk)
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
    if limit is None or not cfg.use_dit:
        return None
    resident = budget.weight_bytes(cfg, dtype, False, prompt_len)
    head = header_size(source, stream) if source != STDIN and not is_image_sequence(source) else None
    if head is None:  # no size in the headers (a pipe, images): only the weights and the runtime compare
        streams = budget.RUNTIME.get(device.type, 0) + resident > limit
    else:
        width, height, frames = head
        shape = budget.RunShape(
            cfg, (height, width), output_size(height, width, scale), dtype, device, frames=frames, prompt_len=prompt_len
        )
        streams = needs_offload(shape, clip_len, limit, lower_chunk=auto)
    if not streams:
        return None
    allowed = "--max-memory allows" if max_memory is not None else "free:"
    return f"the model's weights need {resident / budget.GIB:.1f} GiB ({allowed} {limit / budget.GIB:.1f} GiB): streaming the DiT blocks (--offload; same output)"
