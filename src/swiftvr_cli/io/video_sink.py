"""Encoding RGB batches into a media container (file or stdout).

Timing is copied from the source: its time base, frame rate and each
frame's pts (so variable frame rate survives). Rotation, colour tags and
sample aspect ratio are copied too. RGB -> Y'CbCr happens once per batch
in torch; the integer planes are then copied into PyAV frames.
"""

from __future__ import annotations

import collections
from fractions import Fraction
from typing import Sequence

import av
import torch

from .colour import YUVFrames, rgb_to_planes
from .encoders import DEFAULT_FPS, EncoderPlan, encoder_error, plan_encoder
from .errors import BrokenPipe, OutputError, describe_av_error
from .options import EncodeOptions
from .pixfmt import planes_to_frame
from .probe import VideoInfo
from .sidestreams import SideStreams
from .stdin_side import SidePacketTap
from .stdio import PipeWriter, is_broken_pipe

Y4M = "yuv4mpegpipe"
_MAX_ENCODER_DELAY = 1024  # frames an encoder may hold back (x264's deepest lookahead is 250)
_MOV_FAMILY = frozenset({"mov", "mp4", "ipod", "ismv", "3gp", "3g2", "psp", "f4v"})


def keep_exact_start(container: av.container.OutputContainer, time_base: Fraction) -> None:
    """MP4 and MOV write their edit list (where a video that does not start at 0 begins) in a
    movie timescale of 1000 by default, which moves every frame by up to half a millisecond;
    the video's own time base keeps it exact. Call before ``start_encoding``."""
    if container.format.name in _MOV_FAMILY and 0 < time_base.denominator < 2**31:
        container.options["movie_timescale"] = str(time_base.denominator)


class ContainerSink:
    """Owns one output container; ``close`` finalises it, ``abort`` just closes it."""

    def __init__(
        self,
        file: str | PipeWriter,
        *,
        label: str,
        container_format: str | None,
        width: int,
        height: int,
        source: VideoInfo,
        options: EncodeOptions,
        notes: list[str],
        side_source: str | SidePacketTap | None,
    ) -> None:
        self._pipe = file if isinstance(file, PipeWriter) else None
        self._label = label
        self.width, self.height = width, height
        self.frames_written = 0
        self._notes = notes
        self._side: SideStreams | None = None
        self._y4m = container_format == Y4M
        self._plan: EncoderPlan = plan_encoder(
            options, source, width, height, force_codec="rawvideo" if self._y4m else None, notes=notes
        )
        self._fps = source.fps or DEFAULT_FPS
        # y4m stores one constant rate, expressed as its time base, and ignores pts.
        self._time_base = 1 / self._fps if self._y4m else source.time_base
        self._last_pts: int | None = None
        self._last_gap: int | None = None  # the latest distance between two frames' pts
        self._pts_fixed = False
        # Packets wait here until the frame after theirs is known, which gives their duration;
        # the muxer would otherwise guess one average frame, and the last frame of a variable-
        # rate video would outlast the source's.
        self._held: collections.deque[av.Packet] = collections.deque()
        self._durations: dict[int, int] = {}
        self._source_end = source.end_pts if self._time_base == source.time_base else None
        try:
            # y4m at more than 8 bits (C420p10...) is an FFmpeg extension that its muxer only writes when told;
            # FFmpeg, x264 and others read it, and it keeps a 10-bit source's depth on a pipe
            muxer_options = {"strict": "unofficial"} if self._y4m else {}
            self._container = av.open(file, "w", format=container_format, options=muxer_options)
        except (av.FFmpegError, OSError, ValueError) as error:
            raise self._error("cannot create", error) from None
        try:
            self._stream = self._add_video_stream(source)
            self._open_encoder()
            if side_source is not None and options.copy_streams:
                self._attach_side_streams(source, side_source)
            keep_exact_start(self._container, self._time_base)
            self._container.start_encoding()
        except OutputError:
            self.abort()
            raise
        except (av.FFmpegError, OSError, ValueError) as error:
            self.abort()
            raise self._error("cannot start writing", error) from None

    def _attach_side_streams(self, source: VideoInfo, side_source: str | SidePacketTap) -> None:
        if not self._y4m:
            self._side = SideStreams(self._container, side_source, self._notes)
            return
        if isinstance(side_source, SidePacketTap):
            side_source.decline()
        if source.audio_streams or source.subtitle_streams:
            self._notes.append("y4m carries video only; audio and subtitles are not written (use --format nut or matroska)")

    def _open_encoder(self) -> None:
        """Open the video encoder now, so a missing GPU or bad option fails before any work."""
        try:
            self._stream.codec_context.open()
        except (av.FFmpegError, ValueError) as error:
            raise encoder_error(self._plan.codec, describe_av_error(error)) from None

    def _error(self, what: str, error: BaseException) -> OutputError:
        if is_broken_pipe(error) or (self._pipe is not None and self._pipe.broken):
            return BrokenPipe("output pipe closed by the reader")
        return OutputError(f"{what} {self._label}: {describe_av_error(error)}")

    def _add_video_stream(self, source: VideoInfo) -> av.video.stream.VideoStream:
        plan = self._plan
        try:
            stream = self._container.add_stream(plan.codec, rate=self._fps)
        except ValueError:
            fmt = self._container.format.name
            raise OutputError(
                f"the {fmt} container cannot hold {plan.codec} video; pick another codec or file type"
            ) from None
        stream.width, stream.height = self.width, self.height
        stream.pix_fmt = plan.layout.pix_fmt
        stream.time_base = self._time_base
        ctx = stream.codec_context
        ctx.time_base = self._time_base
        ctx.framerate = self._fps
        colour = plan.colour
        ctx.color_range = colour.color_range
        ctx.colorspace = colour.colorspace
        ctx.color_primaries = colour.color_primaries
        ctx.color_trc = colour.color_trc
        if source.sample_aspect_ratio:
            ctx.sample_aspect_ratio = source.sample_aspect_ratio
        self._copy_field_order(source, ctx)
        if plan.codec_options:
            stream.options = dict(plan.codec_options)
        if source.rotation:
            stream.set_display_rotation(source.rotation)
        return stream

    def _copy_field_order(self, source: VideoInfo, ctx: av.video.codeccontext.VideoCodecContext) -> None:
        """Interlaced input: keep the field-order tag while lines still map to the same fields."""
        if source.field_order < 2:
            return
        if self.height == source.height:
            ctx.field_order = source.field_order
            self._notes.append("interlaced input: restored as whole frames; field-order tag copied (Matroska keeps it, MP4/MOV do not)")
        else:
            self._notes.append("interlaced input: resizing mixes its fields, so the output is tagged progressive")

    def _next_pts(self, pts: int | None) -> int:
        """Source pts, or index/fps when unknown; one frame duration on from the last if not increasing.

        A whole frame, not one tick: a clip whose frames all share a timestamp then
        plays at its rate instead of thousands of frames a second.
        """
        index = self.frames_written
        if self._y4m:
            value = index
        elif pts is None:
            value = round(index / (self._fps * self._time_base))
        else:
            value = pts
        if self._last_pts is not None and value <= self._last_pts:
            if not self._pts_fixed:
                self._notes.append(f"non-increasing timestamps from frame {index}; shifted to keep order")
                self._pts_fixed = True
            value = self._last_pts + self._frame_ticks()
        if self._last_pts is not None:
            self._last_gap = self._durations[self._last_pts] = value - self._last_pts
            if len(self._durations) > _MAX_ENCODER_DELAY:  # an encoder that renumbers pts never claims them
                del self._durations[next(iter(self._durations))]
        self._last_pts = value
        return value

    def _frame_ticks(self) -> int:
        """One nominal frame in the time base."""
        return max(1, round(1 / (self._fps * self._time_base)))

    def _last_duration(self) -> int:
        """The last frame lasts until the source ends, when that end is near (a span cut
        from the middle of a video ends far from it), else as long as the frame before it."""
        step = self._last_gap or self._frame_ticks()
        if self._source_end is not None and self._last_pts is not None:
            left = self._source_end - self._last_pts
            if 0 < left <= 2 * max(step, self._frame_ticks()):
                return left
        return step

    def to_planes(self, rgb01: torch.Tensor) -> YUVFrames:
        """[T,3,H,W] RGB in [0,1] -> this encoder's integer planes, on the tensor's own device."""
        colour, layout = self._plan.colour, self._plan.layout
        y, u, v = rgb_to_planes(
            rgb01,
            matrix=colour.matrix,
            full_range=colour.full_range,
            bit_depth=layout.bit_depth,
            subsampling="420" if layout.layout == "yuv420" else "444",
        )
        return YUVFrames(y, u, v)

    def write(self, frames: torch.Tensor | YUVFrames, pts: Sequence[int | None]) -> None:
        """Encode a batch, [T,3,H,W] RGB in [0,1] or `to_planes`' output, with one pts per frame."""
        colour, layout = self._plan.colour, self._plan.layout
        yuv = frames if isinstance(frames, YUVFrames) else self.to_planes(frames)
        planes = [p.cpu().numpy().astype(layout.dtype, copy=False) for p in (yuv.y, yuv.u, yuv.v)]
        try:
            for i in range(len(yuv)):
                frame = planes_to_frame([p[i] for p in planes], layout.pix_fmt, self.width, self.height)
                frame.pts = self._next_pts(pts[i])
                frame.time_base = self._time_base
                frame.color_range = colour.color_range
                frame.colorspace = colour.colorspace
                frame.color_primaries = colour.color_primaries
                frame.color_trc = colour.color_trc
                self._mux_video(self._stream.encode(frame))
                self.frames_written += 1
        except (av.FFmpegError, OSError) as error:
            raise self._error("cannot encode to", error) from None

    def _mux_video(self, packets: list[av.Packet], *, final: bool = False) -> None:
        """Mux the packets whose frame's duration is known (all of them when ``final``)."""
        self._held.extend(packets)
        if final and self._last_pts is not None:
            self._durations[self._last_pts] = self._last_duration()
        while self._held and (final or self._held[0].pts is None or self._held[0].pts < self._last_pts):
            packet = self._held.popleft()
            if packet.pts is not None and packet.pts in self._durations:
                packet.duration = self._durations.pop(packet.pts)
            if self._side is not None:
                stamp = packet.dts if packet.dts is not None else packet.pts
                if stamp is not None:
                    self._side.feed_until(float(stamp * packet.time_base))
            self._container.mux(packet)

    def close(self) -> None:
        """Flush the encoder and side streams, write the trailer."""
        try:
            self._mux_video(self._stream.encode(None), final=True)
            if self._side is not None:
                self._side.finish()
                self._side = None
            self._container.close()
        except (av.FFmpegError, OSError) as error:
            self.abort()
            raise self._error("cannot finish", error) from None

    def abort(self) -> None:
        """Release everything without caring about the output's state."""
        if self._side is not None:
            self._side.close()
            self._side = None
        container = getattr(self, "_container", None)
        if container is not None:
            try:
                container.close()
            except Exception:  # already broken; nothing useful to report
                pass
