"""Multi-frame shifted-window attention (MFSWA), mask-free.

Every window spans all latent frames of the chunk and Wh x Ww tokens in space.
Window starts are clamped inside the frame, so no window is ever padded or
masked; windows may overlap near the border and each token then takes its
output from exactly one "owner" window. The gather/scatter index tables depend
only on (frames, height, width, window, shift parity), so they are built once
and cached.

Token layout everywhere: a flat sequence of L x H x W tokens ordered
frame-major, then row, then column.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import torch
import torch.nn.functional as F


def window_starts(size: int, window: int, shift: int) -> list[int]:
    """Start positions of the windows along one axis.

    Starts k*window - shift are clamped to [0, size - window]; duplicates are
    removed, and a start is dropped when its two neighbours already cover it
    (c <= a + window), decided on the whole list before removing anything.
    """
    if size <= window:
        return [0]
    count = math.ceil(size / window) + 2
    starts = sorted({min(max(k * window - shift, 0), size - window) for k in range(count)})
    drop = {
        starts[i]
        for i in range(1, len(starts) - 1)
        if starts[i + 1] <= starts[i - 1] + window
    }
    return [s for s in starts if s not in drop]


def owner_start_index(starts: list[int], size: int, window: int, last: bool) -> torch.Tensor:
    """For every position on an axis, the index of the start that owns it.

    Even layers give a token to the lowest-numbered window that contains it,
    odd layers to the highest-numbered one; row-major numbering makes this
    choice separable per axis.
    """
    owner = torch.empty(size, dtype=torch.long)
    order = range(len(starts) - 1, -1, -1) if not last else range(len(starts))
    for i in order:  # later writes win: iterate so the wanted window writes last
        owner[starts[i] : starts[i] + window] = i
    return owner


@dataclass(frozen=True)
class WindowPlan:
    """Index tables for one (frames, height, width, window, shift) geometry.

    gather: [num_windows, L*wh*ww] token indices of each window.
    scatter: [L*H*W] position of each token's owner result in the flattened
        [num_windows * L*wh*ww] window output.
    """

    gather: torch.Tensor
    scatter: torch.Tensor
    num_windows: int
    window_tokens: int


@lru_cache(maxsize=64)
def build_window_plan(frames: int, height: int, width: int, window: tuple[int, int], odd_layer: bool) -> WindowPlan:
    wh, ww = min(window[0], height), min(window[1], width)
    row_starts = window_starts(height, wh, wh // 2 if odd_layer else 0)
    col_starts = window_starts(width, ww, ww // 2 if odd_layer else 0)

    t = torch.arange(frames).view(frames, 1, 1)
    r = torch.arange(wh).view(1, wh, 1)
    c = torch.arange(ww).view(1, 1, ww)
    windows = []
    for rs in row_starts:  # row starts outer: windows numbered row-major
        for cs in col_starts:
            idx = t * (height * width) + (r + rs) * width + (c + cs)  # [L, wh, ww]
            windows.append(idx.reshape(-1))
    gather = torch.stack(windows)  # [nW, L*wh*ww]

    own_r = owner_start_index(row_starts, height, wh, last=odd_layer)  # [H]
    own_c = owner_start_index(col_starts, width, ww, last=odd_layer)  # [W]
    rows = torch.arange(height)
    cols = torch.arange(width)
    win = own_r[:, None] * len(col_starts) + own_c[None, :]  # [H, W] owner window id
    local_r = rows[:, None] - torch.tensor(row_starts)[own_r][:, None]
    local_c = cols[None, :] - torch.tensor(col_starts)[own_c][None, :]
    n = frames * wh * ww
    local = t * (wh * ww) + (local_r * ww + local_c)[None]  # [L, H, W]
    scatter = (win[None] * n + local).reshape(-1)
    return WindowPlan(gather=gather, scatter=scatter, num_windows=len(windows), window_tokens=n)


@lru_cache(maxsize=64)
def _plan_on(frames: int, height: int, width: int, window: tuple[int, int], odd_layer: bool, device: torch.device) -> WindowPlan:
    plan = build_window_plan(frames, height, width, window, odd_layer)
    return WindowPlan(plan.gather.to(device), plan.scatter.to(device), plan.num_windows, plan.window_tokens)


def window_plan(grid: tuple[int, int, int], window: tuple[int, int], odd_layer: bool, device: torch.device) -> WindowPlan:
    """The plan's index tables on the compute device, built once per shape (not per layer
    call) and outside the (compilable) DiT blocks, which only index with them."""
    return _plan_on(*grid, tuple(window), odd_layer, torch.device(device))


def windowed_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, plan: WindowPlan) -> torch.Tensor:
    """Self-attention inside shifted windows that span all frames.

    q, k, v: [B, heads, L*H*W, head_dim]; plan from `window_plan` for the (L, H, W)
    token grid. Returns [B, heads, L*H*W, head_dim]. Falls back to one dense
    attention when a single window covers the whole frame.
    """
    if plan.num_windows == 1:
        return F.scaled_dot_product_attention(q, k, v)
    b, h, _, d = q.shape
    gather = plan.gather
    # [B, heads, nW, n, d] -> [B*nW, heads, n, d] so SDPA batches all windows at once
    def to_windows(x: torch.Tensor) -> torch.Tensor:
        w = x[:, :, gather]  # [B, heads, nW, n, d]
        return w.permute(0, 2, 1, 3, 4).reshape(b * plan.num_windows, h, plan.window_tokens, d)

    out = F.scaled_dot_product_attention(to_windows(q), to_windows(k), to_windows(v))
    out = out.reshape(b, plan.num_windows, h, plan.window_tokens, d).permute(0, 2, 1, 3, 4)
    out = out.reshape(b, h, plan.num_windows * plan.window_tokens, d)  # flattened window outputs
    return out[:, :, plan.scatter]


def window_block_mask(grid: tuple[int, int, int], window: tuple[int, int], odd_layer: bool) -> torch.Tensor:
    """Dense boolean [N, N] mask equivalent to MFSWA: token i attends to the
    tokens of the window that owns it. Used by tests and for debugging."""
    frames, height, width = grid
    plan = build_window_plan(frames, height, width, tuple(window), odd_layer)
    n_tokens = frames * height * width
    owner_window = plan.scatter // plan.window_tokens  # [N]
    member = torch.zeros(plan.num_windows, n_tokens, dtype=torch.bool)
    member.scatter_(1, plan.gather, True)
    return member[owner_window]
