"""3-D rotary position embedding for the DiT's self-attention.

Each head's channels are split into a temporal, a row and a column part; pair
(2i, 2i+1) rotates by the i-th angle. Angles are computed in float64 and cast
to float32, as the official release does, so positions far along a long video
keep their precision.
"""

from __future__ import annotations

import torch


def rope_parts(head_dim: int) -> tuple[int, int, int]:
    """Channel split (t, h, w) of one head: 128 -> (44, 42, 42)."""
    hw = 2 * (head_dim // 6)
    return head_dim - 2 * hw, hw, hw


def _angles(positions: torch.Tensor, part: int) -> torch.Tensor:
    """[n] positions -> [n, part/2] angles position * 10000^(-2j/part), in float64."""
    j = torch.arange(part // 2, dtype=torch.float64)
    freqs = 10000.0 ** (-2.0 * j / part)
    return positions.to(torch.float64)[:, None] * freqs[None, :]


def rope_angles(grid: tuple[int, int, int], head_dim: int, time_offset: int) -> torch.Tensor:
    """Angles for every token of a (L, H, W) grid: [L*H*W, head_dim/2] float32.

    Temporal positions start at `time_offset` so they continue across chunks.
    """
    frames, height, width = grid
    t_part, h_part, w_part = rope_parts(head_dim)
    t = _angles(torch.arange(frames) + time_offset, t_part)  # [L, t/2]
    h = _angles(torch.arange(height), h_part)  # [H, h/2]
    w = _angles(torch.arange(width), w_part)  # [W, w/2]
    angles = torch.cat(
        [
            t[:, None, None, :].expand(frames, height, width, -1),
            h[None, :, None, :].expand(frames, height, width, -1),
            w[None, None, :, :].expand(frames, height, width, -1),
        ],
        dim=-1,
    )
    return angles.reshape(frames * height * width, head_dim // 2).to(torch.float32)


def rope_cos_sin(grid: tuple[int, int, int], head_dim: int, time_offset: int, device, dtype) -> tuple[torch.Tensor, torch.Tensor]:
    angles = rope_angles(grid, head_dim, time_offset)
    return angles.cos().to(device=device, dtype=dtype), angles.sin().to(device=device, dtype=dtype)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate channel pairs. x: [B, heads, N, head_dim]; cos/sin: [N, head_dim/2].

    The rotation runs in the precision of cos/sin (float32) and is cast back to
    x's dtype, so bf16 inference does not round the angles. (The release computes
    its tables in float64 but casts them with the model, so in bf16 it rotates in
    bf16: one of the roundings benchmarks/README.md lists for the full-size parity.)
    """
    a, b = x.to(cos.dtype).unflatten(-1, (-1, 2)).unbind(-1)  # even / odd channels, [B, heads, N, d/2]
    rotated = torch.stack((a * cos - b * sin, a * sin + b * cos), dim=-1)
    return rotated.flatten(-2).to(x.dtype)
