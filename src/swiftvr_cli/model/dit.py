"""Wan-style video diffusion transformer used as a one-step restorer.

Module and parameter names follow the official diffusers layout
(`blocks.{i}.attn1.to_q`, `condition_embedder.time_proj`, ...) so that an
official `transformer/` folder loads with no renaming.

Precision policy: layer norms, modulation and residual additions run in
float32 and are cast back to the compute dtype (as the release does), so bf16
inference stays close to float32.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .attention import WindowPlan, window_plan, windowed_attention
from .config import DiTConfig
from .offload import BlockStream
from .rope import apply_rope, rope_cos_sin

RESTORE_TIMESTEP = 1000.0  # the single step: z_hq = z_lq - v(z_lq, t=1000)


class RMSNormAcrossHeads(nn.Module):
    """RMS norm over the full model width (all heads together), learned scale."""

    def __init__(self, dim: int, eps: float) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        variance = x.float().pow(2).mean(-1, keepdim=True)
        return (x.float() * torch.rsqrt(variance + self.eps)).to(x.dtype) * self.weight


class FP32LayerNorm(nn.LayerNorm):
    """Affine layer norm computed in float32 whatever the weights' dtype (bf16 inference)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = self.weight.float() if self.weight is not None else None
        bias = self.bias.float() if self.bias is not None else None
        return F.layer_norm(x.float(), self.normalized_shape, weight, bias, self.eps)


class Attention(nn.Module):
    """Multi-head attention with RMS-normalised q/k (self- or cross-attention)."""

    def __init__(self, dim: int, heads: int, eps: float) -> None:
        super().__init__()
        self.heads = heads
        self.to_q = nn.Linear(dim, dim)
        self.to_k = nn.Linear(dim, dim)
        self.to_v = nn.Linear(dim, dim)
        self.to_out = nn.ModuleList([nn.Linear(dim, dim)])
        self.norm_q = RMSNormAcrossHeads(dim, eps)
        self.norm_k = RMSNormAcrossHeads(dim, eps)

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        return x.unflatten(-1, (self.heads, -1)).transpose(1, 2)  # [B, N, D] -> [B, heads, N, d]

    def key_value(self, context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """K and V of a context; the fixed prompt's are computed once and reused."""
        return self.split_heads(self.norm_k(self.to_k(context))), self.split_heads(self.to_v(context))

    def merge(self, out: torch.Tensor) -> torch.Tensor:
        return self.to_out[0](out.transpose(1, 2).flatten(2))  # [B, heads, N, d] -> [B, N, D]

    def self_attention(self, x, rope: tuple[torch.Tensor, torch.Tensor], plan: WindowPlan) -> torch.Tensor:
        q = apply_rope(self.split_heads(self.norm_q(self.to_q(x))), *rope)
        k, v = self.key_value(x)
        k = apply_rope(k, *rope)
        return self.merge(windowed_attention(q, k, v, plan))

    def cross_attention(self, x: torch.Tensor, kv: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        q = self.split_heads(self.norm_q(self.to_q(x)))
        k, v = kv
        if k.shape[0] != q.shape[0]:
            k, v = k.expand(q.shape[0], -1, -1, -1), v.expand(q.shape[0], -1, -1, -1)
        return self.merge(F.scaled_dot_product_attention(q, k, v))


class FeedForward(nn.Module):
    """Linear -> GELU(tanh) -> Linear, named like diffusers' `ffn.net.{0.proj,2}`."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        proj = nn.Module()
        proj.proj = nn.Linear(dim, hidden)
        self.net = nn.ModuleList([proj, nn.Identity(), nn.Linear(hidden, dim)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net[2](F.gelu(self.net[0].proj(x), approximate="tanh"))


class DiTBlock(nn.Module):
    def __init__(self, cfg: DiTConfig, index: int) -> None:
        super().__init__()
        dim = cfg.dim
        self.eps = cfg.eps
        self.odd_layer = index % 2 == 1  # shifted windows on odd layers
        self.scale_shift_table = nn.Parameter(torch.randn(1, 6, dim) / dim**0.5)
        self.attn1 = Attention(dim, cfg.num_attention_heads, cfg.eps)
        self.attn2 = Attention(dim, cfg.num_attention_heads, cfg.eps)
        self.norm2 = FP32LayerNorm(dim, eps=cfg.eps) if cfg.cross_attn_norm else nn.Identity()
        self.ffn = FeedForward(dim, cfg.ffn_dim)

    def _norm(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x.float(), (x.shape[-1],), eps=self.eps)

    def forward(self, x, modulation, context_kv, rope, plan: WindowPlan) -> torch.Tensor:
        # modulation: [B, 6, D] float32; order shift1, scale1, gate1, shift2, scale2, gate2
        shift1, scale1, gate1, shift2, scale2, gate2 = (self.scale_shift_table.float() + modulation).unbind(1)
        dtype = x.dtype
        # 1. windowed self-attention, adaptive norm and gate
        a = (self._norm(x) * (1 + scale1[:, None]) + shift1[:, None]).to(dtype)
        attn = self.attn1.self_attention(a, rope, plan)
        x = (x.float() + attn.float() * gate1[:, None]).to(dtype)
        # 2. cross-attention to the fixed prompt (no gate)
        c = self.norm2(x.float()).to(dtype)
        x = x + self.attn2.cross_attention(c, context_kv)
        # 3. feed-forward, adaptive norm and gate
        f = (self._norm(x) * (1 + scale2[:, None]) + shift2[:, None]).to(dtype)
        x = (x.float() + self.ffn(f).float() * gate2[:, None]).to(dtype)
        return x


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding [B] -> [B, dim], cosine half first."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half).to(t.device)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class _Linear2(nn.Module):
    """Two linears with an activation, named linear_1 / linear_2 as in diffusers."""

    def __init__(self, dim_in: int, dim: int, act) -> None:
        super().__init__()
        self.linear_1 = nn.Linear(dim_in, dim)
        self.linear_2 = nn.Linear(dim, dim)
        self.act = act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear_2(self.act(self.linear_1(x)))


class ConditionEmbedder(nn.Module):
    def __init__(self, cfg: DiTConfig) -> None:
        super().__init__()
        dim = cfg.dim
        self.time_embedder = _Linear2(cfg.freq_dim, dim, F.silu)
        self.time_proj = nn.Linear(dim, 6 * dim)
        self.text_embedder = _Linear2(cfg.text_dim, dim, lambda x: F.gelu(x, approximate="tanh"))


class SwiftVRTransformer(nn.Module):
    """One-step restoration DiT: latent [B, C, L, h, w] -> velocity of the same shape."""

    def __init__(self, cfg: DiTConfig) -> None:
        super().__init__()
        self.cfg = cfg
        dim = cfg.dim
        self.patch_embedding = nn.Conv3d(cfg.in_channels, dim, kernel_size=cfg.patch_size, stride=cfg.patch_size)
        self.condition_embedder = ConditionEmbedder(cfg)
        self.blocks = nn.ModuleList([DiTBlock(cfg, i) for i in range(cfg.num_layers)])
        self.proj_out = nn.Linear(dim, cfg.out_channels * math.prod(cfg.patch_size))
        self.scale_shift_table = nn.Parameter(torch.randn(1, 2, dim) / dim**0.5)
        self.block_stream: BlockStream | None = None  # set by `--offload`: blocks stay off the device

    def resident_blocks(self):
        """The blocks in order, with their weights in place (streamed one ahead with offload)."""
        return iter(self.blocks) if self.block_stream is None else self.block_stream.run(self.blocks)

    def encode_prompt(self, prompt_emb: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Cross-attention K/V of every block for the fixed prompt [S, text_dim].

        The prompt never changes, so this runs once per model, not per chunk.
        """
        dtype = self.patch_embedding.weight.dtype
        context = self.condition_embedder.text_embedder(prompt_emb.to(dtype)[None])  # [1, S, D]
        return [block.attn2.key_value(context) for block in self.resident_blocks()]

    def time_conditioning(self, batch: int, device) -> tuple[torch.Tensor, torch.Tensor]:
        """(temb [B, D], block modulation [B, 6, D]) for t = 1000, in float32."""
        emb = timestep_embedding(torch.full((batch,), RESTORE_TIMESTEP, device=device), self.cfg.freq_dim)
        dtype = self.patch_embedding.weight.dtype
        temb = self.condition_embedder.time_embedder(emb.to(dtype))
        modulation = self.condition_embedder.time_proj(F.silu(temb))
        return temb.float(), modulation.float().unflatten(1, (6, -1))

    def forward(self, latent: torch.Tensor, context_kv, time_offset: int = 0) -> torch.Tensor:
        """Velocity v(z, t=1000). latent: [B, C, L, h, w]; context_kv from `encode_prompt`."""
        cfg = self.cfg
        b, _, frames, height, width = latent.shape
        pt, ph, pw = cfg.patch_size
        grid = (frames // pt, height // ph, width // pw)
        temb, modulation = self.time_conditioning(b, latent.device)

        # 1. patchify: [B, C, L, h, w] -> [B, N, D], tokens frame-major, then row, column
        x = self.patch_embedding(latent.to(self.patch_embedding.weight.dtype)).flatten(2).transpose(1, 2)
        rope = rope_cos_sin(grid, cfg.attention_head_dim, time_offset, x.device, torch.float32)

        # 2. transformer blocks (windows shifted on odd layers)
        plans = {odd: window_plan(grid, cfg.window, odd, x.device) for odd in (False, True)}
        for block, kv in zip(self.resident_blocks(), context_kv):
            x = block(x, modulation, kv, rope, plans[block.odd_layer])

        # 3. output head with the global (shift, scale) table + temb
        shift, scale = (self.scale_shift_table.float() + temb[:, None]).unbind(1)
        x = F.layer_norm(x.float(), (x.shape[-1],), eps=cfg.eps)
        x = self.proj_out((x * (1 + scale[:, None]) + shift[:, None]).to(self.proj_out.weight.dtype))

        # 4. unpatchify: token vector ordered (pt, ph, pw, C) -> [B, C, L, h, w]
        gt, gh, gw = grid
        x = x.view(b, gt, gh, gw, pt, ph, pw, cfg.out_channels)
        x = x.permute(0, 7, 1, 4, 2, 5, 3, 6)  # [B, C, gt, pt, gh, ph, gw, pw]
        return x.reshape(b, cfg.out_channels, gt * pt, gh * ph, gw * pw)

    def restore(self, latent: torch.Tensor, context_kv, time_offset: int = 0) -> torch.Tensor:
        """The one restoration step: z_hq = z_lq - v(z_lq, t=1000)."""
        return latent - self(latent, context_kv, time_offset).to(latent.dtype)
