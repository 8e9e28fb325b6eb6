"""The file type of a batch output when --ext is not given.

Outputs keep the input's extension, unless that container cannot carry
the encoder's video: a .webm holds only VP8/VP9/AV1, a .y4m only raw
frames. Such inputs get a .mkv output (Matroska holds every encoder we
offer) instead of failing on every cron run.
"""

from __future__ import annotations

import io
from functools import lru_cache

import av

FALLBACK_EXT = ".mkv"
_CHECKED = {".webm": "webm"}  # extension -> FFmpeg muxer to ask
_RAW_ONLY = {".y4m"}  # containers for uncompressed frames: never a restored (encoded) output


@lru_cache(maxsize=None)
def _muxer_holds(muxer: str, codec: str) -> bool:
    container = av.open(io.BytesIO(), "w", format=muxer)
    try:
        container.add_stream(codec, rate=25)
        return True
    except ValueError:
        return False
    finally:
        try:
            container.close()
        except (av.FFmpegError, ValueError):
            pass


def output_ext_for(input_ext: str, codec: str) -> str | None:
    """The extension to write instead of ``input_ext``, or None to keep it."""
    ext = input_ext.lower()
    if ext in _RAW_ONLY:
        return FALLBACK_EXT
    muxer = _CHECKED.get(ext)
    if muxer is not None and not _muxer_holds(muxer, codec):
        return FALLBACK_EXT
    return None
