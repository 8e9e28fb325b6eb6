"""Fidelity and temporal-consistency metrics for restored clips.

All functions take float tensors shaped ``[T, 3, H, W]`` with RGB values in ``[0, 1]``.

Conventions (chosen so numbers are comparable with super-resolution papers):

* **Y channel**: BT.601 "studio swing" luma as used by MATLAB ``rgb2ycbcr`` and BasicSR,
  ``Y = 16 + 65.481 R + 128.553 G + 24.966 B`` for RGB in ``[0, 1]``; Y is in ``[16, 235]``
  on a 0..255 scale and PSNR uses a peak of 255.
* **Per-frame averaging**: PSNR and SSIM are computed per frame and then averaged over
  frames (the usual video-SR protocol), so one bad frame lowers the score by its share
  instead of dominating a pooled MSE.
* **No rounding**: inputs are used as given. For numbers identical to papers that load
  8-bit images, quantize first (``round(x * 255) / 255``); restored videos written to disk
  are 8-bit anyway.
* ``crop_border`` removes that many pixels on every side before measuring (papers crop
  ``scale`` pixels for SR).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

Y_WEIGHTS = (65.481, 128.553, 24.966)
LUMA_WEIGHTS = (0.299, 0.587, 0.114)  # BT.601, without the studio-swing scale and offset


def luma(x: torch.Tensor) -> torch.Tensor:
    """BT.601 luma of ``[T, 3, H, W]`` in the input's own range, ``[T, H, W]``."""
    return LUMA_WEIGHTS[0] * x[:, 0] + LUMA_WEIGHTS[1] * x[:, 1] + LUMA_WEIGHTS[2] * x[:, 2]


def _check_pair(a: torch.Tensor, b: torch.Tensor) -> None:
    if a.shape != b.shape:
        raise ValueError(f"shape mismatch: {tuple(a.shape)} vs {tuple(b.shape)}")
    if a.dim() != 4 or a.shape[1] != 3:
        raise ValueError(f"expected [T, 3, H, W], got {tuple(a.shape)}")


def _crop(x: torch.Tensor, border: int) -> torch.Tensor:
    if border <= 0:
        return x
    if 2 * border >= min(x.shape[-2:]):
        raise ValueError(f"crop_border={border} leaves nothing of {tuple(x.shape[-2:])}")
    return x[..., border:-border, border:-border]


def rgb_to_y(x: torch.Tensor, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """BT.601 luma on a 0..255 scale (16..235), ``[..., 3, H, W] -> [..., H, W]`` (float64 unless asked)."""
    x = x.to(dtype)
    r, g, b = x[..., 0, :, :], x[..., 1, :, :], x[..., 2, :, :]
    return 16.0 + Y_WEIGHTS[0] * r + Y_WEIGHTS[1] * g + Y_WEIGHTS[2] * b


def psnr(a: torch.Tensor, b: torch.Tensor, *, y_only: bool, crop_border: int = 0) -> float:
    """Mean over frames of per-frame PSNR in dB; ``inf`` if every frame is identical.

    With ``y_only`` the error is measured on BT.601 luma (peak 255), otherwise on RGB
    (peak 1, all three channels pooled per frame).
    """
    per_frame = psnr_per_frame(a, b, y_only=y_only, crop_border=crop_border)
    return sum(per_frame) / len(per_frame)


def psnr_per_frame(a: torch.Tensor, b: torch.Tensor, *, y_only: bool, crop_border: int = 0) -> list[float]:
    """PSNR in dB of each frame (``inf`` where a frame is identical); see ``psnr``."""
    _check_pair(a, b)
    a, b = _crop(a, crop_border), _crop(b, crop_border)
    if y_only:
        diff, peak = rgb_to_y(a) - rgb_to_y(b), 255.0
    else:
        diff, peak = a.to(torch.float64) - b.to(torch.float64), 1.0
    mse = diff.pow(2).flatten(1).mean(dim=1)
    return [math.inf if m == 0 else 10.0 * math.log10(peak * peak / m) for m in mse.tolist()]


def gain_summary(gains: list[float]) -> dict[str, float]:
    """Per-frame gains over a baseline (dB) -> mean, worst frame, mean of the worst 10 %.

    The worst frames are what a viewer notices: a model that wins on average but loses
    on soft or moving frames is not safe to ship.
    """
    if not gains:
        raise ValueError("no frames to summarise")
    ordered = sorted(gains)
    tail = ordered[: max(1, math.ceil(len(ordered) / 10))]
    return {"mean": sum(gains) / len(gains), "worst": ordered[0], "worst10": sum(tail) / len(tail)}


def _gaussian_window(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    coords = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(coords**2) / (2 * sigma**2))
    g = g / g.sum()
    return torch.outer(g, g)[None, None]


def ssim(a: torch.Tensor, b: torch.Tensor, *, crop_border: int = 0) -> float:
    """Mean over frames of SSIM on Y (Wang et al. 2004: 11x11 Gaussian, sigma 1.5,
    K1=0.01, K2=0.03, L=255, 'valid' filtering as in the reference MATLAB code)."""
    per_frame = ssim_per_frame(a, b, crop_border=crop_border)
    return sum(per_frame) / len(per_frame)


def ssim_per_frame(a: torch.Tensor, b: torch.Tensor, *, crop_border: int = 0) -> list[float]:
    """SSIM of each frame (see ``ssim``), one frame at a time in float32.

    A whole clip at once in float64 needs ~20 GB for 48 frames of 480p; per frame, the
    memory is that of one frame. Each frame is centred on its mean luma first (variances
    and covariances do not change) so float32 loses nothing to cancellation.
    """
    _check_pair(a, b)
    a, b = _crop(a, crop_border), _crop(b, crop_border)
    if min(a.shape[-2:]) < 11:
        raise ValueError("SSIM needs frames of at least 11x11 pixels")
    win = _gaussian_window().to(torch.float32)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    scores = []
    for t in range(a.shape[0]):
        x, y = rgb_to_y(a[t : t + 1], torch.float32)[:, None], rgb_to_y(b[t : t + 1], torch.float32)[:, None]
        centre = float(x.mean() + y.mean()) / 2
        x, y = x - centre, y - centre
        mu_x, mu_y = F.conv2d(x, win), F.conv2d(y, win)
        var_x = F.conv2d(x * x, win) - mu_x**2
        var_y = F.conv2d(y * y, win) - mu_y**2
        cov = F.conv2d(x * y, win) - mu_x * mu_y
        # the products of means are where float32 would round: combine in float64 (one frame)
        mu_x, mu_y, var_x, var_y, cov = (m.to(torch.float64) for m in (mu_x, mu_y, var_x, var_y, cov))
        mu_x, mu_y = mu_x + centre, mu_y + centre
        num = (2 * mu_x * mu_y + c1) * (2 * cov + c2)
        den = (mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2)
        scores.append(float((num / den).mean()))
    return scores


class ClipMetrics:
    """The metrics of ``evaluate``, fed a few frames at a time.

    Memory is that of the frames given to one ``add`` (plus one frame of luma kept for
    the temporal metrics), however long the clip; per-frame values are kept so the
    worst frames can be reported.
    """

    def __init__(self, *, crop_border: int = 0) -> None:
        self.crop_border = crop_border
        self.psnr_y: list[float] = []
        self.psnr_rgb: list[float] = []
        self.ssim: list[float] = []
        self._flicker: list[float] = []
        self._motion: list[float] = []
        self._motion_ref: list[float] = []
        self._previous: tuple[torch.Tensor, torch.Tensor] | None = None  # last frame's luma, restored and reference

    @property
    def frames(self) -> int:
        return len(self.psnr_y)

    def add(self, restored: torch.Tensor, reference: torch.Tensor) -> None:
        """The next frames of the clip, ``[t, 3, H, W]`` each."""
        _check_pair(restored, reference)
        restored, reference = _crop(restored, self.crop_border), _crop(reference, self.crop_border)
        self.psnr_y += psnr_per_frame(restored, reference, y_only=True)
        self.psnr_rgb += psnr_per_frame(restored, reference, y_only=False)
        self.ssim += ssim_per_frame(restored, reference)
        ours, ref = rgb_to_y(restored, torch.float32), rgb_to_y(reference, torch.float32)
        if self._previous is not None:
            ours, ref = torch.cat([self._previous[0], ours]), torch.cat([self._previous[1], ref])
        if ours.shape[0] >= 2:
            moved, moved_ref = ours[1:] - ours[:-1], ref[1:] - ref[:-1]
            self._flicker += (moved - moved_ref).abs().flatten(1).mean(dim=1).tolist()
            self._motion += moved.abs().flatten(1).mean(dim=1).tolist()
            self._motion_ref += moved_ref.abs().flatten(1).mean(dim=1).tolist()
        self._previous = (ours[-1:], ref[-1:])

    def result(self) -> dict[str, float]:
        """Means over frames (temporal metrics over frame pairs, only with 2 frames or more)."""
        if not self.frames:
            raise ValueError("no frames measured")
        out = {"psnr_y": _mean(self.psnr_y), "psnr_rgb": _mean(self.psnr_rgb), "ssim": _mean(self.ssim)}
        if self._flicker:
            out["flicker"] = _mean(self._flicker)
            out["temporal_diff"] = _mean(self._motion)
            out["temporal_diff_ref"] = _mean(self._motion_ref)
        return out


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def _frame_deltas(x: torch.Tensor) -> torch.Tensor:
    if x.dim() != 4 or x.shape[1] != 3:
        raise ValueError(f"expected [T, 3, H, W], got {tuple(x.shape)}")
    if x.shape[0] < 2:
        raise ValueError("temporal metrics need at least 2 frames")
    y = rgb_to_y(x)
    return y[1:] - y[:-1]


def flicker(restored: torch.Tensor, reference: torch.Tensor, *, crop_border: int = 0) -> float:
    """Temporal consistency error against the reference (lower is better).

    Mean over t of mean |(x[t+1] - x[t]) - (r[t+1] - r[t])| on Y (0..255 scale): it is zero
    when the restored clip changes between frames exactly as the reference does, and grows
    with flicker (changes the reference lacks) and with missing motion.
    """
    _check_pair(restored, reference)
    restored, reference = _crop(restored, crop_border), _crop(reference, crop_border)
    err = (_frame_deltas(restored) - _frame_deltas(reference)).abs()
    return float(err.flatten(1).mean(dim=1).mean())


def temporal_diff(x: torch.Tensor, *, crop_border: int = 0) -> float:
    """Mean |x[t+1] - x[t]| on Y (0..255 scale): how much a clip changes per frame."""
    return float(_frame_deltas(_crop(x, crop_border)).abs().mean())


def evaluate(restored: torch.Tensor, reference: torch.Tensor, *, crop_border: int = 0, frames_per_step: int = 4) -> dict[str, float]:
    """All metrics of ``restored`` against ``reference`` as plain floats (a few frames at a time)."""
    _check_pair(restored, reference)
    clip = ClipMetrics(crop_border=crop_border)
    for t in range(0, restored.shape[0], frames_per_step):
        clip.add(restored[t : t + frames_per_step], reference[t : t + frames_per_step])
    return clip.result()
