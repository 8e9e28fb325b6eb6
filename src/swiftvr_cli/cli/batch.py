"""`swiftvr batch`: every video of a folder tree, with the model options of `restore`."""

from __future__ import annotations

import json
from enum import Enum
from typing import Annotated, Optional

import typer

from ..batch.discover import DEFAULT_GLOB  # light (no torch); the help shows it
from ..failures import ExitCode, UsageError
from . import app
from .common import (
    PERF, BatchMaskOption, DebugOption, Device, ModelChoice, err, examples, option_group, print_stdout, resolve_device, set_threads,
)  # fmt: skip
from .guard import guarded


class Engine(str, Enum):
    local = "local"
    ray = "ray"


BATCH = "Batch"
RAY = "Ray (--engine ray)"


@app.command(epilog=examples(
    "swiftvr batch in/ out/",
    "swiftvr batch in/ out/ -r --suffix _x4 --ext mkv --json > summary.json",
    "swiftvr batch /data/in /data/out -r --shard 0/4 --quiet     # from cron or a job array",
    "swiftvr batch noisy/ clean/ --task denoise --max-memory 8G --auto",
))  # fmt: skip
@guarded
@option_group("choice", ModelChoice, mask=BatchMaskOption)
def batch(
    in_dir: Annotated[str, typer.Argument(help="Folder of input videos.")],
    out_dir: Annotated[str, typer.Argument(help="Output folder; mirrors IN_DIR's structure and holds .swiftvr/manifest.jsonl.")],
    glob: Annotated[str, typer.Option(help="Comma-separated file-name patterns (case-insensitive).", rich_help_panel=BATCH)] = DEFAULT_GLOB,
    recursive: Annotated[bool, typer.Option("--recursive", "-r", help="Walk sub-folders too (mirrored under OUT_DIR).", rich_help_panel=BATCH)] = False,
    follow_links: Annotated[bool, typer.Option("--follow-links", help="Also restore inputs that are links to files outside IN_DIR (skipped with a note by default).", rich_help_panel=BATCH)] = False,
    suffix: Annotated[str, typer.Option(help="Added to each output's name, e.g. _x4.", rich_help_panel=BATCH)] = "",
    ext: Annotated[Optional[str], typer.Option(help="Output container extension, e.g. mkv (default: the input's).", rich_help_panel=BATCH)] = None,
    shard: Annotated[Optional[str], typer.Option(help="i/n: only the inputs of shard i (0-based) of n, e.g. $SLURM_ARRAY_TASK_ID/4.", rich_help_panel=BATCH)] = None,
    retry_failed: Annotated[bool, typer.Option("--retry-failed", help="Also retry inputs that failed earlier because they could not be read.", rich_help_panel=BATCH)] = False,
    engine: Annotated[Engine, typer.Option(help="local: this process; ray: a pool of workers on a Ray cluster.", rich_help_panel=BATCH)] = Engine.local,
    address: Annotated[Optional[str], typer.Option(help="Ray cluster address ('auto': the running cluster; default: start a local one).", rich_help_panel=RAY)] = None,
    num_gpus_per_worker: Annotated[float, typer.Option(help="GPUs per Ray worker (CPU workers when the cluster has none).", rich_help_panel=RAY)] = 1.0,
    workers: Annotated[Optional[int], typer.Option(help="At most this many Ray workers.", rich_help_panel=RAY)] = None,
    segment_seconds: Annotated[Optional[float], typer.Option(help="Split videos longer than this into segments restored in parallel (default: split above 10 min into 5 min; 0: never).", rich_help_panel=RAY)] = None,
    warmup_frames: Annotated[int, typer.Option(help="Frames each segment restores before its start and drops (rounded up to whole chunks).", rich_help_panel=RAY)] = 32,
    choice: ModelChoice = ModelChoice(),  # --task, --mask, --scale, --chunk, --codec... (restore's options, defined once)
    threads: Annotated[Optional[int], typer.Option(help="CPU threads for the model (default: all cores; 1 per Ray CPU worker).", rich_help_panel=PERF)] = None,
    json_summary: Annotated[bool, typer.Option("--json", help="Print a JSON summary on stdout.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only failures on stderr (no progress, no table).")] = False,
    debug: DebugOption = False,
) -> None:
    """Restore every video in a folder tree; already-done videos are skipped (safe to run from cron)."""
    from ..batch.command import BatchRequest, run_batch
    from ..batch.ray_engine import RayOptions
    from ..batch.summary import summary_json

    out_scale = choice.check()
    check_batch_options(engine, choice.mask, warmup_frames, workers, segment_seconds, address)
    patterns, shard_spec = parse_selection(glob, shard)
    set_threads(threads, apply=engine is Engine.local)
    check_engine(engine, choice.device)
    request = BatchRequest(
        in_dir=in_dir, out_dir=out_dir, patterns=patterns, recursive=recursive, follow_links=follow_links, suffix=suffix, ext=ext,
        shard=shard_spec, retry_failed=retry_failed, engine=engine.value, settings=choice.settings(out_scale, overwrite=True),
        spec=worker_spec(choice, out_scale, threads),
        ray=RayOptions(address=address, num_gpus_per_worker=num_gpus_per_worker, workers=workers,
                       segment_seconds=segment_seconds, warmup_frames=warmup_frames),
    )  # fmt: skip
    outcomes, seconds = run_reporting(run_batch, request, quiet, f"swiftvr batch {in_dir} -> {out_dir}")
    if json_summary:
        meta = {"in_dir": in_dir, "out_dir": out_dir, "engine": engine.value, "shard": shard}
        print_stdout(json.dumps(summary_json(outcomes, seconds=seconds, meta=meta)))
    if any(o.status == "failed" for o in outcomes):
        raise typer.Exit(ExitCode.BATCH_FAILED)


def check_batch_options(engine: Engine, mask: str | None, warmup_frames: int, workers: int | None, segment_seconds: float | None, address: str | None) -> None:
    if mask is not None:
        from ..io.imageseq import is_image_file
        from ..io.naming import is_image_sequence

        if not is_image_file(mask) or is_image_sequence(mask):
            raise UsageError(f"batch --mask takes one image used for every video, not {mask!r} (a mask video belongs to one input: use restore)")
    if mask is not None and segment_seconds:
        raise UsageError("--segment-seconds cannot be used with --mask: a masked video is restored whole")
    if warmup_frames < 0:
        raise UsageError("--warmup-frames must be >= 0")
    if workers is not None and workers < 1:
        raise UsageError("--workers must be >= 1")
    if segment_seconds is not None and segment_seconds < 0:
        raise UsageError("--segment-seconds must be >= 0")
    if engine is Engine.local and (segment_seconds or address or workers):
        raise UsageError("--segment-seconds, --address and --workers need --engine ray")


def parse_selection(glob: str, shard: str | None):
    """(file-name patterns, shard) from --glob and --shard."""
    from ..batch.discover import parse_globs
    from ..batch.shard import parse_shard

    try:
        return parse_globs(glob), parse_shard(shard) if shard is not None else None
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def check_engine(engine: Engine, device: Device) -> None:
    """Ray importable (--engine ray), or the device there (local): a usage problem, found before any work."""
    if engine is Engine.ray:
        from ..batch.ray_engine import import_ray

        try:
            import_ray()
        except Exception as exc:  # RayUnavailable: a usage problem, not a crash
            raise UsageError(str(exc)) from None
    else:
        resolve_device(device)  # fail now if CUDA was asked for and is missing


def worker_spec(choice: ModelChoice, out_scale: float, threads: int | None):
    from ..batch.worker import WorkerSpec
    from ..tasks import Task, batch_weights

    weights = batch_weights(choice.weights, out_scale, Task(choice.task.value))
    return WorkerSpec(weights=weights, device=choice.device.value, dtype=choice.dtype.value, threads=threads, compile=choice.compile_model)


def run_reporting(run_batch, request, quiet: bool, title: str):
    """Run the batch, printing each outcome (failures even with --quiet) and the table at the end."""
    from ..batch.summary import outcome_line, summary_table
    from ..progress import FrameProgress

    def on_outcome(outcome) -> None:
        if outcome.status == "failed" or (not quiet and outcome.status != "skipped"):
            err.print(outcome_line(outcome), highlight=False, markup=False, soft_wrap=True)

    try:
        outcomes, seconds = run_batch(
            request, on_outcome=on_outcome, log=lambda line: None if quiet else err.print(line, highlight=False),
            warn=lambda line: err.print(f"note: {line}", highlight=False, markup=False, soft_wrap=True),
            progress=lambda label: FrameProgress(enabled=not quiet, label=label),
        )  # fmt: skip
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if not quiet:
        err.print(summary_table(outcomes, f"{title} ({seconds:.1f}s)"))
    return outcomes, seconds
