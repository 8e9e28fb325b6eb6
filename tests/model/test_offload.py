"""`--offload`: the DiT blocks stream from their files one block ahead; the output is the resident model's."""

import pytest
import torch

from swiftvr_cli.model.loading import WeightsError, load_model, load_official, random_model, save_embedded
from swiftvr_cli.model.presets import preset
from swiftvr_cli.model.swiftvr import ChunkKind, RestoreState
from swiftvr_cli.testing.tiny_checkpoint import write_tiny_official_checkpoint


@pytest.fixture(scope="module")
def sharded_dir(tmp_path_factory):
    # 3 layers: blocks split across the two shards, odd and even (shifted) windows both streamed
    return write_tiny_official_checkpoint(tmp_path_factory.mktemp("ckpt") / "swiftvr", num_layers=3, sharded=True)


def _restore_video(model, chunks=((ChunkKind.FIRST, 12), (ChunkKind.MIDDLE, 8), (ChunkKind.LAST, 5))):
    """Three chunks of one clip (64x48 -> x4: 8x6 tokens, two 4x4 windows across, shifted ones differ)."""
    gen = torch.Generator().manual_seed(1)
    state, outs = RestoreState(), []
    with torch.inference_mode():
        for kind, frames in chunks:
            x = torch.rand(frames, 3, 48, 64, generator=gen) * 255
            out, state = model.restore_chunk(x, kind, state, size=(192, 256), clip_len=8)
            outs.append(out)
    return torch.cat(outs)


def test_offload_output_equals_resident(sharded_dir):
    resident = _restore_video(load_official(sharded_dir))
    streamed_model = load_official(sharded_dir, offload=True)
    streamed = _restore_video(streamed_model)
    assert resident.shape == streamed.shape == (25, 3, 192, 256)
    torch.testing.assert_close(streamed, resident, rtol=0, atol=1e-6)
    assert resident.std() > 0.05  # a varied picture, not a constant both paths would agree on


def test_offload_keeps_the_blocks_off_the_device(sharded_dir):
    model = load_official(sharded_dir, offload=True)
    assert all(p.is_meta for p in model.transformer.blocks.parameters())
    assert not any(p.is_meta for name, p in model.named_parameters() if ".blocks." not in name)
    _restore_video(model, ((ChunkKind.LAST, 5),))
    assert all(p.is_meta for p in model.transformer.blocks.parameters())  # released after use


def test_offload_in_bf16_matches_resident_bf16(sharded_dir):
    resident = _restore_video(load_official(sharded_dir, dtype=torch.bfloat16), ((ChunkKind.LAST, 5),))
    streamed = _restore_video(load_official(sharded_dir, dtype=torch.bfloat16, offload=True), ((ChunkKind.LAST, 5),))
    torch.testing.assert_close(streamed.float(), resident.float(), rtol=0, atol=1e-3)


def test_offload_of_our_own_weights_file(tmp_path):
    model = random_model(preset("test"), seed=3)
    json_path = tmp_path / "m.json"
    save_embedded(model, json_path)
    resident = _restore_video(load_model(json_path), ((ChunkKind.LAST, 5),))
    streamed = _restore_video(load_model(json_path, offload=True), ((ChunkKind.LAST, 5),))
    torch.testing.assert_close(streamed, resident, rtol=0, atol=1e-6)


def test_offload_checks_block_shapes_at_load(tmp_path):
    root = write_tiny_official_checkpoint(tmp_path / "bad", num_layers=3, sharded=True)
    config = root / "transformer" / "config.json"
    config.write_text(config.read_text().replace('"ffn_dim": 48', '"ffn_dim": 40'))
    with pytest.raises(WeightsError, match="blocks.0.ffn.net.0.proj"):
        load_official(root, offload=True)
