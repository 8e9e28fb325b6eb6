"""Saving the cross-chunk state (`--resume`): a restart continues bit-identically."""

import dataclasses

import torch

from swiftvr_cli.model.loading import random_model
from swiftvr_cli.model.presets import preset
from swiftvr_cli.model.state_file import load_state, save_state, snapshot
from swiftvr_cli.model.swiftvr import ChunkKind, RestoreState

DETAIL_TEST = dataclasses.replace(
    preset("test"), reae=dataclasses.replace(preset("test").reae, residual=True, detail_width=8, detail_layers=3)
)


def _model():
    model = random_model(DETAIL_TEST, seed=1)
    with torch.no_grad():
        for p in model.reae.detail.parameters():
            p.normal_(0, 0.1)  # a live branch
    return model.eval()


def test_state_with_the_detail_memory_round_trips(tmp_path):
    model = _model()
    frames = torch.rand(16, 3, 16, 16) * 255
    with torch.inference_mode():
        state = RestoreState()
        model.restore_chunk(frames[:12], ChunkKind.FIRST, state, size=(64, 64), clip_len=8)
        assert state.decoder.detail_past is not None
        save_state(snapshot(state), str(tmp_path / "state.safetensors"))
        expected, _ = model.restore_chunk(frames[12:], ChunkKind.MIDDLE, state, size=(64, 64), clip_len=4)
        restored_state = load_state(str(tmp_path / "state.safetensors"))
        again, _ = model.restore_chunk(frames[12:], ChunkKind.MIDDLE, restored_state, size=(64, 64), clip_len=4)
    assert torch.equal(expected, again)
