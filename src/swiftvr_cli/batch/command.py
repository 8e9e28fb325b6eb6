"""One `swiftvr batch` run: find the inputs, keep our shard, hand them to an engine."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from ..io import InputError, OutputError
from ..pipeline.runner import RestoreSettings
from ..pipeline.safeguards import task_identity
from .claims import Claims, Outcome
from .containers import output_ext_for
from .discover import discover
from .fingerprint import weights_fingerprint
from .ray_engine import RayOptions
from .shard import Shard
from .worker import WorkerSpec

SETTINGS_VERSION = 1  # bump when outputs of the same settings change meaning


@dataclass(frozen=True)
class BatchRequest:
    in_dir: str
    out_dir: str
    patterns: list[str]
    settings: RestoreSettings
    spec: WorkerSpec
    recursive: bool = False
    follow_links: bool = False
    suffix: str = ""
    ext: str | None = None
    shard: Shard | None = None
    retry_failed: bool = False
    engine: str = "local"  # local | ray
    ray: RayOptions = field(default_factory=RayOptions)


def output_settings(request: BatchRequest) -> dict[str, Any]:
    """What decides an output's pixels and encoding: a change means the old outputs are not done.

    The device is left out on purpose (a GPU and a CPU run give the same
    video up to rounding), and so are the engine and the segmenting, and the
    options that keep the output the same: --skip-corrupt (only damaged inputs
    differ, and those fail without it), --max-memory, --reae-group, --hwaccel.
    --auto may lower the chunk of a video that would not fit; the chunk it
    used is in that video's notes (its outcome line and the --json summary).
    """
    s, enc = request.settings, request.settings.encode
    return {
        "version": SETTINGS_VERSION,
        "weights": weights_fingerprint(request.spec.weights),
        "dtype": request.spec.dtype,
        "scale": s.scale,
        "chunk": s.clip_len,
        "overlap": s.overlap,
        "codec": enc.codec,
        "crf": enc.crf,
        "preset": enc.preset,
        "pix_fmt": enc.pix_fmt,
        # only when given, so that manifests written before --strength existed stay valid
        **({"strength": s.strength} if s.strength is not None else {}),
        **task_identity(s),  # the task and the mask file (only when not plain sr: the same reason)
    }


def check_folders(in_dir: str, out_dir: str) -> None:
    if not os.path.isdir(in_dir):
        raise InputError(f"cannot read {in_dir!r}: not a folder" if os.path.exists(in_dir) else f"cannot read {in_dir!r}: folder not found")
    if os.path.realpath(in_dir) == os.path.realpath(out_dir):
        raise ValueError("OUT_DIR must differ from IN_DIR (outputs would be found as inputs on the next run)")
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as error:
        raise OutputError(f"cannot create {out_dir!r}: {error.strerror}") from None
    if not os.access(out_dir, os.W_OK):
        raise OutputError(f"cannot write into {out_dir!r}: permission denied")


def run_batch(
    request: BatchRequest,
    *,
    on_outcome: Callable[[Outcome], None] = lambda outcome: None,
    progress: Callable | None = None,
    log: Callable[[str], None] = lambda line: None,
    warn: Callable[[str], None] = lambda line: None,
) -> tuple[list[Outcome], float]:
    """Restore what is left to do; returns every input's outcome and the wall time.

    ``log`` gets progress remarks, ``warn`` what a user must see even with --quiet (skipped inputs)."""
    start = time.perf_counter()
    check_folders(request.in_dir, request.out_dir)
    jobs = discover(
        request.in_dir, request.out_dir, request.patterns, request.recursive, request.suffix, request.ext,
        follow_links=request.follow_links, on_skip=warn, ext_for=lambda ext: output_ext_for(ext, request.settings.encode.codec),
    )  # fmt: skip
    if request.shard is not None:
        jobs = [j for j in jobs if request.shard.owns(j.rel)]
    claims = Claims(request.out_dir, output_settings(request), request.retry_failed, request.engine)
    if request.engine == "ray":
        from ..progress import FrameProgress
        from .ray_engine import run_ray

        bar = progress("batch") if progress is not None else FrameProgress(enabled=False)
        with bar:
            outcomes = run_ray(jobs, claims, request.spec, request.settings, request.ray, on_outcome, bar, log)
    else:
        from .local import run_local

        def load():
            from .worker import load_for

            return load_for(request.spec, lambda note: log(f"note: {note}"))

        per_video = (lambda job: progress(job.rel)) if progress is not None else None
        outcomes = run_local(jobs, claims, load, request.settings, on_outcome, per_video)
    return outcomes, time.perf_counter() - start
