import torch

from swiftvr_cli.fill import fill_masked


def test_known_pixels_are_kept_and_holes_take_their_surroundings():
    frames = torch.zeros(1, 3, 40, 60)
    frames[..., :, :30] = 100.0
    frames[..., :, 30:] = 200.0
    mask = torch.zeros(1, 1, 40, 60)
    mask[..., 10:30, 20:40] = 1
    damaged = frames.clone()
    damaged[mask.expand_as(frames) > 0] = 0.0
    filled = fill_masked(damaged, mask)
    keep = mask.expand_as(frames) == 0
    assert torch.equal(filled[keep], frames[keep])
    hole = filled[0, 0, 10:30, 20:40]
    assert 100 <= hole.min() and hole.max() <= 200
    assert hole[:, :3].mean() < 120 and hole[:, -3:].mean() > 180  # each side follows its border


def test_constant_frame_is_filled_exactly_and_fully_masked_frame_is_zero():
    frames = torch.full((2, 3, 17, 23), 77.0)
    mask = (torch.rand(2, 1, 17, 23) < 0.6).float()
    mask[1] = 1
    filled = fill_masked(frames * (1 - mask), mask)
    assert torch.allclose(filled[0], frames[0])
    assert torch.equal(filled[1], torch.zeros_like(filled[1]))
