"""`--compile`: same frames as the eager model, and a clear line where it cannot run."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch
from typer.testing import CliRunner

from swiftvr_cli.cli import app
from swiftvr_cli.model import compiled
from swiftvr_cli.model.loading import random_model
from swiftvr_cli.model.presets import preset
from swiftvr_cli.model.reae import MemBlock
from swiftvr_cli.model.swiftvr import ChunkKind, RestoreState
from tests import media

runner = CliRunner()
# the test preset with a residual decoder and a detail branch: every compiled part is live
LIVE_CONFIG = dataclasses.replace(
    preset("test"), reae=dataclasses.replace(preset("test").reae, residual=True, detail_width=8, detail_layers=3)
)
CPU_COMPILER_MISSING = compiled.compile_unavailable_reason(torch.device("cpu"))


def _live_model():
    model = random_model(LIVE_CONFIG, seed=2)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.02)  # no zero-initialised layer left silent
    return model.eval()


def _restore_three_chunks(model) -> list[torch.Tensor]:
    torch.manual_seed(3)
    frames = torch.rand(21, 3, 24, 40) * 255
    state, outputs = RestoreState(), []
    with torch.inference_mode():
        for kind, part, clip in ((ChunkKind.FIRST, frames[:12], 8), (ChunkKind.MIDDLE, frames[12:20], 8), (ChunkKind.LAST, frames[20:], 8)):
            out, state = model.restore_chunk(part, kind, state, size=(96, 160), clip_len=clip)
            outputs.append(out.clone())
    return outputs


@pytest.mark.slow
@pytest.mark.skipif(CPU_COMPILER_MISSING is not None, reason=f"torch.compile unavailable: {CPU_COMPILER_MISSING}")
def test_compiled_model_restores_the_same_frames_in_every_chunk_kind(one_torch_thread):
    model = _live_model()
    eager = _restore_three_chunks(model)
    memory_blocks = sum(isinstance(m, MemBlock) for m in model.reae.modules())
    assert compiled.compile_model(model) == len(model.transformer.blocks) + memory_blocks + 1  # + the detail branch
    try:
        again = _restore_three_chunks(model)
        assert [o.shape for o in again] == [o.shape for o in eager]
        for a, b in zip(again, eager):
            assert torch.allclose(a, b, atol=1e-5), (a - b).abs().max()
        assert sorted(model.state_dict()) == sorted(_live_model().state_dict())  # weight names unchanged
    finally:
        compiled.reset_compiled()


def test_compile_without_a_cpp_compiler_is_one_clear_error(monkeypatch):
    monkeypatch.setattr(compiled.shutil, "which", lambda name: None)
    with pytest.raises(compiled.CompileUnavailable, match="no C\\+\\+ compiler found"):
        compiled.compile_model(_live_model())


def test_restore_with_compile_but_no_compiler_notes_it_and_restores(tmp_path, fast_weights, monkeypatch, one_torch_thread):
    monkeypatch.setattr(compiled.shutil, "which", lambda name: None)
    src = media.make_video(tmp_path / "in.mp4", frames=9, size=(48, 32))
    out = tmp_path / "out.mp4"
    result = runner.invoke(app, ["restore", src, str(out), "--weights", fast_weights, "--chunk", "8", "--quiet", "--compile"])
    assert result.exit_code == 0, result.output
    assert "note: --compile: torch.compile cannot run on cpu: no C++ compiler found" in result.output
    assert out.exists()


def test_bench_with_compile_but_no_compiler_refuses_instead_of_timing_the_eager_model(tmp_path, fast_weights, monkeypatch):
    monkeypatch.setattr(compiled.shutil, "which", lambda name: None)
    out = tmp_path / "bench.json"
    result = runner.invoke(app, ["bench", "--weights", fast_weights, "--res", "64x48", "--chunk", "8", "--chunks", "1", "--json", str(out), "--device", "cpu", "--compile"])
    assert result.exit_code == 2, result.output
    assert "no C++ compiler found" in result.output and "Traceback" not in result.output
    assert not out.exists()


@pytest.mark.slow
@pytest.mark.skipif(CPU_COMPILER_MISSING is not None, reason=f"torch.compile unavailable: {CPU_COMPILER_MISSING}")
def test_bench_with_compile_records_it(tmp_path, fast_weights, one_torch_thread):
    out = tmp_path / "bench.json"
    try:
        result = runner.invoke(app, ["bench", "--weights", fast_weights, "--res", "64x48", "--chunk", "8", "--chunks", "1", "--json", str(out), "--device", "cpu", "--model-only", "--compile"])
    finally:
        compiled.reset_compiled()
    assert result.exit_code == 0, result.output
    record = json.loads(out.read_text())
    assert record["environment"]["compiled"] is True and record["settings"]["warmup_middle"] == 1
    assert record["results"][0]["status"] == "ok" and record["results"][0]["model_fps"] > 0
