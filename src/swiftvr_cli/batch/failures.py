"""One-line descriptions of a failed video, and the kind that decides retries."""

from __future__ import annotations

from ..io import InputError, OutputError
from ..io.errors import one_line

INPUT, OUTPUT, MEMORY, INTERNAL = "input", "output", "memory", "internal"


def describe_failure(error: BaseException) -> tuple[str, str]:
    """(message, kind); only 'input' failures are not retried automatically."""
    if isinstance(error, InputError):
        return one_line(error), INPUT
    if isinstance(error, OutputError):
        return one_line(error), OUTPUT
    from ..pipeline.retry import is_out_of_memory

    if isinstance(error, MemoryError) or is_out_of_memory(error):
        return "out of memory: lower --chunk (e.g. 8) or --scale", MEMORY
    return one_line(f"{type(error).__name__}: {error}"), INTERNAL
