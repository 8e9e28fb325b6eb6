"""probe(): header facts, colour tags, rotation, VFR, companion streams."""

from __future__ import annotations

import json
from fractions import Fraction

from tests import media

from swiftvr_cli.io import probe


def test_probe_cfr_mp4(cfr_mp4):
    info = probe(cfr_mp4)
    assert (info.width, info.height) == (64, 48)
    assert info.frame_count == 12
    assert info.fps == Fraction(25)
    assert info.time_base > 0 and info.duration_s is not None and abs(info.duration_s - 0.48) < 0.05
    assert info.codec == "h264" and "mp4" in info.container_format
    assert (info.pix_fmt, info.bit_depth, info.layout) == ("yuv420p", 8, "yuv420")
    assert info.color_matrix == "bt601" and info.full_range is False  # untagged SD
    assert info.rotation == 90
    assert info.is_vfr is False
    assert (info.audio_streams, info.subtitle_streams, info.video_stream_index) == (1, 0, 0)
    assert info.source_kind == "file"
    data = info.as_dict()
    assert json.loads(json.dumps(data))["fps"] == "25"


def test_probe_vfr_mkv_counts_frames_on_request(vfr_mkv):
    info = probe(vfr_mkv)
    assert info.is_vfr is True
    assert info.frame_count is None  # Matroska headers carry no frame count
    assert info.estimated_frames() is not None
    assert probe(vfr_mkv, count_frames=True).frame_count == 12
    assert (info.audio_streams, info.subtitle_streams) == (1, 1)
    assert info.time_base == Fraction(1, 1000)


def test_probe_ten_bit(ten_bit_mkv):
    info = probe(ten_bit_mkv)
    assert (info.pix_fmt, info.bit_depth, info.layout, info.codec) == ("yuv420p10le", 10, "yuv420", "hevc")


def test_probe_colour_tags(tmp_path):
    path = media.make_video(
        tmp_path / "tagged.mp4", frames=2, options={"x264-params": "colorprim=bt709:transfer=bt709:colormatrix=bt709"}
    )
    info = probe(path)
    assert info.color_matrix == "bt709"  # tag wins over the SD guess
    assert (info.colorspace, info.color_primaries, info.color_trc) == (1, 1, 1)


def test_probe_image_sequence(tmp_path):
    media.make_images(tmp_path / "seq", count=3, size=(40, 30))
    info = probe(str(tmp_path / "seq"))
    assert (info.width, info.height, info.frame_count) == (40, 30, 3)
    assert info.fps == Fraction(25) and info.time_base == Fraction(1, 25)
    assert (info.pix_fmt, info.bit_depth, info.layout, info.source_kind) == ("rgb24", 8, "rgb", "images")
    assert probe(str(tmp_path / "seq" / "%05d.png")).frame_count == 3
