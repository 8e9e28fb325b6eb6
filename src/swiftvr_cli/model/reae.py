"""Restoration-aware autoencoder (ReAE): causal, streaming, 16x/4x compression.

Both halves are flat `nn.Sequential` stacks whose positions match the official
tensor names (`encoder.N.*`, `decoder.N.*`). Layers run frame by frame; the
only things that look across time are memory blocks (they see their own input
at the previous frame), temporal pools (4 frames -> 1 latent) and temporal
grows (1 latent -> 4 frames). Everything that crosses a chunk boundary lives in
`StreamState`, so encoding a video in chunks equals encoding it at once.

Layouts: video tensors are [B, T, C, H, W]; pixels in [0, 1]; latents are the
raw encoder output (no scale/shift).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import ReAEConfig
from .routing import FrameRouter, blended_stack


def _frames(x: torch.Tensor) -> torch.Tensor:
    return x.flatten(0, 1)  # [B, T, C, H, W] -> [B*T, C, H, W]


def _video(x: torch.Tensor, batch: int) -> torch.Tensor:
    return x.unflatten(0, (batch, -1))  # [B*T, C, H, W] -> [B, T, C, H, W]


def conv(cin: int, cout: int, stride: int = 1, bias: bool = True) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=bias)


class SoftClamp(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x / 3) * 3


class Upsample(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, scale_factor=2, mode="nearest")


class MemBlock(nn.Module):
    """ReLU(convs([x_t, x_{t-1}]) + x_t): the block remembers its previous input frame."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.conv = nn.Sequential(conv(2 * width, width), nn.ReLU(), conv(width, width), nn.ReLU(), conv(width, width))

    def forward(self, x: torch.Tensor, past: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """x: [B, T, C, H, W]; past: [B, C, H, W] (input at the frame before x[:, 0]) or None."""
        first = torch.zeros_like(x[:, :1]) if past is None else past[:, None]
        previous = torch.cat([first, x[:, :-1]], dim=1)  # x shifted one frame later in time
        mixed = self.conv(_frames(torch.cat([x, previous], dim=2)))
        return F.relu(_video(mixed, x.shape[0]) + x), x[:, -1]


class TemporalPool(nn.Module):
    """Stack `stride` consecutive frames along channels (earliest first) and mix them."""

    def __init__(self, width: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        self.conv = nn.Conv2d(width * stride, width, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, c, h, w = x.shape
        if t % self.stride:
            raise ValueError(f"temporal pool x{self.stride} needs a multiple of {self.stride} frames, got {t}")
        grouped = x.reshape(b, t // self.stride, self.stride * c, h, w)
        return _video(self.conv(_frames(grouped)), b)


class TemporalGrow(nn.Module):
    """One frame -> `stride` frames. x2 uses a depth-3 temporal kernel over two
    identical copies with zero padding, i.e. frames (K1+K2)x and (K0+K1)x."""

    def __init__(self, width: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        if stride == 1:
            self.proj = nn.Conv2d(width, width, 1, bias=False)
        else:
            self.conv3d = nn.Conv3d(width, width, (3, 1, 1), bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = x.shape[0]
        if self.stride == 1:
            return _video(self.proj(_frames(x)), b)
        k0, k1, k2 = self.conv3d.weight[:, :, :, 0, 0].unbind(2)  # each [out, in]
        pair = torch.cat([k1 + k2, k0 + k1], dim=0)[:, :, None, None]  # [2*out, in, 1, 1]
        y = F.conv2d(_frames(x), pair)  # [B*T, 2*out, H, W]: first frame's channels first
        return y.reshape(b, -1, y.shape[1] // 2, *y.shape[2:])  # [B, 2T, out, H, W]


@dataclass
class DetailMemory:
    """What the detail branch carries to the next frame: its last input frame."""

    frame: torch.Tensor  # [B, 3*grid^2, H, W], the previous input frame, pixel-unshuffled and centred


@dataclass
class StreamState:
    """What crosses a chunk boundary: each memory block's last input frame."""

    past: dict[int, torch.Tensor] = field(default_factory=dict)
    detail_past: DetailMemory | None = None  # what the detail branch carries to the next frame


class DetailBranch(nn.Module):
    """Causal CNN on the LQ frames at 1/grid of the output size -> an RGB correction.

    For super-resolution the grid is 4: at x4 that is the input's own pixel grid, so
    the convolutions see the original low-resolution detail at the cost of a small
    network on small frames. Same-size restoration (noise, blur) needs every pixel:
    grid 2, as in FFDNet.
    Each frame is stacked with the previous one (motion cues; the first frame of a
    video is paired with itself) and with a fill mask (zeros when there is none);
    the whole chunk runs as one batch.
    The last convolution is pixel-shuffled x4 straight to a full-size RGB
    correction, so no activation of the decoder can block this path.
    """

    def __init__(self, width: int, layers: int, grid: int = 4, experts: int = 1) -> None:
        super().__init__()
        if experts not in (1, 2):
            raise ValueError(f"a detail branch has 1 or 2 experts, not {experts}")
        self.grid = grid
        cells = grid * grid
        # input channels: frame, previous frame, then the mask; new inputs go last so a grown
        # warm start (`train.trainer.load_grown`) starts with them switched off
        self.pair_channels, self.mask_channels = 2 * 3 * cells, cells

        def build() -> nn.Sequential:
            stack: list[nn.Module] = [conv(self.pair_channels + self.mask_channels, width), nn.ReLU()]
            for _ in range(layers - 2):
                stack += [conv(width, width), nn.ReLU()]
            stack.append(conv(width, 3 * cells))
            return nn.Sequential(*stack)

        self.body = build()
        if experts == 2:  # a specialist, blended in per frame (`model.routing`)
            self.alt = build()
            self.router = FrameRouter()
        self._run_stack = self._stack

    @property
    def routed(self) -> bool:
        return hasattr(self, "router")

    def _stack(self, inputs: torch.Tensor, stem_weight: torch.Tensor, alpha: torch.Tensor | None) -> torch.Tensor:
        """The conv stack on stacked inputs: the correction before the pixel shuffle.

        The stem's weight is passed in: without a mask its mask columns are left out.
        alpha [N]: a routed branch's specialist share per frame.
        """
        if alpha is not None:
            return blended_stack(self.body, self.alt, inputs, stem_weight.shape[1], alpha)
        return self.body[1:](F.conv2d(inputs, stem_weight, self.body[0].bias, padding=1))

    def compile_stack(self, **options) -> None:
        """torch.compile the conv stack (with and without a mask: two input layouts, two graphs)."""
        self._run_stack = torch.compile(self._stack, **options)

    def forward(self, lq: torch.Tensor, mask: torch.Tensor | None, past: DetailMemory | None, alpha: torch.Tensor | None = None):
        """lq [B, T, 3, H, W], mask [B, T, 1, H, W] or None -> ([B*T, 3, H, W] correction, new memory).

        alpha [B, T]: a routed branch's specialist share for each frame, which its router
        gives from the input frames before the upscale (`SwiftVR.restore_chunk`).
        """
        if self.routed != (alpha is not None):
            raise ValueError("a routed detail branch needs each frame's alpha; a plain one takes none")
        b = lq.shape[0]
        x = _video(F.pixel_unshuffle(_frames(lq - 0.5), self.grid), b)  # centred: trains faster
        first = x[:, :1] if past is None else past.frame[:, None]
        previous = torch.cat([first, x[:, :-1]], dim=1)
        inputs = torch.cat([x, previous], dim=2)
        stem = self.body[0]
        if mask is None:  # the mask's input channels would multiply zeros: skip them (a view, no copy)
            weight = stem.weight[:, : self.pair_channels]
        else:
            inputs = torch.cat([inputs, _video(F.pixel_unshuffle(_frames(mask.to(x.dtype)), self.grid), b)], dim=2)
            weight = stem.weight
        shares = None if alpha is None else alpha.reshape(-1).to(x.dtype)
        return F.pixel_shuffle(self._run_stack(_frames(inputs), weight, shares), self.grid), DetailMemory(x[:, -1])


def _run_stack(stack: nn.Sequential, x: torch.Tensor, state: StreamState):
    """Apply a stack to a [B, T, C, H, W] sequence, carrying memory-block state."""
    for index, layer in enumerate(stack):
        if isinstance(layer, MemBlock):
            x, state.past[index] = layer(x, state.past.get(index))
        elif isinstance(layer, (TemporalPool, TemporalGrow)):
            x = layer(x)
        else:
            x = _video(layer(_frames(x)), x.shape[0])
    return x


def build_encoder(width: int, latent_channels: int) -> nn.Sequential:
    """12 -> latent channels; three stride-2 convs and two x2 temporal pools."""
    return nn.Sequential(
        conv(12, width), nn.ReLU(),
        TemporalPool(width, 2), conv(width, width, stride=2, bias=False),
        MemBlock(width), MemBlock(width), MemBlock(width),
        TemporalPool(width, 2), conv(width, width, stride=2, bias=False),
        MemBlock(width), MemBlock(width), MemBlock(width),
        TemporalPool(width, 1), conv(width, width, stride=2, bias=False),
        MemBlock(width), MemBlock(width), MemBlock(width),
        conv(width, latent_channels),
    )  # fmt: skip


def build_decoder(latent_channels: int, widths: tuple[int, int, int], out_width: int) -> nn.Sequential:
    """latent -> 12 channels (pixel-shuffled to RGB later); 8x spatial, 4x temporal."""
    n0, n1, n2 = widths
    return nn.Sequential(
        SoftClamp(), conv(latent_channels, n0), nn.ReLU(),
        MemBlock(n0), MemBlock(n0), MemBlock(n0),
        Upsample(), TemporalGrow(n0, 1), conv(n0, n1, bias=False),
        MemBlock(n1), MemBlock(n1), MemBlock(n1),
        Upsample(), TemporalGrow(n1, 2), conv(n1, n2, bias=False),
        MemBlock(n2), MemBlock(n2), MemBlock(n2),
        Upsample(), TemporalGrow(n2, 2), conv(n2, out_width, bias=False),
        nn.ReLU(), conv(out_width, 12),
    )  # fmt: skip


class ReAE(nn.Module):
    """Causal streaming autoencoder. `encode`/`decode` take and update a StreamState."""

    TEMPORAL = 4  # frames per latent
    SPATIAL = 16  # pixels per latent cell

    def __init__(self, cfg: ReAEConfig) -> None:
        super().__init__()
        self.cfg = cfg
        if self.has_latent_path:
            self.encoder = build_encoder(cfg.encoder_width, cfg.latent_channels)
            self.decoder = build_decoder(cfg.latent_channels, cfg.decoder_widths, cfg.decoder_out_width)
        if cfg.detail_width:
            self.detail = DetailBranch(cfg.detail_width, cfg.detail_layers, cfg.detail_grid, cfg.detail_experts)

    @property
    def has_latent_path(self) -> bool:
        """False when only the detail branch is built (``latent_channels`` 0)."""
        return self.cfg.latent_channels > 0

    @property
    def needs_lq(self) -> bool:
        """Whether decoding needs the aligned input frames (our residual models)."""
        return bool(self.cfg.residual or self.cfg.detail_width)

    def encode(self, frames: torch.Tensor, state: StreamState) -> torch.Tensor:
        """frames [B, 4k, 3, H, W] in [0, 1] -> latents [B, k, C, H/16, W/16]."""
        b = frames.shape[0]
        x = _video(F.pixel_unshuffle(_frames(frames), 2), b)
        return _run_stack(self.encoder, x, state)

    def decode(
        self, latents: torch.Tensor | None, state: StreamState, lq_frames: torch.Tensor | None = None, alpha: torch.Tensor | None = None
    ) -> torch.Tensor:
        """latents [B, k, C, h, w] -> frames [B, 4k, 3, 16h, 16w] in [0, 1].

        alpha [B, 4k]: a routed detail branch's specialist share for each frame.
        lq_frames (our residual models only): the input frames aligned with the
        decoded frames, [B, 4k, 3, 16h, 16w] in [0, 1]; a 4th channel, if present,
        is the fill mask (1 = fill) for the detail branch. latents None (residual
        models): the latent path's correction is zero; only the detail branch runs.
        """
        if latents is None and not self.cfg.residual:
            raise ValueError("only a residual ReAE decodes without latents")
        if latents is not None and not self.has_latent_path:
            raise ValueError("this ReAE has no decoder: it only adds the detail branch's correction")
        b = (latents if latents is not None else lq_frames).shape[0]
        lq, mask, detail = None, None, None
        convs = self.decoder if self.has_latent_path else self.detail
        dtype = next(convs.parameters()).dtype  # the convolutions' precision; the residual base keeps the input's
        if self.needs_lq:
            if lq_frames is None:
                raise ValueError("this ReAE needs the aligned LQ frames to decode")
            rgb, mask = lq_frames[:, :, :3], (lq_frames[:, :, 3:4] if lq_frames.shape[2] > 3 else None)
            if latents is not None:
                lq = F.pixel_unshuffle(_frames(rgb), 2)  # the decoder's 12-channel half-size layout
        if self.cfg.detail_width:
            detail, state.detail_past = self.detail(rgb.to(dtype), mask, state.detail_past, alpha)
        if latents is None:
            x = _frames(rgb)  # the silent latent path's output: the input itself (no pixel-shuffle round trip)
        else:
            x = _frames(_run_stack(self.decoder, latents, state))
            if self.cfg.residual:  # a bfloat16 correction on a full-precision base: no banding
                x = x.to(lq.dtype) + lq
            x = F.pixel_shuffle(x, 2)
        if detail is not None:
            x = x + detail.to(x.dtype)
        out = _video(x.clamp(0, 1), b)
        if mask is not None:  # inpainting: pixels outside the mask stay as given
            out = torch.lerp(rgb.to(out.dtype), out, mask.to(out.dtype))
        return out
