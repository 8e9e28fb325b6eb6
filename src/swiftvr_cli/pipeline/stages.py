"""Threads joined by bounded queues, with one shared cancel flag.

Each stage is a plain function that reads from its input channel and writes
to its output channel. Memory is bounded by the channel sizes, not by the
video length. The first exception in any stage sets the cancel flag; every
blocked get/put notices it within a fraction of a second, so no thread hangs,
and the runner re-raises that one error.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

POLL_S = 0.05
STOP_GRACE_S = 5.0  # how long stopped stages get to wind down before they are left behind
END = object()  # end-of-stream sentinel, passed from stage to stage


class Cancelled(Exception):
    """Raised inside a stage when another stage failed or the user interrupted."""


class Channel:
    """A bounded queue whose blocking calls give up when the pipeline is cancelled."""

    def __init__(self, maxsize: int, cancel: threading.Event) -> None:
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, maxsize))
        self._cancel = cancel

    def put(self, item: Any) -> None:
        while True:
            if self._cancel.is_set():
                raise Cancelled()
            try:
                self._queue.put(item, timeout=POLL_S)
                return
            except queue.Full:
                continue

    def get(self) -> Any:
        while True:
            if self._cancel.is_set():
                raise Cancelled()
            try:
                return self._queue.get(timeout=POLL_S)
            except queue.Empty:
                continue

    def __iter__(self):
        """Items until the END sentinel."""
        while (item := self.get()) is not END:
            yield item


@dataclass
class StageTimes:
    """Seconds spent working (not waiting) per stage, for `bench` and --json."""

    seconds: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, name: str, seconds: float) -> None:
        with self.lock:
            self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    def timer(self, name: str) -> "_Timer":
        return _Timer(self, name)


class _Timer:
    def __init__(self, times: StageTimes, name: str) -> None:
        self.times, self.name = times, name

    def __enter__(self):
        self.start = time.perf_counter()

    def __exit__(self, *exc):
        self.times.add(self.name, time.perf_counter() - self.start)


class StageGroup:
    """Runs stage functions in threads; the first failure cancels all of them.

    Each stage reports its own end through an Event. ``Thread.join`` and
    ``is_alive`` are not used: on Python 3.11 a Ctrl-C or SIGTERM that cuts a
    join short marks the thread stopped while it still runs, and the clean-up
    would then close a decoder under the thread that is inside it.
    """

    def __init__(self) -> None:
        self.cancel = threading.Event()
        self.error: BaseException | None = None
        self.failed_stage: str | None = None
        self._lock = threading.Lock()
        self._finished: dict[str, threading.Event] = {}
        self._stopped = False

    def channel(self, maxsize: int) -> Channel:
        return Channel(maxsize, self.cancel)

    def start(self, name: str, fn: Callable[[], None]) -> None:
        finished = self._finished[name] = threading.Event()

        def body() -> None:
            try:
                fn()
            except Cancelled:
                pass
            except BaseException as exc:  # noqa: BLE001 - reported once by join()
                with self._lock:
                    if self.error is None:
                        self.error, self.failed_stage = exc, name
                self.cancel.set()
            finally:
                finished.set()

        threading.Thread(target=body, name=f"swiftvr-{name}", daemon=True).start()

    def alive(self, name: str) -> bool:
        """Is stage ``name`` still running (e.g. after an interrupted join)?"""
        finished = self._finished.get(name)
        return finished is not None and not finished.is_set()

    def join(self) -> None:
        """Wait for all stages; re-raise the first error (or KeyboardInterrupt)."""
        try:
            for finished in self._finished.values():
                while not finished.wait(POLL_S):
                    pass
        except KeyboardInterrupt:
            self.stop()
            raise
        if self.error is not None:
            raise self.error

    def stop(self) -> None:
        """Cancel every stage and give them STOP_GRACE_S to finish.

        A stage blocked outside a channel (a decoder waiting on a silent stdin)
        may outlive the grace: ``alive`` tells the caller which resources that
        thread still holds and must not be closed under it.
        """
        if self._stopped:
            return  # the grace was given once already
        self._stopped = True
        self.cancel.set()
        deadline = time.monotonic() + STOP_GRACE_S
        for finished in self._finished.values():
            finished.wait(timeout=max(0.0, deadline - time.monotonic()))
