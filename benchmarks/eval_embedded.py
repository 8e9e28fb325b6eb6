"""Measure embedded models on held-out real footage, per frame (numbers for weights/README.md).

The clips are the last 20 frames of each real video in the data folder, which training never
sees (`swiftvr_cli.train.data.real_validation_clips`), centre-cropped to at most 384x288. For
each fixed degradation preset and clip: degrade, restore through the real chunk path
(`restore_tensor`), and compare per frame with the plain baselines (bicubic / lanczos, or the
degraded input and the task's simple method) and, at x4, with the single-frame CNN baseline
if its weights are given. Reported per clip and preset: PSNR-Y, SSIM, flicker, and the gain
over the baseline as the mean, the worst frame and the mean of the worst 10 % of frames.

    .venv/bin/python benchmarks/eval_embedded.py --json benchmarks/results/embedded_eval.json
    .venv/bin/python benchmarks/eval_embedded.py --weights runs/sr_real/best.json --strength 0.5,0.75,1,1.25

Without --weights, each preset is restored with the shipped weights its task uses
(`swiftvr_cli.tasks.degradation_weights`), as `swiftvr eval --degrade` does.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import torch

from swiftvr_cli.degradations import EVAL_DEGRADATIONS
from swiftvr_cli.evaluation import gains_over_baseline, restore_with_baselines
from swiftvr_cli.failures import UsageError
from swiftvr_cli.metrics import evaluate, gain_summary
from swiftvr_cli.model.loading import load_model
from swiftvr_cli.tasks import degradation_weights
from swiftvr_cli.train.data import real_validation_clips

DATA_DIR = "../shared/data"
CHUNK = 8
TASKS = ("x4-area", "x4", "x4-clean", "x2", "crf35")  # also --tasks deblur,denoise,inpaint
SHIP_MARGIN_DB = -0.3  # no frame may fall further below its baseline


def baseline_cnn(path: str | None):
    if not path:
        return None
    from safetensors.torch import load_file

    from swiftvr_cli.train.baseline import ResidualSRCNN

    model = ResidualSRCNN()
    model.load_state_dict(load_file(path))
    return model.eval()


def evaluate_task(model, clips, task: str, strength: float | None, cnn) -> dict:
    per_clip, all_gains = {}, []
    for name, clip in clips:
        clean, lq, outputs = restore_with_baselines(model, clip, task, CHUNK, strength)
        if cnn is not None and EVAL_DEGRADATIONS[task].scale == 4:
            outputs["cnn_baseline"] = cnn(lq).clamp(0, 1)
        rows = {method: evaluate(out, clean) for method, out in outputs.items()}
        base_method, _, gains = gains_over_baseline({m: out for m, out in outputs.items() if m != "cnn_baseline"}, clean)
        all_gains += gains
        per_clip[name] = {"baseline": base_method, "gain": gain_summary(gains), "metrics": rows}
    overall = gain_summary(all_gains)
    clip_means = [c["gain"]["mean"] for c in per_clip.values()]
    return {
        "strength": strength,
        "mean_gain_db": statistics.fmean(clip_means),
        "worst_clip_db": min(clip_means),
        "worst_frame_db": overall["worst"],
        "worst10_db": overall["worst10"],
        "ships": min(clip_means) > 0 and overall["worst"] >= SHIP_MARGIN_DB,
        "per_clip": per_clip,
    }


def parse_strengths(text: str | None) -> list[float | None]:
    """None: the weights' own default; else the CLI's parsing and bounds (`swiftvr eval --strength`)."""
    from swiftvr_cli.cli.measure import parse_strengths as parse

    return [None] if not text else list(parse(text))


@torch.no_grad()
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default=None)
    parser.add_argument("--baseline", default=None, help="ResidualSRCNN safetensors (x4 comparison)")
    parser.add_argument("--data-dir", default=DATA_DIR)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--dtype", default="float32", choices=("float32", "bfloat16"))
    parser.add_argument("--tasks", default=",".join(TASKS), help="comma-separated names of swiftvr_cli.degradations.EVAL_DEGRADATIONS")
    parser.add_argument("--strength", default=None, help="comma-separated --strength values to sweep (default: the weights' own)")
    parser.add_argument("--frames", type=int, default=20)
    args = parser.parse_args()

    try:
        strengths = parse_strengths(args.strength)
    except UsageError as error:  # one line, not a traceback
        parser.error(str(error))
    torch.set_num_threads(1)
    dtype = getattr(torch, args.dtype)
    cnn = baseline_cnn(args.baseline)
    clips = real_validation_clips(args.data_dir, clip_len=args.frames)
    results: dict[str, list[dict]] = {}
    models: dict[str, dict] = {}
    for task in args.tasks.split(","):
        path = args.weights or str(degradation_weights(task))
        model = load_model(path, dtype=dtype)
        models[task] = {"weights": Path(path).name, "parameters": sum(p.numel() for p in model.parameters()), "default_strength": model.default_strength}
        for strength in strengths:
            result = evaluate_task(model, clips, task, strength, cnn)
            results.setdefault(task, []).append(result)
            s = model.default_strength if strength is None else strength
            print(
                f"{task:9s} strength {s:.2f}: mean {result['mean_gain_db']:+.3f} dB, worst clip {result['worst_clip_db']:+.3f}, "
                f"worst frame {result['worst_frame_db']:+.3f}, worst 10 % {result['worst10_db']:+.3f}  ships: {result['ships']}",
                flush=True,
            )
            for name, clip_result in result["per_clip"].items():
                g = clip_result["gain"]
                extra = ""
                if "cnn_baseline" in clip_result["metrics"]:
                    m = clip_result["metrics"]
                    extra = f"  cnn {m['cnn_baseline']['psnr_y'] - m['bicubic']['psnr_y']:+.3f}"
                print(f"    {name:22s} {g['mean']:+.3f} (worst {g['worst']:+.3f}, worst 10 % {g['worst10']:+.3f}){extra}")
    sizes = {name: list(clip.shape) for name, clip in clips}
    if args.json:
        args.json.write_text(json.dumps({"clips": sizes, "models": models, "results": results}, indent=1))


if __name__ == "__main__":
    main()
