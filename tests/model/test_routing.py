"""A detail branch with two experts blended per frame by a router (`model.routing`)."""

import pytest
import torch

from swiftvr_cli.model.reae import DetailBranch


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


def _force_router(routed: DetailBranch, alpha: float) -> None:
    """Make the router answer `alpha` for every frame (0 or 1 at the sigmoid's ends)."""
    with torch.no_grad():
        routed.router.head.weight.zero_()
        routed.router.head.bias.fill_(-50.0 if alpha == 0 else 50.0)


@pytest.mark.parametrize("alpha", [0, 1])
def test_router_at_either_end_runs_that_expert_alone(alpha):
    routed, base, alt = _branches()
    _force_router(routed, alpha)
    lq = torch.rand(1, 5, 3, 32, 48, dtype=torch.float64)
    expected = (alt if alpha else base)(lq, None, None)[0]
    assert torch.allclose(routed(lq, None, None)[0], expected, atol=1e-12)


def test_between_the_ends_the_frame_runs_through_interpolated_weights():
    routed, base, alt = _branches()
    with torch.no_grad():
        routed.router.head.weight.zero_()
        routed.router.head.bias.fill_(0.0)  # alpha 0.5 for every frame
        for (name, p), q in zip(base.body.named_parameters(), alt.body.parameters()):
            p.copy_((p + q) / 2)
    lq = torch.rand(1, 3, 3, 32, 32, dtype=torch.float64)
    assert torch.allclose(routed(lq, None, None)[0], base(lq, None, None)[0], atol=1e-12)


def test_each_frame_gets_its_own_share_from_itself_alone():
    """A span of a video restores as inside the whole run: a frame's alpha depends on it only."""
    routed, _, _ = _branches(seed=3)
    lq = torch.rand(1, 6, 3, 32, 32, dtype=torch.float64)
    lq[:, 3:] *= 0.2  # frames of another kind
    whole, memory = routed(lq[:, :2], None, None)
    rest, _ = routed(lq[:, 2:], None, memory)
    span, _ = routed(lq[:, 2:], None, routed(lq[:, 1:2], None, None)[1])
    assert torch.allclose(rest, span, atol=1e-12)
    x = torch.nn.functional.pixel_unshuffle(lq[0] - 0.5, 4)
    shares = routed.router(x)
    assert shares.shape == (6,) and 0 < shares.min() and shares.max() < 1
    assert not torch.allclose(shares[:3], shares[3:])  # different frames, different blends


def test_the_router_learns_through_the_blend():
    routed, _, _ = _branches()
    with torch.no_grad():  # alpha near 1/2: both experts take part
        routed.router.head.weight.mul_(1e-3)
        routed.router.head.bias.zero_()
    out, _ = routed(torch.rand(1, 2, 3, 32, 32, dtype=torch.float64), None, None)
    out.square().sum().backward()
    assert routed.router.head.weight.grad.abs().sum() > 0
    assert routed.alt[0].weight.grad.abs().sum() > 0 and routed.body[0].weight.grad.abs().sum() > 0


def test_a_fill_mask_still_reaches_a_routed_stem():
    routed, base, _ = _branches()
    _force_router(routed, 0)
    lq, mask = torch.rand(1, 2, 3, 32, 32, dtype=torch.float64), torch.ones(1, 2, 1, 32, 32, dtype=torch.float64)
    assert torch.allclose(routed(lq, mask, None)[0], base(lq, mask, None)[0], atol=1e-12)


def test_only_one_or_two_experts():
    with pytest.raises(ValueError, match="1 or 2 experts"):
        DetailBranch(8, 4, experts=3)
