"""stdin/stdout streaming through real pipes (the ffmpeg binary is used by these tests only)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests import media

from swiftvr_cli.io import probe

FFMPEG = shutil.which("ffmpeg")
needs_ffmpeg = pytest.mark.skipif(FFMPEG is None, reason="the ffmpeg binary is not installed")

IDENTITY = """
import sys
from swiftvr_cli.io import EncodeOptions, VideoReader, VideoWriter, frames_to_rgb
fmt = sys.argv[1] if len(sys.argv) > 1 else None
with VideoReader("-") as reader:
    info = reader.info
    print(info.width, info.height, info.source_kind, file=sys.stderr)
    options = EncodeOptions(container_format=fmt)
    with VideoWriter("-", width=info.width, height=info.height, source=info, options=options) as writer:
        batch = []
        for frame in reader:
            batch.append(frame)
            if len(batch) == 4:
                writer.write(frames_to_rgb(batch, info) / 255, [f.pts for f in batch])
                batch = []
        if batch:
            writer.write(frames_to_rgb(batch, info) / 255, [f.pts for f in batch])
"""

FLOOD = """
import sys, torch
from swiftvr_cli.io import BrokenPipe, VideoWriter, probe, quiet_broken_stdout
info = probe(sys.argv[1])
try:
    with VideoWriter("-", width=160, height=96, source=info) as writer:
        for _ in range(40):
            writer.write(torch.rand(1, 3, 96, 160), [None])
except BrokenPipe:
    quiet_broken_stdout()
    sys.exit(3)
"""


def _run(command: str, cwd) -> subprocess.CompletedProcess:
    argv = ["bash", "-o", "pipefail", "-c", command]
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=60)


@needs_ffmpeg
def test_y4m_through_stdin_and_stdout(tmp_path):
    media.make_video(tmp_path / "in.mp4", frames=10, size=(96, 64))
    (tmp_path / "identity.py").write_text(IDENTITY)
    result = _run(
        f"{FFMPEG} -v error -i in.mp4 -f yuv4mpegpipe - | {sys.executable} identity.py "
        f"| {FFMPEG} -v error -y -f yuv4mpegpipe -i - -c:v libx264 out.mp4",
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "96 64 stdin" in result.stderr
    assert probe(str(tmp_path / "out.mp4")).frame_count == 10


@needs_ffmpeg
def test_probed_stdin_and_nut_stdout(tmp_path):
    media.make_video(tmp_path / "in.mkv", frames=6, size=(64, 48), audio=True)
    (tmp_path / "identity.py").write_text(IDENTITY)
    command = f"cat in.mkv | {sys.executable} identity.py nut | {FFMPEG} -v error -y -i - -c copy out.mkv"
    result = _run(command, tmp_path)
    assert result.returncode == 0, result.stderr
    info = probe(str(tmp_path / "out.mkv"), count_frames=True)
    assert (info.frame_count, info.codec, info.audio_streams) == (6, "h264", 1)  # stdin's audio is kept in nut


def test_broken_stdout_is_a_distinct_error(tmp_path):
    source = media.make_video(tmp_path / "in.mp4", frames=2, size=(160, 96))
    (tmp_path / "flood.py").write_text(FLOOD)
    argv = [sys.executable, "flood.py", source]
    proc = subprocess.Popen(argv, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.read(1000).startswith(b"YUV4MPEG2")
    proc.stdout.close()
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 3, stderr.decode()
    assert b"Traceback" not in stderr and b"Exception ignored" not in stderr


def test_empty_stdin(tmp_path):
    code = (
        "from swiftvr_cli.io import InputError, VideoReader\n"
        "try:\n    VideoReader('-')\nexcept InputError as e:\n    print(e)"
    )
    result = subprocess.run([sys.executable, "-c", code], input=b"", capture_output=True, timeout=60)
    assert result.stdout.decode().strip() == "cannot read stdin: no data received"
