"""`swiftvr` command line: builds settings and calls the pipeline, nothing more.

Every user-facing failure ends as one line on stderr and a distinct exit code
(tracebacks only with --debug). Progress and logs go to stderr, so stdout can
carry the video.
"""

from __future__ import annotations

import json
import sys
import traceback
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from .failures import ExitCode, UsageError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="One-step streaming video restoration (SwiftVR).",
    pretty_exceptions_enable=False,
)


def examples(*lines: str) -> str:
    """A command's --help epilog: example command lines, one per line, as in ffmpeg's docs."""
    return "Examples:\n\n\b\n" + "\n".join(f"  {line}" for line in lines)


def _show_version(value: bool) -> None:
    if value:
        from . import __version__

        typer.echo(f"swiftvr {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[bool, typer.Option("--version", "-V", help="Print the version and exit.", callback=_show_version, is_eager=True)] = False,
) -> None:
    """One-step streaming video restoration (SwiftVR)."""


err = Console(stderr=True)


class Device(str, Enum):
    auto = "auto"
    cuda = "cuda"
    cpu = "cpu"


class DType(str, Enum):
    auto = "auto"
    float32 = "float32"
    bfloat16 = "bfloat16"
    float16 = "float16"


class TaskName(str, Enum):
    """`--task` choices: the values of `tasks.Task` (which imports torch; the CLI stays quick to load)."""

    sr = "sr"
    clean = "clean"
    deblur = "deblur"
    denoise = "denoise"
    inpaint = "inpaint"


def resolve_device(device: Device) -> str:
    from .devices import resolve_device as resolve

    return resolve(device.value)


def resolve_dtype(dtype: DType, device: str):
    from .devices import resolve_dtype as resolve

    return resolve(dtype.value, device)


def check_model_options(chunk: int, scale: float, overlap: int) -> None:
    """Validation shared by `restore` and `batch`."""
    from .pipeline.chunker import check_clip_len

    try:
        check_clip_len(chunk)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if not 0 < scale <= 8:  # written so that NaN fails too
        raise UsageError(f"--scale must be in (0, 8], got {scale}")
    if overlap < 0:
        raise UsageError("--overlap must be >= 0")


def set_threads(threads: int | None, apply: bool = True) -> None:
    """Check --threads and give torch that many (None: its default, all cores)."""
    if threads is None:
        return
    if threads < 1:
        raise UsageError(f"--threads must be >= 1, got {threads}")
    if not apply:  # Ray workers apply it themselves
        return
    import torch

    torch.set_num_threads(threads)


def print_stdout(text: str) -> None:
    """A line on stdout; a closed or full stdout is exit 4, not a traceback."""
    from .io.stdio import print_stdout as write

    write(text)


def check_output_paths(input: str, output: str, overwrite: bool) -> None:
    """The output checks of the writer (in == out, exists without -y, folder missing), from
    the paths alone: they run again when the output is opened."""
    from .io.targets import check_paths, classify, source_kind_of

    check_paths(classify(output), source_kind_of(input), input, overwrite)


def resolve_task(task: TaskName, scale: float | None, mask: str | None) -> float:
    """Check --task against --scale and --mask; the output scale."""
    from .tasks import Task, needs_mask, task_scale

    chosen = Task(task.value)
    try:
        out_scale = task_scale(chosen, scale)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if mask is not None and not needs_mask(chosen):
        raise UsageError(f"--mask is only used by --task inpaint (this is --task {chosen.value})")
    if mask is None and needs_mask(chosen):
        raise UsageError(f"--task {chosen.value} needs --mask PATH (white = fill): one image for every frame, or a mask video")
    return out_scale


def fail(message: str, code: int, notes: list[str] | tuple[str, ...] = ()) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    for note in notes:  # what was kept (partial output, resume checkpoints)
        err.print(f"note: {note}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def print_table(table, console: Console | None = None) -> None:
    """Print a rich table whole: when stdout is not a terminal rich assumes 80 columns
    and would cut wide tables (bench, eval) into ellipses."""
    console = console or Console()
    needed = console.measure(table, options=console.options.update_width(10_000)).maximum
    if needed > console.width:
        console = Console(file=console.file, width=needed)
    console.print(table)


def run_guarded(debug: bool, fn, notes: list[str] | None = None):
    """Run a command body; turn known failures into one line + exit code, followed by
    ``notes`` (what the body says a failed run left behind)."""
    from .signals import sigterm_as_interrupt

    notes = notes if notes is not None else []
    try:  # outside the guard too: a signal during its imports must not escape as a bare 130
        with sigterm_as_interrupt():
            return _run_guarded(debug, fn, notes)
    except KeyboardInterrupt as exc:
        _stopped(exc, notes)


def _stopped(exc: KeyboardInterrupt, notes: list[str]) -> None:
    """Ctrl-C or SIGTERM: one word, the notes on what was kept, 130 or 143."""
    from .signals import Terminated

    # The signal may have cut an import (of torch...) short: import nothing more here.
    terminated = isinstance(exc, Terminated)
    err.print("terminated" if terminated else "interrupted", highlight=False)
    for note in notes:
        err.print(f"note: {note}", highlight=False, soft_wrap=True)
    raise typer.Exit(ExitCode.TERMINATED if terminated else ExitCode.INTERRUPTED)


def _run_guarded(debug: bool, fn, notes: list[str]):
    from .failures import INTERNAL, classify
    from .io.errors import BrokenPipe

    try:
        return fn()
    except typer.Exit:
        raise
    except BrokenPipe:
        from .io.stdio import quiet_broken_stdout

        quiet_broken_stdout()  # no "Exception ignored" noise from Python's exit-time flush
        raise typer.Exit(0)  # the reader went away (e.g. `| head`): nothing to report
    except KeyboardInterrupt as exc:
        _stopped(exc, notes)
    except Exception as exc:  # noqa: BLE001 - mapped to a message below
        if debug:
            traceback.print_exc()
        failure = classify(exc)
        hint = " (run with --debug for details)" if failure.kind == INTERNAL and not debug else ""
        fail(failure.message + hint, failure.exit_code, notes)


IO = "Input / output"
MODEL = "Model"
PERF = "Performance"
SAFETY = "Damaged input, interruptions, memory"

# Options shared by `restore` and `batch`, defined once.
ScaleOption = Annotated[float, typer.Option("--scale", "-s", help="Upscale factor (4 or 2 for super-resolution, 1 for clean-up).", rich_help_panel=MODEL)]
TaskScaleOption = Annotated[Optional[float], typer.Option("--scale", "-s", help="Upscale factor for --task sr (default 4; 2 also works); the other tasks keep the input size.", rich_help_panel=MODEL)]
WeightsOption = Annotated[Optional[str], typer.Option(help="Official SwiftVR folder or our weights json (default: embedded model).", rich_help_panel=MODEL)]
ChunkOption = Annotated[int, typer.Option(help="Frames per chunk (multiple of 4); lower it to save memory.", rich_help_panel=PERF)]
CompileOption = Annotated[bool, typer.Option("--compile", help="torch.compile the model: a few seconds more at the start, then faster chunks (figures in benchmarks/README.md); needs a C++ compiler (CPU) or Triton (CUDA).", rich_help_panel=PERF)]
ReAEGroupOption = Annotated[int, typer.Option("--reae-group", help="Latents per autoencoder pass (4 frames each): lower saves memory, same output (0: automatic; one on CPU, where it is also fastest, else the whole chunk unless memory needs less).", rich_help_panel=PERF)]
OffloadOption = Annotated[Optional[bool], typer.Option("--offload/--no-offload", help="Stream the DiT blocks from the weights file one block ahead of use instead of keeping them where the model runs: the same output in a fraction of the memory (default: only when the model would not fit; `swiftvr plan` shows the figures).", rich_help_panel=PERF)]
OverlapOption = Annotated[int, typer.Option(help="Latents of the previous chunk the DiT sees as context.", rich_help_panel=MODEL)]
DeviceOption = Annotated[Device, typer.Option(help="Compute device.", rich_help_panel=PERF)]
DTypeOption = Annotated[DType, typer.Option(help="Compute dtype (auto: bfloat16 on CUDA, float32 on CPU).", rich_help_panel=PERF)]
CodecOption = Annotated[str, typer.Option(help="Video encoder: libx264, libx265, libsvtav1, h264_nvenc, hevc_nvenc.", rich_help_panel=IO)]
CrfOption = Annotated[Optional[int], typer.Option(help="Encoder quality (lower is better).", rich_help_panel=IO)]
PresetOption = Annotated[Optional[str], typer.Option(help="Encoder preset.", rich_help_panel=IO)]
StrengthOption = Annotated[Optional[float], typer.Option(min=0.0, max=2.0, help="How much of the model's correction to apply: 0 = plain bicubic upscale (or the input), 1 = the model, up to 2 (default: the value validated for the weights, see weights/README.md).", rich_help_panel=MODEL)]
PixFmtOption = Annotated[Optional[str], typer.Option("--pix-fmt", help="Output pixel format, e.g. yuv420p10le.", rich_help_panel=IO)]


@app.command(epilog=examples(
    "swiftvr restore in.mp4 out.mp4                    # x4 super-resolution with the shipped model",
    "swiftvr restore in.mkv out.mkv --scale 2 --crf 20 -y",
    "ffmpeg -i in.mp4 -f yuv4mpegpipe - | swiftvr restore - - | ffmpeg -i - out.mp4",
))
def restore(
    input: Annotated[str, typer.Argument(help="Input video, image folder, printf pattern (frames/%05d.png) or '-' for stdin.")],
    output: Annotated[str, typer.Argument(help="Output video, PNG folder / pattern, or '-' for stdout.")],
    task: Annotated[TaskName, typer.Option(help="sr: super-resolution (--scale); clean: artefacts, noise and blur at the same size; deblur, denoise; inpaint: fill what --mask marks.", rich_help_panel=MODEL)] = TaskName.sr,
    mask: Annotated[Optional[str], typer.Option(help="With --task inpaint: white = fill; an image used for every frame, or a mask video with one frame per input frame (same size as the input).", rich_help_panel=MODEL)] = None,
    scale: TaskScaleOption = None,
    strength: StrengthOption = None,
    weights: WeightsOption = None,
    chunk: ChunkOption = 24,
    reae_group: ReAEGroupOption = 0,
    offload: OffloadOption = None,
    overlap: OverlapOption = 0,
    compile_model: CompileOption = False,
    device: DeviceOption = Device.auto,
    dtype: DTypeOption = DType.auto,
    codec: CodecOption = "libx264",
    crf: CrfOption = 18,
    preset: PresetOption = "medium",
    pix_fmt: PixFmtOption = None,
    format: Annotated[Optional[str], typer.Option("--format", "-f", help="Container for '-' output: yuv4mpegpipe (default), nut, matroska.", rich_help_panel=IO)] = None,
    stream: Annotated[Optional[int], typer.Option(help="Video stream index when the input has several.", rich_help_panel=IO)] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", "-y", help="Replace an existing output.", rich_help_panel=IO)] = False,
    threads: Annotated[Optional[int], typer.Option(help="CPU threads for the model (default: all cores).", rich_help_panel=PERF)] = None,
    skip_corrupt: Annotated[bool, typer.Option("--skip-corrupt", help="Replace damaged frames by the previous good one (frame count and timing kept) instead of stopping.", rich_help_panel=SAFETY)] = False,
    keep_partial: Annotated[bool, typer.Option("--keep-partial", help="If the run stops early (Ctrl-C, SIGTERM, damaged input), keep the frames done as NAME.partial.EXT.", rich_help_panel=SAFETY)] = False,
    resume: Annotated[bool, typer.Option("--resume", help="Save checkpoints beside the output; the same command continues an interrupted run.", rich_help_panel=SAFETY)] = False,
    checkpoint_every: Annotated[int, typer.Option(help="With --resume: chunks between checkpoints.", rich_help_panel=SAFETY)] = 8,
    max_memory: Annotated[Optional[str], typer.Option("--max-memory", help="Memory the run may use, e.g. 8G (default: what is free); larger runs are refused before they start.", rich_help_panel=SAFETY)] = None,
    hwaccel: Annotated[Optional[str], typer.Option("--hwaccel", help="Decode on the GPU, e.g. cuda (NVDEC); falls back to the CPU with a note.", rich_help_panel=PERF)] = None,
    auto: Annotated[bool, typer.Option("--auto", help="When memory is short, use a smaller --chunk (halving down to 4) instead of failing.", rich_help_panel=SAFETY)] = False,
    json_summary: Annotated[bool, typer.Option("--json", help="Print a JSON summary (stdout, or stderr when stdout is the video).")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    debug: Annotated[bool, typer.Option(help="Show tracebacks.")] = False,
) -> None:
    """Restore a video: decode, restore chunk by chunk, encode (audio, subtitles and timestamps kept)."""

    def body():
        # Options and paths first: a refused run is reported before torch and the weights load (seconds).
        out_scale = resolve_task(task, scale, mask)
        check_model_options(chunk, out_scale, overlap)
        if resume and "-" in (input, output):
            raise UsageError("--resume needs a video file as input and as output (not a pipe)")
        if checkpoint_every < 1:
            raise UsageError("--checkpoint-every must be >= 1")
        if reae_group < 0:
            raise UsageError("--reae-group must be >= 0 (0: automatic)")
        if not resume:  # a resumed run's output check is the resume folder's job
            check_output_paths(input, output, overwrite)

        from .io import EncodeOptions
        from .model.loading import load_model
        from .pipeline.budget import parse_size
        from .pipeline.resume import work_dir_for
        from .pipeline.retry import restore_with_retries
        from .pipeline.runner import RestoreSettings, restore_video
        from .progress import FrameProgress
        from .tasks import Task, weights_for_task

        try:
            memory_limit = parse_size(max_memory) if max_memory is not None else None
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        if not resume and output != "-" and Path(work_dir_for(output)).is_dir():
            err.print(f"note: an interrupted --resume run of {output} left checkpoints; add --resume to continue it", highlight=False)
        set_threads(threads)
        model_path = weights_for_task(Task(task.value), weights, out_scale)
        dev = resolve_device(device)
        stream_weights = offload
        if offload is None:  # automatic: decided before loading, which is what would not fit
            import torch

            from .pipeline.plan import choose_offload

            note = choose_offload(model_path, input, torch.device(dev), resolve_dtype(dtype, dev), out_scale, chunk, max_memory=memory_limit, auto=auto, stream=stream)
            if note:
                err.print(f"note: {note}", highlight=False, soft_wrap=True)
            stream_weights = note is not None
        model = load_model(model_path, dev, resolve_dtype(dtype, dev), offload=stream_weights)
        if compile_model:
            from .model.compiled import compile_or_note

            compile_or_note(model, lambda note: err.print(f"note: {note}", highlight=False))
        settings = RestoreSettings(
            scale=out_scale, task=task.value, mask=mask, clip_len=chunk, overlap=overlap, stream=stream, overwrite=overwrite,
            encode=EncodeOptions(codec=codec, crf=crf, preset=preset, pix_fmt=pix_fmt, container_format=format),
            skip_corrupt=skip_corrupt, keep_partial=keep_partial, resume=resume, checkpoint_every=checkpoint_every,
            max_memory=memory_limit, auto=auto, hwaccel=hwaccel, reae_group=reae_group, strength=strength,
        )  # fmt: skip
        with FrameProgress(enabled=not quiet, label=Path(input).name if input != "-" else "stdin") as progress:

            def run(attempt):
                left.clear()  # only the last attempt's leftovers are reported
                return restore_video(model, input, output, attempt, on_progress=progress.update, left_behind=left)

            summary = restore_with_retries(run, settings, output, can_retry=input != "-")
        for note in summary.notes:
            err.print(f"note: {note}", highlight=False, soft_wrap=True)
        if json_summary:
            text = json.dumps(summary.as_dict())
            if output == "-":
                sys.stderr.write(text + "\n")
            else:
                print_stdout(text)
        elif not quiet and output != "-":
            err.print(f"restored {summary.frames} frames in {summary.seconds:.1f}s ({summary.fps:.2f} fps) -> {output}", highlight=False)

    left: list[str] = []  # what a failed run left (partial output, saved progress)
    run_guarded(debug, body, left)


@app.command(epilog=examples(
    "swiftvr info in.mp4",
    "swiftvr info frames/ --json",
    "swiftvr info in.mkv --stream 1",
    "swiftvr info --weights default         # what the embedded model is",
))
def info(
    input: Annotated[Optional[str], typer.Argument(help="Video file, image folder or pattern.")] = None,
    stream: Annotated[Optional[int], typer.Option(help="Video stream index.")] = None,
    weights: Annotated[Optional[str], typer.Option("--weights", help="Describe a model instead: 'default' (the embedded one), our weights json or an official folder.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    debug: Annotated[bool, typer.Option(help="Show tracebacks.")] = False,
) -> None:
    """Show streams, frame rate, frame count, duration and pixel format (or, with --weights, what a model is)."""

    def body():
        from rich.table import Table

        if (input is None) == (weights is None):
            raise UsageError("give a video to describe, or --weights (default, or a weights path)")
        if weights is not None:
            return _describe_weights(weights, json_out)

        from .io import probe

        from .io.colourtags import tag_name

        details = probe(input, stream).as_dict()
        names = {key: tag_name(key, value) for key, value in details.items() if tag_name(key, value) is not None}
        if json_out:  # the raw numbers stay (stable keys); their names are added beside them
            details.update({f"{key}_name": name for key, name in names.items()})
            print_stdout(json.dumps(details, default=str))
            return
        table = Table(title=input, show_header=False)
        for key, value in details.items():
            table.add_row(key, names.get(key, str(value)))
        print_table(table)

    run_guarded(debug, body)


def _describe_weights(weights: str, json_out: bool) -> None:
    from rich.table import Table

    from .model.describe import describe_weights
    from .model.loading import default_weights_path, load_model

    path = default_weights_path() if weights == "default" else Path(weights)
    details = describe_weights(load_model(path), path if path.suffix == ".json" else path.with_suffix(".json") if path.suffix == ".safetensors" else None)
    if json_out:
        print_stdout(json.dumps(details))
        return
    table = Table(title=str(path), show_header=False)
    for key, value in details.items():
        if isinstance(value, dict):
            value = ", ".join(f"{name} {number:.3f}" if isinstance(number, float) else f"{name} {number}" for name, number in value.items())
        table.add_row(key, str(value))
    print_table(table)


@app.command(epilog=examples(
    "swiftvr bench                                     # 360p, chunk 24",
    "swiftvr bench --res 360p,720p --chunk 8,24 --repeats 5 --json bench.json",
    "swiftvr bench --model-only --device cpu --threads 2",
))
def bench(
    res: Annotated[str, typer.Option(help="Output resolutions: 360p,540p,720p,1080p,1440p,4k or WxH list.")] = "360p",
    chunk: Annotated[str, typer.Option(help="Chunk sizes to sweep, e.g. 8,16,24,32.")] = "24",
    reae_group: ReAEGroupOption = 0,
    offload: Annotated[bool, typer.Option("--offload", help="Stream the DiT blocks from --weights one block ahead of use.")] = False,
    compile_model: CompileOption = False,
    scale: Annotated[float, typer.Option(help="Upscale factor (input = output / scale).")] = 4.0,
    chunks: Annotated[int, typer.Option(help="Timed chunks per setting (after one warm-up chunk).")] = 2,
    repeats: Annotated[int, typer.Option(help="Measure each setting this many times; the median is shown with the spread, and a wide spread is flagged.")] = 3,
    weights: Annotated[Optional[str], typer.Option(help="Official SwiftVR folder or our weights json (default: embedded).")] = None,
    random_weights: Annotated[Optional[str], typer.Option("--random-weights", help="Benchmark a preset (official, tiny) or config json with random weights.")] = None,
    device: Annotated[Device, typer.Option(help="Compute device.")] = Device.auto,
    dtype: Annotated[DType, typer.Option(help="Compute dtype.")] = DType.auto,
    end_to_end: Annotated[bool, typer.Option("--e2e/--model-only", help="Also time decode + restore + encode.")] = True,
    json_path: Annotated[Optional[Path], typer.Option("--json", help="Write results as JSON here.")] = None,
    plot: Annotated[Optional[Path], typer.Option(help="Write a PNG plot here.")] = None,
    threads: Annotated[Optional[int], typer.Option(help="CPU threads.")] = None,
    debug: Annotated[bool, typer.Option(help="Show tracebacks.")] = False,
) -> None:
    """Sweep resolution x chunk size: model FPS, end-to-end FPS, per-part time, peak memory."""

    def body():
        from .bench.charts import plot_results, results_table
        from .bench.sweep import environment, noise_warnings, parse_ints, parse_resolutions, results_json, run_sweep
        from .model.loading import load_model, random_model
        from .model.presets import PRESETS, preset

        set_threads(threads)
        from .pipeline.chunker import check_clip_len

        try:
            resolutions, chunk_sizes = parse_resolutions(res), parse_ints(chunk)
            for size in chunk_sizes:
                check_clip_len(size)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        if not 0 < scale <= 8:  # NaN fails too
            raise UsageError(f"--scale must be in (0, 8], got {scale}")
        if reae_group < 0:
            raise UsageError("--reae-group must be >= 0 (0: automatic)")
        if repeats < 1 or chunks < 1:
            raise UsageError("--repeats and --chunks must be >= 1")
        dev = resolve_device(device)
        torch_dtype = resolve_dtype(dtype, dev)
        if offload and random_weights:
            raise UsageError("--offload streams the blocks from a weights file: use --weights (benchmarks/fullsize_checkpoint.py writes a full-size one)")
        if random_weights:
            from .bench.memory_guard import check_random_model_fits

            if random_weights in PRESETS:
                cfg = preset(random_weights)
            else:
                from .model.loading import WeightsError
                from .model.weights_check import config_from_json

                try:
                    cfg = config_from_json({"config": json.loads(Path(random_weights).read_text())})
                except (OSError, ValueError) as exc:  # ConfigError included
                    raise WeightsError(f"bad config {random_weights}: {exc}") from None
            check_random_model_fits(cfg, dev, torch_dtype, random_weights)
            model, label = random_model(cfg, dev, torch_dtype, prompt_len=512), f"random:{random_weights}"
        else:
            model, label = load_model(weights, dev, torch_dtype, offload=offload), weights or "embedded default"
        if compile_model:
            from .model.compiled import CompileUnavailable, compile_model as compile_in_place

            try:
                compile_in_place(model)
            except CompileUnavailable as exc:  # a bench must not silently time the eager model
                raise UsageError(str(exc)) from None
        env = environment(model, torch_dtype, label)
        env["compiled"] = compile_model
        err.print(f"bench on {env['device']} ({env['dtype']}, {env['parameters']:,} parameters, {label})", highlight=False)
        results = run_sweep(
            model, resolutions, chunk_sizes, scale, chunks, end_to_end, reae_group=reae_group, compiled=compile_model, repeats=repeats,
            on_result=lambda r: err.print(f"  {r.resolution} chunk {r.chunk}: {r.status} model {r.model_fps or 0:.2f} fps", highlight=False),
        )  # fmt: skip
        print_table(results_table(results, f"swiftvr bench: {env['device']}, {env['dtype']}, scale {scale}"))
        for line in noise_warnings(results):
            err.print(f"warning: {line}", highlight=False, soft_wrap=True)
        settings = {"scale": scale, "chunks": chunks, "repeats": repeats, "end_to_end": end_to_end, "reae_group": reae_group, "compile": compile_model, "warmup_middle": int(compile_model), "offload": offload}
        if json_path:
            json_path.parent.mkdir(parents=True, exist_ok=True)
            json_path.write_text(json.dumps(results_json(env, results, settings), indent=2) + "\n")
            err.print(f"wrote {json_path}", highlight=False)
        if plot:
            plot_results(results, plot, env["device"])

    run_guarded(debug, body)


@app.command(epilog=examples(
    "swiftvr plan --weights DIR --res 1440p --chunk 24 --memory 24GB",
    "swiftvr plan --weights DIR --res 4k --device cuda --dtype bfloat16 --json",
))
def plan(
    weights: WeightsOption = None,
    res: Annotated[str, typer.Option(help="Output resolution: 360p, 540p, 720p, 1080p, 1440p, 4k or WxH.")] = "1440p",
    chunk: Annotated[int, typer.Option(help="The chunk you would like (multiple of 4); smaller ones are listed after it.")] = 24,
    scale: Annotated[float, typer.Option(help="Upscale factor (input = output / scale).")] = 4.0,
    memory: Annotated[Optional[str], typer.Option(help="Memory to fit in, e.g. 24GB, 16G (default: what the device has free).")] = None,
    frames: Annotated[Optional[int], typer.Option(help="Frames in the video, if short (fewer chunks in flight); default: a long video.")] = None,
    device: Annotated[Device, typer.Option(help="Where the model would run (the plan never allocates it).")] = Device.auto,
    dtype: DTypeOption = DType.auto,
    json_out: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    debug: Annotated[bool, typer.Option(help="Show tracebacks.")] = False,
) -> None:
    """Predict the peak memory of a restore and list which settings fit, fastest first (nothing is loaded)."""

    def body():
        import torch

        from .bench.sweep import parse_resolutions
        from .model.loading import model_config
        from .pipeline import budget
        from .pipeline import plan as planner

        try:
            ((_, (width, height)),) = parse_resolutions(res)
            limit = budget.parse_size(memory) if memory is not None else None
        except ValueError as exc:
            raise UsageError(str(exc).replace("--max-memory", "--memory")) from None
        if chunk <= 0 or chunk % 4:
            raise UsageError(f"--chunk must be a positive multiple of 4, got {chunk}")
        dev = torch.device(device.value if device is not Device.auto else ("cuda" if torch.cuda.is_available() else "cpu"))
        torch_dtype = resolve_dtype(dtype, dev.type)
        if limit is None and (dev.type == "cpu" or torch.cuda.is_available()):
            limit = budget.available_bytes(dev)
        cfg, prompt_len = model_config(weights)
        out_size = (height, width)
        in_size = (round(height / scale), round(width / scale))
        if frames is not None and frames < 1:
            raise UsageError("--frames must be >= 1")
        candidates = planner.settings(cfg, in_size, out_size, chunk, torch_dtype, dev, prompt_len=prompt_len, frames=frames)
        rows = planner.table(candidates, limit)
        if json_out:
            sys.stdout.write(json.dumps({"device": dev.type, "dtype": str(torch_dtype).removeprefix("torch."), "output": [width, height],
                                         "input": list(in_size[::-1]), "memory_bytes": limit, "settings": rows}) + "\n")  # fmt: skip
            return
        from rich.table import Table

        where = "GPU memory" if dev.type == "cuda" else "RAM"
        limit_text = f"{limit / budget.GIB:.1f} GiB" if limit is not None else "no limit given"
        table = Table(title=f"{in_size[1]}x{in_size[0]} -> {width}x{height}, {dev.type}, {str(torch_dtype).removeprefix('torch.')}: {where} {limit_text}")
        for column in ("settings (fastest first)", "predicted peak GiB", "fits"):
            table.add_column(column)
        for row in rows:
            fits = "-" if row["fits"] is None else ("yes" if row["fits"] else "no")
            table.add_row(row["settings"], f"{row['peak_gib']:.1f}", fits)
        print_table(table)
        chosen = [row["settings"] for row in rows if row["chosen"]]
        if limit is not None:
            print(f"restore picks: {chosen[0]}" if chosen else f"nothing fits in {limit_text}: lower --scale or the resolution")

    run_guarded(debug, body)


@app.command("eval", epilog=examples(
    "swiftvr eval restored.mp4 reference.mp4 --input lq.mp4 --png worst.png",
    "swiftvr eval --degrade x4 clean.mp4 --png worst.png",
    "swiftvr eval --degrade denoise clean.mp4 --json",
    "swiftvr eval --degrade x4-area clean.mp4 --strength 0.5,1,1.5   # how much of the model to apply",
))
def eval_command(
    restored: Annotated[str, typer.Argument(help="Restored video (or, with --degrade, the CLEAN video).")],
    reference: Annotated[Optional[str], typer.Argument(help="Reference video (not used with --degrade).")] = None,
    lq: Annotated[Optional[str], typer.Option("--input", help="The low-quality input RESTORED was made from: the baseline (bicubic-upscaled when smaller); adds the gain over it.")] = None,
    degrade: Annotated[Optional[str], typer.Option(help="Degrade CLEAN with a fixed degradation (x4, x2, x4-clean, x4-area, crf35, deblur, denoise, inpaint), restore, compare with baselines.")] = None,
    weights: Annotated[Optional[str], typer.Option(help="Model for --degrade (default: the shipped model for that task).")] = None,
    frames: Annotated[Optional[int], typer.Option(help="Use at most this many frames (default: all; 48 with --degrade).")] = None,
    chunk: Annotated[int, typer.Option(help="Chunk size for --degrade.")] = 24,
    strength: Annotated[Optional[str], typer.Option(help="With --degrade: --strength values to compare, e.g. 0.5,1,1.5 (default: the weights' own).")] = None,
    png: Annotated[Optional[Path], typer.Option(help="Save the worst frame side by side (a labelled crop) as PNG.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    device: Annotated[Device, typer.Option(help="Compute device.")] = Device.auto,
    debug: Annotated[bool, typer.Option(help="Show tracebacks.")] = False,
) -> None:
    """PSNR (Y, RGB), SSIM and flicker against a reference: per clip and per frame (worst frame, worst 10 %, gain over the baseline).

    Frames are measured one at a time: memory does not grow with the clips' length.
    """

    def body():
        from .tasks import DEGRADATION_TASKS

        if frames is not None and frames < 1:
            raise UsageError("--frames must be >= 1")
        if degrade and degrade not in DEGRADATION_TASKS:
            raise UsageError(f"unknown --degrade {degrade!r}; choose from {', '.join(DEGRADATION_TASKS)}")
        if degrade and (reference is not None or lq is not None):
            raise UsageError("--degrade takes one video (the CLEAN one); REFERENCE and --input are for comparing files")
        if not degrade and reference is None:
            raise UsageError("give RESTORED and REFERENCE, or --degrade TASK CLEAN")
        strengths = parse_strengths(strength) if strength is not None else [None]
        if strength is not None and not degrade:
            raise UsageError("--strength goes with --degrade (a restored file has its strength already)")
        if len(strengths) > 1 and png:
            raise UsageError("--png shows one restoration: give one --strength with it")

        from .evaluation import compare_files, degrade_eval, finite, load_clip, report_table, save_worst_frame

        if degrade:
            from .model.loading import load_model
            from .tasks import degradation_weights

            dev = resolve_device(device)
            model = load_model(weights or degradation_weights(degrade), dev, resolve_dtype(DType.auto, dev))
            clip = load_clip(restored, frames or 48)
            if len(strengths) > 1:  # a sweep: one table per value
                return _strength_sweep(model, clip, degrade, chunk, strengths, json_out)
            evaluation = degrade_eval(model, clip, degrade, chunk, strengths[0])
        else:
            evaluation = compare_files(restored, reference, frames, lq)
        if evaluation.lengths:
            counts = ", ".join(f"{name} {count}" for name, count in evaluation.lengths.items())
            err.print(f"warning: the clips differ in length (frames: {counts}); compared the first {evaluation.rows[0].metrics['frames']}", highlight=False, soft_wrap=True)
        if png:
            save_worst_frame(evaluation, png)
            err.print(f"worst frame ({evaluation.worst_frame}) side by side ({', '.join(evaluation.worst_tiles)}) -> {png}", highlight=False, soft_wrap=True)
        if json_out:
            result = {r.name: finite(r.metrics) for r in evaluation.rows}
            if evaluation.lengths:
                result["restored" if "restored" in result else evaluation.rows[0].name]["lengths"] = evaluation.lengths
            print_stdout(json.dumps(result))
            return
        print_table(report_table(evaluation, f"swiftvr eval{' --degrade ' + degrade if degrade else ''}"))

    run_guarded(debug, body)


def parse_strengths(text: str) -> list[float]:
    """`--strength 0.5,1,1.5` -> values, each in [0, 2]."""
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise UsageError(f"--strength takes numbers between 0 and 2, e.g. 0.5,1; got {text!r}") from None
    if not values or any(not 0 <= v <= 2 for v in values):  # NaN fails too
        raise UsageError(f"--strength values must be between 0 and 2, got {text!r}")
    return values


def _strength_sweep(model, clip, degrade: str, chunk: int, strengths: list[float], json_out: bool) -> None:
    from .evaluation import degrade_eval, finite, report_table

    results = {}
    for value in strengths:
        evaluation = degrade_eval(model, clip, degrade, chunk, value)
        if json_out:
            results[f"{value:g}"] = {r.name: finite(r.metrics) for r in evaluation.rows}
        else:
            print_table(report_table(evaluation, f"swiftvr eval --degrade {degrade} --strength {value:g}"))
    if json_out:
        print_stdout(json.dumps({"strength": results}))


from .batch.discover import DEFAULT_GLOB  # noqa: E402 - light (no torch); the help shows it


class Engine(str, Enum):
    local = "local"
    ray = "ray"


BATCH = "Batch"
RAY = "Ray (--engine ray)"


@app.command(epilog=examples(
    "swiftvr batch in/ out/",
    "swiftvr batch in/ out/ -r --suffix _x4 --ext mkv --json > summary.json",
    "swiftvr batch /data/in /data/out -r --shard 0/4 --quiet     # from cron or a job array",
))
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
    scale: ScaleOption = 4.0,
    strength: StrengthOption = None,
    weights: WeightsOption = None,
    chunk: ChunkOption = 24,
    overlap: OverlapOption = 0,
    device: DeviceOption = Device.auto,
    dtype: DTypeOption = DType.auto,
    codec: CodecOption = "libx264",
    crf: CrfOption = 18,
    preset: PresetOption = "medium",
    pix_fmt: PixFmtOption = None,
    threads: Annotated[Optional[int], typer.Option(help="CPU threads for the model (default: all cores; 1 per Ray CPU worker).", rich_help_panel=PERF)] = None,
    compile_model: CompileOption = False,
    json_summary: Annotated[bool, typer.Option("--json", help="Print a JSON summary on stdout.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only failures on stderr (no progress, no table).")] = False,
    debug: Annotated[bool, typer.Option(help="Show tracebacks.")] = False,
) -> None:
    """Restore every video in a folder tree; already-done videos are skipped (safe to run from cron)."""

    def body():
        from .batch.command import BatchRequest, run_batch
        from .batch.discover import parse_globs
        from .batch.ray_engine import RayOptions, import_ray
        from .batch.shard import parse_shard
        from .batch.summary import outcome_line, summary_json, summary_table
        from .batch.worker import WorkerSpec
        from .io import EncodeOptions
        from .pipeline.runner import RestoreSettings
        from .progress import FrameProgress
        from .tasks import batch_weights

        check_model_options(chunk, scale, overlap)
        if warmup_frames < 0:
            raise UsageError("--warmup-frames must be >= 0")
        if workers is not None and workers < 1:
            raise UsageError("--workers must be >= 1")
        if segment_seconds is not None and segment_seconds < 0:
            raise UsageError("--segment-seconds must be >= 0")
        if engine is Engine.local and (segment_seconds or address or workers):
            raise UsageError("--segment-seconds, --address and --workers need --engine ray")
        try:
            patterns = parse_globs(glob)
            shard_spec = parse_shard(shard) if shard is not None else None
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        set_threads(threads, apply=engine is Engine.local)
        if engine is Engine.ray:
            try:
                import_ray()
            except Exception as exc:  # RayUnavailable: a usage problem, not a crash
                raise UsageError(str(exc)) from None
        else:
            resolve_device(device)  # fail now if CUDA was asked for and is missing
        request = BatchRequest(
            in_dir=in_dir, out_dir=out_dir, patterns=patterns, recursive=recursive, follow_links=follow_links, suffix=suffix, ext=ext,
            shard=shard_spec, retry_failed=retry_failed, engine=engine.value,
            settings=RestoreSettings(scale=scale, clip_len=chunk, overlap=overlap, overwrite=True, strength=strength,
                                     encode=EncodeOptions(codec=codec, crf=crf, preset=preset, pix_fmt=pix_fmt)),
            spec=WorkerSpec(weights=batch_weights(weights, scale), device=device.value, dtype=dtype.value, threads=threads, compile=compile_model),
            ray=RayOptions(address=address, num_gpus_per_worker=num_gpus_per_worker, workers=workers,
                           segment_seconds=segment_seconds, warmup_frames=warmup_frames),
        )  # fmt: skip

        def on_outcome(outcome) -> None:
            if outcome.status == "failed" or (not quiet and outcome.status != "skipped"):
                err.print(outcome_line(outcome), highlight=False, markup=False, soft_wrap=True)

        try:
            outcomes, seconds = run_batch(
                request, on_outcome=on_outcome, log=lambda line: None if quiet else err.print(line, highlight=False),
                warn=lambda line: err.print(f"note: {line}", highlight=False, markup=False, soft_wrap=True),
                progress=lambda label: FrameProgress(enabled=not quiet, label=label),
            )
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        if not quiet:
            err.print(summary_table(outcomes, f"swiftvr batch {in_dir} -> {out_dir} ({seconds:.1f}s)"))
        if json_summary:
            meta = {"in_dir": in_dir, "out_dir": out_dir, "engine": engine.value, "shard": shard}
            print_stdout(json.dumps(summary_json(outcomes, seconds=seconds, meta=meta)))
        if any(o.status == "failed" for o in outcomes):
            raise typer.Exit(ExitCode.BATCH_FAILED)

    run_guarded(debug, body)


def main() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    app()
