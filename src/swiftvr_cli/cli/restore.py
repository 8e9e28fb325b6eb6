"""`swiftvr restore`: one input to one output."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..failures import UsageError
from . import app
from .common import (
    IO, PERF, SAFETY, DebugOption, ModelChoice, OffloadOption, check_output_paths, err, examples, note, option_group, print_stdout,
    resolve_device, resolve_dtype, set_threads,
)  # fmt: skip
from .guard import guarded


@app.command(epilog=examples(
    "swiftvr restore in.mp4 out.mp4                    # x4 super-resolution with the shipped model",
    "swiftvr restore in.mkv out.mkv --scale 2 --crf 20 -y",
    "ffmpeg -i in.mp4 -f yuv4mpegpipe - | swiftvr restore - - | ffmpeg -i - out.mp4",
))  # fmt: skip
@guarded
@option_group("choice", ModelChoice)
def restore(
    input: Annotated[str, typer.Argument(help="Input video, image folder, printf pattern (frames/%05d.png) or '-' for stdin.")],
    output: Annotated[str, typer.Argument(help="Output video, PNG folder / pattern, or '-' for stdout.")],
    choice: ModelChoice,  # --task, --mask, --scale, --chunk, --codec... (the options batch takes too)
    offload: OffloadOption = None,
    format: Annotated[Optional[str], typer.Option("--format", "-f", help="Container for '-' output: yuv4mpegpipe (default), nut, matroska.", rich_help_panel=IO)] = None,
    stream: Annotated[Optional[int], typer.Option(help="Video stream index when the input has several.", rich_help_panel=IO)] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", "-y", help="Replace an existing output.", rich_help_panel=IO)] = False,
    threads: Annotated[Optional[int], typer.Option(help="CPU threads for the model (default: all cores).", rich_help_panel=PERF)] = None,
    keep_partial: Annotated[bool, typer.Option("--keep-partial", help="If the run stops early (Ctrl-C, SIGTERM, damaged input), keep the frames done as NAME.partial.EXT.", rich_help_panel=SAFETY)] = False,
    resume: Annotated[bool, typer.Option("--resume", help="Save checkpoints beside the output; the same command continues an interrupted run.", rich_help_panel=SAFETY)] = False,
    checkpoint_every: Annotated[int, typer.Option(help="With --resume: chunks between checkpoints.", rich_help_panel=SAFETY)] = 8,
    json_summary: Annotated[bool, typer.Option("--json", help="Print a JSON summary (stdout, or stderr when stdout is the video).")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    debug: DebugOption = False,
    left_behind: Optional[list[str]] = None,  # filled here, printed by the guard (hidden from the command line)
) -> None:
    """Restore a video: decode, restore chunk by chunk, encode (audio, subtitles and timestamps kept)."""
    # Options and paths first: a refused run is reported before torch and the weights load (seconds).
    out_scale = choice.check()
    check_run_options(input, output, resume=resume, checkpoint_every=checkpoint_every, overwrite=overwrite)
    settings = choice.settings(
        out_scale, container_format=format, stream=stream, overwrite=overwrite,
        keep_partial=keep_partial, resume=resume, checkpoint_every=checkpoint_every,
    )  # fmt: skip
    set_threads(threads)
    model = load_for_restore(choice, input, settings, offload)
    summary = run_restore(model, input, output, settings, quiet, left_behind)
    report(summary, output, json_summary, quiet)


def check_run_options(input: str, output: str, *, resume: bool, checkpoint_every: int, overwrite: bool) -> None:
    """The checks of `restore`'s own options and paths (no torch: they come first)."""
    if resume and "-" in (input, output):
        raise UsageError("--resume needs a video file as input and as output (not a pipe)")
    if checkpoint_every < 1:
        raise UsageError("--checkpoint-every must be >= 1")
    if not resume:  # a resumed run's output check is the resume folder's job
        check_output_paths(input, output, overwrite)
        from ..pipeline.resume import work_dir_for

        if output != "-" and Path(work_dir_for(output)).is_dir():
            err.print(f"note: an interrupted --resume run of {output} left checkpoints; add --resume to continue it", highlight=False)


def load_for_restore(choice: ModelChoice, input: str, settings, offload: bool | None):
    """The model for this run: the task's weights, streamed (--offload) when asked or when they would not fit."""
    from ..model.loading import load_model
    from ..tasks import Task, weights_for_task

    model_path = weights_for_task(Task(choice.task.value), choice.weights, settings.scale)
    dev = resolve_device(choice.device)
    torch_dtype = resolve_dtype(choice.dtype, dev)
    if offload is None:  # automatic: decided before loading, which is what would not fit
        import torch

        from ..pipeline.plan import choose_offload

        decision = choose_offload(
            model_path, input, torch.device(dev), torch_dtype, settings.scale, settings.clip_len,
            max_memory=settings.max_memory, auto=settings.auto, stream=settings.stream,
        )  # fmt: skip
        if decision:
            note(decision)
        offload = decision is not None
    model = load_model(model_path, dev, torch_dtype, offload=offload)
    if choice.compile_model:
        from ..model.compiled import compile_or_note

        compile_or_note(model, lambda text: err.print(f"note: {text}", highlight=False))
    return model


def run_restore(model, input: str, output: str, settings, quiet: bool, left_behind: list[str]):
    """Restore with a progress bar; with --auto, retried with smaller chunks when memory runs out."""
    from ..pipeline.retry import restore_with_retries
    from ..pipeline.runner import restore_video
    from ..progress import FrameProgress

    with FrameProgress(enabled=not quiet, label=Path(input).name if input != "-" else "stdin") as progress:

        def run(attempt):
            left_behind.clear()  # only the last attempt's leftovers are reported
            return restore_video(model, input, output, attempt, on_progress=progress.update, left_behind=left_behind)

        return restore_with_retries(run, settings, output, can_retry=input != "-")


def report(summary, output: str, json_summary: bool, quiet: bool) -> None:
    for text in summary.notes:
        note(text)
    if json_summary:
        text = json.dumps(summary.as_dict())
        if output == "-":
            sys.stderr.write(text + "\n")
        else:
            print_stdout(text)
    elif not quiet and output != "-":
        err.print(f"restored {summary.frames} frames in {summary.seconds:.1f}s ({summary.fps:.2f} fps) -> {output}", highlight=False)

