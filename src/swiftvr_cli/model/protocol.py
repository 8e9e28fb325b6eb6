"""The release's chunk protocol in names (see docs/chunk-protocol.md). No torch here: the
chunker and the CLI's early checks use it before any model is loaded."""

from __future__ import annotations

import enum

DECODER_DELAY = 3  # the first 3 decoded frames of a video are discarded


class ChunkKind(enum.Enum):
    FIRST = "first"  # clip_len + 4 frames
    MIDDLE = "middle"  # clip_len frames
    LAST = "last"  # the remaining 4b+1 frames (the only chunk of a short video)
