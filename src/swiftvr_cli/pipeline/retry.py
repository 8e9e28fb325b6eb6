"""`--auto`: when the model runs out of memory, start again with half the chunk (down to 4).

Smaller chunks need proportionally less activation memory, and the output
is still a valid restoration (only the chunk boundaries move), so this
turns an out-of-memory crash into a slower run. A pipe cannot be re-read,
so stdin input is never retried.
"""

from __future__ import annotations

import dataclasses
import gc
from typing import Callable

import torch

from ..failures import is_out_of_memory
from .budget import MIN_CHUNK
from .resume import remove_work_dir, work_dir_for
from .settings import RestoreSettings, RestoreSummary


def _release_memory() -> None:
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def restore_with_retries(
    run: Callable[[RestoreSettings], RestoreSummary],
    settings: RestoreSettings,
    target: str,
    *,
    can_retry: bool,
) -> RestoreSummary:
    """``run(settings)``; on out-of-memory with ``settings.auto``, halve the chunk and run again."""
    notes: list[str] = []
    while True:
        try:
            summary = run(settings)
        except BaseException as error:  # noqa: BLE001 - re-raised unless it is a retryable OOM
            if not (settings.auto and can_retry and is_out_of_memory(error) and settings.clip_len > MIN_CHUNK):
                raise
            smaller = max(MIN_CHUNK, settings.clip_len // 2 // 4 * 4)
            notes.append(f"--auto: out of memory with --chunk {settings.clip_len}; restarted with --chunk {smaller}")
            if settings.resume:  # checkpoints of the larger chunk cannot be continued with a smaller one
                remove_work_dir(work_dir_for(target))
            del error
            _release_memory()
            settings = dataclasses.replace(settings, clip_len=smaller)
            continue
        summary.notes[:0] = notes
        return summary
