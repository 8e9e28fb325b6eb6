"""--strength: a knob between the plain upscale (0) and the model's correction (1), up to 2."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from swiftvr_cli.model.loading import WeightsError, load_embedded
from swiftvr_cli.pipeline.inmemory import restore_tensor

SHIPPED = Path(__file__).resolve().parents[2] / "weights" / "swiftvr-tiny.json"


@pytest.fixture(scope="module")
def model():
    return load_embedded(SHIPPED)


@pytest.fixture(scope="module")
def clip() -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    base = torch.rand(1, 3, 12, 16, generator=g)
    frames = F.interpolate(base, size=(24, 32), mode="bilinear", align_corners=False)
    return torch.cat([frames.roll(t, dims=-1) for t in range(9)]).clamp(0, 1)  # 9 frames, a slow pan


def test_strength_zero_is_the_bicubic_upscale(model, clip, one_torch_thread):
    out = restore_tensor(model, clip, 4, clip_len=4, strength=0.0)
    bicubic = F.interpolate(clip * 255, size=(96, 128), mode="bicubic", align_corners=False).clamp(0, 255) / 255
    torch.testing.assert_close(out, bicubic, atol=1e-5, rtol=0)


def test_strength_scales_the_correction(model, clip, one_torch_thread):
    full = restore_tensor(model, clip, 4, clip_len=4)
    assert model.default_strength == 1.0
    torch.testing.assert_close(restore_tensor(model, clip, 4, clip_len=4, strength=1.0), full, atol=1e-6, rtol=0)
    plain = restore_tensor(model, clip, 4, clip_len=4, strength=0.0)
    assert float((full - plain).abs().mean()) > 1e-3  # the model does correct something here
    half = restore_tensor(model, clip, 4, clip_len=4, strength=0.5)
    torch.testing.assert_close(half, (plain + full) / 2, atol=1e-5, rtol=0)
    double = restore_tensor(model, clip, 4, clip_len=4, strength=2.0)
    torch.testing.assert_close(double, (2 * full - plain).clamp(0, 1), atol=1e-5, rtol=0)


def test_out_of_range_strength_is_refused(model, clip):
    with pytest.raises(ValueError, match="strength"):
        restore_tensor(model, clip, 4, clip_len=4, strength=2.5)


def test_weights_carry_their_validated_default(tmp_path, model, clip, one_torch_thread):
    for suffix in (".json", ".safetensors"):
        shutil.copy(SHIPPED.with_suffix(suffix), tmp_path / f"m{suffix}")
    meta = json.loads((tmp_path / "m.json").read_text())
    meta["inference"] = {"strength": 0.5}
    (tmp_path / "m.json").write_text(json.dumps(meta))
    tuned = load_embedded(tmp_path / "m.json")
    assert tuned.default_strength == 0.5
    torch.testing.assert_close(
        restore_tensor(tuned, clip, 4, clip_len=4), restore_tensor(model, clip, 4, clip_len=4, strength=0.5), atol=1e-6, rtol=0
    )
    meta["inference"] = {"strength": 7}
    (tmp_path / "m.json").write_text(json.dumps(meta))
    with pytest.raises(WeightsError, match="strength"):
        load_embedded(tmp_path / "m.json")


def test_restore_and_batch_take_strength(tmp_path, fast_weights, one_torch_thread):
    from typer.testing import CliRunner

    from swiftvr_cli.cli import app
    from tests import media

    runner = CliRunner()
    (tmp_path / "in").mkdir()
    src = media.make_video(tmp_path / "in" / "a.mp4", frames=5, size=(32, 32))
    bad = runner.invoke(app, ["restore", src, str(tmp_path / "o.mp4"), "--strength", "2.5", "--weights", fast_weights])
    assert bad.exit_code == 2 and "strength" in bad.output
    assert not (tmp_path / "o.mp4").exists()
    ok = runner.invoke(app, ["restore", src, str(tmp_path / "o.mp4"), "--strength", "0.5", "--weights", fast_weights, "--chunk", "8", "--quiet"])
    assert ok.exit_code == 0, ok.output
    args = ["batch", str(tmp_path / "in"), str(tmp_path / "out"), "--weights", fast_weights, "--chunk", "8", "--quiet"]
    assert runner.invoke(app, [*args, "--strength", "0.5"]).exit_code == 0
    manifest = [json.loads(line) for line in (tmp_path / "out" / ".swiftvr" / "manifest.jsonl").read_text().splitlines()]
    assert manifest[-1]["status"] == "ok" and manifest[-1]["settings"]["strength"] == 0.5
    # a different strength is different work: redone, not skipped
    assert runner.invoke(app, [*args, "--strength", "1.0"]).exit_code == 0
    manifest = [json.loads(line) for line in (tmp_path / "out" / ".swiftvr" / "manifest.jsonl").read_text().splitlines()]
    assert manifest[-1]["status"] == "ok" and manifest[-1]["settings"]["strength"] == 1.0
