"""Causal chunk protocol of SwiftVR, streamed.

The release splits a video of T = 4k+1 frames into FIRST (clip_len + 4),
MIDDLE (clip_len) and LAST (the remaining 4b+1) chunks. We keep every frame:
a video of any length is padded internally to the next 4k+1 by repeating its
last frame, the release's protocol is applied to that, and the padding is
dropped from the output. Because the model is causal, the padding never
changes the real frames.

The chunker streams: it never needs the total frame count in advance (pipes
have none). It holds back one chunk's worth of frames until it knows whether
more follow, so memory is bounded by clip_len, not by video length.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Iterable, Iterator, TypeVar

from ..model.protocol import ChunkKind

T = TypeVar("T")


@dataclass
class Chunk(Generic[T]):
    kind: ChunkKind
    items: list[T]  # frames in order; the last `padding` entries repeat the final real frame
    padding: int = 0

    @property
    def real_items(self) -> list[T]:
        return self.items[: len(self.items) - self.padding]


def check_clip_len(clip_len: int) -> None:
    """`--chunk`: the release's protocol needs whole latents of 4 frames (ValueError otherwise)."""
    if clip_len <= 0 or clip_len % 4:
        raise ValueError(f"--chunk must be a positive multiple of 4, got {clip_len}")


def padded_length(count: int) -> int:
    """Smallest 4k+1 >= count (the length the release's protocol can take)."""
    return count + (1 - count) % 4


class Chunker(Generic[T]):
    """push() frames one by one, then finish(); each returns the chunks that are ready."""

    def __init__(self, clip_len: int, started: bool = False) -> None:
        """``started``: the FIRST chunk was restored earlier (a resumed run continues with MIDDLE chunks)."""
        check_clip_len(clip_len)
        self.clip_len = clip_len
        self.started = started  # FIRST already emitted
        self.buffer: list[T] = []

    def _head_size(self) -> int:
        return self.clip_len if self.started else self.clip_len + 4

    def _take(self, count: int) -> Chunk[T]:
        kind = ChunkKind.MIDDLE if self.started else ChunkKind.FIRST
        items, self.buffer = self.buffer[:count], self.buffer[count:]
        self.started = True
        return Chunk(kind, items)

    def push(self, item: T) -> list[Chunk[T]]:
        self.buffer.append(item)
        # emit only when at least one frame follows: then this chunk is not the LAST
        if len(self.buffer) > self._head_size():
            return [self._take(self._head_size())]
        return []

    def finish(self) -> list[Chunk[T]]:
        if not self.buffer:
            if not self.started:
                return []
            raise RuntimeError("chunker finished with an empty buffer after a FIRST chunk")
        real = len(self.buffer)
        padding = padded_length(real) - real
        self.buffer.extend([self.buffer[-1]] * padding)
        chunks: list[Chunk[T]] = []
        if len(self.buffer) > self._head_size():  # the padded tail still holds a FIRST/MIDDLE
            head = self._head_size()
            chunk = self._take(head)
            chunk.padding = max(0, head - real)
            chunks.append(chunk)
            real = max(0, real - head)
        last_padding = len(self.buffer) - real
        chunks.append(Chunk(ChunkKind.LAST, self.buffer, last_padding))
        self.buffer = []
        return chunks


def chunk_all(items: Iterable[T], clip_len: int) -> Iterator[Chunk[T]]:
    """Chunks of a whole sequence (tests, small inputs)."""
    chunker: Chunker[T] = Chunker(clip_len)
    for item in items:
        yield from chunker.push(item)
    yield from chunker.finish()
