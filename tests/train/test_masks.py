import torch

from swiftvr_cli.degradations import EVAL_DEGRADATIONS, degrade_fixed
from swiftvr_cli.train.masks import apply_mask, coverage, evaluation_mask, random_mask


def test_random_masks_are_reproducible_binary_and_mostly_static():
    masks = [random_mask(6, 64, 96, torch.Generator().manual_seed(seed)) for seed in range(20)]
    again = random_mask(6, 64, 96, torch.Generator().manual_seed(3))
    assert torch.equal(masks[3], again)
    for m in masks:
        assert m.shape == (6, 1, 64, 96)
        assert set(m.unique().tolist()) <= {0.0, 1.0}
        assert 0.0 < coverage(m) < 0.6
    static = sum(bool((m == m[:1]).all()) for m in masks)
    assert static >= 10


def test_evaluation_mask_is_fixed_and_covers_a_few_percent():
    m = evaluation_mask(3, 180, 320)
    assert torch.equal(m, evaluation_mask(3, 180, 320))
    assert 0.03 < coverage(m) < 0.15
    assert torch.equal(m[0], m[2])


def test_inpaint_degradation_paints_only_its_fill_mask_white():
    clip = torch.rand(2, 3, 48, 64) * 0.5
    lq = degrade_fixed(clip, "inpaint")
    mask = EVAL_DEGRADATIONS["inpaint"].fill_mask(clip).expand_as(clip) > 0
    assert torch.all(lq[mask] == 1.0)
    assert torch.allclose(lq[~mask], clip[~mask], atol=0.5 / 255 + 1e-6)
    assert torch.equal(apply_mask(clip, torch.zeros(2, 1, 48, 64)), clip)
    assert all(d.fill_mask(clip) is None for name, d in EVAL_DEGRADATIONS.items() if name != "inpaint")


def test_task_degradations_keep_the_size():
    clip = torch.rand(3, 3, 32, 48)
    for name in ("deblur", "denoise"):
        lq = degrade_fixed(clip, name)
        assert lq.shape == clip.shape
        assert (lq - clip).abs().mean() > 0.01
    assert torch.equal(degrade_fixed(clip, "denoise"), degrade_fixed(clip, "denoise"))  # fixed seed
