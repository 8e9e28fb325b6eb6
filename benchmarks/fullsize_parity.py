"""Full-size parity in bfloat16 on the CPU: swiftvr vs the official release on one checkpoint.

Both run the full-size random checkpoint (benchmarks/fullsize_checkpoint.py, 5,040,734,076
parameters, official layout) in bfloat16 on a 13-frame 48x32 clip of real frames, x4,
--chunk 8 (a FIRST chunk of 12 frames and a LAST one of 1). Every step is its own process,
one after the other (never two full-size processes at once), with its peak RSS
(`ru_maxrss`) and wall time:

1. `reference`: the release's `restore_video` -> PNG (the reference venv);
2. `ours`: `swiftvr restore ... --dtype bfloat16 --no-offload` -> PNG;
   the two PNG folders compared (max / mean abs difference, PSNR);
3. `reference-dump`: the release's stages chunk by chunk, their inputs and outputs saved;
4. `stages` in bfloat16: swiftvr's encoder, DiT, decoder and blocks fed the release's
   inputs, so each stage's own difference shows;
5. `stages` in float32 with `--offload` (the blocks streamed and cast one at a time, so
   float32 fits): the yardstick. Float32 swiftvr matches the float32 release to ~1e-6
   (results/parity_cpu_float32.md), so its distance to each bfloat16 run is that run's
   bfloat16 rounding; the two bfloat16 runs should be about as far from each other as
   two independent roundings of the same values are.

The steps are those of benchmarks/reference_parity.py (setup of the reference venv in its
docstring); this script only chains them at full size and writes the JSON and markdown:

    PYTHONPATH=src nice .venv/bin/python benchmarks/fullsize_parity.py \
        --weights /work/fullsize/ckpt --ref-python /work/ref/venv/bin/python \
        --ref-repo /work/ref/SwiftVR --json benchmarks/results/parity_fullsize_bf16.json \
        --markdown benchmarks/results/parity_fullsize_bf16.md

A benchmark, not a test: each process holds ~10 GB of weights.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reference_parity as rp  # noqa: E402
from fullsize_cpu import machine_line, run_child  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
FRAMES, WIDTH, HEIGHT = 13, 48, 32


def _ref_commit(ref_repo: Path, given: str | None) -> str:
    if given:
        return given
    try:
        return subprocess.run(["git", "-C", str(ref_repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (pass --ref-commit)"


def _step(report: dict, name: str, command: list[str], env: dict) -> str:
    peak, seconds, stdout, _ = run_child(command, env)
    report["processes"][name] = {"peak_rss_gib": round(peak / 2**30, 3), "seconds": round(seconds, 1)}
    print(f"{name}: peak RSS {peak / 2**30:.2f} GiB, {seconds:.0f} s", flush=True)
    return stdout


def floor_quantise(frames01) -> np.ndarray:
    """swiftvr's PNG writer: floor(255 v) in float32."""
    import torch

    return torch.floor((frames01.float() * 255).clamp(0, 255)).to(torch.uint8).permute(0, 2, 3, 1).numpy()


def _end_to_end(saved: Path):
    """swiftvr's restored frames of every chunk from a `stages --save` file, in video order."""
    import torch
    from safetensors.torch import load_file

    tensors = load_file(str(saved))
    keys = sorted((k for k in tensors if k.endswith(".end_to_end")), key=lambda k: int(k[5:].split("_")[0]))
    return torch.cat([tensors[k][0] for k in keys]), tensors


def yardstick(work: Path, ref_png: np.ndarray, ours_png: np.ndarray) -> dict:
    """Each bfloat16 run's distance to float32 swiftvr, in uint8 levels and per stage."""
    import torch
    from safetensors.torch import load_file

    f32_frames, f32 = _end_to_end(work / "stages_float32.safetensors")
    _, bf16 = _end_to_end(work / "stages_bfloat16.safetensors")
    f32_png = floor_quantise(f32_frames)
    dumped = torch.cat([load_file(str(f))["decoded"][0] for _, f in rp._dump_chunks(work / "dump")])
    stats = {k: rp.tensor_stats(bf16[k], f32[k]) for k in f32}
    return {
        "png_levels": {
            "release_bf16_vs_float32": rp.frame_stats(ref_png, f32_png),
            "swiftvr_bf16_vs_float32": rp.frame_stats(ours_png, f32_png),
        },
        # The release writes (v * 255) rounded to bf16, then truncated; ours floor(255 v) in float32.
        # On bf16 values v the two agree, so the output step adds nothing; checked here.
        "output_rounding": {
            "release_png_vs_floor_of_its_own_dump": rp.frame_stats(ref_png, floor_quantise(dumped)),
        },
        "float_swiftvr_bf16_vs_float32": stats,
    }


def markdown(report: dict) -> str:
    p, c = report["processes"], report["png_compare"]
    y = report["yardstick"]["png_levels"]
    lines = [
        "# Full-size parity: swiftvr vs the official release (CPU, bfloat16)",
        "",
        f"Machine: {report['machine']}. Release: H-oliday/SwiftVR {report['release_commit']}.",
        f"Checkpoint: {report['weights']} (random weights, official layout, 5,040,734,076 parameters).",
        f"Input: {report['input']}; x4, --chunk 8, overlap 0; bfloat16 weights and compute.",
        "",
        "| process | peak RSS (GiB) | wall (s) |",
        "| --- | ---: | ---: |",
        *[f"| {name} | {v['peak_rss_gib']} | {v['seconds']} |" for name, v in p.items()],
        "",
        "## Output frames (uint8 PNG), 0..255 levels",
        "",
        "| pair | max abs | mean abs | PSNR (dB) | values differing |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    rows = [("release bf16 vs swiftvr bf16", c), ("release bf16 vs swiftvr float32", y["release_bf16_vs_float32"]),
            ("swiftvr bf16 vs swiftvr float32", y["swiftvr_bf16_vs_float32"])]
    rows += [(k.replace("_", " "), v) for k, v in report["yardstick"]["output_rounding"].items()]
    lines += [f"| {name} | {s['max_abs']} | {s['mean_abs']:.3f} | {s['psnr_db']:.2f} | {s['fraction_differing']:.3f} |" for name, s in rows]
    lines += ["", "## Stage by stage",
              "",
              "Each of swiftvr's stages fed the release's own input for it (`end_to_end`: the whole path from the PNG frames);",
              "rel_rms = RMS of the difference / RMS of the second tensor. Float values: latents, frames in [0, 1].",
              "",
              "| chunk | stage | swiftvr bf16 vs release bf16: max abs | rel_rms | swiftvr float32 vs release bf16: max abs | rel_rms"
              " | swiftvr bf16 vs swiftvr float32: max abs | rel_rms |",
              "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    ours_vs_f32 = report["yardstick"]["float_swiftvr_bf16_vs_float32"]
    saved_as = {"encoder": "latents", "dit": "restored", "decoder": "decoded", "end_to_end": "end_to_end"}
    for bf, f32 in zip(report["stages_bfloat16"]["chunks"], report["stages_float32"]["chunks"]):
        for stage, key in saved_as.items():
            a, b, c = bf[stage], f32[stage], ours_vs_f32[f"{bf['chunk']}.{key}"]
            lines.append(f"| {bf['chunk']} | {stage} | {a['max_abs']:.4g} | {a['rel_rms']:.4f} | {b['max_abs']:.4g} | {b['rel_rms']:.4f}"
                         f" | {c['max_abs']:.4g} | {c['rel_rms']:.4f} |")
    blocks_bf = report["stages_bfloat16"]["blocks_first_chunk_rel_rms"]
    blocks_32 = report["stages_float32"]["blocks_first_chunk_rel_rms"]
    lines += ["", "DiT block outputs of the first chunk, rel_rms against the release bf16 (every 5th block and the last):", "",
              "| block | swiftvr bf16 | swiftvr float32 |", "| ---: | ---: | ---: |"]
    lines += [f"| {i} | {blocks_bf[i]:.4f} | {blocks_32[i]:.4f} |" for i in sorted({*range(0, len(blocks_bf), 5), len(blocks_bf) - 1})]
    lines += ["", "What explains the differences: benchmarks/README.md, \"Full-size parity with the release\".",
              "Reproduce: `benchmarks/fullsize_parity.py` (command in its docstring)."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", type=Path, required=True)
    parser.add_argument("--ref-python", type=Path, default=Path("/work/ref/venv/bin/python"))
    parser.add_argument("--ref-repo", type=Path, default=rp.DEFAULT_REF_REPO)
    parser.add_argument("--ref-commit", default=None, help="the release's commit, when --ref-repo is not a git checkout")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "swiftvr-parity-fullsize")
    parser.add_argument("--json", type=Path, required=True)
    parser.add_argument("--markdown", type=Path, default=None)
    parser.add_argument("--markdown-only", action="store_true", help="only rewrite --markdown from an existing --json")
    args = parser.parse_args()
    if args.markdown_only:
        args.markdown.write_text(markdown(json.loads(args.json.read_text())))
        return
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    work, script = args.workdir, str(Path(rp.__file__).resolve())
    work.mkdir(parents=True, exist_ok=True)
    rp.make_input(rp.DEFAULT_VIDEO, work / "input", FRAMES, rp.INPUT_START, WIDTH, HEIGHT)
    report: dict = {
        "machine": machine_line(), "release_commit": _ref_commit(args.ref_repo, args.ref_commit), "weights": str(args.weights),
        "input": f"{FRAMES} frames of {rp.DEFAULT_VIDEO.name} from frame {rp.INPUT_START}, resized to {WIDTH}x{HEIGHT}",
        "dtype": "bfloat16", "scale": 4, "chunk": 8, "processes": {},
    }
    run = ["--weights", str(args.weights), "--input", str(work / "input"), "--clip-len", "8", "--upscale", "4"]
    _step(report, "release restore_video (bf16)", [str(args.ref_python), script, "reference", "--ref-repo", str(args.ref_repo), *run,
                                                   "--output", str(work / "reference"), "--dtype", "bfloat16"], env)  # fmt: skip
    ours = rp.ours_command(args.weights, work / "input", work / "ours", 8, 4, 0, "bfloat16") + ["--overwrite", "--quiet"]
    _step(report, "swiftvr restore (bf16)", ours, env)
    _, ref_png = rp.load_pngs(work / "reference")
    _, ours_png = rp.load_pngs(work / "ours")
    report["png_compare"] = rp.frame_stats(ref_png, ours_png)
    report["png_compare"]["mean_signed_release_minus_swiftvr"] = float((ref_png.astype(np.float64) - ours_png).mean())
    print("release vs swiftvr:", json.dumps(report["png_compare"]), flush=True)
    _step(report, "release reference-dump (bf16)", [str(args.ref_python), script, "reference-dump", "--ref-repo", str(args.ref_repo), *run,
                                                    "--output", str(work / "dump"), "--dtype", "bfloat16"], env)  # fmt: skip
    for dtype, extra in (("bfloat16", []), ("float32", ["--offload"])):
        out = work / f"stages_{dtype}"
        _step(report, f"swiftvr stages ({dtype}{', offload' if extra else ''})", [sys.executable, script, "stages", *run, "--dump", str(work / "dump"),
                                                                                  "--dtype", dtype, *extra, "--save", f"{out}.safetensors", "--json", f"{out}.json"], env)  # fmt: skip
        report[f"stages_{dtype}"] = json.loads(Path(f"{out}.json").read_text())
    report["yardstick"] = yardstick(work, ref_png, ours_png)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    if args.markdown is not None:
        args.markdown.write_text(markdown(report))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
