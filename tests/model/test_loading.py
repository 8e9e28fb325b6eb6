import json

import pytest
import torch
from safetensors.torch import load_file, save_file

from swiftvr_cli.model.loading import WeightsError, load_embedded, load_model, load_official, random_model, save_embedded
from swiftvr_cli.model.presets import preset
from swiftvr_cli.model.swiftvr import ChunkKind, RestoreState
from swiftvr_cli.testing.tiny_checkpoint import write_tiny_official_checkpoint


@pytest.fixture(scope="module")
def official_dir(tmp_path_factory):
    return write_tiny_official_checkpoint(tmp_path_factory.mktemp("ckpt") / "swiftvr")


def _run(model, frames=12):
    state = RestoreState()
    x = torch.rand(frames, 3, 24, 32, generator=torch.Generator().manual_seed(1)) * 255
    out, _ = model.restore_chunk(x, ChunkKind.FIRST, state, size=(96, 128), clip_len=frames - 4)
    return out


def test_official_layout_loads_and_runs(official_dir):
    model = load_official(official_dir)
    assert model.cfg.dit.num_layers == 2 and model.cfg.reae.decoder_widths == (24, 20, 16)
    out = _run(model)
    assert out.shape == (9, 3, 96, 128) and torch.isfinite(out).all()
    assert 0.05 < out.std() and out.min() >= 0 and out.max() <= 1


def test_bf16_weights_cast_to_requested_dtype(official_dir):
    model = load_official(official_dir, dtype=torch.float64)
    assert all(p.dtype == torch.float64 for p in model.parameters())


def test_sharded_variant_gives_the_same_model(tmp_path, official_dir):
    sharded = write_tiny_official_checkpoint(tmp_path / "sharded", sharded=True)
    a, b = load_official(official_dir), load_official(sharded)
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb and torch.equal(va, vb)


def test_missing_tensor_is_named(tmp_path, official_dir):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(official_dir, broken)
    path = broken / "reae.safetensors"
    tensors = load_file(str(path))
    del tensors["decoder.22.bias"]
    save_file(tensors, str(path))
    with pytest.raises(WeightsError, match=r"decoder\.22\.bias"):
        load_official(broken)


def test_wrong_shape_is_named(tmp_path, official_dir):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(official_dir, broken)
    path = broken / "transformer" / "diffusion_pytorch_model.safetensors"
    tensors = load_file(str(path))
    tensors["blocks.1.ffn.net.2.bias"] = torch.zeros(5)
    save_file(tensors, str(path))
    with pytest.raises(WeightsError, match=r"blocks\.1\.ffn\.net\.2\.bias.*shape"):
        load_official(broken)


def test_truncated_file_is_a_clear_error(tmp_path, official_dir):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(official_dir, broken)
    path = broken / "reae.safetensors"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(WeightsError, match="reae.safetensors"):
        load_official(broken)


def test_norm_added_q_keys_are_ignored(tmp_path, official_dir):
    import shutil

    extra = tmp_path / "extra"
    shutil.copytree(official_dir, extra)
    path = extra / "transformer" / "diffusion_pytorch_model.safetensors"
    tensors = load_file(str(path))
    tensors["blocks.0.attn2.norm_added_q.weight"] = torch.ones(24)
    save_file(tensors, str(path))
    load_official(extra)


def test_embedded_round_trip_and_checksum(tmp_path):
    model = random_model(preset("test"))
    json_path = tmp_path / "mine.json"
    save_embedded(model, json_path)
    loaded = load_model(json_path)
    torch.testing.assert_close(_run(model), _run(loaded), rtol=1e-6, atol=1e-6)  # a rebuilt model: equal up to rounding
    # a replaced weights file no longer matches the recorded sha256
    weights = json_path.with_suffix(".safetensors")
    tensors = load_file(str(weights))
    tensors["reae.decoder.22.bias"] += 1
    save_file(tensors, str(weights))
    with pytest.raises(WeightsError, match="sha256"):
        load_embedded(json_path)


def test_missing_weights_folder(tmp_path):
    with pytest.raises(WeightsError, match="not found|missing"):
        load_model(tmp_path / "nope.json")
    with pytest.raises(WeightsError):
        load_official(tmp_path / "nothing")


@pytest.mark.parametrize("retired,off,on", [("lq_skip_channels", 0, 4), ("lq_skip_layers", 1, 2), ("detail_recurrent", False, True)])
def test_retired_model_options_load_only_switched_off(tmp_path, retired, off, on):
    """Weights written before these options were retired still carry them, switched off."""
    model = random_model(preset("test"))
    json_path = tmp_path / "old.json"
    save_embedded(model, json_path)
    meta = json.loads(json_path.read_text())
    meta.pop("config_sha256", None)  # as in the files written before the options were retired
    meta["config"]["reae"][retired] = off
    json_path.write_text(json.dumps(meta))
    assert torch.equal(_run(model), _run(load_model(json_path)))
    meta["config"]["reae"][retired] = on
    json_path.write_text(json.dumps(meta))
    with pytest.raises(WeightsError, match=f"{retired}.*no longer supported"):
        load_model(json_path)
