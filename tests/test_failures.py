"""`failures.classify`: one kind, one line and one exit code per failure, wherever it happens."""

from __future__ import annotations

import pytest
import torch

from swiftvr_cli.failures import OUT_OF_MEMORY, ExitCode, UsageError, classify, is_out_of_memory
from swiftvr_cli.io import InputError, OutputError
from swiftvr_cli.model.loading import WeightsError
from swiftvr_cli.pipeline.budget import MemoryBudgetError


@pytest.mark.parametrize(
    "error,kind,code",
    [
        (InputError("cannot read 'a.mp4': file not found"), "input", ExitCode.INPUT),
        (OutputError("cannot write 'b.mp4': disk full"), "output", ExitCode.OUTPUT),
        (UsageError("--chunk must be a positive multiple of 4, got 10"), "usage", ExitCode.USAGE),
        (WeightsError("no weights for --task deblur"), "weights", ExitCode.WEIGHTS),
    ],
)
def test_named_failures_keep_their_message(error, kind, code):
    failure = classify(error)
    assert (failure.kind, failure.message, failure.exit_code) == (kind, str(error), code)


def test_the_memory_check_keeps_its_advice():
    refusal = MemoryBudgetError("not enough memory: 1920x1080 -> 7680x4320 at --chunk 24 needs about 40.0 GiB; use --auto")
    failure = classify(refusal)
    assert (failure.kind, failure.message, failure.exit_code) == ("memory", str(refusal), ExitCode.MEMORY)
    assert not is_out_of_memory(refusal)  # not a reason to retry with a smaller chunk


@pytest.mark.parametrize(
    "error",
    [
        torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB"),
        MemoryError(),
        RuntimeError("[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: can't allocate memory: you tried to allocate 8 GB"),
        RuntimeError("DefaultCPUAllocator: not enough memory: you tried to allocate 8589934592 bytes."),
        OSError(12, "Cannot allocate memory"),
        RuntimeError("std::bad_alloc"),
    ],
)
def test_allocation_failures_are_out_of_memory(error):
    failure = classify(error)
    assert is_out_of_memory(error)
    assert (failure.kind, failure.message, failure.exit_code) == ("memory", OUT_OF_MEMORY, ExitCode.MEMORY)


def test_anything_else_is_internal_and_one_line():
    failure = classify(ValueError("first line\nsecond line"))
    assert (failure.kind, failure.message, failure.exit_code) == ("internal", "ValueError: first line second line", ExitCode.INTERNAL)
    assert not is_out_of_memory(RuntimeError("shape mismatch"))
