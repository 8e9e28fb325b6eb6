"""Degradation pipeline: shapes, determinism, frame consistency, real codecs."""

import dataclasses

import numpy as np
import pytest
import torch

from tests import media

from swiftvr_cli import metrics
from swiftvr_cli.train import degrade as D


def _textured_clip(t: int = 3, h: int = 32, w: int = 32, seed: int = 0) -> torch.Tensor:
    """Smooth pattern plus fine detail, moving one pixel per frame."""
    g = torch.Generator().manual_seed(seed)
    base = torch.rand(1, 3, h // 4, w // 4 + t, generator=g)
    big = torch.nn.functional.interpolate(base, size=(h, w + 4 * t), mode="bicubic").clamp(0, 1)
    detail = 0.15 * torch.rand(1, 3, h, w + 4 * t, generator=g)
    canvas = (0.8 * big + detail).clamp(0, 1)
    return torch.cat([canvas[..., i : i + w] for i in range(t)])


def _only_blur_resize(scale: int) -> D.DegradeConfig:
    quiet = dataclasses.replace(D.StageConfig(), blur_prob=1.0, noise_prob=0.0, jpeg_prob=0.0)
    final = dataclasses.replace(D.CompressConfig(), jpeg_prob=0.0, video_prob=0.0)
    return D.DegradeConfig(scale=scale, first=quiet, second=quiet, second_prob=1.0, final=final)


@pytest.mark.parametrize("scale", [1, 2, 4])
def test_shapes_range_and_8bit_levels(scale: int) -> None:
    clip = _textured_clip(3, 32, 48)
    lq = D.degrade_clip(clip, D.DegradeConfig(scale=scale), torch.Generator().manual_seed(scale))
    assert lq.shape == (3, 3, 32 // scale, 48 // scale)
    assert lq.dtype == torch.float32
    assert 0.0 <= float(lq.min()) and float(lq.max()) <= 1.0
    assert torch.equal(lq, (lq * 255).round() / 255)


def test_deterministic_for_a_seed() -> None:
    clip = _textured_clip()
    cfg = D.DegradeConfig(scale=2)
    outs = [D.degrade_clip(clip, cfg, torch.Generator().manual_seed(s)) for s in (7, 7, 8)]
    assert torch.equal(outs[0], outs[1])
    assert not torch.equal(outs[0], outs[2])


def test_static_clip_stays_static_without_noise_or_codecs() -> None:
    frame = _textured_clip(1, 32, 32)
    static = frame.expand(4, -1, -1, -1).clone()
    for seed in range(3):
        lq = D.degrade_clip(static, _only_blur_resize(4), torch.Generator().manual_seed(seed))
        assert lq.shape == (4, 3, 8, 8)
        assert all(torch.equal(lq[0], lq[t]) for t in range(1, 4))


def test_noise_strength_is_shared_by_frames() -> None:
    stage = D.StageConfig(gaussian_prob=1.0, gaussian_sigma=(10.0, 10.0), gray_noise_prob=0.0)
    x = torch.full((4, 3, 32, 32), 0.5)
    noisy = D.add_noise(x, stage, torch.Generator().manual_seed(0))
    stds = (noisy - x).flatten(1).std(dim=1) * 255
    assert torch.allclose(stds, torch.full_like(stds, 10.0), rtol=0.08)
    assert not torch.equal(noisy[0], noisy[1])  # fresh noise per frame


def test_kernels_are_normalized_and_oriented() -> None:
    iso = D.gaussian_kernel(1.0, 1.0)
    assert iso.shape == (7, 7) and float(iso.sum()) == pytest.approx(1.0, abs=1e-6)
    wide = D.gaussian_kernel(2.0, 0.5, 0.0)
    tall = D.gaussian_kernel(2.0, 0.5, np.pi / 2)
    assert torch.allclose(wide, tall.T, atol=1e-6)
    line = D.motion_kernel(7.0, 0.0)
    assert float(line.sum()) == pytest.approx(1.0, abs=1e-6)
    centre = line.shape[0] // 2
    assert float(line[centre].sum()) > 0.99  # a horizontal line


def test_video_roundtrip_odd_sizes_and_crf() -> None:
    frames = D.to_uint8_frames(_textured_clip(4, 22, 34))[:, :21, :33]  # odd sizes
    ref = D.from_uint8_frames(frames)
    psnrs = {}
    for crf in (12, 45):
        out = D.video_roundtrip(frames, "libx264", crf, "veryfast")
        assert out.shape == frames.shape and out.dtype == np.uint8
        psnrs[crf] = metrics.psnr(D.from_uint8_frames(out), ref, y_only=True)
    assert psnrs[12] > 35 and psnrs[45] < psnrs[12] - 5


def test_x264_roundtrip_is_the_same_bytes_every_time() -> None:
    # Evaluation inputs go through this encode; on AVX-512 CPUs x264's default kernels made
    # about half of these encodes differ (degradations._x264_options).
    frames = media.moving_waves()
    first = D.video_roundtrip(frames, "libx264", 28, "medium")
    for _ in range(7):
        assert np.array_equal(D.video_roundtrip(frames, "libx264", 28, "medium"), first)


def test_x265_small_frames_are_padded_and_deterministic() -> None:
    frames = D.to_uint8_frames(_textured_clip(3, 12, 20))
    a = D.video_roundtrip(frames, "libx265", 30, "ultrafast")
    b = D.video_roundtrip(frames, "libx265", 30, "ultrafast")
    assert a.shape == frames.shape and np.array_equal(a, b)


def test_jpeg_quality_and_mapping() -> None:
    assert [D.jpeg_qscale(q) for q in (95, 75, 50, 10)] == [1, 4, 8, 31]
    frames = D.to_uint8_frames(_textured_clip(2, 24, 24))[:, :23, :21]
    ref = D.from_uint8_frames(frames)
    good = D.from_uint8_frames(D.jpeg_roundtrip(frames, 95))
    bad = D.from_uint8_frames(D.jpeg_roundtrip(frames, 20))
    assert good.shape == ref.shape
    assert metrics.psnr(good, ref, y_only=True) > metrics.psnr(bad, ref, y_only=True) + 3


def test_eval_presets() -> None:
    clip = _textured_clip(3, 32, 48)
    x4 = D.degrade_fixed(clip, "x4")
    assert x4.shape == (3, 3, 8, 12)
    assert torch.equal(x4, D.degrade_fixed(clip, "x4"))
    assert D.degrade_fixed(clip, "x2").shape == (3, 3, 16, 24)
    crf35 = D.degrade_fixed(clip, "crf35")
    assert crf35.shape == clip.shape
    assert metrics.psnr(crf35, clip, y_only=True) < 40
    with pytest.raises(ValueError):
        D.degrade_fixed(clip[..., :30], "x4")  # 30 is not a multiple of 4
    assert D.crop_to_multiple(clip[..., :30], 4).shape[-1] == 28
    with pytest.raises(KeyError):
        D.degrade_fixed(clip, "x3")
