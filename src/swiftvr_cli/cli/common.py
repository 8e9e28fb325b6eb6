"""What the commands share: choices, option definitions, the checks done before
anything heavy is imported, and printing.

Light to import (no torch): `restore` refuses bad options and output paths
before the model's imports cost seconds.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from enum import Enum
from typing import Annotated, Optional

import typer
from rich.console import Console

from ..failures import UsageError

err = Console(stderr=True)


def examples(*lines: str) -> str:
    """A command's --help epilog: example command lines, one per line, as in ffmpeg's docs."""
    return "Examples:\n\n\b\n" + "\n".join(f"  {line}" for line in lines)


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
    from ..devices import resolve_device as resolve

    return resolve(device.value)


def resolve_dtype(dtype: DType, device: str):
    from ..devices import resolve_dtype as resolve

    return resolve(dtype.value, device)


def check_model_options(chunk: int, scale: float, overlap: int) -> None:
    """Validation shared by `restore` and `batch`."""
    from ..pipeline.chunker import check_clip_len

    try:
        check_clip_len(chunk)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if not 0 < scale <= 8:  # written so that NaN fails too
        raise UsageError(f"--scale must be in (0, 8], got {scale}")
    if overlap < 0:
        raise UsageError("--overlap must be >= 0")


def check_reae_group(reae_group: int) -> None:
    if reae_group < 0:
        raise UsageError("--reae-group must be >= 0 (0: automatic)")


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


def memory_limit(max_memory: str | None) -> int | None:
    """--max-memory in bytes (None: what is free)."""
    if max_memory is None:
        return None
    from ..pipeline.budget import parse_size

    try:
        return parse_size(max_memory)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def print_stdout(text: str) -> None:
    """A line on stdout; a closed or full stdout is exit 4, not a traceback."""
    from ..io.stdio import print_stdout as write

    write(text)


def note(text: str) -> None:
    err.print(f"note: {text}", highlight=False, soft_wrap=True)


def check_output_paths(input: str, output: str, overwrite: bool) -> None:
    """The output checks of the writer (in == out, exists without -y, folder missing), from
    the paths alone: they run again when the output is opened."""
    from ..io.targets import check_paths, classify, source_kind_of

    check_paths(classify(output), source_kind_of(input), input, overwrite)


def resolve_task(task: TaskName, scale: float | None, mask: str | None) -> float:
    """Check --task against --scale and --mask; the output scale."""
    from ..tasks import Task, needs_mask, task_scale

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


def print_table(table, console: Console | None = None) -> None:
    """Print a rich table whole: when stdout is not a terminal rich assumes 80 columns
    and would cut wide tables (bench, eval) into ellipses."""
    console = console or Console()
    needed = console.measure(table, options=console.options.update_width(10_000)).maximum
    if needed > console.width:
        console = Console(file=console.file, width=needed)
    console.print(table)


IO = "Input / output"
MODEL = "Model"
PERF = "Performance"
SAFETY = "Damaged input, interruptions, memory"

# Options shared by `restore` and `batch` (and some by bench, plan), defined once.
TaskOption = Annotated[TaskName, typer.Option(help="sr: super-resolution (--scale); clean: artefacts, noise and blur at the same size; deblur, denoise; inpaint: fill what --mask marks.", rich_help_panel=MODEL)]
MaskOption = Annotated[Optional[str], typer.Option(help="With --task inpaint: white = fill; an image used for every frame, or a mask video with one frame per input frame (same size as the input).", rich_help_panel=MODEL)]
BatchMaskOption = Annotated[Optional[str], typer.Option(help="With --task inpaint: white = fill; one image used for every frame of every video (the same size as each input; a mask video, which belongs to one input, is refused).", rich_help_panel=MODEL)]
ScaleOption = Annotated[Optional[float], typer.Option("--scale", "-s", help="Upscale factor for --task sr (default 4; 2 also works); the other tasks keep the input size.", rich_help_panel=MODEL)]
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
SkipCorruptOption = Annotated[bool, typer.Option("--skip-corrupt", help="Replace damaged frames by the previous good one (frame count and timing kept) instead of stopping.", rich_help_panel=SAFETY)]
MaxMemoryOption = Annotated[Optional[str], typer.Option("--max-memory", help="Memory the run may use, e.g. 8G (default: what is free); larger runs are refused before they start.", rich_help_panel=SAFETY)]
AutoOption = Annotated[bool, typer.Option("--auto", help="When memory is short, use a smaller --chunk (halving down to 4) instead of failing.", rich_help_panel=SAFETY)]
HwaccelOption = Annotated[Optional[str], typer.Option("--hwaccel", help="Decode on the GPU, e.g. cuda (NVDEC); falls back to the CPU with a note.", rich_help_panel=PERF)]
DebugOption = Annotated[bool, typer.Option(help="Show tracebacks.")]


@dataclasses.dataclass(frozen=True)
class ModelChoice:
    """The options `restore` and `batch` share: defined here once (each field's type is its option),
    added to both commands by `option_group`, checked and turned into settings in one place."""

    task: TaskOption = TaskName.sr
    mask: MaskOption = None
    scale: ScaleOption = None
    strength: StrengthOption = None
    weights: WeightsOption = None
    chunk: ChunkOption = 24
    reae_group: ReAEGroupOption = 0
    overlap: OverlapOption = 0
    compile_model: CompileOption = False
    device: DeviceOption = Device.auto
    dtype: DTypeOption = DType.auto
    codec: CodecOption = "libx264"
    crf: CrfOption = 18
    preset: PresetOption = "medium"
    pix_fmt: PixFmtOption = None
    skip_corrupt: SkipCorruptOption = False
    max_memory: MaxMemoryOption = None
    hwaccel: HwaccelOption = None
    auto: AutoOption = False

    def check(self) -> float:
        """Refuse bad combinations before anything heavy is imported; the output scale."""
        out_scale = resolve_task(self.task, self.scale, self.mask)
        check_model_options(self.chunk, out_scale, self.overlap)
        check_reae_group(self.reae_group)
        return out_scale

    def settings(self, out_scale: float, container_format: str | None = None, **run):
        """The `RestoreSettings` these options ask for; ``run`` adds the command's own (resume, stream...)."""
        from ..io import EncodeOptions
        from ..pipeline.settings import RestoreSettings

        encode = EncodeOptions(codec=self.codec, crf=self.crf, preset=self.preset, pix_fmt=self.pix_fmt, container_format=container_format)
        return RestoreSettings(
            scale=out_scale, task=self.task.value, mask=self.mask, clip_len=self.chunk, overlap=self.overlap, strength=self.strength,
            encode=encode, skip_corrupt=self.skip_corrupt, max_memory=memory_limit(self.max_memory), auto=self.auto,
            hwaccel=self.hwaccel, reae_group=self.reae_group, **run,
        )  # fmt: skip


def option_group(name: str, group, **overrides):
    """Decorator (below ``@guarded``): the fields of the dataclass ``group`` become options of the
    command where its parameter ``name`` stands, and the command gets them as one ``group``
    value. ``overrides`` give an option another definition (another help text)."""
    hints = typing.get_type_hints(group, include_extras=True)
    fields = dataclasses.fields(group)
    options = [
        inspect.Parameter(field.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=overrides.get(field.name, hints[field.name]), default=field.default)
        for field in fields
    ]  # fmt: skip

    def decorate(command):
        signature = inspect.signature(command, eval_str=True)
        parameters = [new for old in signature.parameters.values() for new in (options if old.name == name else [old])]

        @functools.wraps(command)
        def run(**given):
            value = group(**{field.name: given.pop(field.name) for field in fields})
            return command(**given, **{name: value})

        run.__signature__ = signature.replace(parameters=parameters)
        return run

    return decorate
