"""Metric values against closed-form expectations."""

import math

import pytest
import torch

from swiftvr_cli import metrics

Y_NOISE_GAIN = math.sqrt(65.481**2 + 128.553**2 + 24.966**2)  # std of Y per unit RGB noise


def _textured(t: int = 2, h: int = 64, w: int = 64, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return 0.2 + 0.6 * torch.rand(t, 3, h, w, generator=g)


def test_identical_clips_are_perfect() -> None:
    x = _textured(3)
    assert metrics.psnr(x, x, y_only=True) == math.inf
    assert metrics.psnr(x, x, y_only=False) == math.inf
    assert metrics.ssim(x, x) == pytest.approx(1.0, abs=1e-9)
    assert metrics.flicker(x, x) == 0.0


@pytest.mark.parametrize("sigma", [0.01, 0.03])
def test_gaussian_noise_gives_expected_psnr(sigma: float) -> None:
    x = _textured(2, 128, 128)  # 32k samples per channel: sampling error ~0.04 dB
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(1)) * sigma
    y = x + noise  # no clipping: x stays in [0.2, 0.8]
    assert metrics.psnr(y, x, y_only=False) == pytest.approx(-20 * math.log10(sigma), abs=0.1)
    expected_y = 20 * math.log10(255 / (sigma * Y_NOISE_GAIN))
    assert metrics.psnr(y, x, y_only=True) == pytest.approx(expected_y, abs=0.1)


def test_psnr_is_averaged_per_frame() -> None:
    x = torch.full((2, 3, 16, 16), 0.5)
    y = x.clone()
    y[0] += 0.1  # 20 dB on RGB
    y[1] += 0.01  # 40 dB on RGB
    assert metrics.psnr(y, x, y_only=False) == pytest.approx(30.0, abs=1e-4)


def test_ssim_of_flat_frames_matches_luminance_term() -> None:
    a, b = 0.3, 0.5
    x, y = torch.full((1, 3, 16, 16), a), torch.full((1, 3, 16, 16), b)
    ya, yb = 16 + 219 * a, 16 + 219 * b  # the Y weights sum to 219
    c1 = (0.01 * 255) ** 2
    expected = (2 * ya * yb + c1) / (ya**2 + yb**2 + c1)
    assert metrics.ssim(x, y) == pytest.approx(expected, rel=1e-5)  # filtered in float32 (bounded memory)


def test_ssim_drops_with_noise() -> None:
    x = _textured(1, 32, 32)
    light = x + 0.01 * torch.randn(x.shape, generator=torch.Generator().manual_seed(2))
    heavy = x + 0.1 * torch.randn(x.shape, generator=torch.Generator().manual_seed(2))
    assert 1.0 > metrics.ssim(light, x) > metrics.ssim(heavy, x)


def test_flicker_and_temporal_diff() -> None:
    static = torch.full((3, 3, 8, 8), 0.5)
    blinking = static.clone()
    blinking[1] += 0.1  # Y jumps by 21.9 up, then down
    assert metrics.flicker(blinking, static) == pytest.approx(21.9, abs=1e-4)
    assert metrics.temporal_diff(blinking) == pytest.approx(21.9, abs=1e-4)
    assert metrics.temporal_diff(static) == 0.0
    # following the reference's own changes exactly is no flicker
    assert metrics.flicker(blinking, blinking.clone()) == 0.0


def test_evaluate_and_validation() -> None:
    x = _textured(3, 24, 24)
    y = (x + 0.02).clamp(0, 1)
    out = metrics.evaluate(y, x, crop_border=2)
    assert set(out) == {"psnr_y", "psnr_rgb", "ssim", "flicker", "temporal_diff", "temporal_diff_ref"}
    assert all(isinstance(v, float) for v in out.values())
    with pytest.raises(ValueError):
        metrics.psnr(x, x[:, :, :20], y_only=True)
    with pytest.raises(ValueError):
        metrics.flicker(x[:1], x[:1])


def test_gain_summary_reports_the_worst_frames():
    from swiftvr_cli.metrics import gain_summary

    gains = [1.0] * 18 + [-0.5, 0.2]
    summary = gain_summary(gains)
    assert summary["mean"] == pytest.approx((18 - 0.5 + 0.2) / 20)
    assert summary["worst"] == -0.5
    assert summary["worst10"] == pytest.approx((-0.5 + 0.2) / 2)  # the worst 2 of 20 frames
    with pytest.raises(ValueError):
        gain_summary([])


def test_psnr_is_the_mean_of_the_per_frame_values():
    from swiftvr_cli.metrics import psnr, psnr_per_frame

    g = torch.Generator().manual_seed(0)
    a, b = torch.rand(3, 3, 16, 16, generator=g), torch.rand(3, 3, 16, 16, generator=g)
    per_frame = psnr_per_frame(a, b, y_only=True)
    assert len(per_frame) == 3
    assert psnr(a, b, y_only=True) == pytest.approx(sum(per_frame) / 3)
