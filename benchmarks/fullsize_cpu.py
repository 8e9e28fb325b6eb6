"""The full-size model on this CPU: peak RSS with and without `--offload`, seconds per chunk,
the same output either way, and the memory planner's prediction next to every measured peak.

Needs a full-size checkpoint (benchmarks/fullsize_checkpoint.py, ~10 GB). Every run is its
own process, one after the other (never two full-size processes at once):

* `restore` runs: `swiftvr restore IN OUT --weights W --device cpu --dtype bfloat16 --chunk 8
  --scale 4 [--offload | --no-offload]` on a 13-frame PNG clip at each --sizes entry; the
  peak RSS is the child's `ru_maxrss` (os.wait4), the prediction `swiftvr plan`'s figure
  for the same settings, and the outputs with and without offload are compared.
* `timing` runs (--timing-sizes): the model alone on a 25-frame clip (FIRST, MIDDLE and
  LAST chunks), seconds per chunk, the prompt's K/V once, with and without offload.

    PYTHONPATH=src nice .venv/bin/python benchmarks/fullsize_cpu.py --weights /work/fullsize/ckpt \
        --json benchmarks/results/cpu_fullsize_bf16.json

A benchmark, not a test (each process maps or streams 10 GB of weights).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-c", "from swiftvr_cli.cli import app; app()"]
FRAMES = 13  # 4k+1: with --chunk 8 a FIRST chunk (12 frames) and a LAST one (1 frame)


def machine_line() -> str:
    import torch

    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), platform.processor())
    mem = next(int(line.split()[1]) // 1024**2 for line in open("/proc/meminfo") if line.startswith("MemTotal"))
    return f"{os.cpu_count()}-core {platform.machine()} ({cpu}), {mem} GiB RAM, torch {torch.__version__}, {time.strftime('%Y-%m-%d')}"


def make_clip(folder: Path, width: int, height: int, frames: int) -> Path:
    """A moving pattern (smooth plus detail) as PNG frames, sides multiples of 8."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    for t in range(frames):
        r = 128 + 100 * np.sin((x + 2 * t) / 5.0) * np.cos(y / 7.0)
        g = 128 + 90 * np.cos((x - y + 3 * t) / 9.0)
        b = 255 * ((x // 4 + y // 4 + t) % 2)
        Image.fromarray(np.stack([r, g, b], -1).clip(0, 255).astype(np.uint8)).save(folder / f"{t:05d}.png")
    return folder


def run_child(command: list[str], env: dict) -> tuple[int, float, str, str]:
    """Run one process; (its own peak RSS in bytes, seconds, stdout, stderr). Raises on failure."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        pid = os.posix_spawn(command[0], command, env, file_actions=[(os.POSIX_SPAWN_DUP2, out.fileno(), 1), (os.POSIX_SPAWN_DUP2, err.fileno(), 2)])
        _, status, usage = os.wait4(pid, 0)
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise RuntimeError(f"{' '.join(command[3:])} failed ({code}): {stderr.strip()[-2000:]}")
    return usage.ru_maxrss * 1024, seconds, stdout, stderr


def planned_peak(weights: str, width: int, height: int, offload: bool, env: dict) -> float:
    """`swiftvr plan`'s predicted peak (GiB) for the restore runs' settings."""
    _, _, out, _ = run_child(
        CLI + ["plan", "--weights", weights, "--res", f"{4 * width}x{4 * height}", "--chunk", "8", "--device", "cpu",
               "--dtype", "bfloat16", "--memory", "1000G", "--frames", str(FRAMES), "--json"], env,
    )  # fmt: skip
    flags = "--chunk 8 --reae-group 1" + (" --offload" if offload else "")
    return next(r["peak_gib"] for r in json.loads(out)["settings"] if r["settings"] == flags)


def read_pngs(folder: Path) -> np.ndarray:
    from PIL import Image

    return np.stack([np.asarray(Image.open(p)) for p in sorted(folder.glob("*.png"))]).astype(np.float64)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(((a - b) ** 2).mean())
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


TIMING = r"""
import json, sys, time, torch
from swiftvr_cli.model.loading import load_official
from swiftvr_cli.model.swiftvr import ChunkKind, RestoreState
weights, width, height, offload, out_path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1", sys.argv[5]
start = time.perf_counter()
model = load_official(weights, dtype=torch.bfloat16, offload=offload)
result = {"load_s": time.perf_counter() - start, "chunks": []}
gen = torch.Generator().manual_seed(0)
with torch.inference_mode():
    start = time.perf_counter()
    model.context_kv()
    result["prompt_kv_s"] = time.perf_counter() - start
    state, outs = RestoreState(), []
    for kind, frames in ((ChunkKind.FIRST, 12), (ChunkKind.MIDDLE, 8), (ChunkKind.LAST, 5)):
        x = torch.rand(frames, 3, height, width, generator=gen) * 255
        start = time.perf_counter()
        out, state = model.restore_chunk(x, kind, state, size=(4 * height, 4 * width), clip_len=8)
        result["chunks"].append({"kind": kind.value, "frames_in": frames, "seconds": time.perf_counter() - start})
        outs.append(out.float())
torch.save(torch.cat(outs), out_path)
print(json.dumps(result))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", required=True)
    parser.add_argument("--sizes", default="48x32,64x48,96x64", help="input WxH of the restore runs (x4)")
    parser.add_argument("--timing-sizes", default="48x32,96x64", help="input WxH of the model-only timing runs")
    parser.add_argument("--json", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "swiftvr-fullsize")
    parser.add_argument("--repredict", action="store_true", help="only redo the predictions of the restore rows already in --json")
    parser.add_argument("--merge", action="store_true", help="keep the rows already in --json and add these runs' rows")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    if args.repredict:
        report = json.loads(args.json.read_text())
        for row in report["restore"]:
            width, height = map(int, row["input"].split("x"))
            row["predicted_gib"] = planned_peak(args.weights, width, height, row["offload"], env)
            row["error_pct"] = round(100 * (row["predicted_gib"] - row["peak_rss_gib"]) / row["peak_rss_gib"], 1)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        return
    report = {"machine": machine_line(), "weights": args.weights, "dtype": "bfloat16", "scale": 4, "chunk": 8, "restore": [], "timing": []}
    if args.merge and args.json.exists():
        old = json.loads(args.json.read_text())
        report["restore"], report["timing"] = old["restore"], old["timing"]

    def save() -> None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")

    for size in filter(None, args.sizes.split(",")):
        width, height = map(int, size.split("x"))
        clip = make_clip(args.workdir / f"in_{size}", width, height, FRAMES)
        outputs = {}
        for offload in (False, True):
            out = args.workdir / f"out_{size}_{'offload' if offload else 'resident'}"
            command = CLI + ["restore", str(clip), str(out), "--weights", args.weights, "--device", "cpu", "--dtype", "bfloat16",
                             "--chunk", "8", "--scale", "4", "--overwrite", "--quiet", "--json", "--offload" if offload else "--no-offload"]  # fmt: skip
            peak, seconds, stdout, _ = run_child(command, env)
            predicted = planned_peak(args.weights, width, height, offload, env)
            row = {"input": size, "offload": offload, "frames": FRAMES, "peak_rss_gib": round(peak / 2**30, 3),
                   "predicted_gib": predicted, "error_pct": round(100 * (predicted - peak / 2**30) / (peak / 2**30), 1),
                   "seconds": round(seconds, 1), "summary": json.loads(stdout.strip().splitlines()[-1])}  # fmt: skip
            report["restore"].append(row)
            outputs[offload] = read_pngs(out)
            print(json.dumps({k: v for k, v in row.items() if k != "summary"}), flush=True)
            save()
        diff = np.abs(outputs[True] - outputs[False])
        report["restore"][-1]["vs_resident"] = {"max_abs": float(diff.max()), "mean_abs": float(diff.mean()), "psnr_db": psnr(outputs[True], outputs[False])}
        save()

    for size in filter(None, args.timing_sizes.split(",")):
        width, height = map(int, size.split("x"))
        tensors = {}
        for offload in (False, True):
            path = args.workdir / f"timing_{size}_{int(offload)}.pt"
            peak, seconds, stdout, _ = run_child([sys.executable, "-c", TIMING, args.weights, str(width), str(height), str(int(offload)), str(path)], env)
            row = {"input": size, "offload": offload, "peak_rss_gib": round(peak / 2**30, 3), "process_s": round(seconds, 1), **json.loads(stdout)}
            report["timing"].append(row)
            import torch

            tensors[offload] = torch.load(path)
            print(json.dumps(row), flush=True)
            save()
        diff = (tensors[True] - tensors[False]).abs()
        report["timing"][-1]["vs_resident_max_abs"] = float(diff.max())
        save()
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
