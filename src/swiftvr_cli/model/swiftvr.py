"""The SwiftVR restorer: ReAE encode -> one DiT step -> ReAE decode, per chunk.

`restore_chunk(frames, kind, state)` is the only interface the pipeline uses,
so the official 5B model and our small embedded models drop in the same way.
The chunk protocol (which latents the DiT sees, RoPE offsets, the decoder's
3-frame delay) follows the official release; see docs/chunk-protocol.md.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import SwiftVRConfig
from .protocol import DECODER_DELAY, ChunkKind  # noqa: F401  (part of this module's interface)
from .dit import SwiftVRTransformer
from .reae import ReAE, StreamState
from .routing import FrameRouter



@dataclass
class RestoreState:
    """Everything that crosses a chunk boundary; constant size in video length."""

    encoder: StreamState = field(default_factory=StreamState)
    decoder: StreamState = field(default_factory=StreamState)
    latents_seen: int = 0  # latents of all earlier chunks: the next chunk's RoPE offset
    previous_latents: torch.Tensor | None = None  # last encoder latents of the previous chunk
    frames_decoded: int = 0
    lq_tail: torch.Tensor | None = None  # last DECODER_DELAY prepared input frames (residual models)
    route_tail: torch.Tensor | None = None  # their specialist shares [B, DECODER_DELAY] (routed models)
    timings: dict[str, float] | None = None  # per-part seconds, filled when a benchmark asks


@contextmanager
def timed(state: RestoreState, name: str, device: torch.device):
    """Accumulate the seconds of one model part (synchronising CUDA) when timing is on."""
    if state.timings is None:
        yield
        return
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    yield
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    state.timings[name] = state.timings.get(name, 0.0) + time.perf_counter() - start


def output_size(height: int, width: int, scale: float) -> tuple[int, int]:
    return round(height * scale), round(width * scale)


def prepare_frames(
    frames: torch.Tensor, size: tuple[int, int], pad_multiple: int, dtype: torch.dtype, mode: str = "bilinear"
) -> torch.Tensor:
    """[B, T, 3, h, w] RGB on the 0..255 scale -> [B, T, 3, H', W'] in [0, 1].

    Resize (half-pixel centres, no antialias; bilinear as in the release) on
    0..255 values when the size differs, divide by 255, pad bottom/right to
    `pad_multiple` by replicating the last row/column. Bicubic overshoot is clamped
    back into range. Zero padding put a black band under the picture that the
    convolutions smeared back into its last rows (a bright line at the edge);
    replicated edges look like more picture.
    """
    batch = frames.shape[0]
    x = frames.float().flatten(0, 1)
    if tuple(x.shape[-2:]) != tuple(size):
        x = F.interpolate(x, size=size, mode=mode, align_corners=False, antialias=False)
        if mode == "bicubic":
            x = x.clamp(0, 255)
    x = x / 255.0
    pad_h = -size[0] % pad_multiple
    pad_w = -size[1] % pad_multiple
    if pad_h or pad_w:
        x = F.pad(x, (0, pad_w, 0, pad_h), mode="replicate")
    return x.to(dtype).unflatten(0, (batch, -1))


def _delayed(x: torch.Tensor, tail: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """A chunk's per-frame values [B, T, ...] shifted DECODER_DELAY frames later (the decoder
    runs that far behind), and the new tail to carry; the first frame stands in before the video."""
    if tail is None:
        tail = x[:, :1].expand(-1, DECODER_DELAY, *x.shape[2:])
    history = torch.cat([tail, x], dim=1)
    return history[:, : x.shape[1]], history[:, -DECODER_DELAY:]


MAX_STRENGTH = 2.0


def scale_correction(restored: torch.Tensor, base: torch.Tensor, strength: float) -> torch.Tensor:
    """``base + strength * (restored - base)`` in [0, 1]: the knob between the plain upscale
    (0) and the model (1), or beyond it (up to ``MAX_STRENGTH``), for footage that needs
    less or more than the model learned to give."""
    if not 0.0 <= strength <= MAX_STRENGTH:
        raise ValueError(f"strength must be between 0 and {MAX_STRENGTH:g}, got {strength}")
    base = base.to(restored.dtype)
    return torch.lerp(base, restored, strength).clamp(0, 1)


def automatic_reae_group(device: torch.device) -> int:
    """Latents per ReAE pass when none is asked for: one on CPU, where small passes keep the
    activations in the caches (measured fastest, see benchmarks/README.md), 0 (the whole
    chunk) elsewhere."""
    return 1 if device.type == "cpu" else 0


class SwiftVR(nn.Module):
    """One-step video restorer with causal chunk streaming."""

    def __init__(self, cfg: SwiftVRConfig, prompt_emb: torch.Tensor | None = None) -> None:
        super().__init__()
        self.cfg = cfg
        self.reae = ReAE(cfg.reae)
        self.transformer = SwiftVRTransformer(cfg.dit) if cfg.use_dit else None
        if prompt_emb is None:
            prompt_emb = torch.zeros(1, cfg.dit.text_dim)
        self.register_buffer("prompt_emb", prompt_emb, persistent=False)  # [S, text_dim]
        self._context_kv = None
        # The --strength a run uses when it names none: chosen on validation for each shipped
        # model and stored in its json ("inference": {"strength": S}); 1 for other weights.
        self.default_strength = 1.0

    @property
    def dtype(self) -> torch.dtype:
        return next(self.reae.parameters()).dtype

    @property
    def device(self) -> torch.device:
        return next(self.reae.parameters()).device

    @property
    def streams_weights(self) -> bool:
        """Whether the DiT blocks stream from their files (`--offload`) instead of staying resident."""
        return self.transformer is not None and self.transformer.block_stream is not None

    @property
    def prompt_len(self) -> int:
        return self.prompt_emb.shape[0]

    def context_kv(self):
        """Cross-attention K/V of the fixed prompt, computed once (per device/dtype)."""
        probe = self.transformer.patch_embedding.weight
        if self._context_kv is None or self._context_kv[0][0].device != probe.device or self._context_kv[0][0].dtype != probe.dtype:
            with torch.no_grad():
                self._context_kv = self.transformer.encode_prompt(self.prompt_emb.to(probe.device))
        return self._context_kv

    def _apply(self, fn, recurse=True):  # .to()/.half() invalidate the cached prompt K/V
        self._context_kv = None
        return super()._apply(fn, recurse)

    def _dit(self, latents: torch.Tensor, offset: int) -> torch.Tensor:
        """[B, k, C, h, w] encoder latents -> restored latents (identity without a DiT)."""
        if self.transformer is None:
            return latents
        z = latents.permute(0, 2, 1, 3, 4)  # [B, C, k, h, w]
        return self.transformer.restore(z, self.context_kv(), offset).permute(0, 2, 1, 3, 4)

    def use_channels_last(self) -> "SwiftVR":
        """NHWC convolutions: several times faster on CPU (oneDNN) for these small widths."""
        for module in self.reae.modules():
            if isinstance(module, nn.Conv2d):
                module.to(memory_format=torch.channels_last)
        return self

    def latent_path_silent(self) -> bool:
        """Whether the latent path (encoder, DiT, decoder) adds exactly nothing.

        True for a residual model whose decoder output layer is all zeros (e.g. weights
        where only the detail branch was trained): its correction is then exactly 0,
        so inference skips the path with bit-identical output. Never while gradients
        are on: training needs the path.
        """
        if not self.reae.has_latent_path:
            return True
        if not self.cfg.reae.residual or torch.is_grad_enabled():
            return False
        last = self.reae.decoder[-1]
        return not (bool(last.weight.any()) or (last.bias is not None and bool(last.bias.any())))

    def _in_groups(self, fn, latents: int, group: int, *videos: torch.Tensor | None) -> torch.Tensor:
        """``fn(*videos)`` run on ``group`` latents at a time (0: automatic), results joined along time.

        Each video holds a whole number of frames per latent along dim 1 (None passes
        through). The ReAE's StreamState carries across pieces, so this equals one pass.
        """
        group = group or automatic_reae_group(self.device) or latents
        if group >= latents:
            return fn(*videos)
        out = None
        for start in range(0, latents, group):
            stop = min(start + group, latents)
            part = fn(*(v if v is None else v[:, v.shape[1] // latents * start : v.shape[1] // latents * stop] for v in videos))
            step = part.shape[1] // (stop - start)
            if out is None:  # filled in place: no second copy of the chunk's output
                out = part.new_empty(part.shape[0], step * latents, *part.shape[2:])
            out[:, step * start : step * stop] = part
        return out

    def restore_chunk(
        self,
        frames: torch.Tensor,
        kind: ChunkKind,
        state: RestoreState,
        *,
        size: tuple[int, int],
        clip_len: int,
        overlap: int = 0,
        mask: torch.Tensor | None = None,
        strength: float | None = None,
        reae_group: int = 0,
    ) -> tuple[torch.Tensor, RestoreState]:
        """Restore one chunk of LQ frames.

        frames: [T, 3, h, w] (or batched [B, T, 3, h, w]) RGB on the 0..255
        scale (T = clip_len+4 for FIRST, clip_len for MIDDLE, 4b+1 for LAST).
        size: output (H, W). Gradients flow (training); callers wrap it in
        inference mode for restoration.
        mask: optional fill mask [T, 1, h, w] (or [B, T, 1, h, w]) in [0, 1], 1 =
        fill; only models with a detail branch use it (inpainting). Give one for
        every chunk of a video or for none.
        strength: how much of the model's correction to the upscaled input is applied
        (0: the upscaled input itself, 1: the model, up to 2: the correction doubled;
        None: ``default_strength``).
        reae_group: latents per ReAE pass (0: automatic). The ReAE streams, so
        smaller passes give the same output with fewer frames' activations in memory.
        Returns frames [T', 3, H, W] in [0, 1] in video order; over a whole
        video the outputs add up to exactly the input frames, output frame i
        restoring input frame i (the decoder runs 3 frames behind).
        """
        n = clip_len // 4
        strength = self.default_strength if strength is None else strength
        batched = frames.dim() == 5
        device = self.device
        # Residual models keep the prepared input in float32 (it is the base the decoder's
        # correction is added to); the networks run in the model's dtype.
        base_dtype = torch.float32 if self.reae.needs_lq else self.dtype
        with timed(state, "prepare", device):
            lr = (frames if batched else frames[None]).to(device)
            alpha = self.route(lr)
            x = prepare_frames(lr, size, self.cfg.pad_multiple, base_dtype, self.cfg.upscale_mode)
            if mask is not None:
                m = prepare_frames((mask if batched else mask[None]).to(device) * 255.0, size, self.cfg.pad_multiple, base_dtype)
                x = torch.cat([x, m], dim=2)  # the mask travels as a 4th channel up to the decoder
        if kind is ChunkKind.LAST:
            x = torch.cat([x, x[:, -1:].expand(-1, DECODER_DELAY, -1, -1, -1)], dim=1)  # 4b+1 -> 4b+4
            alpha = None if alpha is None else torch.cat([alpha, alpha[:, -1:].expand(-1, DECODER_DELAY)], dim=1)
        if x.shape[1] % ReAE.TEMPORAL:
            raise ValueError(f"{kind.value} chunk of {frames.shape[-4]} frames breaks the chunk protocol")

        if self.latent_path_silent():
            return self._restore_without_latents(x, state, size, batched, strength, reae_group, alpha)

        # 1. encode (causal; memory blocks carry state across chunks)
        with timed(state, "reae_encode", device):
            latents = self._in_groups(
                lambda f: self.reae.encode(f[:, :, :3].to(self.dtype), state.encoder), x.shape[1] // ReAE.TEMPORAL, reae_group, x
            )
        k = latents.shape[1]

        # 2. one DiT step, with the release's context rules
        if kind is ChunkKind.LAST:
            p = max(0, (n + 1) - k)
            if p and state.previous_latents is not None:
                context = state.previous_latents[:, -p:]
            else:
                context = latents.new_zeros(latents.shape[0], p, *latents.shape[2:])
            offset = max(0, state.latents_seen - p)
            keep_from = -k
        else:
            o = min(overlap, 0 if state.previous_latents is None else state.previous_latents.shape[1])
            context = state.previous_latents[:, -o:] if o else latents[:, :0]
            offset = state.latents_seen - o
            keep_from = context.shape[1]
        with timed(state, "dit", device):
            restored = self._dit(torch.cat([context, latents], dim=1), offset)[:, keep_from:]
        keep = max(n, overlap)
        state.previous_latents = latents[:, -keep:] if keep else None
        state.latents_seen += k

        # 3. decode; our residual models also see the input frames, 3 frames behind
        return self._decode(restored, x, state, size, batched, strength, reae_group, alpha)

    @property
    def router(self) -> FrameRouter | None:
        """A routed model's router (`model.routing`); None for other models."""
        detail = getattr(self.reae, "detail", None)
        return detail.router if detail is not None and detail.routed else None

    def route(self, frames: torch.Tensor) -> torch.Tensor | None:
        """A routed model's specialist share for each input frame [B, T, 3, h, w] (0..255,
        before the upscale) -> [B, T]; None for other models."""
        router = self.router
        if router is None:
            return None
        lr = frames.flatten(0, 1).to(router.feature_mean.device, torch.float32) / 255.0
        return router(lr).unflatten(0, frames.shape[:2])

    def _decode(
        self,
        restored: torch.Tensor | None,
        x: torch.Tensor,
        state: RestoreState,
        size,
        batched: bool,
        strength: float,
        reae_group: int,
        alpha: torch.Tensor | None = None,
    ):
        """Decode (restored None: the silent latent path's zero correction), 3 frames behind the input."""
        lq = None
        if self.reae.needs_lq or strength != 1.0:
            lq, state.lq_tail = _delayed(x, state.lq_tail)
        if alpha is not None:
            alpha, state.route_tail = _delayed(alpha, state.route_tail)
        latents = x.shape[1] // ReAE.TEMPORAL
        decoder_lq = lq if self.reae.needs_lq else None
        with timed(state, "reae_decode", self.device):
            out = self._in_groups(
                lambda z, lq_part, shares: self.reae.decode(z, state.decoder, lq_part, shares), latents, reae_group, restored, decoder_lq, alpha
            )
        if strength != 1.0:
            out = scale_correction(out, lq[:, :, :3], strength)
        if state.frames_decoded == 0:
            out = out[:, DECODER_DELAY:]
        state.frames_decoded += latents * ReAE.TEMPORAL
        out = out[:, :, :, : size[0], : size[1]]
        return (out if batched else out[0]), state

    def _restore_without_latents(
        self, x: torch.Tensor, state: RestoreState, size, batched: bool, strength: float, reae_group: int, alpha: torch.Tensor | None
    ):
        """The chunk when `latent_path_silent()`: upscaled input + detail correction only."""
        state.latents_seen += x.shape[1] // ReAE.TEMPORAL
        return self._decode(None, x, state, size, batched, strength, reae_group, alpha)
