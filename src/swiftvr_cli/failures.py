"""What kind of failure an exception is: the one place that decides it.

``classify`` gives the kind (recorded by `batch`, which retries all but
input failures), the one line a user reads and the documented exit code.
The CLI, `batch`, the `--auto` retry and `bench` all ask it, so a failure
reads and exits the same wherever it happens. Light to import (the CLI
imports it at start): the exception types of heavy modules are looked up
only when a failure is classified.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass


class ExitCode:
    """Distinct exit codes so scripts can tell failures apart."""

    INTERNAL = 1
    USAGE = 2
    INPUT = 3
    OUTPUT = 4
    WEIGHTS = 5
    MEMORY = 6
    BATCH_FAILED = 7  # `swiftvr batch`: some inputs failed, the others were done
    INTERRUPTED = 130
    TERMINATED = 143  # SIGTERM: 128 + 15, as shells report it


class UsageError(Exception):
    """A bad combination of options."""


INPUT, OUTPUT, WEIGHTS, USAGE, MEMORY, INTERNAL = "input", "output", "weights", "usage", "memory", "internal"

OUT_OF_MEMORY = "out of memory: lower --chunk (e.g. 8), --scale or --max-memory, or add --auto to retry with smaller chunks"

# How allocation failures read when they arrive as a plain RuntimeError (CUDA's "out of memory", the
# CPU allocator's "DefaultCPUAllocator: can't allocate memory" / "not enough memory", C++'s
# "bad_alloc"), or as an OS error (ENOMEM).
_OUT_OF_MEMORY_WORDS = ("out of memory", "can't allocate memory", "cannot allocate memory", "not enough memory", "bad_alloc")


@dataclass(frozen=True)
class Failure:
    kind: str  # INPUT, OUTPUT, WEIGHTS, USAGE, MEMORY or INTERNAL
    message: str  # one line, for the user
    exit_code: int


def classify(error: BaseException) -> Failure:
    """The kind, one-line message and exit code of a failure (not of an interruption)."""
    from .io.errors import InputError, OutputError, one_line

    if isinstance(error, InputError):
        return Failure(INPUT, one_line(error), ExitCode.INPUT)
    if isinstance(error, OutputError):
        return Failure(OUTPUT, one_line(error), ExitCode.OUTPUT)
    if isinstance(error, UsageError):
        return Failure(USAGE, one_line(error), ExitCode.USAGE)
    if _is_a(error, "swiftvr_cli.model.loading", "WeightsError"):
        return Failure(WEIGHTS, one_line(error), ExitCode.WEIGHTS)
    if _is_a(error, "swiftvr_cli.pipeline.budget", "MemoryBudgetError"):  # our refusal: its message says what to lower
        return Failure(MEMORY, one_line(error), ExitCode.MEMORY)
    if is_out_of_memory(error):
        return Failure(MEMORY, OUT_OF_MEMORY, ExitCode.MEMORY)
    return Failure(INTERNAL, one_line(f"{type(error).__name__}: {error}"), ExitCode.INTERNAL)


def is_out_of_memory(error: BaseException) -> bool:
    """A real allocation failure (CUDA or CPU), not the up-front refusal of the memory check."""
    if _is_a(error, "swiftvr_cli.pipeline.budget", "MemoryBudgetError"):
        return False
    if isinstance(error, MemoryError) or _is_a(error, "torch", "OutOfMemoryError"):
        return True
    text = str(error).lower()
    return isinstance(error, (RuntimeError, OSError)) and any(words in text for words in _OUT_OF_MEMORY_WORDS)


def _is_a(error: BaseException, module: str, name: str) -> bool:
    """isinstance against a type of a module, without importing it: an exception of a
    module that was never imported cannot be an instance of its types."""
    loaded = sys.modules.get(module)
    kind = getattr(loaded, name, None) if loaded is not None else None
    return kind is not None and isinstance(error, kind)
