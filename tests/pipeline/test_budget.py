"""The memory check tries fewer latents per ReAE pass (same output) before a smaller chunk."""

from types import SimpleNamespace

import pytest
import torch

from swiftvr_cli.model.presets import preset
from swiftvr_cli.pipeline import budget
from swiftvr_cli.pipeline.budget import GIB, Fit, MemoryBudgetError
from swiftvr_cli.pipeline.runner import RestoreSettings
from swiftvr_cli.pipeline.safeguards import fit_to_memory

CFG = preset("tiny")
SIZES = ((540, 960), (2160, 3840))  # 960x540 -> 4K
GPU = torch.device("cuda")  # only its type matters: the model's activations must fit
SHAPE = budget.RunShape(CFG, *SIZES, torch.bfloat16, GPU)


def need(chunk: int, group: int) -> int:
    return budget.estimate(SHAPE, chunk, reae_group=group).on(GPU)


def fit(limit: int, chunk: int = 24, **options) -> Fit:
    return budget.check(SHAPE, chunk, limit, **options)


def test_smaller_reae_groups_need_less():
    assert need(24, 0) == need(24, 7) == need(24, 99)  # 28 frames: 7 latents, a group of 7+ is the whole chunk
    assert need(24, 0) > need(24, 4) > need(24, 2) > need(24, 1)
    assert budget.reae_groups(7) == [0, 4, 2, 1] and budget.reae_groups(7, 2) == [2, 1]


def test_a_smaller_reae_group_fits_before_the_chunk_is_lowered():
    assert fit(need(24, 0)) == Fit(24, 0)  # fits as asked: nothing changes
    assert fit(need(24, 2)) == Fit(24, 2)
    limit = (need(24, 1) + need(24, 2)) // 2
    assert fit(limit) == Fit(24, 1)  # no error, the chunk kept
    assert fit(limit, auto=True) == Fit(24, 1)  # --auto too: the exact option comes first
    assert fit(need(24, 0), reae_group=1) == Fit(24, 1)  # a group asked for is kept


def test_the_chunk_is_lowered_only_when_no_group_fits():
    limit = (need(16, 1) + need(24, 1)) // 2
    with pytest.raises(MemoryBudgetError, match="at --chunk 24 needs about .* even with --reae-group 1") as refused:
        fit(limit)
    assert f"--chunk 4 needs about {need(4, 1) / GIB:.1f} GiB" in str(refused.value)  # the advice's smallest chunk
    lowered = fit(limit, auto=True)
    assert lowered.clip_len == 12 and need(12, lowered.reae_group) <= limit  # 24 -> 12 (16 frames, 4 latents)
    larger = budget.reae_groups(4)[: budget.reae_groups(4).index(lowered.reae_group)]
    assert all(need(12, group) > limit for group in larger)  # the largest group that fits


def test_fit_to_memory_sets_the_group_and_says_so():
    model = SimpleNamespace(cfg=CFG, device=GPU, dtype=torch.bfloat16, streams_weights=False, prompt_len=16)
    info = SimpleNamespace(height=540, width=960, frame_count=None)
    notes: list[str] = []
    shape = budget.RunShape(CFG, *SIZES, torch.bfloat16, GPU, prompt_len=16)
    peak = {g: budget.estimate(shape, 24, reae_group=g).peak(GPU) for g in (1, 2)}
    settings = RestoreSettings(scale=4, clip_len=24, max_memory=(peak[1] + peak[2]) // 2)  # --max-memory: the whole run
    fitted = fit_to_memory(model, settings, info, notes)
    assert (fitted.clip_len, fitted.reae_group) == (24, 1)
    assert notes == ["decoding 1 latent per ReAE pass (--reae-group 1; same output) to fit in memory"]
    notes.clear()
    assert fit_to_memory(model, fitted, info, notes) == fitted and notes == []  # a fitted run fits as it is
