"""The local engine: one process, one model, the videos one after another.

The model is loaded once, lazily: a cron run that finds nothing new to do
never loads it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable, Sequence

from ..model.swiftvr import SwiftVR
from ..pipeline.runner import RestoreSettings, restore_video
from .claims import Claim, Claims, Outcome
from .discover import Job
from ..failures import classify

ProgressFactory = Callable[[Job], object]  # a context manager with .update(done, total)


def run_local(
    jobs: Sequence[Job],
    claims: Claims,
    load_model: Callable[[], SwiftVR],
    settings: RestoreSettings,
    on_outcome: Callable[[Outcome], None] = lambda outcome: None,
    progress: ProgressFactory | None = None,
) -> list[Outcome]:
    """Restore every job this run can claim; a failed video is recorded and the batch goes on."""
    settings = replace(settings, overwrite=True)  # a claimed video's old output is never 'done' (see claims)
    outcomes: list[Outcome] = []
    model: SwiftVR | None = None
    for job in jobs:
        claimed = claims.claim(job)
        if isinstance(claimed, Outcome):
            outcome = claimed
        else:
            if model is None:
                model = _load(claims, claimed, load_model)
            outcome = _restore(claims, claimed, model, settings, progress)
        outcomes.append(outcome)
        on_outcome(outcome)
    return outcomes


def _load(claims: Claims, claim: Claim, load_model: Callable[[], SwiftVR]) -> SwiftVR:
    try:
        return load_model()
    except BaseException as error:  # no model, no batch: the claimed video is redone next time
        claims.abort(claim, classify(error).message)
        raise


def _restore(claims: Claims, claim: Claim, model: SwiftVR, settings: RestoreSettings, progress: ProgressFactory | None) -> Outcome:
    job = claim.job
    try:
        if progress is None:
            summary = restore_video(model, job.source, job.target, settings)
        else:
            with progress(job) as bar:
                summary = restore_video(model, job.source, job.target, settings, on_progress=bar.update)
    except KeyboardInterrupt:
        claims.abort(claim, "interrupted")
        raise
    except Exception as error:  # noqa: BLE001 - recorded, and the batch carries on
        failure = classify(error)
        return claims.finish_failed(claim, failure.message, failure.kind)
    except BaseException:
        claims.abort(claim, "stopped")
        raise
    return claims.finish_ok(claim, summary.frames, summary.notes)
