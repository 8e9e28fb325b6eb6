"""Bad inputs and unsafe outputs fail with one-line messages; temp files never linger."""

from __future__ import annotations

import os

import pytest
import torch

from tests import media
from tests.io.io_pipeline import transcode

from swiftvr_cli.io import InputError, OutputError, VideoReader, VideoWriter, probe


def _one_line(error: pytest.ExceptionInfo) -> str:
    text = str(error.value)
    assert "\n" not in text and "Traceback" not in text
    return text


def _write(path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


def _folder(path) -> str:
    path.mkdir()
    return str(path)


@pytest.mark.parametrize("make, message", [
    (lambda d: str(d / "missing.mp4"), "file not found"),
    (lambda d: _write(d / "empty.mp4", b""), "file is empty"),
    (lambda d: _write(d / "notes.mp4", b"just some text\n" * 20), "not a video"),
    (lambda d: media.make_audio_only(d / "sound.m4a"), "no video stream"),
    (lambda d: media.make_audio_only(d / "song.mp4", cover=True), "only video stream is a cover picture"),
    (lambda d: _folder(d / "nothing"), "no images"),
    (lambda d: str(d / "none_%04d.png"), "no files match"),
])
def test_bad_inputs(tmp_path, make, message):
    source = make(tmp_path)
    with pytest.raises(InputError) as error:
        probe(source)
    assert message in _one_line(error)
    with pytest.raises(InputError):
        VideoReader(source)


def test_truncated_file_without_index(tmp_path):
    path = media.make_video(tmp_path / "v.mp4", frames=20)
    data = open(path, "rb").read()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 6 // 10])  # index (moov) is at the end: gone
    with pytest.raises(InputError) as error:
        VideoReader(str(cut))
    assert "cut.mp4" in _one_line(error)


def test_truncated_stream_names_the_frame(tmp_path):
    path = media.make_video(tmp_path / "v.mp4", frames=30, size=(96, 64), container_options={"movflags": "+faststart"})
    data = open(path, "rb").read()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 6 // 10])  # index up front, samples missing
    with VideoReader(str(cut)) as reader:
        with pytest.raises(InputError) as error:
            for _ in reader:
                pass
    text = _one_line(error)
    assert f"at frame {error.value.frames_decoded}" in text and "frames decoded so far" in text
    assert 0 < error.value.frames_decoded < 30


def test_corrupt_image_in_sequence(tmp_path):
    media.make_images(tmp_path / "seq", count=3)
    (tmp_path / "seq" / "00001.png").write_bytes(b"\x89PNG broken")
    with VideoReader(str(tmp_path / "seq")) as reader:
        with pytest.raises(InputError) as error:
            list(reader)
    assert "00001.png" in _one_line(error) and "frame 1" in str(error.value)


def test_refuse_output_equal_to_input(cfr_mp4):
    with pytest.raises(OutputError) as error:
        VideoWriter(cfr_mp4, width=64, height=48, source=probe(cfr_mp4), overwrite=True)
    assert "input file" in _one_line(error)


def test_refuse_existing_output(cfr_mp4, tmp_path):
    out = tmp_path / "out.mp4"
    out.write_bytes(b"precious")
    with pytest.raises(OutputError) as error:
        transcode(cfr_mp4, str(out))
    assert "already exists" in _one_line(error)
    assert out.read_bytes() == b"precious"
    transcode(cfr_mp4, str(out), overwrite=True)
    assert probe(str(out)).frame_count == 12


def test_refuse_missing_output_folder(cfr_mp4, tmp_path):
    with pytest.raises(OutputError) as error:
        transcode(cfr_mp4, str(tmp_path / "nope" / "out.mp4"))
    assert "does not exist" in _one_line(error)


def test_temp_file_is_removed_on_abort(cfr_mp4, tmp_path):
    target = tmp_path / "out.mp4"
    writer = VideoWriter(str(target), width=64, height=48, source=probe(cfr_mp4))
    writer.write(torch.rand(3, 3, 48, 64), [0, 512, 1024])
    temps = [n for n in os.listdir(tmp_path) if n.startswith(".out.swiftvr-tmp") and n.endswith(".mp4")]
    assert len(temps) == 1 and not target.exists()
    writer.abort()
    assert list(tmp_path.iterdir()) == []


def test_exception_in_with_block_aborts(cfr_mp4, tmp_path):
    with pytest.raises(RuntimeError):
        with VideoWriter(str(tmp_path / "out.mkv"), width=64, height=48, source=probe(cfr_mp4)) as writer:
            writer.write(torch.rand(1, 3, 48, 64), [0])
            raise RuntimeError("model crashed")
    assert list(tmp_path.iterdir()) == []


def test_lenient_mode_keeps_going(tmp_path):
    path = media.make_video(tmp_path / "v.mp4", frames=30, size=(96, 64), container_options={"movflags": "+faststart"})
    data = open(path, "rb").read()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 6 // 10])
    with VideoReader(str(cut), strict=False) as reader:
        frames = list(reader)
        assert 0 < len(frames) < 30 and reader.problems
