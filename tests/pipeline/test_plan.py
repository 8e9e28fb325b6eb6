"""The memory planner: `swiftvr plan`, and `restore` streaming the DiT blocks when the model would not fit."""

import json

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from swiftvr_cli.cli import app
from swiftvr_cli.model.loading import model_config
from swiftvr_cli.model.offload import RESIDENT_BLOCKS
from swiftvr_cli.pipeline import budget, plan
from swiftvr_cli.testing.tiny_checkpoint import write_tiny_official_checkpoint
from tests import media

runner = CliRunner()
CPU, GPU = torch.device("cpu"), torch.device("cuda")


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    # wide enough that the DiT blocks outweigh the ReAE: streaming them makes a difference
    root = tmp_path_factory.mktemp("ckpt") / "swiftvr"
    return str(write_tiny_official_checkpoint(root, num_layers=6, num_heads=4, head_dim=24, ffn_dim=768, sharded=True))


def _candidates(weights, device, chunk=24):
    cfg, prompt_len = model_config(weights)
    return plan.settings(budget.RunShape(cfg, (90, 160), (360, 640), torch.float32, device, prompt_len=prompt_len), chunk)


def test_same_output_settings_come_before_a_smaller_chunk(weights):
    candidates = _candidates(weights, GPU)
    chunks = [s.chunk for s in candidates]
    assert chunks == sorted(chunks, reverse=True) and chunks[0] == 24 and chunks[-1] == 4
    first = [s for s in candidates if s.chunk == 24]
    assert [s.offload for s in first] == sorted(s.offload for s in first)  # resident, then streamed
    assert [s.reae_group for s in first if not s.offload] == [0, 4, 2, 1]  # fewer, larger passes first on CUDA
    assert {s.reae_group for s in _candidates(weights, CPU)} == {1}  # on CPU one latent per pass is fastest


def test_offload_predicts_less_and_the_fastest_fit_is_chosen(weights):
    candidates = _candidates(weights, CPU)
    resident, streamed = candidates[0], candidates[1]
    assert (resident.chunk, resident.offload, streamed.chunk, streamed.offload) == (24, False, 24, True)
    cfg, _ = model_config(weights)
    blocks = cfg.dit.num_layers - RESIDENT_BLOCKS  # all but the blocks alive at once
    assert resident.peak - streamed.peak == pytest.approx(blocks * budget._parameter_counts(cfg)[1] * 4)
    assert plan.first_fit(candidates, resident.peak) == resident
    assert plan.first_fit(candidates, resident.peak - 1) == streamed
    assert plan.first_fit(candidates, 1) is None


def test_plan_command_lists_settings_and_the_pick(weights):
    streamed = _candidates(weights, CPU)[1]
    memory = f"{(streamed.peak + 1024) // 1024}K"
    result = runner.invoke(app, ["plan", "--weights", weights, "--res", "640x360", "--chunk", "24", "--memory", memory, "--device", "cpu", "--dtype", "float32", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["settings"]
    assert [r["settings"] for r in rows if r["chosen"]] == ["--chunk 24 --reae-group 1 --offload"]
    assert rows[0]["fits"] is False and rows[1]["fits"] is True
    table = runner.invoke(app, ["plan", "--weights", weights, "--res", "640x360", "--memory", memory, "--device", "cpu", "--dtype", "float32"])
    assert table.exit_code == 0 and "restore picks: --chunk 24 --reae-group 1 --offload" in table.stdout


def test_plan_refuses_a_bad_memory_size(weights):
    result = runner.invoke(app, ["plan", "--weights", weights, "--memory", "lots"])
    assert result.exit_code == 2 and "--memory" in result.output


def test_restore_streams_the_blocks_when_the_model_would_not_fit(tmp_path, weights):
    clip = media.make_video(tmp_path / "in.mp4", frames=9, size=(48, 32))
    cfg, prompt_len = model_config(weights)
    shape = budget.RunShape(cfg, (32, 48), (128, 192), torch.float32, frames=9, prompt_len=prompt_len)
    resident, streamed = (budget.estimate(shape, 8, reae_group=1, offload=o).peak(CPU) for o in (False, True))
    limit = f"{(resident + streamed) // 2 // 1024}K"
    common = ["--weights", weights, "--chunk", "8", "--quiet", "--device", "cpu", "--dtype", "float32"]
    refused = runner.invoke(app, ["restore", clip, str(tmp_path / "no.png"), *common, "--max-memory", limit, "--no-offload"])
    assert refused.exit_code == 6
    auto = runner.invoke(app, ["restore", clip, str(tmp_path / "auto"), *common, "--max-memory", limit])
    assert auto.exit_code == 0, auto.output
    assert "streaming the DiT blocks (--offload; same output)" in " ".join(auto.stderr.split())
    plain = runner.invoke(app, ["restore", clip, str(tmp_path / "plain"), *common])
    assert plain.exit_code == 0 and "streaming" not in plain.stderr
    a, b = (np.stack([np.asarray(Image.open(p)) for p in sorted((tmp_path / d).glob("*.png"))]) for d in ("auto", "plain"))
    assert a.shape == b.shape and a.shape[0] == 9
    assert np.abs(a.astype(int) - b.astype(int)).max() <= 1  # float rounding at most, never a different picture


def test_a_short_video_cannot_fill_the_queues(weights):
    cfg, prompt_len = model_config(weights)
    def host(frames: int | None) -> int:
        shape = budget.RunShape(cfg, (90, 160), (360, 640), torch.float32, frames=frames, prompt_len=prompt_len)
        return budget.estimate(shape, 8, reae_group=1).host

    long, short = host(None), host(13)
    assert short < long  # 13 frames at --chunk 8: two chunks, not three in flight
    assert host(1000) == long


def test_a_pipe_streams_only_when_the_weights_alone_would_not_fit(weights):
    """stdin has no size in its headers: the choice compares the resident weights and the runtime."""
    cfg, prompt_len = model_config(weights)
    floor = budget.RUNTIME["cpu"] + budget.weight_bytes(cfg, torch.float32, False, prompt_len)
    choose = lambda limit: plan.choose_offload(weights, "-", CPU, torch.float32, 4.0, 8, max_memory=limit, auto=False)  # noqa: E731
    note = choose(floor - 1)
    assert note is not None and "--offload" in note and "--max-memory allows" in note
    assert choose(floor + 1) is None
