"""A detail branch with two experts blended per frame by a router (`model.routing`)."""

import dataclasses
import math
from pathlib import Path

import pytest
import torch

from swiftvr_cli.degradations import degrade_fixed
from swiftvr_cli.model.loading import random_model
from swiftvr_cli.model.presets import preset
from swiftvr_cli.model.reae import DetailBranch
from swiftvr_cli.model.routing import FEATURES, FrameRouter, damage_features
from swiftvr_cli.model.state_file import load_state, save_state, snapshot
from swiftvr_cli.model.swiftvr import ChunkKind, RestoreState
from swiftvr_cli.train.data import read_video

SAMPLE = Path(__file__).parents[2] / "samples" / "bbb_val_320x180.mp4"


def _branches(seed: int = 0) -> tuple[DetailBranch, DetailBranch, DetailBranch]:
    """A routed branch and two plain ones holding its base and its specialist."""
    torch.manual_seed(seed)
    routed = DetailBranch(8, 4, grid=4, experts=2).double()
    with torch.no_grad():
        for p in routed.parameters():
            p.normal_(0, 0.1)
    base, alt = DetailBranch(8, 4, grid=4).double(), DetailBranch(8, 4, grid=4).double()
    base.body.load_state_dict(routed.body.state_dict())
    alt.body.load_state_dict(routed.alt.state_dict())
    return routed, base, alt


@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_alpha_at_either_end_runs_that_expert_alone(alpha):
    routed, base, alt = _branches()
    lq = torch.rand(1, 5, 3, 32, 48, dtype=torch.float64)
    expected = (alt if alpha else base)(lq, None, None)[0]
    shares = torch.full((1, 5), alpha, dtype=torch.float64)
    assert torch.allclose(routed(lq, None, None, shares)[0], expected, atol=1e-12)


def test_between_the_ends_the_frame_runs_through_interpolated_weights():
    routed, base, alt = _branches()
    with torch.no_grad():
        for p, q in zip(base.body.parameters(), alt.body.parameters()):
            p.copy_((p + q) / 2)
    lq = torch.rand(1, 3, 3, 32, 32, dtype=torch.float64)
    half = torch.full((1, 3), 0.5, dtype=torch.float64)
    assert torch.allclose(routed(lq, None, None, half)[0], base(lq, None, None)[0], atol=1e-12)


def test_each_frame_runs_with_its_own_share():
    routed, base, alt = _branches()
    lq = torch.rand(1, 4, 3, 32, 32, dtype=torch.float64)
    out, _ = routed(lq, None, None, torch.tensor([[0.0, 1.0, 1.0, 0.0]], dtype=torch.float64))
    frames = [base(lq, None, None)[0].unflatten(0, (4, -1)), alt(lq, None, None)[0].unflatten(0, (4, -1))]
    out = out.unflatten(0, (4, -1))
    for index, expert in enumerate([0, 1, 1, 0]):
        assert torch.allclose(out[index], frames[expert][index], atol=1e-12)


def test_a_routed_branch_needs_shares_and_a_plain_one_takes_none():
    routed, base, _ = _branches()
    lq = torch.rand(1, 2, 3, 32, 32, dtype=torch.float64)
    with pytest.raises(ValueError, match="alpha"):
        routed(lq, None, None)
    with pytest.raises(ValueError, match="alpha"):
        base(lq, None, None, torch.zeros(1, 2, dtype=torch.float64))


def test_gradients_reach_both_experts_through_the_blend():
    routed, _, _ = _branches()
    shares = torch.full((1, 2), 0.5, dtype=torch.float64, requires_grad=True)
    out, _ = routed(torch.rand(1, 2, 3, 32, 32, dtype=torch.float64), None, None, shares)
    out.square().sum().backward()
    assert shares.grad.abs().sum() > 0
    assert routed.alt[0].weight.grad.abs().sum() > 0 and routed.body[0].weight.grad.abs().sum() > 0


def test_a_fill_mask_still_reaches_a_routed_stem():
    routed, base, _ = _branches()
    lq, mask = torch.rand(1, 2, 3, 32, 32, dtype=torch.float64), torch.ones(1, 2, 1, 32, 32, dtype=torch.float64)
    zeros = torch.zeros(1, 2, dtype=torch.float64)
    assert torch.allclose(routed(lq, mask, None, zeros)[0], base(lq, mask, None)[0], atol=1e-12)


def test_only_one_or_two_experts():
    with pytest.raises(ValueError, match="1 or 2 experts"):
        DetailBranch(8, 4, experts=3)


# -- the router's features ----------------------------------------------------------------


def test_features_see_a_codec_and_not_the_picture():
    """Real frames as a plain downscale and through a codec differ in their features; the
    block profile is a ratio, so contrast does not move it; a frame's features are its own."""
    clip = read_video(SAMPLE)[:4, :, :176, :256].float() / 255
    plain, coded = degrade_fixed(clip, "x4-area"), degrade_fixed(clip, "x4")
    f_plain, f_coded = damage_features(plain), damage_features(coded)
    assert f_plain.shape == (4, FEATURES) and torch.isfinite(f_plain).all()
    assert torch.allclose(damage_features(plain[2:]), f_plain[2:])
    assert (f_coded - f_plain).abs().mean() > 0.1
    softer = damage_features(plain * 0.5 + 0.25)
    assert torch.allclose(softer[:, :16], f_plain[:, :16], atol=0.02)  # the 8-pixel block profile
    assert torch.allclose(softer[:, 16], f_plain[:, 16] + math.log(0.5), atol=0.02)  # the overall gradient


def test_the_router_reads_each_frame_alone_and_its_offset_moves_the_decision():
    router = FrameRouter()
    torch.manual_seed(0)
    frames = torch.rand(6, 3, 40, 48)
    frames[3:] = frames[3:] * 0.2
    router.standardize(damage_features(frames))
    alpha = router(frames)
    assert alpha.shape == (6,) and torch.allclose(router(frames[3:]), alpha[3:])
    assert not torch.allclose(alpha[:3], alpha[3:])
    with torch.no_grad():
        router.offset.fill_(2.0)
    assert (router(frames) < alpha).all()


# -- a routed model restores a video in chunks, and a resumed span as in the whole run ------


def _routed_model():
    cfg = preset("tiny-routed")
    cfg = dataclasses.replace(cfg, reae=dataclasses.replace(cfg.reae, detail_width=8, detail_layers=3))
    model = random_model(cfg, seed=2)
    with torch.no_grad():
        for p in model.reae.detail.parameters():
            p.normal_(0, 0.1)
    return model.eval()


def test_a_routed_model_resumes_a_video_exactly(tmp_path):
    model = _routed_model()
    torch.manual_seed(1)
    frames = torch.rand(20, 3, 24, 32) * 255
    frames[10:] = frames[10:].round() * 0.3  # later frames of another kind: other shares
    size = (96, 128)
    with torch.inference_mode():
        shares = model.route(frames[None])[0]
        assert shares.shape == (20,) and not torch.allclose(shares[:10], shares[10:])
        state = RestoreState()
        first, _ = model.restore_chunk(frames[:12], ChunkKind.FIRST, state, size=size, clip_len=8)
        save_state(snapshot(state), str(tmp_path / "state.safetensors"))
        expected, _ = model.restore_chunk(frames[12:20], ChunkKind.MIDDLE, state, size=size, clip_len=8)
        again, _ = model.restore_chunk(frames[12:20], ChunkKind.MIDDLE, load_state(str(tmp_path / "state.safetensors")), size=size, clip_len=8)
    assert state.route_tail is not None and state.route_tail.shape == (1, 3)
    assert first.shape == (9, 3, *size) and torch.equal(expected, again)
