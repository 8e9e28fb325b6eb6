"""`swiftvr eval`: metrics of a restored video against its reference, and `--degrade`
(degrade -> restore with the shipped weights of that task -> compare with baselines)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import av
import numpy as np
import pytest
import torch
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


def _write(path, frames: list[np.ndarray]) -> str:
    """Lossless (ffv1) video of float [H, W, 3] frames: the decoded pixels are what was written."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("ffv1", rate=25)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv444p"
        for rgb in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(np.round(rgb * 255).astype(np.uint8), format="rgb24").reformat(format="yuv444p")))
        container.mux(stream.encode(None))
    return str(path)


def _pattern(frames: int, size=(64, 48)) -> list[np.ndarray]:
    return [media.pattern_rgb(i, *size, frames) for i in range(frames)]


def _noisy(frame: np.ndarray, sigma: float, seed: int) -> np.ndarray:
    return np.clip(frame + np.random.default_rng(seed).normal(0, sigma, frame.shape), 0, 1)


def test_the_worst_frame_and_the_worst_10_percent_are_reported(tmp_path):
    clean = _pattern(10)
    restored = [_noisy(f, 0.01, i) for i, f in enumerate(clean)]
    restored[7] = _noisy(clean[7], 0.1, 99)  # one bad frame
    result = run("eval", _write(tmp_path / "r.mkv", restored), _write(tmp_path / "c.mkv", clean), "--json")
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout)["restored"]
    assert row["frames"] == 10 and row["worst_frame"] == 7
    assert row["psnr_y_worst"] < row["psnr_y"] - 10  # the mean hides it; the worst frame does not
    assert row["psnr_y_worst10"] == pytest.approx(row["psnr_y_worst"])  # 10 % of 10 frames: that frame
    assert {"psnr_y", "psnr_rgb", "ssim", "flicker"} <= set(row)  # the earlier keys are kept


def test_gain_over_the_input_it_was_restored_from(tmp_path):
    clean = _pattern(10, (64, 48))
    small = [f[::2, ::2] for f in clean]  # a 32x24 "input"; its bicubic upscale is the baseline
    restored = [_noisy(f, 0.02, i) for i, f in enumerate(clean)]
    restored[4] = _noisy(clean[4], 0.3, 1)
    args = [_write(tmp_path / "r.mkv", restored), _write(tmp_path / "c.mkv", clean), "--input", _write(tmp_path / "lq.mkv", small)]
    result = run("eval", *args, "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    ours, bicubic = rows["restored"], rows["bicubic"]
    assert ours["baseline"] == "bicubic"
    assert ours["gain_db"] == pytest.approx(ours["psnr_y"] - bicubic["psnr_y"], abs=1e-6)
    assert ours["worst_frame"] == 4
    assert ours["worst_frame_gain_db"] <= ours["worst10_gain_db"] <= ours["gain_db"]
    table = run("eval", *args)
    assert table.exit_code == 0 and "worst 10 %" in table.output and "bicubic" in table.output


def test_one_frame_clips_have_no_flicker_and_do_not_crash(tmp_path):
    clean = _pattern(1)
    args = [_write(tmp_path / "r.mkv", [_noisy(clean[0], 0.02, 0)]), _write(tmp_path / "c.mkv", clean)]
    result = run("eval", *args, "--json")
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout)["restored"]
    assert row["frames"] == 1 and "flicker" not in row
    table = run("eval", *args)
    assert table.exit_code == 0, table.output
    assert "Traceback" not in table.output


def test_clips_of_different_lengths_are_named_and_compared_on_their_common_frames(tmp_path):
    clean = _pattern(9)
    result = run("eval", _write(tmp_path / "r.mkv", clean[:6]), _write(tmp_path / "c.mkv", clean), "--json")
    assert result.exit_code == 0, result.output
    assert "differ in length" in result.stderr and "restored 6" in result.stderr and "reference 9" in result.stderr
    row = json.loads(result.stdout)["restored"]
    assert row["frames"] == 6 and row["lengths"] == {"restored": 6, "reference": 9}


def test_png_shows_the_worst_frame_labelled(video, tmp_path):
    png = tmp_path / "worst.png"
    result = run("eval", "--degrade", "x2", video, "--json", "--device", "cpu", "--chunk", "4", "--png", str(png))
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    worst = rows["ours"]["worst_frame"]
    assert f"worst frame ({worst})" in result.stderr
    with av.open(str(png)) as container:
        image = next(container.decode(video=0)).to_ndarray(format="rgb24")
    tiles = 4  # ours, bicubic, lanczos, reference
    # the 256-pixel crop holds the whole 96x64 frame, wherever its error is; 4-pixel gaps
    assert image.shape[1] == tiles * 96 + (tiles - 1) * 4
    strip = image[:9]  # the title: white text on black
    assert (strip == 255).any() and (strip == 0).mean() > 0.5
    assert rows["ours"]["baseline"] == "bicubic" and isinstance(rows["ours"]["gain_db"], float)


MEMORY_PROBE = """
import resource, sys
from typer.testing import CliRunner
from swiftvr_cli.cli import app

peaks = []
for clip in sys.argv[1:]:
    result = CliRunner().invoke(app, ["eval", clip, clip, "--json"])
    assert result.exit_code == 0, result.output
    peaks.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)  # MiB
print(*peaks)
"""


def test_eval_memory_does_not_grow_with_the_clip_length(tmp_path):
    # All frames at once in float64 (the old way) needs ~0.5 GB more for the long clip
    # (120 frames of 192x192: ~35 MB per float64 luma copy, a dozen copies); streamed, nothing.
    short = media.make_video(tmp_path / "short.mkv", frames=6, size=(192, 192), codec="ffv1")
    long = media.make_video(tmp_path / "long.mkv", frames=120, size=(192, 192), codec="ffv1")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-c", MEMORY_PROBE, short, long], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    after_short, after_long = map(int, done.stdout.split())
    assert after_long - after_short < 60, f"peak memory grew by {after_long - after_short} MiB for a 20x longer clip"


def test_eval_sweeps_the_strength(tmp_path):
    video = media.make_video(tmp_path / "clean.mp4", frames=5, size=(96, 64))
    result = run("eval", "--degrade", "x4-area", video, "--json", "--device", "cpu", "--chunk", "4", "--strength", "0,1")
    assert result.exit_code == 0, result.output
    sweep = json.loads(result.stdout)["strength"]
    assert set(sweep) == {"0", "1"}
    # strength 0 is the bicubic upscale itself: no gain; 1 is the model
    assert sweep["0"]["ours"]["gain_db"] == pytest.approx(0.0, abs=0.02)
    assert sweep["1"]["ours"]["gain_db"] != pytest.approx(0.0, abs=0.02)
    bad = run("eval", "--degrade", "x4-area", video, "--strength", "3")
    assert bad.exit_code == 2 and "strength" in bad.output


def test_the_worst_crop_is_whole_and_holds_the_error():
    from swiftvr_cli.evaluation import _crop_corner

    reference = torch.zeros(3, 64, 96)
    ours = reference.clone()
    ours[:, 40:50, 85:95] = 1.0  # the error sits at the bottom right edge
    top, left = _crop_corner({"ours": ours, "bicubic": reference, "reference": reference}, "ours", "bicubic", (32, 48))
    assert 0 <= top <= 64 - 32 and 0 <= left <= 96 - 48  # the crop lies fully inside the frame
    assert top <= 40 and top + 32 >= 50 and left <= 85 and left + 48 >= 95  # and shows the whole error


def test_the_worst_crop_reaches_the_last_columns():
    from swiftvr_cli.evaluation import _crop_corner

    reference = torch.zeros(3, 64, 100)
    ours = reference.clone()
    ours[:, 10:20, 97:100] = 1.0  # beyond every quarter-crop step of a 48-wide crop (0, 12, ..., 48)
    top, left = _crop_corner({"ours": ours, "reference": reference}, "ours", None, (32, 48))
    assert left + 48 == 100 and top <= 10 and top + 32 >= 20
