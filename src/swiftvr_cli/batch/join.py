"""Joining restored segments into one file without re-encoding.

The segments' video packets are copied in order (each segment starts on an
IDR frame, and all were encoded with the same settings, so their codec
headers match); audio, subtitles, chapters and metadata are carried over
once from the source, as a single-process run does. Like ``VideoWriter``,
the result is written under a temporary name and renamed when complete.
"""

from __future__ import annotations

from typing import Sequence

import av

from ..io import OutputError, VideoInfo
from ..io.errors import describe_av_error
from ..io.sidestreams import SideStreams
from ..io.safe_paths import OwnFile, move_into_place, remove_own_file
from ..io.targets import temp_file_for


def _extradata(path: str) -> bytes:
    with av.open(path) as container:
        return bytes(container.streams.video[0].codec_context.extradata or b"")


def join_segments(parts: Sequence[str], source: VideoInfo, target: str, *, copy_streams: bool = True) -> list[str]:
    """Remux ``parts`` (in order) plus the source's side streams into ``target``; returns notes."""
    if not parts:
        raise OutputError(f"cannot write {target!r}: no segments to join")
    headers = {_extradata(p) for p in parts}
    if len(headers) != 1:
        raise OutputError(f"cannot join the segments of {target!r}: their codec headers differ")
    notes: list[str] = []
    try:
        temp = temp_file_for(target)
    except OSError as error:
        raise OutputError(f"cannot write {target!r}: {describe_av_error(error)}") from None
    try:
        with av.open(parts[0]) as first, av.open(temp.path, "w") as output:
            template = first.streams.video[0]
            stream = output.add_stream_from_template(template)
            stream.time_base = stream.codec_context.time_base = source.time_base
            if source.fps:
                stream.codec_context.framerate = source.fps  # becomes the stream's average rate
            if source.rotation:
                stream.set_display_rotation(source.rotation)
            side = SideStreams(output, source.path, notes) if copy_streams and source.source_kind == "file" else None
            output.start_encoding()
            for part in parts:
                _copy_video(part, output, stream, side)
            if side is not None:
                side.finish()
        move_into_place(temp, target)
    except OutputError:
        _remove(temp)
        raise
    except (av.FFmpegError, OSError, ValueError) as error:
        _remove(temp)
        raise OutputError(f"cannot join the segments into {target!r}: {describe_av_error(error)}") from None
    except BaseException:
        _remove(temp)
        raise
    return notes


def _copy_video(part: str, output: av.container.OutputContainer, stream: av.video.stream.VideoStream, side: SideStreams | None) -> None:
    with av.open(part) as container:
        for packet in container.demux(container.streams.video[0]):
            if not packet.size:
                continue
            if side is not None:
                stamp = packet.dts if packet.dts is not None else packet.pts
                if stamp is not None:
                    side.feed_until(float(stamp * packet.time_base))
            packet.stream = stream
            output.mux(packet)


def _remove(temp: OwnFile) -> None:
    if temp.intact():
        remove_own_file(temp.path)
