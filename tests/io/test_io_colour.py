"""Colour conversion: round trips, odd sizes, 10-bit precision, ranges."""

from __future__ import annotations

import pytest
import torch

from swiftvr_cli.io.colour import downsample_chroma, levels, planes_to_rgb, rgb_to_planes, upsample_chroma


def smooth_rgb(t: int, h: int, w: int) -> torch.Tensor:
    y = torch.linspace(0, 1, h).view(1, h, 1)
    x = torch.linspace(0, 1, w).view(1, 1, w)
    k = torch.arange(t, dtype=torch.float32).view(t, 1, 1) / max(t, 1)
    r = 0.5 + 0.35 * torch.sin(6.0 * x + k)
    g = 0.2 + 0.6 * y * torch.ones_like(x)
    b = 0.5 + 0.3 * torch.cos(4.0 * (x + y) - k)
    return torch.stack([r.expand(t, h, w), g.expand(t, h, w), b.expand(t, h, w)], dim=1)


@pytest.mark.parametrize("matrix", ["bt601", "bt709", "bt2020"])
@pytest.mark.parametrize("full_range", [False, True])
@pytest.mark.parametrize("subsampling", ["420", "444"])
@pytest.mark.parametrize("size", [(48, 64), (187, 333)])
def test_planes_rgb_planes_round_trip(matrix, full_range, subsampling, size):
    h, w = size
    kwargs = dict(matrix=matrix, full_range=full_range, bit_depth=8)
    y, u, v = rgb_to_planes(smooth_rgb(2, h, w), subsampling=subsampling, **kwargs)
    chroma = (h, w) if subsampling == "444" else ((h + 1) // 2, (w + 1) // 2)
    assert y.shape == (2, h, w) and u.shape == (2, *chroma) and y.dtype == torch.uint8
    rgb = planes_to_rgb(y, u, v, **kwargs)
    assert rgb.shape == (2, 3, h, w) and rgb.dtype == torch.float32
    assert 0.0 <= rgb.min() and rgb.max() <= 255.0
    y2, u2, v2 = rgb_to_planes(rgb / 255.0, subsampling=subsampling, **kwargs)
    for a, b in ((y, y2), (u, u2), (v, v2)):
        assert (a.int() - b.int()).abs().max() <= 2


def test_ten_bit_keeps_precision_and_scale():
    ramp = torch.arange(64, 941, dtype=torch.int32).view(1, 1, -1)  # every legal 10-bit luma code
    y = ramp.to(torch.int16)
    u = torch.full((1, 1, (ramp.shape[-1] + 1) // 2), 512, dtype=torch.int16)
    rgb = planes_to_rgb(y, u, u.clone(), matrix="bt709", full_range=False, bit_depth=10)
    values = rgb[0, 0, 0]
    assert values.unique().numel() > 800  # far more than 256 levels survive
    assert values[0].item() == pytest.approx(0.0, abs=1e-4) and values[-1].item() == pytest.approx(255.0, abs=1e-3)
    assert not torch.allclose(values, values.round())  # not crushed to 8-bit steps
    y2, u2, _ = rgb_to_planes(rgb / 255.0, matrix="bt709", full_range=False, bit_depth=10, subsampling="444")
    assert torch.equal(y2[0, 0], ramp[0, 0]) and y2.dtype == torch.int32
    assert (u2 - 512).abs().max() <= 1


def test_known_colours_and_legal_clamping():
    lv = levels(False, 8)
    assert (lv.y_min, lv.y_max, lv.c_min, lv.c_max) == (16, 235, 16, 240)
    white = torch.ones(1, 3, 2, 2)
    y, u, v = rgb_to_planes(white, matrix="bt709", full_range=False, bit_depth=8, subsampling="420")
    assert y.unique().tolist() == [235] and u.unique().tolist() == [128] and v.unique().tolist() == [128]
    over = torch.full((1, 3, 2, 2), 2.0)  # out-of-range input is clamped to legal codes
    y, _, _ = rgb_to_planes(over, matrix="bt709", full_range=False, bit_depth=8, subsampling="444")
    assert y.max().item() == 235
    red = torch.zeros(1, 3, 2, 2)
    red[:, 0] = 1.0
    y, u, v = rgb_to_planes(red, matrix="bt601", full_range=False, bit_depth=8, subsampling="444")
    assert (y[0, 0, 0].item(), u[0, 0, 0].item(), v[0, 0, 0].item()) == (81, 90, 240)  # BT.601 red
    back = planes_to_rgb(y, u, v, matrix="bt601", full_range=False, bit_depth=8)[0, :, 0, 0]
    assert torch.allclose(back, torch.tensor([255.0, 0.0, 0.0]), atol=1.5)


@pytest.mark.parametrize("siting", ["left", "center"])
def test_flat_chroma_survives_upsampling_and_odd_edges(siting):
    y = torch.full((1, 5, 7), 100, dtype=torch.uint8)
    u = torch.full((1, 3, 4), 90, dtype=torch.uint8)
    v = torch.full((1, 3, 4), 200, dtype=torch.uint8)
    rgb = planes_to_rgb(y, u, v, matrix="bt601", full_range=True, bit_depth=8, siting=siting)
    assert rgb.shape == (1, 3, 5, 7)
    assert torch.allclose(rgb, rgb[:, :, :1, :1].expand_as(rgb))


def test_bad_arguments_raise():
    y = torch.zeros(1, 4, 4, dtype=torch.uint8)
    with pytest.raises(ValueError, match="chroma shape"):
        planes_to_rgb(y, torch.zeros(1, 3, 3, dtype=torch.uint8), torch.zeros(1, 3, 3, dtype=torch.uint8),
                      matrix="bt601", full_range=False, bit_depth=8)
    with pytest.raises(ValueError, match="unknown colour matrix"):
        rgb_to_planes(torch.zeros(1, 3, 4, 4), matrix="xyz", full_range=False, bit_depth=8, subsampling="420")


@pytest.mark.parametrize("siting", ["left", "center"])
@pytest.mark.parametrize("size", [(6, 8), (7, 9), (1, 1), (187, 333)])
def test_downsampling_undoes_upsampling(siting, size):
    """Re-encoding an untouched picture must not blur its chroma (no generation loss)."""
    h, w = size
    chroma = torch.rand(2, 2, (h + 1) // 2, (w + 1) // 2, generator=torch.Generator().manual_seed(0))
    restored = downsample_chroma(upsample_chroma(chroma, h, w, siting), siting)
    assert restored.shape == chroma.shape
    assert torch.allclose(restored, chroma, atol=1e-5)


@pytest.mark.parametrize("siting", ["left", "center"])
def test_downsampling_rejects_the_highest_frequency(siting):
    stripes = torch.tensor([1.0, -1.0] * 8).view(1, 1, 1, 16).expand(1, 1, 4, 16).contiguous()
    halved = downsample_chroma(stripes, siting)
    assert halved[..., 1:-1].abs().max() < 1e-6  # alternating columns do not alias into chroma
