"""A run that stops like a killed process right after a --resume checkpoint was saved."""

from __future__ import annotations

import pytest

from swiftvr_cli.pipeline import resume as resume_module
from swiftvr_cli.pipeline.runner import restore_video


def crash_after_checkpoint(monkeypatch, model, source: str, target: str, settings, after: int = 1) -> list[int]:
    """Run ``restore_video`` until checkpoint number ``after`` is saved, then fail as a
    crash would; the real checkpointing is back in place on return. Returns the input
    frame counts the saved checkpoints recorded."""
    original = resume_module.ResumableOutput.checkpoint
    saved: list[int] = []

    def checkpoint_then_crash(self, frames_in, state):
        original(self, frames_in, state)
        saved.append(frames_in)
        if len(saved) == after:
            raise RuntimeError("simulated crash")

    monkeypatch.setattr(resume_module.ResumableOutput, "checkpoint", checkpoint_then_crash)
    try:
        with pytest.raises(RuntimeError, match="simulated crash"):
            restore_video(model, source, target, settings)
    finally:
        monkeypatch.setattr(resume_module.ResumableOutput, "checkpoint", original)
    return saved
