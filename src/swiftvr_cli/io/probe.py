"""What a video is: size, timing, colour tags, rotation, companion streams.

``VideoInfo`` is the contract between reader and writer: the writer copies
frame rate, time base, colour tags and rotation from it so the output
matches the input.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av

from .colourtags import PRI_UNSPECIFIED, RANGE_JPEG, RANGE_UNSPECIFIED, SPC_UNSPECIFIED, TRC_UNSPECIFIED
from .colourtags import default_matrix, matrix_from_tags
from .errors import InputError, describe_av_error
from .pixfmt import component_bits, is_full_range_format, nearest_layout
from .scan import count_packets, sniff_vfr
from .sources import ContainerSource, ImageSequenceSource, open_source

@dataclass
class VideoInfo:
    """Facts about one video stream (sizes are coded sizes, before rotation)."""

    path: str
    container_format: str
    codec: str
    width: int
    height: int
    frame_count: int | None
    fps: Fraction | None
    time_base: Fraction
    duration_s: float | None
    pix_fmt: str
    bit_depth: int
    layout: str  # what VideoReader yields: "yuv420" | "yuv444" | "rgb"
    color_matrix: str  # matrix to use for Y'CbCr <-> RGB: bt601 | bt709 | bt2020
    full_range: bool
    color_range: int  # raw AVColorRange (0 unspecified, 1 limited, 2 full)
    color_primaries: int  # raw AVColorPrimaries, copied to the output
    color_trc: int  # raw AVColorTransferCharacteristic, copied to the output
    colorspace: int  # raw AVColorSpace, copied to the output
    rotation: int  # counter-clockwise display rotation in degrees, 0..359
    is_vfr: bool
    audio_streams: int
    subtitle_streams: int
    video_stream_index: int
    sample_aspect_ratio: Fraction | None = None
    source_kind: str = "file"  # "file" | "stdin" | "images"
    field_order: int = 0  # raw AVFieldOrder: 0 unknown, 1 progressive, 2+ interlaced (2 tt, 3 bb, 4 tb, 5 bt)
    end_pts: int | None = None  # when the last frame stops showing, in time_base (None: unknown)

    @property
    def is_rgb(self) -> bool:
        return self.layout == "rgb"

    def estimated_frames(self) -> int | None:
        """Exact count when known, else duration x fps (for progress bars only)."""
        if self.frame_count is not None:
            return self.frame_count
        if self.duration_s is not None and self.fps:
            return max(1, round(self.duration_s * float(self.fps)))
        return None

    def as_dict(self) -> dict[str, Any]:
        """JSON-serialisable view (fractions become "num/den" strings)."""
        out: dict[str, Any] = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            out[field.name] = str(value) if isinstance(value, Fraction) else value
        return out


def _tag(frame_value: int, stream_value: int | None, unspecified: int) -> int:
    """Frame tags win; fall back to the stream header when the frame says nothing."""
    if frame_value not in (None, unspecified):
        return int(frame_value)
    return int(stream_value) if stream_value is not None else unspecified


def _rotation(frame: av.VideoFrame, stream: av.stream.Stream) -> int:
    degrees = 0.0
    try:
        degrees = float(frame.rotation or 0)
    except (TypeError, ValueError):
        degrees = 0.0
    if not degrees:
        try:
            degrees = float(stream.metadata.get("rotate", 0))
        except (TypeError, ValueError):
            degrees = 0.0
    return int(round(degrees)) % 360


def _fps(stream: av.video.stream.VideoStream) -> Fraction | None:
    """The average rate, unless broken timestamps make it absurd.

    FFmpeg's average is frames over the stream's duration; when frames repeat one
    timestamp that duration collapses (13 frames in 1/24 s reads as 312 fps), while
    the rate the stream declares still holds. Over twice the declared rate is taken
    as that case (a real variable-rate clip averages below its finest step).
    """
    average, declared = stream.average_rate, stream.guessed_rate or stream.base_rate
    if average and declared and average > 2 * declared:
        return Fraction(declared)
    for rate in (average, declared):
        if rate:
            return Fraction(rate)
    return None


def describe_container(src: ContainerSource, *, count_frames: bool = False) -> VideoInfo:
    """VideoInfo of an opened container source (uses its eagerly decoded first frame)."""
    stream, frame, ctx = src.stream, src.first_frame, src.stream.codec_context
    pix_fmt = frame.format.name
    layout = nearest_layout(pix_fmt)
    color_range = _tag(frame.color_range, ctx.color_range, RANGE_UNSPECIFIED)
    primaries = _tag(frame.color_primaries, ctx.color_primaries, PRI_UNSPECIFIED)
    trc = _tag(frame.color_trc, ctx.color_trc, TRC_UNSPECIFIED)
    colorspace = _tag(frame.colorspace, ctx.colorspace, SPC_UNSPECIFIED)
    fps = _fps(stream)
    time_base = Fraction(stream.time_base) if stream.time_base else Fraction(1, int(fps or 25))
    frame_count = stream.frames if stream.frames and stream.frames > 0 else None
    is_file = src.kind == "file"
    if frame_count is None and count_frames and is_file:
        frame_count = count_packets(src.source, stream.index)
    duration = None
    if stream.duration:
        duration = float(stream.duration * time_base)
    elif src.container.duration:
        duration = src.container.duration / av.time_base
    sar = Fraction(stream.sample_aspect_ratio) if stream.sample_aspect_ratio else None
    return VideoInfo(
        path=src.source,
        container_format=src.container.format.name,
        codec=ctx.codec.canonical_name,
        width=frame.width,
        height=frame.height,
        frame_count=frame_count,
        fps=fps,
        time_base=time_base,
        duration_s=duration,
        pix_fmt=pix_fmt,
        bit_depth=component_bits(pix_fmt),
        layout=layout.layout,
        color_matrix=matrix_from_tags(colorspace, primaries, frame.width, frame.height),
        full_range=color_range == RANGE_JPEG or is_full_range_format(pix_fmt),
        color_range=color_range,
        color_primaries=primaries,
        color_trc=trc,
        colorspace=colorspace,
        rotation=_rotation(frame, stream),
        is_vfr=sniff_vfr(src.source, stream.index) if is_file else False,
        audio_streams=len(src.container.streams.audio),
        subtitle_streams=len(src.container.streams.subtitles),
        video_stream_index=stream.index,
        sample_aspect_ratio=sar if sar and sar != 1 else None,
        source_kind=src.kind,
        field_order=int(ctx.field_order or 0),
        end_pts=_end_pts(src, time_base),
    )


def stream_end_pts(stream: av.stream.Stream) -> int | None:
    """Where a stream says it ends (start + duration), in its time base; None when unsaid."""
    return (stream.start_time or 0) + stream.duration if stream.duration else None


def _end_pts(src: ContainerSource, time_base: Fraction) -> int | None:
    """The video's end: the stream's own, else the container's."""
    stream, container = src.stream, src.container
    if stream.duration:
        return stream_end_pts(stream)
    if container.duration:
        start = container.start_time or 0
        return int(Fraction(start + container.duration, av.time_base) / time_base)
    return None


def describe_images(src: ImageSequenceSource) -> VideoInfo:
    """VideoInfo of an image sequence: 25 fps, RGB, no companion streams."""
    frame = src.first_frame
    layout = nearest_layout(frame.format.name, rgb=True)
    count = len(src.files)
    return VideoInfo(
        path=src.source,
        container_format="image2",
        codec=src.codec_name,
        width=frame.width,
        height=frame.height,
        frame_count=count,
        fps=src.fps,
        time_base=src.time_base,
        duration_s=count / float(src.fps),
        pix_fmt=layout.pix_fmt,
        bit_depth=layout.bit_depth,
        layout="rgb",
        color_matrix=default_matrix(frame.width, frame.height),
        full_range=True,
        color_range=RANGE_JPEG,
        color_primaries=PRI_UNSPECIFIED,
        color_trc=TRC_UNSPECIFIED,
        colorspace=SPC_UNSPECIFIED,
        rotation=0,
        is_vfr=False,
        audio_streams=0,
        subtitle_streams=0,
        video_stream_index=0,
        source_kind="images",
    )


def describe(src: ContainerSource | ImageSequenceSource, *, count_frames: bool = False) -> VideoInfo:
    """VideoInfo of an opened source; late FFmpeg surprises become InputError."""
    try:
        if isinstance(src, ImageSequenceSource):
            return describe_images(src)
        return describe_container(src, count_frames=count_frames)
    except (av.FFmpegError, OSError) as error:
        raise InputError(f"cannot read {src.name}: {describe_av_error(error)}") from None


def probe(source: str, stream: int | None = None, *, count_frames: bool = False) -> VideoInfo:
    """Describe a video file, image sequence or stdin ("-": consumes stdin).

    ``count_frames`` demuxes the whole file when the header has no frame
    count (e.g. Matroska); otherwise ``frame_count`` may be None.
    """
    src = open_source(source, stream)
    try:
        return describe(src, count_frames=count_frames)
    finally:
        src.close()
