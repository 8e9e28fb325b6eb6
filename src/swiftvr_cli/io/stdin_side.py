"""Audio and subtitles that arrive on stdin with the video (matroska, nut).

A file's side streams are read a second time by the writer (`sidestreams.SideStreams`);
stdin cannot be read twice, so the one demuxer that reads it hands the audio and
subtitle packets over here, and the writer takes them from here in time order.
There is one stdin per process, hence one tap.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

# Packets kept while no writer takes them (a y4m output, or one not opened yet): beyond
# this they are dropped with a note rather than filling memory over a long stream.
MAX_BUFFERED_BYTES = 256 * 2**20
WAIT = object()  # `next_packet`: none yet, more may come


class SidePacketTap:
    """Side-stream packets demuxed from stdin, passed from the reader to the writer."""

    def __init__(self, streams: list[Any]) -> None:
        self.streams = streams  # the input's audio/subtitle streams (templates for the output)
        self._packets: deque = deque()
        self._bytes = 0
        self._ready = threading.Condition()
        self._done = False
        self._declined = False
        self.dropped = 0

    def put(self, packet: Any) -> None:
        with self._ready:
            if self._declined or self._bytes + packet.size > MAX_BUFFERED_BYTES:
                self.dropped += 0 if self._declined else 1
                return
            self._packets.append(packet)
            self._bytes += packet.size
            self._ready.notify_all()

    def finish(self) -> None:
        """The reader is done: no more packets."""
        with self._ready:
            self._done = True
            self._ready.notify_all()

    def decline(self) -> None:
        """The output cannot take them (e.g. y4m): stop keeping packets."""
        with self._ready:
            self._declined = True
            self._packets.clear()
            self._bytes = 0

    def next_packet(self, *, block: bool, timeout_s: float = 30.0) -> Any:
        """The next packet; WAIT when none is there yet (without ``block``); None at the end."""
        with self._ready:
            if block:
                self._ready.wait_for(lambda: self._packets or self._done, timeout=timeout_s)
            if self._packets:
                packet = self._packets.popleft()
                self._bytes -= packet.size
                return packet
            return None if self._done or block else WAIT


_current: SidePacketTap | None = None


def open_tap(streams: list[Any]) -> SidePacketTap | None:
    """A new tap for stdin's side streams (None when it has none)."""
    global _current
    _current = SidePacketTap(streams) if streams else None
    return _current


def current_tap() -> SidePacketTap | None:
    return _current
