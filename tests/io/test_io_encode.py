"""VideoWriter: timing, rotation, colour tags, odd sizes, bit depth, encoders."""

from __future__ import annotations

import av
import numpy as np
import pytest
import torch

from tests import media
from tests.io.io_pipeline import transcode

from swiftvr_cli.io import EncodeOptions, OutputError, VideoReader, VideoWriter, frames_to_rgb, probe
from swiftvr_cli.io.colour import YUVFrames


def _pts(path: str) -> list[int]:
    with VideoReader(path) as reader:
        return [f.pts for f in reader]


def test_cfr_round_trip_keeps_pts_count_rotation(cfr_mp4, tmp_path):
    out = str(tmp_path / "out.mp4")
    writer = transcode(cfr_mp4, out)
    assert writer.frames_written == 12
    src, dst = probe(cfr_mp4), probe(out)
    assert dst.frame_count == 12 and dst.fps == src.fps and dst.time_base == src.time_base
    assert dst.rotation == 90
    assert _pts(out) == _pts(cfr_mp4)


def test_vfr_round_trip_keeps_timestamps(vfr_mkv, tmp_path):
    same = str(tmp_path / "out.mkv")
    transcode(vfr_mkv, same)
    assert _pts(same) == media.vfr_pts(12, 25)
    assert probe(same).is_vfr
    other = str(tmp_path / "out.mp4")
    transcode(vfr_mkv, other)
    assert media.frame_times(other) == pytest.approx([t / 1000 for t in media.vfr_pts(12, 25)], abs=1e-3)


@pytest.mark.parametrize(
    "suffix, codec",
    # MP4 ends a video with reordered frames (x264's B-frames) where its decode times say,
    # which at a variable rate can differ from the presentation end by a frame's timing jitter
    [(".mkv", "libx264"), (".mp4", "mpeg4")],
)
def test_variable_rate_output_ends_where_the_source_ends(tmp_path, suffix, codec):
    """The last frame keeps its own duration, not an average frame's."""
    src = media.short_last_frame_mp4(tmp_path / "short_last.mp4")
    tick = 1 / media.SHORT_LAST_RATE
    assert probe(src).duration_s == pytest.approx(media.SHORT_LAST_END * tick, abs=1e-4)
    out = str(tmp_path / f"out{suffix}")
    transcode(src, out, options=EncodeOptions(codec=codec, crf=None, preset=None))
    assert media.frame_times(out) == pytest.approx([t * tick for t in media.SHORT_LAST_STAMPS], abs=1e-3)
    assert probe(out).duration_s == pytest.approx(media.SHORT_LAST_END * tick, abs=2e-3)


def test_a_cut_ending_mid_video_gives_its_last_frame_the_gap_before_it(tmp_path):
    """Written frames that stop far from the source's end: the source's end says nothing."""
    src = media.short_last_frame_mp4(tmp_path / "short_last.mp4")
    out = str(tmp_path / "first3.mp4")
    with VideoReader(src) as reader:
        frames = [f for f in reader][:3]
        info = reader.info
    with VideoWriter(out, width=64, height=48, source=info, options=EncodeOptions()) as writer:
        writer.write(frames_to_rgb(frames, info) / 255.0, [f.pts for f in frames])
    third, gap = media.SHORT_LAST_STAMPS[2], media.SHORT_LAST_STAMPS[2] - media.SHORT_LAST_STAMPS[1]
    assert probe(out).duration_s == pytest.approx((third + gap) / media.SHORT_LAST_RATE, abs=2e-3)


def test_a_video_starting_off_a_whole_millisecond_keeps_every_pts_in_mp4(tmp_path):
    """MP4's default movie timescale (1000) would move every frame of such a video."""
    src = media.short_last_frame_mp4(tmp_path / "late.mp4", start=2003)
    out = str(tmp_path / "out.mp4")
    transcode(src, out)
    assert _pts(out) == _pts(src) == [2003 + t for t in media.SHORT_LAST_STAMPS]


def test_rotation_kept_in_matroska(cfr_mp4, tmp_path):
    out = str(tmp_path / "rot.mkv")
    transcode(cfr_mp4, out)
    assert probe(out).rotation == 90


def test_missing_pts_follow_the_frame_rate(cfr_mp4, tmp_path):
    info = probe(cfr_mp4)
    out = str(tmp_path / "nopts.mp4")
    with VideoWriter(out, width=64, height=48, source=info, options=EncodeOptions()) as writer:
        writer.write(torch.rand(5, 3, 48, 64), [None] * 5)
    assert media.frame_times(out) == pytest.approx([i / 25 for i in range(5)], abs=1e-4)


def test_frames_sharing_one_timestamp_play_at_the_declared_rate(tmp_path):
    """A broken clip (every frame stamped 0) is read as its declared 24 fps, not the
    312 fps its collapsed duration implies, and written one frame duration apart."""
    broken = str(tmp_path / "same_pts.mp4")
    with av.open(broken, "w") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(13):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 10, np.uint8), format="rgb24")
            frame.pts = 0
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    assert probe(broken).fps == 24
    out = str(tmp_path / "out.mp4")
    writer = transcode(broken, out)
    assert writer.frames_written == 13
    assert probe(out).fps == 24
    assert media.frame_times(out) == pytest.approx([i / 24 for i in range(13)], abs=1e-3)


def test_colour_tags_and_range_copied(tmp_path):
    src = media.make_video(
        tmp_path / "tagged.mp4", frames=3, options={"x264-params": "colorprim=bt709:transfer=bt709:colormatrix=bt709"}
    )
    out = str(tmp_path / "out.mkv")
    transcode(src, out)
    info = probe(out)
    assert (info.colorspace, info.color_primaries, info.color_trc, info.color_range) == (1, 1, 1, 1)
    assert info.color_matrix == "bt709"


def test_identity_round_trip_is_close(tmp_path):
    src = media.make_video(tmp_path / "q.mkv", frames=3, size=(64, 48), codec="ffv1", pix_fmt="yuv420p")
    out = str(tmp_path / "q.mp4")
    transcode(src, out, options=EncodeOptions(crf=0))
    with VideoReader(src) as a, VideoReader(out) as b:
        ra, rb = frames_to_rgb(list(a), a.info), frames_to_rgb(list(b), b.info)
    assert (ra - rb).abs().mean() < 1.0


def test_odd_size_333x187_end_to_end(odd_mkv, tmp_path):
    out = str(tmp_path / "odd.mp4")
    writer = transcode(odd_mkv, out, chunk=3, options=EncodeOptions(crf=0))
    assert any("yuv444p" in note for note in writer.notes)
    info = probe(out)
    assert (info.width, info.height, info.frame_count, info.pix_fmt) == (333, 187, 4, "yuv444p")
    with VideoReader(odd_mkv) as a, VideoReader(out) as b:
        ra, rb = frames_to_rgb(list(a), a.info), frames_to_rgb(list(b), b.info)
    assert ra.shape == rb.shape == (4, 3, 187, 333)
    assert (ra - rb).abs().mean() < 1.0


def test_odd_size_stays_420_where_the_codec_allows(odd_mkv, tmp_path):
    out = str(tmp_path / "odd.mkv")
    writer = transcode(odd_mkv, out, options=EncodeOptions(codec="ffv1"))
    assert writer.notes == [] or all("yuv444p" not in n for n in writer.notes)
    assert probe(out).pix_fmt == "yuv420p"


def test_ten_bit_source_gives_ten_bit_output(ten_bit_mkv, tmp_path):
    out = str(tmp_path / "ten.mkv")
    transcode(ten_bit_mkv, out)
    info = probe(out)
    assert (info.pix_fmt, info.bit_depth) == ("yuv420p10le", 10)
    with VideoReader(out) as reader:
        rgb = frames_to_rgb(list(reader), reader.info)
    assert rgb[0, 1].unique().numel() > 256


def test_explicit_pixel_format(cfr_mp4, tmp_path):
    out = str(tmp_path / "444.mp4")
    transcode(cfr_mp4, out, options=EncodeOptions(pix_fmt="yuv444p"))
    assert probe(out).pix_fmt == "yuv444p"
    with pytest.raises(OutputError, match="cannot encode pixel format 'nv12'"):
        transcode(cfr_mp4, str(tmp_path / "bad.mp4"), options=EncodeOptions(pix_fmt="nv12"))


@pytest.mark.parametrize("codec, name", [("libx265", "hevc"), ("libsvtav1", "av1")])
def test_other_encoders(codec, name, cfr_mp4, tmp_path):
    if codec not in av.codecs_available:
        pytest.skip(f"{codec} not in this FFmpeg build")
    out = str(tmp_path / f"{codec}.mp4")
    transcode(cfr_mp4, out, options=EncodeOptions(codec=codec, crf=30, preset="veryfast"))
    info = probe(out)
    assert info.codec == name and info.frame_count == 12


def test_unknown_encoder_names_alternatives(cfr_mp4, tmp_path):
    with pytest.raises(OutputError, match=r"'nope264'.*available: .*libx264"):
        options = EncodeOptions(codec="nope264")
        VideoWriter(str(tmp_path / "x.mp4"), width=64, height=48, source=probe(cfr_mp4), options=options)
    assert list(tmp_path.iterdir()) == []


def test_gpu_encoder_opens_or_fails_clearly(cfr_mp4, tmp_path):
    if "h264_nvenc" not in av.codecs_available:
        pytest.skip("no NVENC in this FFmpeg build")
    out = str(tmp_path / "nv.mp4")
    try:
        transcode(cfr_mp4, out, options=EncodeOptions(codec="h264_nvenc"))
    except OutputError as error:  # no usable GPU: a one-line message naming alternatives
        assert "h264_nvenc" in str(error) and "available:" in str(error) and "\n" not in str(error)
        assert list(tmp_path.iterdir()) == []
    else:
        assert probe(out).frame_count == 12


def test_container_that_cannot_hold_codec(cfr_mp4, tmp_path):
    with pytest.raises(OutputError, match="webm container cannot hold libx264"):
        transcode(cfr_mp4, str(tmp_path / "x.webm"))
    assert list(tmp_path.iterdir()) == []


def test_write_validates_shapes(cfr_mp4, tmp_path):
    with VideoWriter(str(tmp_path / "x.mp4"), width=64, height=48, source=probe(cfr_mp4)) as writer:
        with pytest.raises(ValueError, match="expected"):
            writer.write(torch.rand(2, 3, 10, 10), [0, 1])
        with pytest.raises(ValueError, match="timestamps"):
            writer.write(torch.rand(2, 3, 48, 64), [0])
        writer.write(torch.rand(1, 3, 48, 64), [0])
    assert probe(str(tmp_path / "x.mp4")).frame_count == 1


def test_output_size_may_differ_from_the_source(cfr_mp4, tmp_path):
    info = probe(cfr_mp4)
    out = str(tmp_path / "x2.mp4")
    with VideoReader(cfr_mp4) as reader, VideoWriter(out, width=128, height=96, source=info) as writer:
        for frame in reader:
            rgb = frames_to_rgb([frame], info) / 255
            writer.write(torch.nn.functional.interpolate(rgb, scale_factor=2), [frame.pts])
    result = probe(out)
    assert (result.width, result.height, result.frame_count, result.rotation) == (128, 96, 12, 90)
    assert media.packets_of(out, "audio") == media.packets_of(cfr_mp4, "audio")


@pytest.mark.parametrize("pix_fmt", ["yuv420p", "yuv444p10le"])
def test_prepared_planes_encode_exactly_like_rgb(cfr_mp4, tmp_path, pix_fmt):
    """`prepare` runs the colour conversion where the frames are (the GPU in a real run);
    the encoder then gets the same integer planes as from RGB."""
    info = probe(cfr_mp4)
    rgb = torch.rand(4, 3, 48, 64)
    outputs = []
    for name, prepare in (("rgb", False), ("planes", True)):
        out = str(tmp_path / f"{name}.mkv")
        options = EncodeOptions(codec="ffv1", pix_fmt=pix_fmt)
        with VideoWriter(out, width=64, height=48, source=info, options=options) as writer:
            frames = writer.prepare(rgb) if prepare else rgb
            assert isinstance(frames, YUVFrames) == prepare and len(frames) == 4
            writer.write(frames[:3], [0, 1, 2])
            writer.write(frames[3:], [3])
        with av.open(out) as container:
            outputs.append([[bytes(plane) for plane in f.planes] for f in container.decode(video=0)])
    assert len(outputs[0]) == 4 and outputs[0] == outputs[1]


def test_planes_of_another_size_are_refused(cfr_mp4, tmp_path):
    info = probe(cfr_mp4)
    with VideoWriter(str(tmp_path / "out.mkv"), width=64, height=48, source=info) as writer:
        planes = writer.prepare(torch.rand(2, 3, 48, 64))
        with pytest.raises(ValueError, match="not this output's"):
            writer.write(planes.map(lambda p: p[:, :-2]), [0, 1])
        writer.write(planes, [0, 1])


def test_image_output_keeps_rgb(tmp_path, cfr_mp4):
    with VideoWriter(str(tmp_path / "frames"), width=64, height=48, source=probe(cfr_mp4)) as writer:
        frames = writer.prepare(torch.rand(2, 3, 48, 64, dtype=torch.bfloat16))
        assert isinstance(frames, torch.Tensor) and frames.dtype == torch.float32
        writer.write(frames, [0, 1])


def test_x264_gives_the_same_bitstream_every_run(tmp_path):
    """Restoring the same input twice gives the same file (encoders.x264_reproducible_options)."""
    frames = media.moving_waves(24, 64, 96)
    src = str(tmp_path / "waves.mkv")
    with av.open(src, "w") as container:
        stream = container.add_stream("ffv1", rate=25)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        for rgb in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")))
        container.mux(stream.encode(None))
    runs = []
    for i in range(5):
        out = str(tmp_path / f"out{i}.mkv")
        transcode(src, out, options=EncodeOptions(codec="libx264"))
        runs.append(media.packets_of(out, "video"))
    assert all(run == runs[0] for run in runs[1:])
