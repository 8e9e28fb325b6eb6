"""`swiftvr batch` takes `restore`'s model options (--task, --mask, --max-memory, --skip-corrupt...)
from the same definitions, and records in its manifest the ones that change an output."""

from __future__ import annotations

import dataclasses
import inspect
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from swiftvr_cli.batch.fingerprint import weights_fingerprint
from swiftvr_cli.cli import app
from swiftvr_cli.cli.batch import batch as batch_command
from swiftvr_cli.cli.common import ModelChoice
from swiftvr_cli.cli.restore import restore as restore_command
from swiftvr_cli.tasks import Task, task_weights
from tests import media
from tests.batch.helpers import frames_of, manifest_lines, psnr, statuses

SIZE = (48, 32)
BOX = (16, 8, 12, 12)  # x, y, width, height of the region to fill


def run_batch(in_dir: Path, out_dir: Path, *args: str):
    """(exit code, the --json summary, stderr) of an in-process `swiftvr batch`."""
    result = CliRunner().invoke(app, ["batch", str(in_dir), str(out_dir), "--chunk", "4", "--json", "--quiet", *args])
    lines = result.stdout.strip().splitlines()
    return result.exit_code, (json.loads(lines[-1]) if lines else None), result.stderr


@pytest.fixture
def in_dir(tmp_path) -> Path:
    (tmp_path / "in").mkdir()
    media.make_video(tmp_path / "in" / "a.mp4", frames=5, size=SIZE)
    return tmp_path / "in"


def test_batch_takes_every_model_option_of_restore_from_the_same_definition():
    shared = {field.name for field in dataclasses.fields(ModelChoice)}
    ours, theirs = (inspect.signature(command, eval_str=True).parameters for command in (batch_command, restore_command))
    assert shared <= set(ours) and shared <= set(theirs)
    # one definition each (the mask's help differs on purpose: batch takes one image for every video)
    assert [name for name in sorted(shared) if ours[name].annotation != theirs[name].annotation] == ["mask"]
    assert [name for name in sorted(shared) if ours[name].default != theirs[name].default] == []
    help_text = CliRunner().invoke(app, ["batch", "--help"], terminal_width=200).output
    for flag in ("--task", "--mask", "--strength", "--skip-corrupt", "--max-memory", "--auto", "--reae-group", "--hwaccel"):
        assert flag in help_text


def test_batch_task_denoise_runs_the_shipped_denoise_model_like_restore(tmp_path, in_dir, one_torch_thread):
    code, summary, stderr = run_batch(in_dir, tmp_path / "out", "--task", "denoise")
    assert code == 0, stderr
    assert statuses(summary) == {"a.mp4": "ok"}
    ours = frames_of(tmp_path / "out" / "a.mp4")
    assert ours.shape[1:3] == (SIZE[1], SIZE[0])  # the input's size: no --scale for denoise
    alone = tmp_path / "alone.mp4"
    restored = CliRunner().invoke(app, ["restore", str(in_dir / "a.mp4"), str(alone), "--task", "denoise", "--chunk", "4", "--quiet"])
    assert restored.exit_code == 0, restored.output
    assert psnr(ours, frames_of(alone)) > 40  # the same model and settings as restore
    settings = manifest_lines(tmp_path / "out")[-1]["settings"]
    assert settings["task"] == "denoise"
    assert settings["weights"] == weights_fingerprint(str(task_weights(Task.denoise)))
    # another task is other work: redone, not skipped as done
    code, summary, _ = run_batch(in_dir, tmp_path / "out", "--task", "deblur")
    assert code == 0 and statuses(summary) == {"a.mp4": "ok"}
    assert manifest_lines(tmp_path / "out")[-1]["settings"]["task"] == "deblur"
    # and --scale is checked against the task as in restore
    code, _, stderr = run_batch(in_dir, tmp_path / "out", "--task", "denoise", "--scale", "2")
    assert code == 2 and "drop --scale" in stderr


def test_batch_max_memory_refusal_is_a_memory_failure_with_its_advice(tmp_path, in_dir, fast_weights):
    code, summary, stderr = run_batch(in_dir, tmp_path / "out", "--weights", fast_weights, "--scale", "2", "--max-memory", "1K")
    assert code == 7, stderr
    (item,) = summary["items"]
    assert item["status"] == "failed"
    assert item["error"].startswith("not enough memory:") and "--max-memory allows" in item["error"]
    assert manifest_lines(tmp_path / "out")[-1]["error_kind"] == "memory"
    assert not (tmp_path / "out" / "a.mp4").exists()
    code, _, stderr = run_batch(in_dir, tmp_path / "out", "--weights", fast_weights, "--scale", "2", "--max-memory", "lots")
    assert code == 2 and "lots" in stderr


def test_batch_skip_corrupt_replaces_damaged_frames(tmp_path, fast_weights):
    (tmp_path / "in").mkdir()
    shutil.copy(Path(__file__).parents[1] / "data" / "truncated.mp4", tmp_path / "in" / "t.mp4")
    args = ("--weights", fast_weights, "--scale", "2")
    code, summary, _ = run_batch(tmp_path / "in", tmp_path / "out", *args)
    assert code == 7 and statuses(summary) == {"t.mp4": "failed"}
    code, summary, stderr = run_batch(tmp_path / "in", tmp_path / "out", *args, "--skip-corrupt", "--retry-failed")
    assert code == 0, stderr
    (item,) = summary["items"]
    assert item["status"] == "ok" and any("truncated" in note for note in item["notes"])


def test_batch_inpaint_with_one_mask_image_for_every_video(tmp_path, in_dir, detail_weights):
    mask = media.make_mask_image(tmp_path / "mask.png", SIZE, BOX)
    args = ("--task", "inpaint", "--mask", mask, "--weights", detail_weights, "--crf", "0")
    code, summary, stderr = run_batch(in_dir, tmp_path / "out", *args)
    assert code == 0, stderr
    ours, theirs = frames_of(tmp_path / "out" / "a.mp4").astype(np.float64), frames_of(in_dir / "a.mp4").astype(np.float64)
    x, y, w, h = BOX
    far = np.ones(ours.shape[1:3], bool)
    far[y - 4 : y + h + 4, x - 4 : x + w + 4] = False
    assert np.abs(ours - theirs)[:, far].mean() < 1  # only colour conversion rounding
    assert np.abs(ours - theirs)[:, y : y + h, x : x + w].mean() > 5  # the box was filled, not copied
    assert manifest_lines(tmp_path / "out")[-1]["settings"]["task"] == "inpaint"
    assert run_batch(in_dir, tmp_path / "out", *args)[1]["items"][0]["status"] == "skipped"
    media.make_mask_image(mask, SIZE, (4, 4, 8, 8))  # another mask in the same file: other work
    code, summary, _ = run_batch(in_dir, tmp_path / "out", *args)
    assert code == 0 and statuses(summary) == {"a.mp4": "ok"}


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--task", "inpaint", "--mask", "{video}"], "batch --mask takes one image"),
        (["--task", "inpaint"], "needs --mask"),
        (["--mask", "{png}"], "--mask is only used by --task inpaint"),
        (["--reae-group", "-1"], "--reae-group must be >= 0"),
        (["--task", "inpaint", "--mask", "{png}", "--engine", "ray", "--segment-seconds", "60"], "--segment-seconds cannot be used with --mask"),
    ],
)
def test_batch_refuses_bad_model_options_before_any_work(tmp_path, in_dir, args, says):
    png = media.make_mask_image(tmp_path / "mask.png", SIZE, BOX)
    filled = [a.format(video=in_dir / "a.mp4", png=png) for a in args]
    code, _, stderr = run_batch(in_dir, tmp_path / "out", *filled)
    assert code == 2 and says in stderr
    assert not (tmp_path / "out").exists()
