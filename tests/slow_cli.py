"""The real `swiftvr` command with a throttled model, for tests that signal or kill it mid-run.

``python -m tests.slow_cli DELAY restore IN OUT ...`` sleeps DELAY seconds
before each chunk and prints ``progress N`` on stderr whenever N frames are
written, so a test can wait for real progress and then send SIGINT,
SIGTERM or SIGKILL. Everything else is the unmodified CLI.
"""

from __future__ import annotations

import sys
import time

from swiftvr_cli import cli
from swiftvr_cli.pipeline.restorer import ChunkRestorer
from swiftvr_cli.progress import FrameProgress


def main() -> None:
    delay, args = float(sys.argv[1]), sys.argv[2:]
    restore_chunk, update = ChunkRestorer.restore, FrameProgress.update

    def slow_restore(self, frames, kind, state):
        time.sleep(delay)
        return restore_chunk(self, frames, kind, state)

    def report(self, done, total):
        print(f"progress {done}", file=sys.stderr, flush=True)
        update(self, done, total)

    ChunkRestorer.restore = slow_restore
    FrameProgress.update = report
    sys.argv = ["swiftvr", *args]
    cli.app()


if __name__ == "__main__":
    main()
