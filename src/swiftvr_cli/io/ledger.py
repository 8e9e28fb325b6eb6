"""Spotting frames a decoder dropped, so `--skip-corrupt` can keep the frame count.

Every demuxed video packet is one frame with a known pts. Decoders output
frames in presentation order, so when a frame with pts P comes out, any
packet with a smaller pts that has not produced a frame never will: its
data was undecodable. Those frames come back as ``LostFrame`` markers and
the reader stands the previous good frame in for them.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass


@dataclass(frozen=True)
class LostFrame:
    """A frame that exists in the stream but could not be decoded (or was flagged corrupt)."""

    pts: int | None
    reason: str


class PtsLedger:
    """Timestamps of packets sent to the decoder whose frames have not come out yet."""

    def __init__(self) -> None:
        self._pending: list[int] = []

    def expect(self, pts: int | None) -> None:
        if pts is not None:
            bisect.insort(self._pending, pts)

    def arrived(self, pts: int | None) -> list[int]:
        """Record a decoded frame; returns the earlier timestamps that will never arrive."""
        if pts is None:
            return []
        cut = bisect.bisect_left(self._pending, pts)
        lost, self._pending = self._pending[:cut], self._pending[cut:]
        if self._pending and self._pending[0] == pts:
            self._pending.pop(0)
        return lost

    def before(self, pts: int | None) -> int:
        """How many pending frames come before ``pts`` (to number a frame still in the decoder)."""
        return 0 if pts is None else bisect.bisect_left(self._pending, pts)

    def remaining(self) -> list[int]:
        """At the end of the stream: everything still pending was lost."""
        lost, self._pending = self._pending, []
        return lost
