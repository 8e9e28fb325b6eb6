"""Measure an embedded model on the held-out validation clips (numbers for weights/README.md).

For each fixed degradation preset (x4, x2, crf35) and each validation clip: degrade,
restore through the real chunk path (`restore_tensor`), and compare with the plain
baselines (bicubic / lanczos upscale, or the compressed input itself) and, for x4,
the single-frame residual CNN baseline if its weights are given.

    .venv/bin/python benchmarks/eval_embedded.py --weights weights/swiftvr-tiny.json \
        --baseline runs/baseline/baseline.safetensors --json benchmarks/results/embedded_eval.json

Without --weights, each preset is restored with the shipped weights its task uses
(`swiftvr_cli.tasks.preset_weights`), as `swiftvr eval --degrade` does.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import torch

from swiftvr_cli.evaluation import restore_with_baselines
from swiftvr_cli.metrics import evaluate
from swiftvr_cli.model.loading import load_model
from swiftvr_cli.tasks import preset_weights
from swiftvr_cli.train.data import validation_clips
from swiftvr_cli.train.degrade import EVAL_PRESETS

DATA_DIR = "../shared/data"
CLIP_LEN = 13  # frames per validation clip: a FIRST and a LAST chunk with --chunk 8
CHUNK = 8
TASKS = ("x4", "x4-clean", "x2", "crf35")  # also --tasks deblur,denoise,inpaint
METRICS = ("psnr_y", "ssim", "flicker")


def baseline_cnn(path: str | None):
    if not path:
        return None
    from safetensors.torch import load_file

    from swiftvr_cli.train.baseline import ResidualSRCNN

    model = ResidualSRCNN()
    model.load_state_dict(load_file(path))
    return model.eval()


@torch.no_grad()
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default=None)
    parser.add_argument("--baseline", default=None, help="ResidualSRCNN safetensors (x4 comparison)")
    parser.add_argument("--data-dir", default=DATA_DIR)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--dtype", default="float32", choices=("float32", "bfloat16"))
    parser.add_argument("--tasks", default=",".join(TASKS), help="comma-separated presets of swiftvr_cli.train.degrade.EVAL_PRESETS")
    args = parser.parse_args()

    dtype = getattr(torch, args.dtype)
    cnn = baseline_cnn(args.baseline)
    clips = validation_clips(args.data_dir, clip_len=CLIP_LEN)
    rows: dict[str, dict[str, list[dict]]] = {}
    models: dict[str, dict] = {}
    for task in args.tasks.split(","):
        path = args.weights or str(preset_weights(task))
        model = load_model(path, dtype=dtype)
        models[task] = {"weights": Path(path).name, "parameters": sum(p.numel() for p in model.parameters())}
        scale = EVAL_PRESETS[task].scale
        for name, clip in clips:
            clip, lq, outputs = restore_with_baselines(model, clip, task, CHUNK)
            if cnn is not None and scale == 4:
                outputs["cnn_baseline"] = cnn(lq)
            for method, out in outputs.items():
                rows.setdefault(task, {}).setdefault(method, []).append({"clip": name, **evaluate(out, clip)})
    summary = {
        task: {method: {m: statistics.fmean(r[m] for r in per) for m in METRICS} for method, per in methods.items()}
        for task, methods in rows.items()
    }
    print(f"{len(clips)} validation clips x {CLIP_LEN} frames")
    for task, methods in summary.items():
        print(f"\n{task}: {models[task]['weights']} ({models[task]['parameters']:,} parameters)")
        for method, values in methods.items():
            print(f"  {method:13s} " + "  ".join(f"{m} {v:.4f}" if m == "ssim" else f"{m} {v:.2f}" for m, v in values.items()))
    if args.json:
        args.json.write_text(json.dumps({"models": models, "clips": [n for n, _ in clips], "summary": summary, "per_clip": rows}, indent=1))


if __name__ == "__main__":
    main()
