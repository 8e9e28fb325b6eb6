"""VideoReader + frames_to_rgb: frame counts, pts, layouts, precision, odd sizes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests import media

from swiftvr_cli.io import Frame, VideoReader, frames_to_rgb


def test_reader_yields_native_planes(cfr_mp4):
    with VideoReader(cfr_mp4) as reader:
        frames = list(reader)
        info = reader.info
    assert len(frames) == 12
    first = frames[0]
    assert isinstance(first, Frame) and first.layout == "yuv420" and first.bit_depth == 8
    assert [tuple(p.shape) for p in first.planes] == [(48, 64), (24, 32), (24, 32)]
    assert all(p.dtype == torch.uint8 for p in first.planes)
    assert [f.index for f in frames] == list(range(12))
    times = [f.time for f in frames]
    assert times == pytest.approx([i / 25 for i in range(12)], abs=1e-6)
    rgb = frames_to_rgb(frames[:5], info)
    assert rgb.shape == (5, 3, 48, 64) and rgb.dtype == torch.float32
    assert rgb.max() > 200 and rgb.min() >= 0  # 0..255 scale


def test_rgb_matches_the_source_pattern(tmp_path):
    path = media.make_video(tmp_path / "q.mkv", frames=2, size=(64, 48), codec="ffv1", pix_fmt="yuv444p")
    with VideoReader(path) as reader:
        rgb = frames_to_rgb(list(reader), reader.info)
    expected = torch.from_numpy(media.pattern_rgb(1, 64, 48, 2) * 255).permute(2, 0, 1).float()
    assert (rgb[1] - expected).abs().mean() < 2.0


def test_vfr_timestamps_decoded(vfr_mkv):
    with VideoReader(vfr_mkv) as reader:
        pts = [f.pts for f in reader]
    assert pts == media.vfr_pts(12, 25)


def test_ten_bit_precision_is_kept(ten_bit_mkv):
    with VideoReader(ten_bit_mkv) as reader:
        frames = list(reader)
        rgb = frames_to_rgb(frames, reader.info)
    assert frames[0].bit_depth == 10 and frames[0].planes[0].dtype == torch.int16
    assert frames[0].planes[0].max() > 255  # 10-bit codes, not rescaled
    grey = rgb[0, 1]
    assert grey.unique().numel() > 256  # an 8-bit path could give at most 256 levels
    assert not torch.allclose(grey, grey.round())


def test_odd_size_decodes(odd_mkv):
    with VideoReader(odd_mkv) as reader:
        frames = list(reader)
        rgb = frames_to_rgb(frames, reader.info)
    assert [tuple(p.shape) for p in frames[0].planes] == [(187, 333), (94, 167), (94, 167)]
    assert rgb.shape == (4, 3, 187, 333)


def test_other_pixel_formats_are_converted(tmp_path):
    yuv422 = media.make_video(tmp_path / "p422.mkv", frames=2, codec="ffv1", pix_fmt="yuv422p")
    rgba = media.make_video(tmp_path / "rgba.mkv", frames=2, codec="ffv1", pix_fmt="bgr0")
    gray12 = media.make_video(tmp_path / "g12.mkv", frames=2, codec="ffv1", pix_fmt="yuv420p12le")
    with VideoReader(yuv422) as reader:
        frame = next(iter(reader))
        assert (frame.layout, frame.bit_depth, reader.info.pix_fmt) == ("yuv444", 8, "yuv422p")
    with VideoReader(rgba) as reader:
        frame = next(iter(reader))
        assert frame.layout == "rgb" and tuple(frame.planes[0].shape) == (48, 64, 3)
        rgb = frames_to_rgb([frame], reader.info)
        expected = torch.from_numpy(np.round(media.pattern_rgb(0, 64, 48, 2) * 255)).permute(2, 0, 1).float()
        assert torch.equal(rgb[0], expected)  # lossless RGB comes through untouched
    with VideoReader(gray12) as reader:
        frame = next(iter(reader))
        assert (frame.layout, frame.bit_depth, reader.info.bit_depth) == ("yuv420", 10, 12)


def test_full_range_jpeg_style_input(tmp_path):
    path = media.make_video(
        tmp_path / "j.mkv", frames=1, codec="libx264", pix_fmt="yuvj444p", content="gray", options={"qp": "0"}
    )
    with VideoReader(path) as reader:
        assert reader.info.full_range is True
        frame = next(iter(reader))
        rgb = frames_to_rgb([frame], reader.info)
    expected = media.gray_ramp(64, 48)[..., 0] * 255
    assert np.abs(rgb[0, 0].numpy() - expected).max() < 1.5


def test_stream_selection(cfr_mp4):
    with VideoReader(cfr_mp4, stream=0) as reader:
        assert reader.info.video_stream_index == 0
    from swiftvr_cli.io import InputError

    with pytest.raises(InputError, match="stream 1 is not a video stream"):
        VideoReader(cfr_mp4, stream=1)


def test_reader_is_single_pass(cfr_mp4):
    with VideoReader(cfr_mp4) as reader:
        list(reader)
        with pytest.raises(RuntimeError):
            list(reader)


def test_frames_to_rgb_for_sixteen_bit_png(tmp_path):
    media.make_images(tmp_path / "deep", count=2, bits=16)
    with VideoReader(str(tmp_path / "deep")) as reader:
        frames = list(reader)
        rgb = frames_to_rgb(frames, reader.info)
    assert frames[0].planes[0].dtype == torch.uint16 and frames[0].bit_depth == 16
    expected = media.pattern_rgb(1, 64, 48, 2)[..., 1] * 255
    assert np.abs(rgb[1, 1].numpy() - expected).max() < 0.01
