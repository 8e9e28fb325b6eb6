"""Padding to the model's multiple must not show: the last rows and columns of an
output whose size is not a multiple of `pad_multiple` look like the rest of it."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from swiftvr_cli.evaluation import load_clip
from swiftvr_cli.model.loading import load_model
from swiftvr_cli.pipeline.inmemory import restore_tensor

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "bbb_160x90.mp4"  # real footage, x4 -> 640x360
EDGE = 4  # the last rows (columns) checked


@pytest.fixture(scope="module")
def restored_and_bicubic():
    model = load_model(None, "cpu", torch.float32)
    assert 360 % model.cfg.pad_multiple and 640 % model.cfg.pad_multiple == 0  # rows padded, columns not
    clip = load_clip(str(SAMPLE), max_frames=4)
    cases = {}
    # transposed, the same clip is 360x640: its right columns are padded instead of its rows
    for name, frames in {"rows": clip, "columns": clip.transpose(-1, -2).contiguous()}.items():
        ours = restore_tensor(model, frames, 4, clip_len=4)
        bicubic = F.interpolate(frames, size=ours.shape[-2:], mode="bicubic", align_corners=False).clamp(0, 1)
        difference = (ours - bicubic) * 255
        cases[name] = difference if name == "rows" else difference.transpose(-1, -2)
    return cases


@pytest.mark.parametrize("edge", ["rows", "columns"])
def test_last_rows_and_columns_of_a_640x360_output_look_like_the_interior(restored_and_bicubic, edge):
    # The model's correction over bicubic, row by row (grey levels). With zero padding rows
    # -3 and -2 were 6-12 levels off (a bright line); the interior rows vary by under 4.5.
    difference = restored_and_bicubic[edge]
    signed = difference.mean(dim=(0, 1, 3))
    size = difference.abs().mean(dim=(0, 1, 3))
    interior_signed, interior_size = signed[EDGE:-EDGE], size[EDGE:-EDGE]
    for row in range(-EDGE, 0):
        assert size[row] <= interior_size.max(), f"{edge} {row}: |correction| {size[row]:.2f} > interior max {interior_size.max():.2f}"
        assert abs(signed[row] - interior_signed.mean()) < 1.5, f"{edge} {row}: mean correction {signed[row]:.2f} vs {interior_signed.mean():.2f}"
