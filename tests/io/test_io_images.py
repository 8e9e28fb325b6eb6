"""Image sequences: ordering, patterns, 16-bit, PNG output with truncation, temp folders."""

from __future__ import annotations

import os

import av
import numpy as np
import pytest
import torch

from tests import media
from tests.io.io_pipeline import transcode

from swiftvr_cli.io import EncodeOptions, OutputError, VideoReader, VideoWriter, frames_to_rgb, probe


def _png_pixels(path: str) -> np.ndarray:
    with av.open(path) as container:
        frame = next(container.decode(video=0))
        fmt = "rgb48le" if "48" in frame.format.name or "64" in frame.format.name else "rgb24"
        return frame.to_ndarray(format=fmt)


def test_folder_sorted_by_number(tmp_path):
    folder = tmp_path / "seq"
    folder.mkdir()
    for i, name in enumerate(["frame_10.png", "frame_2.png", "frame_1.png"]):
        image = av.VideoFrame.from_ndarray(np.full((8, 8, 3), i * 50, np.uint8), format="rgb24")
        media.write_png(image, str(folder / name))
    (folder / "notes.txt").write_text("not an image")
    with VideoReader(str(folder)) as reader:
        levels = [int(f.planes[0][0, 0, 0]) for f in reader]
    assert levels == [100, 50, 0]  # frame_1, frame_2, frame_10


def test_pattern_input_and_pts(tmp_path):
    media.make_images(tmp_path / "p", count=4, names="img%03d.png", start=1)
    with VideoReader(str(tmp_path / "p" / "img%03d.png")) as reader:
        frames = list(reader)
    assert len(frames) == 4 and [f.pts for f in frames] == [0, 1, 2, 3]
    assert frames[0].layout == "rgb" and frames[0].planes[0].dtype == torch.uint8


def test_png_output_truncates_and_names_frames(cfr_mp4, tmp_path):
    info = probe(cfr_mp4)
    values = torch.tensor([0.0, 0.5, 0.999, 1.0, 1.2, -0.1, 0.00392, 0.2])
    rgb = values.view(1, 1, 1, 8).expand(2, 3, 4, 8).clone()
    out = tmp_path / "frames"
    with VideoWriter(str(out) + "/", width=8, height=4, source=info, options=EncodeOptions()) as writer:
        writer.write(rgb, [0, 1])
    assert sorted(os.listdir(out)) == ["00000000.png", "00000001.png"]
    pixels = _png_pixels(str(out / "00000001.png"))
    expected = np.floor(np.clip(values.numpy() * 255, 0, 255)).astype(np.uint8)
    assert pixels.dtype == np.uint8 and np.array_equal(pixels[0, :, 0], expected)
    assert expected[2] == 254  # truncation, not rounding


def test_sixteen_bit_png_round_trip(cfr_mp4, tmp_path):
    info = probe(cfr_mp4)
    rgb = torch.rand(1, 3, 6, 10)
    target = str(tmp_path / "deep" / "%04d.png")
    with VideoWriter(target, width=10, height=6, source=info, options=EncodeOptions(pix_fmt="rgb48")) as writer:
        writer.write(rgb, [0])
    assert os.listdir(tmp_path / "deep") == ["0000.png"]
    with VideoReader(str(tmp_path / "deep")) as reader:
        frame = next(iter(reader))
    expected = np.floor(np.clip(rgb[0].permute(1, 2, 0).numpy() * 65535, 0, 65535))
    assert frame.planes[0].dtype == torch.uint16 and frame.bit_depth == 16
    assert np.array_equal(frame.planes[0].numpy().astype(np.float64), expected)


def test_video_to_images_and_back(cfr_mp4, tmp_path):
    frames_dir = str(tmp_path / "out")
    writer = transcode(cfr_mp4, frames_dir)
    assert writer.frames_written == 12 and len(os.listdir(frames_dir)) == 12
    with VideoReader(cfr_mp4) as a, VideoReader(frames_dir) as b:
        ra, rb = frames_to_rgb(list(a), a.info), frames_to_rgb(list(b), b.info)
    assert (ra - rb).abs().max() <= 1.0  # PNG holds the truncated RGB exactly
    back = str(tmp_path / "back.mp4")
    transcode(frames_dir, back)
    info = probe(back)
    assert (info.frame_count, info.width, info.height, info.color_matrix) == (12, 64, 48, "bt601")


def test_odd_size_images(tmp_path):
    media.make_images(tmp_path / "odd", count=2, size=(333, 187))
    out = str(tmp_path / "odd.mp4")
    transcode(str(tmp_path / "odd"), out)
    info = probe(out)
    assert (info.width, info.height, info.frame_count) == (333, 187, 2)


def test_existing_frames_need_overwrite(cfr_mp4, tmp_path):
    out = tmp_path / "frames"
    out.mkdir()
    (out / "keep.txt").write_text("user file")
    transcode(cfr_mp4, str(out))  # an existing folder without frames is fine
    with pytest.raises(OutputError, match="already holds frames"):
        transcode(cfr_mp4, str(out))
    short = str(tmp_path / "short.mp4")
    media.make_video(short, frames=3)
    transcode(short, str(out), overwrite=True)
    assert sorted(os.listdir(out)) == ["00000000.png", "00000001.png", "00000002.png", "keep.txt"]
    assert not [n for n in os.listdir(tmp_path) if "swiftvr-tmp" in n]


def test_refuse_writing_into_the_input_folder(tmp_path):
    media.make_images(tmp_path / "seq", count=2)
    with pytest.raises(OutputError, match="input folder"):
        transcode(str(tmp_path / "seq"), str(tmp_path / "seq"), overwrite=True)


def test_image_abort_leaves_nothing(cfr_mp4, tmp_path):
    target = tmp_path / "frames"
    writer = VideoWriter(str(target), width=64, height=48, source=probe(cfr_mp4))
    writer.write(torch.rand(2, 3, 48, 64), [0, 1])
    writer.abort()
    assert list(tmp_path.iterdir()) == []


def test_jpeg_sequence_reads_as_rgb(tmp_path):
    (tmp_path / "jpg").mkdir()
    colour = np.zeros((48, 64, 3), np.uint8)
    colour[...] = (200, 100, 30)
    for i in range(2):
        av.VideoFrame.from_ndarray(colour, format="rgb24").save(str(tmp_path / "jpg" / f"{i}.jpg"))
    with VideoReader(str(tmp_path / "jpg")) as reader:
        frames = list(reader)
        rgb = frames_to_rgb(frames, reader.info)
    assert reader.info.pix_fmt == "rgb24" and frames[0].layout == "rgb"
    assert torch.allclose(rgb[:, :, 24, 32], torch.tensor([200.0, 100.0, 30.0]).expand(2, 3), atol=3)
