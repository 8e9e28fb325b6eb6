"""Restore one frame range of a file: what a segment worker does.

Decoding seeks to the keyframe at or before the first wanted frame (so a
worker never decodes the whole video up to its segment), frames are
converted exactly as ``VideoReader`` converts them, then chunked and
restored like ``restore_video``. Only outputs with keep_from <= pts < stop
are written (the warm-up and tail are dropped); they keep their source pts.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Iterator

import av
import torch

from ..io import Frame, InputError, VideoInfo, VideoWriter, frames_to_rgb
from ..io.errors import describe_av_error
from ..io.pixfmt import convert_frame, frame_to_planes, nearest_layout
from ..model.swiftvr import SwiftVR
from ..pipeline.chunker import Chunk, Chunker
from ..pipeline.restorer import ChunkRestorer
from ..pipeline.runner import RestoreSettings


@dataclass(frozen=True)
class PtsRange:
    """Decode first <= pts < end (None: to the end of the video); keep keep_from <= pts < stop."""

    first: int
    keep_from: int
    stop: int | None
    end: int | None
    seek: bool = True  # False: decode from the start of the file (the first segment)


def read_range(path: str, info: VideoInfo, first_pts: int, end_pts: int | None, seek: bool = True) -> Iterator[Frame]:
    """Frames with first_pts <= pts < end_pts, decoded from the keyframe at or before first_pts."""
    try:
        frames = _decode(path, info, first_pts, end_pts, seek)
        head = next(frames, None)
        if head is None and seek:  # the seek overshot or the index is unusable: decode from the start
            frames = _decode(path, info, first_pts, end_pts, seek=False)
            head = next(frames, None)
        if head is not None:
            yield head
            yield from frames
    except (av.FFmpegError, OSError) as error:
        raise InputError(f"cannot read {path!r}: {describe_av_error(error)}") from None


def _decode(path: str, info: VideoInfo, first_pts: int, end_pts: int | None, seek: bool) -> Iterator[Frame]:
    """Yields nothing at all if a seek landed after first_pts (so frames are never lost)."""
    layout = nearest_layout(info.pix_fmt)
    with av.open(path, metadata_errors="replace") as container:
        stream = container.streams[info.video_stream_index]
        stream.thread_type = "AUTO"
        if seek:
            container.seek(first_pts, stream=stream, backward=True, any_frame=False)
        started = False
        for index, raw in enumerate(container.decode(stream)):
            if raw.pts is None:
                raise InputError(f"cannot restore part of {path!r}: a frame has no timestamp")
            if raw.is_corrupt:  # strict, as VideoReader is by default
                raise InputError(f"cannot read {path!r}: corrupt picture at pts {raw.pts}")
            if not started and raw.pts > first_pts:
                return
            started = True
            if raw.pts < first_pts:
                continue
            if end_pts is not None and raw.pts >= end_pts:
                return
            converted = convert_frame(raw, layout, full_range=info.full_range, width=info.width, height=info.height)
            yield Frame(
                index=index,
                pts=raw.pts,
                time_base=Fraction(raw.time_base) if raw.time_base else info.time_base,
                planes=frame_to_planes(converted, layout),
                layout=layout.layout,
                bit_depth=layout.bit_depth,
            )


def restore_range(model: SwiftVR, path: str, target: str, info: VideoInfo, settings: RestoreSettings, span: PtsRange) -> int:
    """Restore ``span`` of ``path`` into ``target`` (video only); returns the frames written."""
    if settings.mask:  # `batch` has no --mask; a segment would need the mask frames of its span
        raise ValueError("a fill mask is not supported when restoring a range of a video")
    restorer = ChunkRestorer.for_input(
        model, info.height, info.width, settings.scale, settings.clip_len, settings.overlap, settings.strength
    )
    out_h, out_w = restorer.out_size
    options = replace(settings.encode, copy_streams=False, container_format=None)
    writer = VideoWriter(target, width=out_w, height=out_h, source=info, options=options, overwrite=True)
    state = restorer.new_state()
    pending: collections.deque[int] = collections.deque()  # pts of frames restored but not yet output
    last_rgb: list[torch.Tensor] = []

    def kept(pts: int) -> bool:
        return pts >= span.keep_from and (span.stop is None or pts < span.stop)

    def run(chunks: list[Chunk[Frame]]) -> None:
        nonlocal state
        for c in chunks:
            real = c.real_items
            parts = [frames_to_rgb(real, info, model.device)] if real else []
            if parts:
                last_rgb[:] = [parts[0][-1:]]
            if c.padding:
                parts.append(last_rgb[0].expand(c.padding, -1, -1, -1))
            out, state = restorer.restore_chunk(torch.cat(parts), c.kind, state)
            pending.extend(f.pts for f in real)
            count = min(len(pending), out.shape[0])  # outputs past the real frames are padding
            stamps = [pending.popleft() for _ in range(count)]
            index = [i for i, p in enumerate(stamps) if kept(p)]
            if index:
                writer.write(out[index[0] : index[-1] + 1].float().cpu(), stamps[index[0] : index[-1] + 1])

    try:
        chunker: Chunker[Frame] = Chunker(settings.clip_len)
        for frame in read_range(path, info, span.first, span.end, span.seek):
            run(chunker.push(frame))
        run(chunker.finish())
        if writer.frames_written == 0:
            raise InputError(f"no frames restored from {path!r} in pts [{span.keep_from}, {span.stop})")
        writer.close()
    except BaseException:
        writer.abort()
        raise
    return writer.frames_written
