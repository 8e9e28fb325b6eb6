"""SIGTERM (kill, `docker stop`, systemd, a batch scheduler) stops a run as cleanly as Ctrl-C.

Python turns SIGINT into KeyboardInterrupt, which the pipeline already
handles: stages are cancelled, the temporary output is removed (or kept
with --keep-partial, or checkpointed with --resume). SIGTERM's default is
to die on the spot and leave the temp file behind; here it raises
``Terminated``, a KeyboardInterrupt, so it takes the same path and the CLI
exits with 143 (128 + 15) as shells expect.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator


class Terminated(KeyboardInterrupt):
    """The process received SIGTERM."""


def _raise_terminated(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # one is enough; a second must not cut the clean-up short
    raise Terminated()


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises ``Terminated`` in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_IGN:  # after one SIGTERM, a second one waits for our exit
            signal.signal(signal.SIGTERM, previous)
