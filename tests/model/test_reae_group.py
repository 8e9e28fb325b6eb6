"""Micro-batched ReAE passes (`restore_chunk(reae_group=)`) give exactly the whole-chunk output."""

import dataclasses

import pytest
import torch

from swiftvr_cli.model.loading import random_model
from swiftvr_cli.model.swiftvr import ChunkKind, RestoreState

CLIP = 8
CHUNKS = [(ChunkKind.FIRST, CLIP + 4), (ChunkKind.MIDDLE, CLIP), (ChunkKind.LAST, 5)]  # a 25-frame video


def _restore_video(model, frames, masks, group, overlap):
    """Restore the video chunk by chunk; returns the frames and the per-part timings."""
    state, outs, start = RestoreState(timings={}), [], 0
    for kind, length in CHUNKS:
        mask = None if masks is None else masks[start : start + length]
        out, state = model.restore_chunk(
            frames[start : start + length], kind, state, size=(32, 32), clip_len=CLIP, overlap=overlap, mask=mask, reae_group=group
        )
        outs.append(out)
        start += length
    return torch.cat(outs), state.timings


@pytest.mark.parametrize("layout", ["residual_detail_mask", "official"])
def test_reae_groups_give_the_whole_chunk_output(tiny_config, layout):
    cfg, masks = tiny_config, None
    generator = torch.Generator().manual_seed(2)
    frames = torch.rand(25, 3, 8, 8, generator=generator) * 255
    if layout == "residual_detail_mask":
        reae = dataclasses.replace(cfg.reae, residual=True, detail_width=8, detail_layers=3)
        cfg = dataclasses.replace(cfg, reae=reae)
        masks = (torch.rand(25, 1, 8, 8, generator=generator) > 0.5).float()
    model = random_model(cfg, dtype=torch.float64, seed=1)
    whole, timings = _restore_video(model, frames, masks, 0, overlap=1)
    assert whole.shape == (25, 3, 32, 32)
    for group in (1, 2):  # 2: the FIRST chunk's 3 latents split unevenly (2 + 1)
        grouped, grouped_timings = _restore_video(model, frames, masks, group, overlap=1)
        assert torch.allclose(grouped, whole, atol=1e-6, rtol=0)
        assert grouped_timings.keys() == timings.keys() >= {"prepare", "reae_encode", "dit", "reae_decode"}


def test_silent_latent_path_is_skipped_with_identical_output():
    """A residual model whose decoder output layer is zero (only the detail branch trained)
    skips encoder, DiT and decoder at inference, frame for frame the same."""
    import dataclasses

    from swiftvr_cli.model.loading import random_model
    from swiftvr_cli.model.presets import preset
    from swiftvr_cli.model.swiftvr import RestoreState
    from swiftvr_cli.pipeline.chunker import chunk_all

    cfg = preset("tiny")
    cfg = dataclasses.replace(cfg, reae=dataclasses.replace(cfg.reae, detail_width=8, detail_layers=3))
    model = random_model(cfg, seed=0).double()
    torch.nn.init.zeros_(model.reae.decoder[-1].weight)
    torch.nn.init.zeros_(model.reae.decoder[-1].bias)
    video = torch.rand(14, 3, 16, 24, dtype=torch.float64) * 255

    def run(silent: bool) -> tuple[torch.Tensor, dict]:
        model.latent_path_silent = lambda: silent  # instance override
        state, outs = RestoreState(timings={}), []
        with torch.inference_mode():
            for chunk in chunk_all(list(video), 4):
                out, state = model.restore_chunk(torch.stack(chunk.items), chunk.kind, state, size=(64, 96), clip_len=4)
                outs.append(out)
        return torch.cat(outs)[: video.shape[0]], state.timings

    full, full_parts = run(False)
    fast, fast_parts = run(True)
    del model.latent_path_silent
    assert full.shape[0] == 14
    torch.testing.assert_close(full, fast, rtol=0, atol=1e-12)  # two code paths: equal up to rounding
    assert "dit" in full_parts and "dit" not in fast_parts
    with torch.inference_mode():
        assert model.latent_path_silent()
    assert not model.latent_path_silent()  # gradients on: training keeps the path
