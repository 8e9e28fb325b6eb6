"""Choose a routed model's decision offset on the real videos' training frames.

A routed model (`swiftvr_cli.model.routing`) blends two experts per frame by
alpha = sigmoid(router log-odds - offset). A wrong route costs more one way than the
other (the specialist on a plain downscale loses more than the base on compressed
input gains back), so the offset is not zero. This script measures, on windows of the
real videos' *training* frames (never their held-out tails, which
`benchmarks/eval_embedded.py` reports), each expert's per-frame PSNR-Y under the four SR
evaluation degradations, scores the frames with the router, and estimates each row's gain
over bicubic for a range of offsets, taking a blended frame's PSNR as the experts'
interpolated by its alpha (the weights are interpolated, not the outputs: an estimate).
It prints the costs of a wrong route, the estimated rows per offset and the offset with
the best mean over the four rows.

    .venv/bin/python benchmarks/route_offset.py --base weights/swiftvr-tiny.json \
        --specialist runs/spec/best.json --routed runs/route/best.json
"""

from __future__ import annotations

import argparse
import json
import math
import statistics

import torch

from swiftvr_cli.degradations import EVAL_DEGRADATIONS
from swiftvr_cli.evaluation import restore_with_baselines
from swiftvr_cli.metrics import psnr_per_frame
from swiftvr_cli.model.loading import load_model
from swiftvr_cli.model.routing import LEVELS
from swiftvr_cli.pipeline.inmemory import restore_tensor
from swiftvr_cli.train.data import FrameStore, VideoSource, centre_crop, make_split

DATA_DIR = "../shared/data"
PRESETS = ("x4-area", "x4-clean", "x4", "x2")
PLAIN = ("x4-area", "x4-clean")  # the base expert's kind of input; the rest is the specialist's
WINDOW = 8


def training_windows(data_dir: str) -> list[tuple[str, torch.Tensor]]:
    """Three windows of WINDOW frames from each real video's training part, centre-cropped
    as the evaluation crops its held-out frames."""
    train, _ = make_split(data_dir)
    store = FrameStore()
    windows = []
    for source in train:
        if not isinstance(source, VideoSource) or source.num_frames < 3 * WINDOW:
            continue
        frames = store.video(source.path)[source.start : source.stop]
        n = len(frames)
        for start in (n // 6, n // 2, 5 * n // 6 - WINDOW):
            windows.append((source.name, centre_crop(frames[start : start + WINDOW], source)))
    return windows


def measure(base, specialist, routed, windows) -> list[dict]:
    """Per window and degradation: each expert's and bicubic's PSNR-Y per frame, and the
    router's log-odds for each degraded input frame."""
    router = routed.reae.detail.router
    rows = []
    for name, clip in windows:
        for preset in PRESETS:
            clean, lq, outputs = restore_with_baselines(base, clip, preset, WINDOW)
            theirs = restore_tensor(specialist, lq, EVAL_DEGRADATIONS[preset].scale, WINDOW)  # the same input frames
            row = {"video": name, "preset": preset}
            row["base"] = psnr_per_frame(outputs["ours"], clean, y_only=True)
            row["specialist"] = psnr_per_frame(theirs, clean, y_only=True)
            row["bicubic"] = psnr_per_frame(outputs["bicubic"], clean, y_only=True)
            with torch.no_grad():
                row["log_odds"] = router.logit((lq * 255).round() / 255).tolist()
            rows.append(row)
    return rows


def estimate(rows: list[dict], offset: float) -> dict[str, float]:
    """Each degradation's estimated mean gain over bicubic (mean over videos) at `offset`."""
    out = {}
    for preset in PRESETS:
        per_video: dict[str, list[float]] = {}
        for row in (r for r in rows if r["preset"] == preset):
            for b, s, bicubic, z in zip(row["base"], row["specialist"], row["bicubic"], row["log_odds"]):
                alpha = round(LEVELS / (1 + math.exp(offset - z))) / LEVELS
                per_video.setdefault(row["video"], []).append(b + alpha * (s - b) - bicubic)
        out[preset] = statistics.fmean(statistics.fmean(v) for v in per_video.values())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the base expert's weights (json)")
    parser.add_argument("--specialist", required=True, help="the specialist's weights (json)")
    parser.add_argument("--routed", required=True, help="the routed model whose router scores the frames (json)")
    parser.add_argument("--data-dir", default=DATA_DIR)
    parser.add_argument("--offsets", default="0,0.5,1,1.5,2,2.5,3,3.5,4,5")
    parser.add_argument("--json", help="write the measurements and estimates here")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = measure(load_model(args.base), load_model(args.specialist), load_model(args.routed), training_windows(args.data_dir))
    plain = [b - s for r in rows if r["preset"] in PLAIN for b, s in zip(r["base"], r["specialist"])]
    coded = [s - b for r in rows if r["preset"] not in PLAIN for b, s in zip(r["base"], r["specialist"])]
    costs = {"specialist_on_plain_db": statistics.fmean(plain), "base_on_compressed_db": statistics.fmean(coded)}
    print(f"a wrong route costs {costs['specialist_on_plain_db']:.3f} dB (specialist on a plain downscale) "
          f"and {costs['base_on_compressed_db']:.3f} dB (base on compressed input)")  # fmt: skip
    estimates = {}
    for offset in (float(v) for v in args.offsets.split(",")):
        estimates[offset] = estimate(rows, offset)
        rows_text = " ".join(f"{k} {v:+.3f}" for k, v in estimates[offset].items())
        print(f"offset {offset:4.1f}: {rows_text}  mean {statistics.fmean(estimates[offset].values()):+.4f}")
    best = max(estimates, key=lambda o: statistics.fmean(estimates[o].values()))
    print(f"best offset on the training frames: {best}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"costs": costs, "estimates": {str(k): v for k, v in estimates.items()}, "best_offset": best, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
