"""Joining encoded segments (`--resume` checkpoints, `batch` segments) into one file."""

from __future__ import annotations

import av
import pytest
import torch

from swiftvr_cli.io import EncodeOptions, OutputError, VideoWriter, probe
from swiftvr_cli.io.join import join_segments
from tests import media


def _segments(tmp_path, src: str, ext: str, cuts: list[int], options: EncodeOptions, *, noise: bool = True) -> list[str]:
    """The source's timeline cut at ``cuts``, each piece encoded by its own encoder (B-frames on):
    noise, or (``noise=False``) the smooth moving pattern, where x264 places B-frames as on real video."""
    info = probe(src)
    with av.open(src) as container:
        stamps = sorted(p.pts for p in container.demux(container.streams.video[0]) if p.size)
    bounds = [0, *cuts, len(stamps)]
    torch.manual_seed(0)
    parts = []
    for i, (a, b) in enumerate(zip(bounds, bounds[1:])):
        part = str(tmp_path / f"part{i}{ext}")
        writer = VideoWriter(part, width=32, height=24, source=info, options=options, overwrite=True)
        frames = torch.rand(b - a, 3, 24, 32) if noise else _pattern(range(a, b), len(stamps))
        writer.write(frames, stamps[a:b])
        writer.close()
        parts.append(part)
    return parts


@pytest.mark.parametrize("ext", [".mkv", ".mp4"])
def test_segments_with_b_frames_join_into_every_frame(tmp_path, ext):
    """Matroska reports no decode time for a segment's first packets: joined with the stored
    decode times, the muxer refuses the joint; the join lets the muxer derive them."""
    src = media.make_video(tmp_path / f"in{ext}", frames=30, size=(32, 24), vfr=True)
    parts = _segments(tmp_path, src, ext, [11, 19], EncodeOptions(copy_streams=False))
    target = tmp_path / f"joined{ext}"
    frames = join_segments(parts, str(target), probe(src), EncodeOptions(), overwrite=False, notes=[])
    assert frames == 30 and _decoded_seconds(target) == pytest.approx(_decoded_seconds(src), abs=1e-3)


def _pattern(indices, count: int) -> torch.Tensor:
    return torch.stack([torch.from_numpy(media.pattern_rgb(i, 32, 24, count)).permute(2, 0, 1).float() for i in indices])


def _decoded_seconds(path) -> list[float]:
    with av.open(str(path)) as container:
        return [float(f.pts * f.time_base) for f in container.decode(video=0)]


def test_segments_with_different_codec_headers_are_refused(tmp_path):
    src = media.make_video(tmp_path / "in.mp4", frames=12, size=(32, 24))
    first = _segments(tmp_path, src, ".mp4", [6], EncodeOptions(copy_streams=False))[0]
    (tmp_path / "other").mkdir()
    second = _segments(tmp_path / "other", src, ".mp4", [6], EncodeOptions(copy_streams=False, crf=None, preset="ultrafast", codec="libx265"))[1]
    with pytest.raises(OutputError, match="codec headers differ"):
        join_segments([first, second], str(tmp_path / "joined.mp4"), probe(src), EncodeOptions(), overwrite=False, notes=[])
    assert not (tmp_path / "joined.mp4").exists()


@pytest.mark.parametrize("ext", [".mkv", ".mp4"])
def test_joined_segments_keep_every_pts_and_end_where_the_source_ends(tmp_path, ext):
    """Copied as demuxed, MP4's decode-order durations would move the end; later segments
    start off whole milliseconds, which MP4's default movie timescale would move."""
    src = media.short_last_frame_mp4(tmp_path / "short.mp4", start=7)
    options = EncodeOptions(copy_streams=False)
    parts = _segments(tmp_path, src, ext, [2, 3], options)
    target = str(tmp_path / f"joined{ext}")
    join_segments(parts, target, probe(src), EncodeOptions(), overwrite=False, notes=[])
    assert _decoded_seconds(target) == pytest.approx(_decoded_seconds(src), abs=1e-3 if ext == ".mkv" else 1e-9)
    assert probe(target).duration_s == pytest.approx(probe(src).duration_s, abs=2e-3)


def test_joined_camera_timing_ends_where_the_source_ends(tmp_path):
    """MP4 segments demux with decode-order durations; copied as they are, the last frame of
    this clip would last 0.4 s, not its own 1024 ticks (0.07 s)."""
    src = media.variable_rate_mp4(tmp_path / "camera.mp4", list(media.CAMERA_STAMPS), media.CAMERA_END)
    parts = _segments(tmp_path, src, ".mp4", [4], EncodeOptions(copy_streams=False), noise=False)
    target = str(tmp_path / "joined.mp4")
    join_segments(parts, target, probe(src), EncodeOptions(), overwrite=False, notes=[])
    assert probe(target).duration_s == pytest.approx(media.CAMERA_END / media.SHORT_LAST_RATE, abs=2e-3)
