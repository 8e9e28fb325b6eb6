"""Long videos split into segments join into what a single pass writes."""

from __future__ import annotations

from fractions import Fraction

import pytest
import torch

from swiftvr_cli.batch.segments import FrameTimes, plan_segments, scan_frames, should_split, warmup_frames
from swiftvr_cli.io import EncodeOptions, probe
from swiftvr_cli.io.join import join_segments
from swiftvr_cli.io.span import Span
from swiftvr_cli.model.loading import load_model
from swiftvr_cli.pipeline.runner import RestoreSettings, restore_video
from tests import media
from tests.batch.helpers import frames_of, pts_of, psnr


def times(count: int, fps: int = 25) -> FrameTimes:
    return FrameTimes(list(range(count)), Fraction(1, fps))


@pytest.mark.parametrize("count,clip", [(40, 8), (250, 24), (101, 4), (13, 8)])
def test_segments_tile_the_video_on_the_chunk_grid(count, clip):
    segments = plan_segments(times(count), 0.4, clip, min_warmup=32)
    assert segments[0].start == 0 and segments[-1].stop == count
    assert all(a.stop == b.start for a, b in zip(segments, segments[1:]))
    for s in segments[1:]:
        assert (s.start - clip - 4) % clip == 0  # a chunk boundary of the single pass
        assert s.first % clip == 0 and s.first >= 0  # its own chunks line up with the single pass's
        assert s.warmup == min(s.start, warmup_frames(clip, 32))
    for s in segments[:-1]:
        assert s.end == min(count, s.stop + clip + 1)  # the chunk at `stop` is a MIDDLE chunk
    assert segments[-1].end == count


def test_warmup_is_whole_chunks():
    assert warmup_frames(8, 0) == 12 and warmup_frames(8, 12) == 12 and warmup_frames(8, 13) == 20
    assert warmup_frames(24, 32) == 52


def test_only_long_videos_are_split():
    assert should_split(3600, None) == 300 and should_split(60, None) is None
    assert should_split(60, 10) == 10 and should_split(5, 10) is None and should_split(3600, 0) is None


@pytest.mark.parametrize("gop", [None, "12"])
def test_segmented_restore_equals_single_pass(tmp_path, fast_weights, gop):
    """Lossless encoding isolates the model: the joined frames are the single pass's, bit for bit."""
    src = media.make_video(tmp_path / "in.mkv", frames=40, size=(32, 24), audio=True,
                           options={"g": gop, "keyint_min": gop, "sc_threshold": "0"} if gop else None)  # fmt: skip
    torch.manual_seed(0)
    model = load_model(fast_weights)
    settings = RestoreSettings(scale=2, clip_len=8, overwrite=True, encode=EncodeOptions(crf=0))
    restore_video(model, src, str(tmp_path / "single.mkv"), settings)

    info = probe(src)
    stamps = scan_frames(src, info.video_stream_index).pts
    segments = plan_segments(FrameTimes(stamps, info.time_base), 0.4, 8, min_warmup=8)
    assert len(segments) == 3
    parts = []
    for s in segments:
        at = lambda i: stamps[i] if i < len(stamps) else None  # noqa: E731
        part = str(tmp_path / f"part{s.index}.mp4")
        span = Span(stamps[s.first], stamps[s.start], at(s.stop), at(s.end), s.first > 0)
        assert restore_video(model, src, part, settings, span=span).frames == s.frames
        parts.append(part)
    join_segments(parts, str(tmp_path / "joined.mkv"), info, EncodeOptions(), overwrite=False, notes=[])

    single, joined = frames_of(tmp_path / "single.mkv"), frames_of(tmp_path / "joined.mkv")
    assert len(joined) == 40 and pts_of(tmp_path / "joined.mkv") == pts_of(tmp_path / "single.mkv") == pts_of(src)
    # the same frames up to float rounding (a segment's warm-up takes another code path)
    assert psnr(joined, single) > 60
    assert media.packets_of(tmp_path / "joined.mkv", "audio") == media.packets_of(src, "audio")
