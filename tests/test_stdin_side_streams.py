"""Audio and subtitles that arrive on stdin (matroska, nut) are kept when the output
container can hold them; y4m output says it drops them."""

from __future__ import annotations

import os
import subprocess
import sys

import av
import pytest

from tests import media

SWIFTVR = [sys.executable, "-m", "swiftvr_cli.cli"]


def _restore_from_stdin(src: str, *args: str, weights: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    with open(src, "rb") as stdin:
        return subprocess.run(
            [*SWIFTVR, "restore", "-", *args, "--weights", weights, "--scale", "1", "--chunk", "4", "--quiet", "--threads", "1"],
            stdin=stdin, capture_output=True, env=env, timeout=180,
        )  # fmt: skip


@pytest.fixture(scope="module")
def mkv_with_sound(tmp_path_factory) -> str:
    return media.make_video(tmp_path_factory.mktemp("stdin") / "in.mkv", frames=8, size=(32, 32), audio=True, subtitles=True)


def test_matroska_on_stdin_keeps_audio_and_subtitles_in_a_matroska_file(tmp_path, fast_weights, mkv_with_sound):
    out = tmp_path / "out.mkv"
    result = _restore_from_stdin(mkv_with_sound, str(out), weights=fast_weights)
    assert result.returncode == 0, result.stderr.decode()
    with av.open(str(out)) as c:
        assert len(c.streams.audio) == 1 and len(c.streams.subtitles) == 1
        assert sum(1 for _ in c.decode(video=0)) == 8
    assert media.packets_of(str(out), "audio") == media.packets_of(mkv_with_sound, "audio")  # stream copy


def test_nut_on_stdin_into_mp4_converts_what_mp4_cannot_hold(tmp_path, fast_weights, mkv_with_sound):
    nut = tmp_path / "in.nut"
    with av.open(mkv_with_sound) as src, av.open(str(nut), "w", format="nut") as dst:
        streams = {s.index: dst.add_stream_from_template(s) for s in src.streams if s.type in ("video", "audio")}
        for packet in src.demux():
            if packet.size and packet.stream.index in streams:
                packet.stream = streams[packet.stream.index]
                dst.mux(packet)
    out = tmp_path / "out.mp4"
    result = _restore_from_stdin(str(nut), str(out), weights=fast_weights)
    assert result.returncode == 0, result.stderr.decode()
    with av.open(str(out)) as c:
        assert len(c.streams.audio) == 1


def test_y4m_output_says_that_audio_from_stdin_is_not_written(tmp_path, fast_weights, mkv_with_sound):
    result = _restore_from_stdin(mkv_with_sound, "-", weights=fast_weights)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.startswith(b"YUV4MPEG2")
    assert "y4m carries video only" in result.stderr.decode() and "--format nut or matroska" in result.stderr.decode()
