"""`swiftvr bench`, `plan` and `eval`: measuring speed, memory and quality."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..failures import UsageError
from . import app
from .common import (
    CompileOption, DebugOption, Device, DType, DTypeOption, ReAEGroupOption, WeightsOption, check_reae_group, err, examples,
    print_stdout, print_table, resolve_device, resolve_dtype, set_threads,
)  # fmt: skip
from .guard import guarded


@app.command(epilog=examples(
    "swiftvr bench                                     # 360p, chunk 24",
    "swiftvr bench --res 360p,720p --chunk 8,24 --repeats 5 --json bench.json",
    "swiftvr bench --model-only --device cpu --threads 2",
))  # fmt: skip
@guarded
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
    debug: DebugOption = False,
) -> None:
    """Sweep resolution x chunk size: model FPS, end-to-end FPS, per-part time, peak memory."""
    from ..bench.charts import plot_results, results_table
    from ..bench.sweep import environment, noise_warnings, results_json, run_sweep

    set_threads(threads)
    resolutions, chunk_sizes = check_bench_options(res, chunk, scale, reae_group, repeats, chunks)
    dev = resolve_device(device)
    torch_dtype = resolve_dtype(dtype, dev)
    model, label = bench_model(weights, random_weights, offload, compile_model, dev, torch_dtype)
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


def check_bench_options(res: str, chunk: str, scale: float, reae_group: int, repeats: int, chunks: int):
    """(resolutions, chunk sizes) of the sweep, or a UsageError naming the bad option."""
    from ..bench.sweep import parse_ints, parse_resolutions
    from ..pipeline.chunker import check_clip_len

    try:
        resolutions, chunk_sizes = parse_resolutions(res), parse_ints(chunk)
        for size in chunk_sizes:
            check_clip_len(size)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if not 0 < scale <= 8:  # NaN fails too
        raise UsageError(f"--scale must be in (0, 8], got {scale}")
    check_reae_group(reae_group)
    if repeats < 1 or chunks < 1:
        raise UsageError("--repeats and --chunks must be >= 1")
    return resolutions, chunk_sizes


def bench_model(weights: str | None, random_weights: str | None, offload: bool, compile_model: bool, dev: str, torch_dtype):
    """(model, label): loaded weights, or a random model of a preset or config (--random-weights)."""
    from ..model.loading import load_model, random_model

    if offload and random_weights:
        raise UsageError("--offload streams the blocks from a weights file: use --weights (benchmarks/fullsize_checkpoint.py writes a full-size one)")
    if random_weights:
        from ..bench.memory_guard import check_random_model_fits

        cfg = random_config(random_weights)
        check_random_model_fits(cfg, dev, torch_dtype, random_weights)
        model, label = random_model(cfg, dev, torch_dtype, prompt_len=512), f"random:{random_weights}"
    else:
        model, label = load_model(weights, dev, torch_dtype, offload=offload), weights or "embedded default"
    if compile_model:
        from ..model.compiled import CompileUnavailable, compile_model as compile_in_place

        try:
            compile_in_place(model)
        except CompileUnavailable as exc:  # a bench must not silently time the eager model
            raise UsageError(str(exc)) from None
    return model, label


def random_config(random_weights: str):
    """The config of --random-weights: a preset's name, or a config json."""
    from ..model.presets import PRESETS, preset

    if random_weights in PRESETS:
        return preset(random_weights)
    from ..model.loading import WeightsError
    from ..model.weights_check import config_from_json

    try:
        return config_from_json({"config": json.loads(Path(random_weights).read_text())})
    except (OSError, ValueError) as exc:  # ConfigError included
        raise WeightsError(f"bad config {random_weights}: {exc}") from None


@app.command(epilog=examples(
    "swiftvr plan --weights DIR --res 1440p --chunk 24 --memory 24GB",
    "swiftvr plan --weights DIR --res 4k --device cuda --dtype bfloat16 --json",
))  # fmt: skip
@guarded
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
    debug: DebugOption = False,
) -> None:
    """Predict the peak memory of a restore and list which settings fit, fastest first (nothing is loaded)."""
    import torch

    from ..bench.sweep import parse_resolutions
    from ..model.loading import model_config
    from ..pipeline import budget
    from ..pipeline import plan as planner

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
    shape = budget.RunShape(cfg, in_size, out_size, torch_dtype, dev, frames=frames, prompt_len=prompt_len)
    candidates = planner.settings(shape, chunk)
    rows = planner.table(candidates, limit)
    if json_out:
        sys.stdout.write(json.dumps({"device": dev.type, "dtype": str(torch_dtype).removeprefix("torch."), "output": [width, height],
                                     "input": list(in_size[::-1]), "memory_bytes": limit, "settings": rows}) + "\n")  # fmt: skip
        return
    where = "GPU memory" if dev.type == "cuda" else "RAM"
    limit_text = f"{limit / budget.GIB:.1f} GiB" if limit is not None else "no limit given"
    print_plan(rows, f"{in_size[1]}x{in_size[0]} -> {width}x{height}, {dev.type}, {str(torch_dtype).removeprefix('torch.')}: {where} {limit_text}")
    chosen = [row["settings"] for row in rows if row["chosen"]]
    if limit is not None:
        print(f"restore picks: {chosen[0]}" if chosen else f"nothing fits in {limit_text}: lower --scale or the resolution")


def print_plan(rows: list[dict], title: str) -> None:
    from rich.table import Table

    table = Table(title=title)
    for column in ("settings (fastest first)", "predicted peak GiB", "fits"):
        table.add_column(column)
    for row in rows:
        fits = "-" if row["fits"] is None else ("yes" if row["fits"] else "no")
        table.add_row(row["settings"], f"{row['peak_gib']:.1f}", fits)
    print_table(table)


@app.command("eval", epilog=examples(
    "swiftvr eval restored.mp4 reference.mp4 --input lq.mp4 --png worst.png",
    "swiftvr eval --degrade x4 clean.mp4 --png worst.png",
    "swiftvr eval --degrade denoise clean.mp4 --json",
    "swiftvr eval --degrade x4-area clean.mp4 --strength 0.5,1,1.5   # how much of the model to apply",
))  # fmt: skip
@guarded
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
    debug: DebugOption = False,
) -> None:
    """PSNR (Y, RGB), SSIM and flicker against a reference: per clip and per frame (worst frame, worst 10 %, gain over the baseline).

    Frames are measured one at a time: memory does not grow with the clips' length.
    """
    strengths = check_eval_options(reference, lq, degrade, frames, strength, png)
    from ..evaluation import compare_files, degrade_eval, load_clip

    if degrade:
        from ..model.loading import load_model
        from ..tasks import degradation_weights

        dev = resolve_device(device)
        model = load_model(weights or degradation_weights(degrade), dev, resolve_dtype(DType.auto, dev))
        clip = load_clip(restored, frames or 48)
        if len(strengths) > 1:  # a sweep: one table per value
            return _strength_sweep(model, clip, degrade, chunk, strengths, json_out)
        evaluation = degrade_eval(model, clip, degrade, chunk, strengths[0])
    else:
        evaluation = compare_files(restored, reference, frames, lq)
    print_evaluation(evaluation, degrade, png, json_out)


def check_eval_options(reference, lq, degrade, frames, strength, png) -> list[float | None]:
    """The --strength values to measure ([None]: the weights' own), or a UsageError."""
    from ..tasks import DEGRADATION_TASKS

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
    return strengths


def print_evaluation(evaluation, degrade: str | None, png: Path | None, json_out: bool) -> None:
    from ..evaluation import finite, report_table, save_worst_frame

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
    from ..evaluation import degrade_eval, finite, report_table

    results = {}
    for value in strengths:
        evaluation = degrade_eval(model, clip, degrade, chunk, value)
        if json_out:
            results[f"{value:g}"] = {r.name: finite(r.metrics) for r in evaluation.rows}
        else:
            print_table(report_table(evaluation, f"swiftvr eval --degrade {degrade} --strength {value:g}"))
    if json_out:
        print_stdout(json.dumps({"strength": results}))


