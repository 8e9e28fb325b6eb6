"""How much memory a restore will need, checked before any frame is restored (and by `swiftvr plan`).

An 8000x8000 input at x4 needs hundreds of GiB; without this check the
process would decode, start the model and then be killed by the kernel's
OOM killer (no message, nothing saved). The estimate counts the chunk
buffers of the pipeline (decoded frames, RGB chunks, restored chunks in the
queues), the model's largest activations for one chunk, the weights that stay
resident (all of them, or with `--offload` all but the streamed DiT blocks) and the
runtime itself; it is meant to be a slight over-estimate, not an exact figure. How it
compares with measured peaks is in benchmarks/README.md ("Memory planner").
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from functools import lru_cache

import torch

from ..model.config import SwiftVRConfig
from ..model.offload import RESIDENT_BLOCKS
from ..model.swiftvr import DECODER_DELAY, SwiftVR

GIB = 1 << 30
MIN_CHUNK = 4
FIXED_OVERHEAD = 128 << 20  # codec contexts, allocator slack
OFFICIAL_PROMPT_LEN = 512  # tokens of the release's empty-prompt embedding
# What the process holds before any weight: Python, torch, PyAV (CPU RSS measured on the
# 2-core development machine, torch 2.13.0+cpu); on CUDA the context outside the allocator.
RUNTIME = {"cpu": 330 << 20, "cuda": 512 << 20}
CPU = torch.device("cpu")
_UNITS = {"": GIB, "k": 1 << 10, "m": 1 << 20, "g": GIB, "t": 1 << 40}


class MemoryBudgetError(MemoryError):
    """The run would need more memory than allowed; the message says what to lower."""


@dataclass(frozen=True)
class Estimate:
    host: int  # pipeline buffers in RAM (decoded frames, chunks in the queues)
    model: int  # activations and chunk tensors where the model runs
    chunk_frames: int  # frames the model sees at once (the FIRST chunk, or the whole short video)
    weights: int = 0  # resident weights and the prompt's cached K/V where the model runs
    runtime: int = 0  # the process (or CUDA context) before any weight

    def on(self, device: torch.device) -> int:
        """Bytes a run adds once the model is loaded (RAM holds both parts on CPU)."""
        return self.model if device.type == "cuda" else self.host + self.model

    def peak(self, device: torch.device) -> int:
        """The whole run's peak where the model runs: runtime, weights, buffers, activations."""
        return self.runtime + self.weights + self.on(device)


@lru_cache(maxsize=16)
def _parameter_counts(cfg: SwiftVRConfig) -> tuple[int, int]:
    """(all parameters, one DiT block's), counted on the meta device (nothing allocated)."""
    with torch.device("meta"):
        model = SwiftVR(cfg)
    block = sum(p.numel() for p in model.transformer.blocks[0].parameters()) if cfg.use_dit and cfg.dit.num_layers else 0
    return sum(p.numel() for p in model.parameters()), block


def weight_bytes(cfg: SwiftVRConfig, dtype: torch.dtype, offload: bool = False, prompt_len: int = OFFICIAL_PROMPT_LEN) -> int:
    """Weights resident where the model runs, plus the prompt and its per-block K/V cache.

    With ``offload`` the DiT blocks stream: RESIDENT_BLOCKS of them are resident at a time.
    """
    b = _element_size(dtype)
    total, block = _parameter_counts(cfg)
    if offload and cfg.use_dit:
        total -= max(0, cfg.dit.num_layers - RESIDENT_BLOCKS) * block
    prompt = 0
    if cfg.use_dit:
        prompt = prompt_len * cfg.dit.text_dim + 2 * cfg.dit.num_layers * prompt_len * cfg.dit.dim
    return (total + prompt) * b


def _element_size(dtype: torch.dtype) -> int:
    return torch.finfo(dtype).bits // 8 if dtype.is_floating_point else 4


@dataclass(frozen=True)
class RunShape:
    """What a run is, apart from the choices that fit it to memory (chunk, ReAE group,
    offload): every estimate, check and plan of one run shares it, so it travels as one."""

    cfg: SwiftVRConfig
    in_size: tuple[int, int]  # (H, W) of the input
    out_size: tuple[int, int]  # (H, W) of the output
    dtype: torch.dtype
    device: torch.device = CPU  # only its type matters: what holds the model
    frames: int | None = None  # None: a long video (or unknown length)
    overlap: int = 0
    prompt_len: int = OFFICIAL_PROMPT_LEN


@dataclass(frozen=True)
class Fit:
    """What a run that fits uses: the chunk (`--chunk`, `RestoreSettings.clip_len`), and the
    latents per ReAE pass (0: the whole chunk)."""

    clip_len: int
    reae_group: int


def parse_size(text: str) -> int:
    """'8G', '512M', '1.5GiB' -> bytes; a bare number is GiB."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*", text.lower())
    if not match:
        raise ValueError(f"--max-memory: cannot read {text!r} (examples: 8G, 512M)")
    value = float(match.group(1)) * _UNITS[match.group(2)]
    if value <= 0:
        raise ValueError("--max-memory must be positive")
    return int(value)


def _cgroup_free() -> int | None:
    """Room left under a container's memory limit (cgroup v2), if there is one."""
    try:
        limit = open("/sys/fs/cgroup/memory.max").read().strip()
        used = int(open("/sys/fs/cgroup/memory.current").read())
    except (OSError, ValueError):
        return None
    return None if limit == "max" else max(0, int(limit) - used)


def available_bytes(device: torch.device) -> int | None:
    """Free memory where the model runs: free GPU memory, or MemAvailable (and the cgroup limit) on CPU."""
    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        return int(free)
    found = None
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    found = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    if found is None and hasattr(os, "sysconf"):
        try:
            found = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError):
            found = None
    cgroup = _cgroup_free()
    if cgroup is not None:
        found = cgroup if found is None else min(found, cgroup)
    return found


def _round_up(value: int, multiple: int) -> int:
    return int(math.ceil(value / multiple) * multiple)


def estimate(
    shape: RunShape, clip_len: int, *, queue_size: int = 2, reae_group: int = 0, offload: bool = False
) -> Estimate:
    """Peak bytes for restoring ``shape`` in chunks of ``clip_len``.

    ``reae_group`` latents per ReAE pass (0: the whole chunk) bound the frames whose
    encoder and decoder activations are alive at once; ``offload`` streams the DiT blocks.
    A pure function of its arguments (no file, no device is touched).
    """
    cfg, dtype, frames = shape.cfg, shape.dtype, shape.frames
    h, w = shape.in_size
    big_h, big_w = shape.out_size
    t = clip_len + 4  # the FIRST chunk is the largest
    if frames is not None:
        t = min(t, frames + (1 - frames) % 4 + DECODER_DELAY)  # a short video is one LAST chunk
    te = min(t, 4 * reae_group) if reae_group else t  # frames in one ReAE pass
    b = _element_size(dtype)
    ph, pw = _round_up(big_h, cfg.pad_multiple), _round_up(big_w, cfg.pad_multiple)
    r = cfg.reae
    n2 = r.decoder_widths[2]
    half = ph * pw // 4  # the encoder's first and the decoder's last stage run at half resolution
    quarter = ph * pw // 16
    # pipeline: decoded frames (<= 6 bytes/pixel), RGB chunks in, restored chunks out (float32);
    # a short video has fewer chunks than the queues could hold
    in_flight = queue_size + 1 if frames is None else max(1, min(queue_size + 1, math.ceil(frames / clip_len)))
    pipeline = (clip_len + 8) * h * w * 6 + in_flight * t * 3 * (h * w + big_h * big_w) * 4 + FIXED_OVERHEAD
    # model: prepared + LQ frames and the decoded chunk (float32 for our residual models, which
    # add the decoder's correction to the input), encoder stem, decoder's last two stages
    fb = 4 if r.residual or r.detail_width else b
    frames_in = (3 * t + DECODER_DELAY) * 3 * ph * pw * fb
    encoder = te * half * (12 + 2 * r.encoder_width) * b if cfg.has_latent_path else 0
    decoder = te * half * (n2 + 2 * r.decoder_out_width + 12) * b + (te // 2) * quarter * 5 * n2 * b
    if not cfg.has_latent_path:
        decoder = 0
    if r.detail_width:  # the detail branch runs at 1/grid size: its inputs, two activations, its output
        cells = r.detail_grid * r.detail_grid
        grid_pixels = ph * pw // cells
        decoder += te * grid_pixels * (7 * cells + 2 * r.detail_width + 3 * cells) * b + te * half * 4 * 3 * 4
    dit = 0
    if cfg.use_dit:
        tokens = (t // 4 + shape.overlap) * (ph // 32) * (pw // 32)
        dit = tokens * (4 * cfg.dit.dim + cfg.dit.ffn_dim) * b
    weights = weight_bytes(cfg, dtype, offload, shape.prompt_len)
    runtime = RUNTIME.get(torch.device(shape.device).type, RUNTIME["cpu"])
    return Estimate(int(pipeline), int(frames_in + encoder + decoder + dit), t, weights, runtime)


def describe_sizes(in_size: tuple[int, int], out_size: tuple[int, int]) -> str:
    return f"{in_size[1]}x{in_size[0]} -> {out_size[1]}x{out_size[0]}"


def halved_chunks(clip_len: int) -> list[int]:
    """The chunks `--auto` may use: the asked one, then halving (multiples of 4) down to MIN_CHUNK."""
    chunks = [clip_len]
    while chunks[-1] > MIN_CHUNK:
        chunks.append(max(MIN_CHUNK, chunks[-1] // 2 // 4 * 4))
    return chunks


def reae_groups(latents: int, requested: int = 0) -> list[int]:
    """The ReAE groups to try, largest first: the requested one (0: whole chunk), then halving to 1."""
    groups, group = [requested], min(requested or latents, latents)
    while group > 1:
        group = (group + 1) // 2
        groups.append(group)
    return groups


def check(
    shape: RunShape,
    clip_len: int,
    limit: int | None,
    *,
    auto: bool = False,
    user_limit: bool = False,
    reae_group: int = 0,
    offload: bool = False,
) -> Fit:
    """Raise MemoryBudgetError unless the run fits in ``limit`` bytes; returns the chunk and ReAE group to use.

    A user's limit (``--max-memory``) bounds the whole run (``Estimate.peak``); the free
    memory measured after loading bounds what the run adds to the loaded model.
    Smaller ReAE groups are tried first (the same output); then, with ``auto``, the
    chunk is halved (down to 4), each with the largest group that fits.
    """
    if limit is None:
        return Fit(clip_len, reae_group)

    def need(chunk: int, group: int) -> int:
        found = estimate(shape, chunk, reae_group=group, offload=offload)
        return found.peak(shape.device) if user_limit else found.on(shape.device)

    chunks = halved_chunks(clip_len) if auto else [clip_len]
    for chunk in chunks:
        latents = estimate(shape, chunk).chunk_frames // 4
        for group in reae_groups(latents, reae_group):
            if need(chunk, group) <= limit:
                return Fit(chunk, group)
    chunk = chunks[-1]
    small_gib = need(MIN_CHUNK, 1) / GIB
    if need(MIN_CHUNK, 1) <= limit:
        advice = f"lower --chunk (--chunk {MIN_CHUNK} needs about {small_gib:.1f} GiB) or --scale, or raise --max-memory"
    else:
        advice = f"even --chunk {MIN_CHUNK} needs about {small_gib:.1f} GiB: lower --scale or use a smaller input, or raise --max-memory"
    raise MemoryBudgetError(
        f"not enough memory: {describe_sizes(shape.in_size, shape.out_size)} at --chunk {chunk} "
        f"needs about {need(chunk, 1) / GIB:.1f} GiB even with --reae-group 1, "
        f"{'--max-memory allows' if user_limit else 'only'} {limit / GIB:.1f} GiB"
        f"{'' if user_limit else ' free'}; {advice}"
    )


def fit_chunk(
    shape: RunShape,
    clip_len: int,
    *,
    max_memory: int | None,
    auto: bool,
    reae_group: int = 0,
    offload: bool = False,
) -> Fit:
    """The chunk and ReAE group to run with (as asked unless memory needs less); raises MemoryBudgetError."""
    limit = max_memory if max_memory is not None else available_bytes(shape.device)
    return check(
        shape, clip_len, limit, auto=auto, user_limit=max_memory is not None, reae_group=reae_group, offload=offload
    )
