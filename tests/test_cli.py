"""The CLI as a user runs it: real short videos made with PyAV, real ffmpeg for pipes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
from typer.testing import CliRunner

from swiftvr_cli.cli import app
from tests import media

runner = CliRunner()
SWIFTVR = [sys.executable, "-m", "swiftvr_cli.cli"]


def restore(*args: str, weights: str):
    return runner.invoke(app, ["restore", *args, "--weights", weights, "--chunk", "8", "--quiet"])


def video_pts(path: str) -> list[int]:
    with av.open(path) as c:
        return [f.pts for f in c.decode(video=0)]


def frame_count(path: str) -> int:
    with av.open(path) as c:
        return sum(1 for _ in c.decode(video=0))


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if "swiftvr-tmp" in p.name or p.name.startswith(".")]


@pytest.mark.parametrize("frames", [1, 2, 5, 13, 14, 29])
def test_frame_count_and_timestamps_kept(tmp_path, fast_weights, frames):
    src = media.make_video(tmp_path / "in.mp4", frames=frames, size=(48, 32))
    out = tmp_path / "out.mp4"
    result = restore(src, str(out), "--scale", "2", weights=fast_weights)
    assert result.exit_code == 0, result.output
    assert frame_count(str(out)) == frames
    with av.open(str(out)) as c:
        stream = c.streams.video[0]
        assert (stream.width, stream.height) == (96, 64)
        assert stream.average_rate == 25
    assert video_pts(str(out)) == video_pts(src)


def test_vfr_timestamps_audio_and_subtitles_kept(tmp_path, fast_weights):
    src = media.make_video(tmp_path / "in.mkv", frames=12, size=(48, 32), vfr=True, audio=True, subtitles=True)
    out = tmp_path / "out.mkv"
    result = restore(src, str(out), "--scale", "1", weights=fast_weights)
    assert result.exit_code == 0, result.output
    assert video_pts(str(out)) == video_pts(src)
    with av.open(src) as a, av.open(str(out)) as b:
        assert len(b.streams.audio) == 1 and len(b.streams.subtitles) == 1
        src_audio = [bytes(p) for p in a.demux(audio=0) if p.size]
        out_audio = [bytes(p) for p in b.demux(audio=0) if p.size]
    assert src_audio == out_audio  # stream copy, bit-exact


def test_odd_size_333x187(tmp_path, fast_weights):
    src = media.make_video(tmp_path / "odd.mkv", frames=5, size=(333, 187), codec="ffv1")
    out = tmp_path / "odd_out.mkv"
    result = restore(src, str(out), "--scale", "1", weights=fast_weights)
    assert result.exit_code == 0, result.output
    with av.open(str(out)) as c:
        s = c.streams.video[0]
        assert (s.width, s.height) == (333, 187)
    assert frame_count(str(out)) == 5


def test_png_folder_output_and_input(tmp_path, fast_weights):
    src = media.make_video(tmp_path / "in.mp4", frames=6, size=(40, 24))
    frames_dir = tmp_path / "frames"
    assert restore(src, str(frames_dir), "--scale", "2", weights=fast_weights).exit_code == 0
    pngs = sorted(frames_dir.glob("*.png"))
    assert len(pngs) == 6
    again = tmp_path / "again"
    result = restore(str(frames_dir), str(again), "--scale", "1", weights=fast_weights)
    assert result.exit_code == 0, result.output
    assert len(list(again.glob("*.png"))) == 6


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs the ffmpeg binary")
def test_pipe_round_trip_through_real_ffmpeg(tmp_path, fast_weights):
    src = media.make_video(tmp_path / "in.mp4", frames=10, size=(48, 32))
    out = tmp_path / "piped.mp4"
    cmd = (
        f"ffmpeg -v error -i {src} -f yuv4mpegpipe - | "
        f"{' '.join(SWIFTVR)} restore - - --scale 2 --chunk 8 --weights {fast_weights} | "
        f"ffmpeg -v error -y -i - {out}"
    )
    proc = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=120, cwd=Path(__file__).parent.parent)
    assert proc.returncode == 0, proc.stderr
    assert frame_count(str(out)) == 10
    with av.open(str(out)) as c:
        assert (c.streams.video[0].width, c.streams.video[0].height) == (96, 64)


def test_stage_error_gives_one_line_and_no_temp_file(tmp_path, fast_weights, monkeypatch):
    from swiftvr_cli.pipeline import restorer

    def broken(self, frames, kind, state):
        raise RuntimeError("simulated model failure")

    monkeypatch.setattr(restorer.ChunkRestorer, "restore", broken)
    src = media.make_video(tmp_path / "in.mp4", frames=20, size=(48, 32))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    result = restore(src, str(out_dir / "out.mp4"), weights=fast_weights)
    assert result.exit_code == 1
    assert "simulated model failure" in result.output
    assert "Traceback" not in result.output
    assert list(out_dir.iterdir()) == []


@pytest.mark.parametrize(
    "make_input,code,message",
    [
        (lambda d: d / "missing.mp4", 3, "missing.mp4"),
        (lambda d: (d / "notes.mp4").write_text("just text") and d / "notes.mp4", 3, "notes.mp4"),
        (lambda d: (d / "empty.mp4").write_bytes(b"") or d / "empty.mp4", 3, "empty.mp4"),
    ],
)
def test_bad_input_one_clear_line(tmp_path, fast_weights, make_input, code, message):
    src = make_input(tmp_path)
    result = restore(str(src), str(tmp_path / "out.mp4"), weights=fast_weights)
    assert result.exit_code == code, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out.mp4").exists()


def test_refuses_to_overwrite_input_or_existing_output(tmp_path, fast_weights):
    src = media.make_video(tmp_path / "in.mp4", frames=3, size=(32, 32))
    before = Path(src).read_bytes()
    result = restore(src, src, "-y", weights=fast_weights)
    assert result.exit_code != 0 and Path(src).read_bytes() == before
    existing = tmp_path / "existing.mp4"
    existing.write_bytes(b"keep me")
    result = restore(src, str(existing), weights=fast_weights)
    assert result.exit_code == 4 and existing.read_bytes() == b"keep me"
    assert restore(src, str(existing), "-y", weights=fast_weights).exit_code == 0
    assert frame_count(str(existing)) == 3


def test_bad_chunk_is_a_usage_error(tmp_path, fast_weights):
    src = media.make_video(tmp_path / "in.mp4", frames=3, size=(32, 32))
    result = runner.invoke(app, ["restore", src, str(tmp_path / "o.mp4"), "--chunk", "10", "--weights", fast_weights])
    assert result.exit_code == 2 and "multiple of 4" in result.output


def test_weights_errors_name_the_file(tmp_path):
    src = media.make_video(tmp_path / "in.mp4", frames=3, size=(32, 32))
    result = runner.invoke(app, ["restore", src, str(tmp_path / "o.mp4"), "--weights", str(tmp_path / "nope.json")])
    assert result.exit_code == 5 and "nope.json" in result.output


def test_json_summary(tmp_path, fast_weights):
    src = media.make_video(tmp_path / "in.mp4", frames=9, size=(32, 32))
    result = runner.invoke(app, ["restore", src, str(tmp_path / "o.mp4"), "--weights", fast_weights, "--json", "--chunk", "8"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["frames"] == 9 and summary["output_size"] == [128, 128]
    assert set(summary["stage_seconds"]) >= {"decode", "model", "encode"}


def test_info_json(tmp_path):
    src = media.make_video(tmp_path / "in.mp4", frames=7, size=(64, 48), audio=True)
    result = runner.invoke(app, ["info", src, "--json"])
    assert result.exit_code == 0, result.output
    details = json.loads(result.stdout)
    assert details["width"] == 64 and details["height"] == 48 and details["audio_streams"] == 1


def test_bench_runs_on_cpu(tmp_path, fast_weights):
    out = tmp_path / "bench.json"
    result = runner.invoke(app, ["bench", "--weights", fast_weights, "--res", "64x48", "--chunk", "8", "--chunks", "1", "--json", str(out), "--device", "cpu", "--reae-group", "1"])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    row = data["results"][0]
    assert row["status"] == "ok" and row["model_fps"] > 0 and row["e2e_fps"] > 0 and row["peak_memory_mb"] > 0
    assert data["environment"]["device_type"] == "cpu" and data["settings"]["reae_group"] == 1


def test_official_layout_checkpoint_restores_a_real_clip(tmp_path):
    from swiftvr_cli.testing.tiny_checkpoint import write_tiny_official_checkpoint

    weights = write_tiny_official_checkpoint(tmp_path / "official")
    sample = Path(__file__).resolve().parent.parent / "samples" / "bbb_160x90.mp4"
    out = tmp_path / "restored.mkv"
    result = runner.invoke(
        app, ["restore", str(sample), str(out), "--weights", str(weights), "--scale", "2", "--chunk", "8", "--quiet"]
    )
    assert result.exit_code == 0, result.output
    with av.open(str(out)) as c:
        assert (c.streams.video[0].width, c.streams.video[0].height) == (320, 180)
        assert len(c.streams.audio) == 1
    assert frame_count(str(out)) == 48


def test_hwaccel_falls_back_to_the_cpu_with_a_note(tmp_path, fast_weights):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present: the fallback path is not taken")
    src = media.make_video(tmp_path / "in.mp4", frames=5, size=(48, 32))
    out = tmp_path / "out.mp4"
    result = runner.invoke(app, ["restore", src, str(out), "--weights", fast_weights, "--chunk", "8", "--hwaccel", "cuda"])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())  # the console wraps long notes
    assert "--hwaccel cuda" in said and "decoding on the CPU" in said
    assert frame_count(str(out)) == 5



def png_frames(folder: Path) -> list:
    frames = []
    for path in sorted(folder.glob("*.png")):
        with av.open(str(path)) as c:
            frames.append(next(c.decode(video=0)).to_ndarray(format="rgb24"))
    return frames


@pytest.mark.parametrize("model", ["fast_weights", "detail_weights"])
def test_reae_group_restores_the_same_frames(tmp_path, request, model):
    """One latent per ReAE pass (less memory) gives the frames of a whole-chunk pass."""
    src = media.make_video(tmp_path / "in.mp4", frames=17, size=(48, 32))  # chunk 8: FIRST 12 + LAST 5
    task = ["--scale", "2"]
    if model == "detail_weights":
        task = ["--task", "inpaint", "--mask", media.make_mask_image(tmp_path / "mask.png", (48, 32), (8, 4, 16, 12))]
    outputs = []
    for extra in ([], ["--reae-group", "1"]):
        out = tmp_path / f"out{len(outputs)}"
        result = restore(src, str(out), *task, *extra, weights=request.getfixturevalue(model))
        assert result.exit_code == 0, result.output
        outputs.append(png_frames(out))
    whole, grouped = (np.stack(frames).astype(np.int16) for frames in outputs)  # PNG: lossless
    assert whole.shape == grouped.shape and whole.shape[0] == 17
    # float32 results agree to ~1e-7; that can flip the 8-bit rounding of a rare value by one level
    assert np.abs(whole - grouped).max() <= 1 and (whole != grouped).mean() < 1e-3


def test_negative_reae_group_is_a_usage_error(tmp_path, fast_weights):
    src = media.make_video(tmp_path / "in.mp4", frames=3, size=(32, 32))
    result = restore(src, str(tmp_path / "o.mp4"), "--reae-group", "-1", weights=fast_weights)
    assert result.exit_code == 2 and "--reae-group" in result.output
