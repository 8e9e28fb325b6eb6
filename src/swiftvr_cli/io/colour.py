"""Y'CbCr <-> R'G'B' conversion in torch, batched over frames.

Working on whole [T,...] batches (optionally on the GPU) avoids a per-frame
numpy/swscale round trip. RGB is gamma-encoded (no transfer function is
applied), as in every video pipeline.

Chroma siting: ``"left"`` (MPEG-2/H.264/HEVC default: chroma co-sited with
even luma columns, vertically between rows) or ``"center"`` (JPEG/MPEG-1).
Upsampling is separable linear interpolation with edge clamping; 4:2:0
downsampling uses the filters that undo it exactly (see
``downsample_chroma``), with edge replication. Odd sizes use
ceil(H/2) x ceil(W/2) chroma.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

# (Kr, Kb) luma coefficients of each matrix.
MATRICES: dict[str, tuple[float, float]] = {
    "bt601": (0.299, 0.114),
    "bt709": (0.2126, 0.0722),
    "bt2020": (0.2627, 0.0593),
}
SITINGS = ("left", "center")


@dataclass(frozen=True)
class Levels:
    """Integer code levels of one (range, bit depth) combination."""

    y_offset: float
    y_scale: float
    c_mid: float
    c_scale: float
    y_min: int
    y_max: int
    c_min: int
    c_max: int


def levels(full_range: bool, bit_depth: int) -> Levels:
    """Code levels as defined by BT.601/709/2020 (limited) or JPEG (full)."""
    if bit_depth < 8 or bit_depth > 16:
        raise ValueError(f"unsupported bit depth {bit_depth}")
    top = (1 << bit_depth) - 1
    if full_range:
        return Levels(0.0, float(top), float(1 << (bit_depth - 1)), float(top), 0, top, 0, top)
    s = 1 << (bit_depth - 8)
    return Levels(16.0 * s, 219.0 * s, 128.0 * s, 224.0 * s, 16 * s, 235 * s, 16 * s, 240 * s)


def _coefficients(matrix: str) -> tuple[float, float, float]:
    try:
        kr, kb = MATRICES[matrix]
    except KeyError:
        raise ValueError(f"unknown colour matrix {matrix!r}; expected one of {sorted(MATRICES)}") from None
    return kr, 1.0 - kr - kb, kb


def _check_siting(siting: str) -> None:
    if siting not in SITINGS:
        raise ValueError(f"unknown chroma siting {siting!r}; expected one of {SITINGS}")


def _upsample_axis(x: torch.Tensor, dim: int, n_out: int, shift: float) -> torch.Tensor:
    """Linear 2x upsampling along ``dim``; output sample i reads input position i/2 - shift."""
    n_in = x.shape[dim]
    pos = torch.arange(n_out, device=x.device, dtype=torch.float32) * 0.5 - shift
    pos = pos.clamp_(0.0, float(n_in - 1))
    i0 = pos.floor().long()
    i1 = (i0 + 1).clamp_(max=n_in - 1)
    w = (pos - i0.float())
    shape = [1] * x.dim()
    shape[dim] = n_out
    w = w.view(shape)
    a = x.index_select(dim, i0)
    b = x.index_select(dim, i1)
    return a + (b - a) * w


def upsample_chroma(c: torch.Tensor, height: int, width: int, siting: str = "left") -> torch.Tensor:
    """Upsample [..., ceil(H/2), ceil(W/2)] chroma to [..., H, W]."""
    _check_siting(siting)
    h_shift = 0.0 if siting == "left" else 0.25
    c = _upsample_axis(c, c.dim() - 2, height, 0.25)
    return _upsample_axis(c, c.dim() - 1, width, h_shift)


def _pad_rows(c: torch.Tensor, before: int, after: int) -> torch.Tensor:
    return F.pad(c, (0, 0, before, after), mode="replicate")


def _pad_cols(c: torch.Tensor, before: int, after: int) -> torch.Tensor:
    return F.pad(c, (before, after, 0, 0), mode="replicate")


def _taps(p: torch.Tensor, n: int, count: int, dim: int) -> list[torch.Tensor]:
    """The ``count`` shifted, 2x-decimated views of ``p`` along ``dim`` (last or second to last)."""
    if dim == p.dim() - 1:
        return [p[..., k : k + 2 * n - 1 : 2] for k in range(count)]
    return [p[..., k : k + 2 * n - 1 : 2, :] for k in range(count)]


def _halve_centred(p: torch.Tensor, n: int, dim: int) -> torch.Tensor:
    """[-1,3,3,-1]/4 on a signal padded by one sample each side."""
    a, b, c, d = _taps(p, n, 4, dim)
    return (b + c) * 0.75 - (a + d) * 0.25


def _halve_cosited(p: torch.Tensor, n: int, dim: int) -> torch.Tensor:
    """LeGall 5/3 low-pass [-1,2,6,2,-1]/8 on a signal padded by two samples each side."""
    a, b, c, d, e = _taps(p, n, 5, dim)
    return c * 0.75 + (b + d) * 0.25 - (a + e) * 0.125


def downsample_chroma(c: torch.Tensor, siting: str = "left") -> torch.Tensor:
    """Downsample [T,C,H,W] chroma to [T,C,ceil(H/2),ceil(W/2)].

    The filters are the exact inverses of ``upsample_chroma`` (biorthogonal
    pairs), so decode -> encode of untouched pictures does not blur chroma,
    and they null the highest frequency, so new detail does not alias.
    """
    _check_siting(siting)
    height, width = c.shape[-2], c.shape[-1]
    row_dim, col_dim = c.dim() - 2, c.dim() - 1
    if height % 2:
        c = _extend_centred(c, row_dim)
    c = _halve_centred(_pad_rows(c, 1, 1), (height + 1) // 2, row_dim)
    cols = (width + 1) // 2
    if siting == "center":
        if width % 2:
            c = _extend_centred(c, col_dim)
        return _halve_centred(_pad_cols(c, 1, 1), cols, col_dim)
    return _halve_cosited(_pad_cols(c, 2, 2 + width % 2), cols, col_dim)


def _extend_centred(c: torch.Tensor, dim: int) -> torch.Tensor:
    """Append the sample our upsampler would produce past an odd edge (exact for its output)."""
    last = c.narrow(dim, c.shape[dim] - 1, 1)
    if c.shape[dim] < 2:
        return torch.cat((c, last), dim)
    before = c.narrow(dim, c.shape[dim] - 2, 1)
    return torch.cat((c, last * 1.5 - before * 0.5), dim)


def planes_to_rgb(
    y: torch.Tensor,
    u: torch.Tensor,
    v: torch.Tensor,
    *,
    matrix: str,
    full_range: bool,
    bit_depth: int,
    siting: str = "left",
) -> torch.Tensor:
    """Integer Y/U/V planes ([T,H,W], chroma 4:2:0 or 4:4:4) -> float32 [T,3,H,W] RGB on 0..255.

    The result is not quantised, so 10-bit input keeps its extra precision.
    """
    if y.dim() != 3 or u.dim() != 3 or v.dim() != 3:
        raise ValueError("planes must be [T,H,W] tensors")
    if u.shape != v.shape:
        raise ValueError(f"U and V shapes differ: {tuple(u.shape)} vs {tuple(v.shape)}")
    t, height, width = y.shape
    chroma_hw = tuple(u.shape[1:])
    if chroma_hw not in ((height, width), ((height + 1) // 2, (width + 1) // 2)) or u.shape[0] != t:
        raise ValueError(f"chroma shape {tuple(u.shape)} does not fit luma {tuple(y.shape)}")
    kr, kg, kb = _coefficients(matrix)
    lv = levels(full_range, bit_depth)
    luma = (y.to(torch.float32) - lv.y_offset) * (1.0 / lv.y_scale)
    chroma = (torch.stack((u, v), dim=1).to(torch.float32) - lv.c_mid) * (1.0 / lv.c_scale)
    if chroma_hw != (height, width):
        chroma = upsample_chroma(chroma, height, width, siting)
    cb, cr = chroma[:, 0], chroma[:, 1]
    r = luma + (2.0 * (1.0 - kr)) * cr
    b = luma + (2.0 * (1.0 - kb)) * cb
    g = luma - (2.0 * kr * (1.0 - kr) / kg) * cr - (2.0 * kb * (1.0 - kb) / kg) * cb
    return torch.stack((r, g, b), dim=1).mul_(255.0).clamp_(0.0, 255.0)


def _quantise(x: torch.Tensor, scale: float, offset: float, lo: int, hi: int, dtype: torch.dtype) -> torch.Tensor:
    return (x * scale + offset).round_().clamp_(lo, hi).to(dtype)


@dataclass(frozen=True)
class YUVFrames:
    """A batch's integer Y, U, V planes, as `rgb_to_planes` returns them: what the encoder takes.

    Made where the frames were restored (on a GPU: the colour maths runs there and the
    copy to the host is 1.5 bytes per pixel at 8-bit 4:2:0 instead of 12 for float RGB).
    """

    y: torch.Tensor  # [T, H, W]
    u: torch.Tensor  # [T, H/2, W/2] (4:2:0) or [T, H, W] (4:4:4)
    v: torch.Tensor

    def __len__(self) -> int:
        return self.y.shape[0]

    def __getitem__(self, frames: slice) -> "YUVFrames":
        return self.map(lambda plane: plane[frames])

    def map(self, fn) -> "YUVFrames":
        return YUVFrames(fn(self.y), fn(self.u), fn(self.v))


def rgb_to_planes(
    rgb01: torch.Tensor,
    *,
    matrix: str,
    full_range: bool,
    bit_depth: int,
    subsampling: str,
    siting: str = "left",
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Float [T,3,H,W] RGB in [0,1] -> rounded, legal-range integer Y, U, V planes.

    Returns uint8 planes for 8-bit and int32 planes otherwise; chroma is
    [T,ceil(H/2),ceil(W/2)] for ``"420"`` and [T,H,W] for ``"444"``.
    """
    if rgb01.dim() != 4 or rgb01.shape[1] != 3:
        raise ValueError(f"expected [T,3,H,W] RGB, got {tuple(rgb01.shape)}")
    if subsampling not in ("420", "444"):
        raise ValueError(f"unknown subsampling {subsampling!r}; expected '420' or '444'")
    kr, kg, kb = _coefficients(matrix)
    lv = levels(full_range, bit_depth)
    rgb = rgb01.detach().to(torch.float32)
    r, g, b = rgb[:, 0], rgb[:, 1], rgb[:, 2]
    luma = kr * r + kg * g + kb * b
    chroma = torch.stack(((b - luma) / (2.0 * (1.0 - kb)), (r - luma) / (2.0 * (1.0 - kr))), dim=1)
    if subsampling == "420":
        chroma = downsample_chroma(chroma, siting)
    dtype = torch.uint8 if bit_depth <= 8 else torch.int32
    y = _quantise(luma, lv.y_scale, lv.y_offset, lv.y_min, lv.y_max, dtype)
    c = _quantise(chroma, lv.c_scale, lv.c_mid, lv.c_min, lv.c_max, dtype)
    return y, c[:, 0].contiguous(), c[:, 1].contiguous()
