"""`swiftvr restore --task ... --mask ...` as a user runs it (real short videos made with PyAV)."""

from __future__ import annotations

import av
import numpy as np
import pytest
from typer.testing import CliRunner

from swiftvr_cli import tasks
from swiftvr_cli.cli import TaskName, app
from tests import media

runner = CliRunner()
SIZE = (48, 32)  # width, height
BOX = (16, 8, 12, 12)  # x, y, width, height of the region to fill


def restore(*args: str):
    return runner.invoke(app, ["restore", *args, "--chunk", "4", "--quiet"])


def decoded(path) -> tuple[list[np.ndarray], list[int]]:
    with av.open(str(path)) as container:
        frames = list(container.decode(video=0))
    return [f.to_ndarray(format="rgb24").astype(np.float64) for f in frames], [f.pts for f in frames]


def error_lines(result) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith("error:")]


@pytest.fixture
def clip(tmp_path) -> str:
    return media.make_video(tmp_path / "in.mp4", frames=7, size=SIZE)


def test_task_choices_match_the_tasks_module():
    assert [t.value for t in TaskName] == [t.value for t in tasks.Task]


def test_inpaint_with_a_png_mask_keeps_frames_timing_and_the_unmasked_pixels(tmp_path, clip, detail_weights):
    mask = media.make_mask_image(tmp_path / "mask.png", SIZE, BOX)
    out = tmp_path / "out.mp4"
    result = restore(clip, str(out), "--task", "inpaint", "--mask", mask, "--weights", detail_weights, "--crf", "0")
    assert result.exit_code == 0, result.output
    ours, our_pts = decoded(out)
    theirs, their_pts = decoded(clip)
    assert our_pts == their_pts and len(ours) == 7
    x, y, w, h = BOX
    far = np.ones(ours[0].shape[:2], bool)
    far[y - 4 : y + h + 4, x - 4 : x + w + 4] = False
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape
        assert np.abs(a - b)[far].mean() < 1  # only colour conversion rounding
        assert np.abs(a - b)[y : y + h, x : x + w].mean() > 5  # the box was filled, not copied


def test_inpaint_with_a_mask_video(tmp_path, clip, detail_weights):
    boxes = [(4 + 2 * i, 8, 10, 10) for i in range(7)]
    mask = media.make_mask_video(tmp_path / "mask.mkv", SIZE, boxes)
    out = tmp_path / "out.mp4"
    result = restore(clip, str(out), "--task", "inpaint", "--mask", mask, "--weights", detail_weights)
    assert result.exit_code == 0, result.output
    ours, pts = decoded(out)
    assert len(ours) == 7 and pts == decoded(clip)[1]


def test_mask_video_shorter_than_the_input_is_an_input_error(tmp_path, clip, detail_weights):
    mask = media.make_mask_video(tmp_path / "mask.mkv", SIZE, [BOX] * 5)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    result = restore(clip, str(out_dir / "out.mp4"), "--task", "inpaint", "--mask", mask, "--weights", detail_weights)
    assert result.exit_code == 3, result.output
    assert "has 5 frames, the input has more" in result.output
    assert list(out_dir.iterdir()) == []


def test_mis_sized_mask_is_an_input_error_and_writes_nothing(tmp_path, clip, detail_weights):
    mask = media.make_mask_image(tmp_path / "mask.png", (24, 16), (0, 0, 4, 4))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    result = restore(clip, str(out_dir / "out.mp4"), "--task", "inpaint", "--mask", mask, "--weights", detail_weights)
    assert result.exit_code == 3, result.output
    assert len(error_lines(result)) == 1 and "is 24x16 but the video is 48x32" in result.output
    assert list(out_dir.iterdir()) == []


def test_missing_mask_is_an_input_error_naming_the_file(tmp_path, clip, detail_weights):
    result = restore(clip, str(tmp_path / "out.mp4"), "--task", "inpaint", "--mask", str(tmp_path / "nope.png"), "--weights", detail_weights)
    assert result.exit_code == 3, result.output
    assert "nope.png" in result.output and not (tmp_path / "out.mp4").exists()


@pytest.mark.parametrize(
    "args,message",
    [
        (["--task", "inpaint"], "--task inpaint needs --mask"),
        (["--task", "sr", "--mask", "MASK"], "--mask is only used by --task inpaint"),
        (["--mask", "MASK"], "--mask is only used by --task inpaint"),
        (["--task", "denoise", "--scale", "4"], "--task denoise restores at the input size"),
    ],
    ids=["inpaint-without-mask", "mask-with-sr", "mask-without-task", "denoise-with-scale"],
)
def test_task_usage_errors(tmp_path, clip, detail_weights, args, message):
    mask = media.make_mask_image(tmp_path / "mask.png", SIZE, BOX)
    args = [mask if a == "MASK" else a for a in args]
    result = restore(clip, str(tmp_path / "out.mp4"), *args, "--weights", detail_weights)
    assert result.exit_code == 2, result.output
    assert len(error_lines(result)) == 1 and message in result.output
    assert not (tmp_path / "out.mp4").exists()


@pytest.mark.parametrize("task", ["deblur", "denoise", "clean"])
def test_same_size_tasks_run_end_to_end(tmp_path, clip, detail_weights, task):
    out = tmp_path / "out.mp4"
    result = restore(clip, str(out), "--task", task, "--weights", detail_weights)
    assert result.exit_code == 0, result.output
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == SIZE
        assert sum(1 for _ in container.decode(video=0)) == 7


def test_scale_one_is_accepted_for_same_size_tasks(tmp_path, clip, detail_weights):
    result = restore(clip, str(tmp_path / "out.mp4"), "--task", "denoise", "--scale", "1", "--weights", detail_weights)
    assert result.exit_code == 0, result.output


def test_sr_keeps_its_scale(tmp_path, clip, detail_weights):
    out = tmp_path / "out.mp4"
    result = restore(clip, str(out), "--task", "sr", "--scale", "2", "--weights", detail_weights)
    assert result.exit_code == 0, result.output
    with av.open(str(out)) as container:
        assert (container.streams.video[0].width, container.streams.video[0].height) == (96, 64)


def test_task_without_weights_names_the_missing_task_weights(tmp_path, clip, monkeypatch):
    shipped = tmp_path / "weights" / "swiftvr-tiny.json"  # a weights folder without the task models
    monkeypatch.setattr(tasks, "default_weights_path", lambda: shipped)
    result = restore(clip, str(tmp_path / "out.mp4"), "--task", "deblur")
    assert result.exit_code == 5, result.output
    assert len(error_lines(result)) == 1
    assert str(shipped.with_name(tasks.TASK_WEIGHTS[tasks.Task.deblur])) in result.output.replace("\n", "")
