import pytest
import torch

from swiftvr_cli.model.config import ReAEConfig
from swiftvr_cli.model.reae import ReAE, StreamState



def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Equal up to float rounding: two forward passes over different inputs need not run
    the very same kernels (a changed frame is a real difference, far above this)."""
    return torch.allclose(a, b, rtol=0, atol=1e-12)

def _model(**kw) -> ReAE:
    model = ReAE(ReAEConfig(decoder_widths=(24, 20, 16), **kw)).double().eval()
    return model


def test_shapes_16x_spatial_4x_temporal():
    model = _model()
    x = torch.rand(1, 8, 3, 32, 48, dtype=torch.float64)
    z = model.encode(x, StreamState())
    assert z.shape == (1, 2, 48, 2, 3)
    y = model.decode(z, StreamState())
    assert y.shape == (1, 8, 3, 32, 48)
    assert y.min() >= 0 and y.max() <= 1


def test_encoder_streaming_equals_offline():
    model = _model()
    x = torch.rand(1, 16, 3, 32, 32, dtype=torch.float64)
    offline = model.encode(x, StreamState())
    state = StreamState()
    streamed = torch.cat([model.encode(x[:, :8], state), model.encode(x[:, 8:12], state), model.encode(x[:, 12:], state)], 1)
    assert torch.allclose(offline, streamed, atol=1e-12)


def test_decoder_streaming_equals_offline():
    model = _model()
    z = torch.randn(1, 5, 48, 2, 2, dtype=torch.float64)
    offline = model.decode(z, StreamState())
    state = StreamState()
    streamed = torch.cat([model.decode(z[:, :2], state), model.decode(z[:, 2:3], state), model.decode(z[:, 3:], state)], 1)
    assert torch.allclose(offline, streamed, atol=1e-12)


def test_encoder_and_decoder_are_causal():
    model = _model()
    x = torch.rand(1, 12, 3, 32, 32, dtype=torch.float64)
    changed = x.clone()
    changed[:, 8:] = torch.rand_like(changed[:, 8:])
    a, b = model.encode(x, StreamState()), model.encode(changed, StreamState())
    assert _same(a[:, :2], b[:, :2]) and not _same(a[:, 2:], b[:, 2:])
    z = torch.randn(1, 3, 48, 2, 2, dtype=torch.float64)
    z2 = z.clone()
    z2[:, 2] += 1
    da, db = model.decode(z, StreamState()), model.decode(z2, StreamState())
    assert _same(da[:, :8], db[:, :8]) and not _same(da[:, 8:], db[:, 8:])


def test_residual_decoder_returns_input_when_correction_is_zero():
    model = _model(residual=True)
    torch.nn.init.zeros_(model.decoder[22].weight)
    torch.nn.init.zeros_(model.decoder[22].bias)
    lq = torch.rand(1, 4, 3, 32, 32, dtype=torch.float64)
    z = torch.randn(1, 1, 48, 2, 2, dtype=torch.float64)
    assert torch.allclose(model.decode(z, StreamState(), lq), lq)


def _detail_model(grid: int = 4) -> ReAE:
    return _model(residual=True, detail_width=8, detail_layers=3, detail_grid=grid)


@pytest.mark.parametrize("grid", [4, 2])
def test_detail_branch_streaming_equals_offline_with_mask(grid):
    model = _detail_model(grid)
    z = torch.randn(1, 3, 48, 2, 2, dtype=torch.float64)
    lq = torch.rand(1, 12, 4, 32, 32, dtype=torch.float64)  # RGB + fill mask
    offline = model.decode(z, StreamState(), lq)
    state = StreamState()
    streamed = torch.cat([model.decode(z[:, :1], state, lq[:, :4]), model.decode(z[:, 1:], state, lq[:, 4:])], 1)
    assert torch.allclose(offline, streamed, atol=1e-12)


def test_detail_branch_is_causal_and_sees_the_mask():
    model = _detail_model()
    torch.nn.init.normal_(model.decoder[20].weight)
    z = torch.randn(1, 2, 48, 2, 2, dtype=torch.float64)
    lq = torch.rand(1, 8, 4, 32, 32, dtype=torch.float64)
    later = lq.clone()
    later[:, 5:, :3] = torch.rand_like(later[:, 5:, :3])
    a, b = model.decode(z, StreamState(), lq), model.decode(z, StreamState(), later)
    assert _same(a[:, :5], b[:, :5]) and not _same(a[:, 5:], b[:, 5:])
    rgb = lq[:, :, :3]
    no_mask = model.decode(z, StreamState(), rgb)
    nothing_to_fill = model.decode(z, StreamState(), torch.cat([rgb, torch.zeros_like(lq[:, :, :1])], 2))
    fill_all = model.decode(z, StreamState(), torch.cat([rgb, torch.ones_like(lq[:, :, :1])], 2))
    assert torch.equal(nothing_to_fill, rgb)  # pixels outside the mask are kept as given
    assert not torch.allclose(fill_all, no_mask)  # the mask is an input of the detail branch


def test_detail_branch_sees_the_previous_frame_only():
    """Frame 0 changed: frame 1 sees it (the branch pairs each frame with the one before), frame 2 no longer does."""
    model = _detail_model()
    lq = torch.rand(1, 8, 3, 32, 32, dtype=torch.float64)
    changed = lq.clone()
    changed[:, 0] = torch.rand_like(changed[:, 0])
    a, _ = model.detail(lq, None, None)
    b, _ = model.detail(changed, None, None)
    assert not _same(a[1], b[1]) and _same(a[2:], b[2:])  # frame 1 sees frame 0; later frames do not

