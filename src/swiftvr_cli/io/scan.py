"""Cheap extra passes over a file's packets (demux only, no decoding).

They answer questions headers often leave open: is the frame rate
variable, and how many frames are there (Matroska stores no count).
"""

from __future__ import annotations

import statistics

import av

_VFR_SNIFF_PACKETS = 120


def sniff_vfr(path: str, stream_index: int) -> bool:
    """Best effort: do the first packets' timestamps step unevenly?"""
    try:
        with av.open(path) as container:
            stream = container.streams[stream_index]
            stamps: list[int] = []
            finished = True
            for packet in container.demux(stream):
                if packet.pts is not None:
                    stamps.append(packet.pts)
                if len(stamps) >= _VFR_SNIFF_PACKETS:
                    finished = False
                    break
    except (av.FFmpegError, OSError, IndexError):
        return False
    stamps.sort()
    steps = [b - a for a, b in zip(stamps, stamps[1:])]
    if not finished and len(steps) > 16:
        steps = steps[:-8]  # B-frame reordering leaves gaps at the end of the window
    if len(steps) < 2:
        return False
    typical = statistics.median(steps)
    return max(steps) - min(steps) > max(1, round(0.02 * typical))


def count_packets(path: str, stream_index: int) -> int | None:
    """Number of non-empty packets of one stream (= frames for video), None if unreadable."""
    try:
        with av.open(path) as container:
            stream = container.streams[stream_index]
            return sum(1 for p in container.demux(stream) if p.size > 0)
    except (av.FFmpegError, OSError, IndexError):
        return None



def header_size(path: str, stream_index: int | None = None) -> tuple[int, int, int | None] | None:
    """(width, height, frame count or None) of a video stream from the headers alone.

    Lets `restore` choose --offload before the weights load; None when the file cannot
    be opened or the header has no size (the decoder then reports what is wrong).
    """
    try:
        with av.open(path) as container:
            videos = [s for s in container.streams.video if stream_index in (None, s.index)]
            if not videos:
                return None
            stream = videos[0]
            width, height = stream.codec_context.width, stream.codec_context.height
            frames = stream.frames if stream.frames and stream.frames > 0 else None
    except (av.FFmpegError, OSError, ValueError, IndexError):
        return None
    return (width, height, frames) if width > 0 and height > 0 else None
