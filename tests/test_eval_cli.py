"""`swiftvr eval`: metrics of a restored video against its reference, and `--degrade`
(degrade -> restore with the shipped weights of that task -> compare with baselines)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from swiftvr_cli.cli import app
from swiftvr_cli.tasks import DEGRADATION_TASKS, Task, degradation_weights, task_weights
from swiftvr_cli.degradations import EVAL_DEGRADATIONS
from tests import media


def run(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> str:
    return media.make_video(tmp_path_factory.mktemp("eval") / "clip.mp4", frames=6, size=(96, 64))


def test_a_video_against_itself_is_perfect_and_json_is_machine_readable(video):
    result = run("eval", video, video, "--json", "--device", "cpu")
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)["restored"]
    assert metrics["psnr_y"] is None  # infinite PSNR is reported as null, not as invalid JSON
    assert metrics["ssim"] == pytest.approx(1.0)
    assert metrics["flicker"] == 0.0


def test_degrade_compares_ours_with_the_baselines_and_saves_a_side_by_side(video, tmp_path):
    png = tmp_path / "crop.png"
    result = run("eval", "--degrade", "x2", video, "--json", "--device", "cpu", "--chunk", "4", "--png", str(png))
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {"ours", "bicubic", "lanczos"} <= set(rows)
    assert all(isinstance(rows[name]["psnr_y"], float) for name in rows)
    assert png.stat().st_size > 0


def test_unknown_degradation_is_one_clear_line_and_exit_2(video):
    result = run("eval", "--degrade", "x3", video)
    assert result.exit_code == 2
    assert "unknown --degrade 'x3'" in result.output and "crf35" in result.output
    assert "Traceback" not in result.output


def test_every_preset_is_measured_with_the_weights_its_task_uses():
    assert set(DEGRADATION_TASKS) == set(EVAL_DEGRADATIONS)
    for preset, (task, scale) in DEGRADATION_TASKS.items():
        assert scale == EVAL_DEGRADATIONS[preset].scale
        assert degradation_weights(preset) == task_weights(task, scale)
    assert degradation_weights("x4").name == "swiftvr-tiny.json"
    assert task_weights(Task.sr, 1) == task_weights(Task.clean)  # --scale 1 is clean-up
    assert degradation_weights("crf35").exists()
