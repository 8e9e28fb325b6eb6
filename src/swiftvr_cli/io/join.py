"""Joining encoded segments into one file without re-encoding.

Used for `--resume` checkpoints and for the segments of a long video in
`batch`. Each segment is a complete file written with the same encoder
settings (their codec headers must match), so their video packets can be
copied one after the other into one container (a remux: fast, and
bit-exact). Timestamps are the source's own, so they already follow on from
segment to segment. Audio and subtitles are copied once from the source
here, interleaved by time, exactly as a single run does. Like
``VideoWriter``, the result is written under a temporary name and renamed
when complete.
"""

from __future__ import annotations

import os
from fractions import Fraction

import av

from .errors import OutputError, describe_av_error
from .options import EncodeOptions
from .probe import VideoInfo, stream_end_pts
from .safe_paths import move_into_place, remove_own_file
from .sidestreams import SideStreams
from .targets import temp_file_for
from .video_sink import keep_exact_start


def _extradata(path: str) -> bytes:
    with av.open(path) as container:
        return bytes(container.streams.video[0].codec_context.extradata or b"")


def _frame_times(path: str) -> tuple[list[int], Fraction, int | None]:
    """A segment's video pts in presentation order, their time base, and the stream's end."""
    with av.open(path) as src:
        stream = src.streams.video[0]
        stamps = sorted(p.pts for p in src.demux(stream) if p.size and p.pts is not None)
        return stamps, Fraction(stream.time_base), stream_end_pts(stream)


def _durations(segments: list[str]) -> list[dict[int, int]]:
    """Each segment's frame durations by pts: the gap to the next frame, across joints too;
    the very last frame lasts until the last segment's end.

    A demuxer reports decode-order durations (MP4's sample table), and a muxer ends the
    video at the latest pts + duration, so copied as they are they would stretch the end
    of a video with B-frames or a variable rate.
    """
    times = [_frame_times(segment) for segment in segments]
    out: list[dict[int, int]] = []
    for i, (stamps, time_base, end) in enumerate(times):
        after = next(((t[0][0], t[1]) for t in times[i + 1 :] if t[0]), None)
        if after is not None:
            end = round(after[0] * after[1] / time_base)
        durations = {a: b - a for a, b in zip(stamps, stamps[1:])}
        if stamps and end is not None and end > stamps[-1]:
            durations[stamps[-1]] = end - stamps[-1]
        out.append(durations)
    return out


def _copy_video(segment: str, durations: dict[int, int], container: av.container.OutputContainer, stream, side: SideStreams | None) -> int:
    """Mux one segment's video packets, with their frames' durations; returns how many."""
    count = 0
    with av.open(segment) as src:
        for packet in src.demux(src.streams.video[0]):
            if packet.size == 0:
                continue
            packet.stream = stream
            # Each segment's encoder restarted its B-frame delay, and some demuxers (Matroska)
            # report no decode time for a segment's first packets: kept, the stored decode times
            # can step backwards at a joint, which the muxer refuses. It re-derives them from pts.
            packet.dts = None
            if packet.pts in durations:
                packet.duration = durations[packet.pts]
            if side is not None and packet.pts is not None:
                side.feed_until(float(packet.pts * packet.time_base))
            container.mux(packet)
            count += 1
    return count


def join_segments(
    segments: list[str],
    target: str,
    source: VideoInfo,
    options: EncodeOptions,
    *,
    overwrite: bool,
    notes: list[str],
) -> int:
    """Write ``target`` from ``segments`` (+ the source's audio/subtitles); returns the frame count."""
    if not segments:
        raise OutputError(f"cannot write {target!r}: no segments to join")
    if os.path.exists(target) and not overwrite:
        raise OutputError(f"cannot write {target!r}: it appeared while we were encoding; not replacing it")
    if len({_extradata(s) for s in segments}) != 1:
        raise OutputError(f"cannot join the segments of {target!r}: their codec headers differ")
    try:
        temp = temp_file_for(target)
    except OSError as error:
        raise OutputError(f"cannot write {target!r}: {describe_av_error(error)}") from None
    try:
        frames = _join(segments, temp.path, source, options, notes)
        move_into_place(temp, target)
    except BaseException as error:
        if temp.intact():
            remove_own_file(temp.path)
        if isinstance(error, (av.FFmpegError, OSError, ValueError)):
            raise OutputError(f"cannot join the segments into {target!r}: {describe_av_error(error)}") from None
        raise
    return frames


def _join(segments: list[str], path: str, source: VideoInfo, options: EncodeOptions, notes: list[str]) -> int:
    with av.open(segments[0]) as first:
        template = first.streams.video[0]
        with av.open(path, "w", format=options.container_format) as container:
            stream = container.add_stream_from_template(template)
            stream.time_base = template.time_base
            if template.average_rate:
                stream.codec_context.framerate = Fraction(template.average_rate)
            if source.rotation:
                stream.set_display_rotation(source.rotation)
            side = None
            if options.copy_streams and source.source_kind == "file":
                side = SideStreams(container, source.path, notes)
            keep_exact_start(container, Fraction(template.time_base))
            container.start_encoding()
            durations = _durations(segments)
            frames = sum(_copy_video(segment, d, container, stream, side) for segment, d in zip(segments, durations))
            if side is not None:
                side.finish()
    return frames
