"""Parity check: swiftvr vs the official SwiftVR release on a tiny random checkpoint.

The official code is NOT a dependency of swiftvr and is never imported by the package.
This script only drives it, from a separate checkout and a separate virtual
environment, to produce reference frames that swiftvr must reproduce (docs/numerics.md, the last section).

Setting up the reference (once, outside this repository)
---------------------------------------------------------
    git clone <official SwiftVR repository> /work/ref/SwiftVR
        (only swiftvr/, script/, setup.py and requirements.txt are needed; with a
         partial mirror: git checkout HEAD -- swiftvr script setup.py requirements.txt)
    python3 -m venv /work/ref/venv
    /work/ref/venv/bin/pip install torch==2.13.0          # first, CPU build, pinned
    /work/ref/venv/bin/pip install torch==2.13.0 diffusers==0.36.0 transformers \\
        accelerate safetensors einops numpy pillow imageio imageio-ffmpeg av
    /work/ref/venv/bin/pip install --no-deps decord==0.6.0  # the py3-none wheel imports
                                                            # fine on Python 3.11
    (If decord cannot be installed, put a stand-in package named `decord` on
     PYTHONPATH outside this repository: the release imports it at module import but
     never uses it for PNG-folder input.)

Tested with: torch 2.13.0+cpu, diffusers 0.36.0, transformers 5.24, accelerate 1.15,
decord 0.6.0, Python 3.11.

Running
-------
    PY=.venv/bin/python; REF_PY=/work/ref/venv/bin/python; W=/work/ref/out
    $PY benchmarks/reference_parity.py make-input --output $W/input
    $PY benchmarks/reference_parity.py tiny-checkpoint --output $W/weights
    $REF_PY benchmarks/reference_parity.py reference --ref-repo /work/ref/SwiftVR \\
        --weights $W/weights --input $W/input --output $W/reference --clip-len 8 --upscale 4
    $PY benchmarks/reference_parity.py ours --weights $W/weights --input $W/input \\
        --output $W/ours
    $PY benchmarks/reference_parity.py compare $W/reference $W/ours
or all of it at once (the reference step is run with --ref-python):
    $PY benchmarks/reference_parity.py all --workdir $W --ref-repo /work/ref/SwiftVR \\
        --ref-python $REF_PY
`reference-dump` (run with the reference's python) saves per-chunk intermediate tensors
(encoder latents, DiT input/prediction, restored latents, decoded frames) and, for the
first chunk, the conditioning and every block's output, for debugging. `stages` (the
project's python) feeds those inputs to swiftvr's own encoder, DiT, blocks and decoder and
prints each stage's difference. `--dtype bfloat16` runs any step in bf16;
benchmarks/fullsize_parity.py chains the steps on the full-size checkpoint.

Three things the harness does on top of calling the release as-is:
- It loads the transformer in the run's dtype and frees the unfused q/k/v copies once
  fused (`_load_reference_pipeline`): the same values, half the memory at full size.
- The release builds its ReAE decoder with widths 512/256/128 no matter what the
  checkpoint holds; for a tiny checkpoint with other widths the harness builds the
  release's own ReAE class with the widths read from `decoder.1/8/14.weight`.
- The release calls torch.set_float32_matmul_precision("high"); the harness sets it
  back to "highest" so the reference is plain float32 on every CPU.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"
DEFAULT_VIDEO = SHARED / "data" / "videos" / "bigbuckbunny_480p.mp4"
DEFAULT_REF_REPO = Path("/work/ref/SwiftVR")
DEFAULT_WORKDIR = Path("/tmp/swiftvr-parity")

# Input clip: 25 = 4*6+1 frames, so with clip_len 8 the run has a FIRST (12 frames),
# a MIDDLE (8) and a LAST chunk with b = 1 (5 frames, one padding latent).
INPUT_FRAMES = 25
INPUT_START = 30  # skip the opening frames of the clip
# Sides must be multiples of 8. 80x48 -> 10x6 DiT tokens at upscale 4, so the
# window-4 shifted layers really use different window starts along the width.
INPUT_WIDTH, INPUT_HEIGHT = 80, 48
CLIP_LEN = 8
UPSCALE = 4
DIT_OVERLAP = 0
THREADS = 2

OFFICIAL_DECODER_WIDTHS = (512, 256, 128)
DTYPES = ("float32", "bfloat16")
MAX_ABS_DIFF = 1  # uint8 levels (docs/numerics.md, last section)


# --------------------------------------------------------------------------- #
# PNG folders                                                                 #
# --------------------------------------------------------------------------- #


def _numeric_key(p: Path):
    return (0, int(p.stem), "") if p.stem.isdigit() else (1, 0, p.name)


def list_pngs(folder: Path) -> list[Path]:
    return sorted((p for p in Path(folder).iterdir() if p.suffix.lower() == ".png"), key=_numeric_key)


def load_pngs(folder: Path) -> tuple[list[str], np.ndarray]:
    """Frames of a PNG folder ordered by numeric stem, as ``[T, H, W, 3]`` uint8."""
    from PIL import Image

    paths = list_pngs(folder)
    if not paths:
        raise SystemExit(f"no PNG files in {folder}")
    frames = [np.asarray(Image.open(p).convert("RGB"), dtype=np.uint8) for p in paths]
    return [p.name for p in paths], np.stack(frames)


# --------------------------------------------------------------------------- #
# Steps                                                                       #
# --------------------------------------------------------------------------- #


def make_input(video: Path, output: Path, frames: int, start: int, width: int, height: int) -> None:
    """Decode ``frames`` frames from ``video`` (from ``start``), resize to width x height
    and write them as 00000.png, 00001.png, ..."""
    import av
    from PIL import Image

    if width % 8 or height % 8:
        raise SystemExit(f"sides must be multiples of 8, got {width}x{height}")
    if frames % 4 != 1:
        raise SystemExit(f"frame count must be 4k+1, got {frames}")
    output.mkdir(parents=True, exist_ok=True)
    for old in list_pngs(output):
        old.unlink()
    written = 0
    with av.open(str(video)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i < start:
                continue
            rgb = frame.to_ndarray(format="rgb24")  # [H, W, 3] uint8
            img = Image.fromarray(rgb).resize((width, height), Image.BICUBIC)
            img.save(output / f"{written:05d}.png")
            written += 1
            if written == frames:
                break
    if written != frames:
        raise SystemExit(f"{video} has only {written} frames after frame {start}")
    print(f"wrote {written} frames of {width}x{height} to {output}")


def tiny_checkpoint(output: Path, seed: int, sharded: bool) -> None:
    try:
        from swiftvr_cli.testing import write_tiny_official_checkpoint
    except ImportError:  # run from a checkout without installing the package
        sys.path.insert(0, str(REPO_ROOT / "src"))
        from swiftvr_cli.testing import write_tiny_official_checkpoint
    write_tiny_official_checkpoint(output, seed=seed, sharded=sharded)
    print(f"wrote tiny checkpoint (seed {seed}, sharded={sharded}) to {output}")


def _decoder_widths(reae_file: Path) -> tuple[int, int, int]:
    from safetensors import safe_open

    with safe_open(str(reae_file), framework="pt") as f:
        return tuple(f.get_slice(f"decoder.{n}.weight").get_shape()[0] for n in (1, 8, 14))


class _DecoderWidths:
    """Stand-in for the release's integer ``width_mult``: the release computes its
    decoder widths as 256*m, 128*m and 64*m, so answering those three products
    builds the release's own ReAE class with arbitrary widths."""

    def __init__(self, n0: int, n1: int, n2: int):
        self._widths = {256: n0, 128: n1, 64: n2}

    def __rmul__(self, base: int) -> int:
        return self._widths[base]


def _drop_unfused_projections(transformer) -> None:
    """Fuse every attention's projections now and free the separate weights the fused
    path never reads again.

    The release's `prepare_for_inference` concatenates q/k/v (k/v for cross-attention)
    into new tensors and keeps the originals: at full size that is 2.8 GB of bf16 weights
    held twice. The fused values are the same concatenation; only the unused copies go.
    """
    import torch

    from swiftvr.models.transformer import WanAttention

    for module in transformer.modules():
        if not isinstance(module, WanAttention):
            continue
        module.fuse_projections()
        unused = ("to_k", "to_v") if module.is_cross_attention else ("to_q", "to_k", "to_v")
        for name in unused:
            linear = getattr(module, name)
            linear.weight = torch.nn.Parameter(linear.weight.new_empty(0), requires_grad=False)
            linear.bias = torch.nn.Parameter(linear.bias.new_empty(0), requires_grad=False)


def _load_reference_pipeline(ref_repo: Path, weights: Path, dtype: str = "float32"):
    """The release's SwiftVRPipeline on CPU in ``dtype``, loaded from ``weights``.

    The transformer is read in ``dtype`` directly: the release's `from_pretrained` passes
    no dtype, so diffusers would first build it in float32 (20 GB at full size) before
    `pipe.to` casts it. Reading in the target dtype gives the same values after that cast
    (diffusers keeps `_keep_in_fp32_modules` in float32 while loading; `pipe.to` then
    casts them like every other parameter, as it does in the release's own path).
    """
    import torch

    sys.path.insert(0, str(ref_repo))
    from safetensors.torch import load_file
    from swiftvr import SwiftVRPipeline
    from swiftvr.models import ReAE, WanTransformer3DModel

    widths = _decoder_widths(weights / "reae.safetensors")
    if widths == OFFICIAL_DECODER_WIDTHS:
        reae = ReAE(str(weights / "reae.safetensors"))
    else:
        reae = ReAE(None, width_mult=_DecoderWidths(*widths))
        reae.load_state_dict(load_file(str(weights / "reae.safetensors")), strict=True)
    transformer = WanTransformer3DModel.from_pretrained(str(weights), subfolder="transformer",
                                                        torch_dtype=getattr(torch, dtype))
    prompt_emb = load_file(str(weights / "prompt_embedding.safetensors"))["prompt_emb"][0]
    pipe = SwiftVRPipeline(reae, transformer, prompt_emb)
    _drop_unfused_projections(transformer)
    pipe.to("cpu", dtype=dtype)
    torch.set_float32_matmul_precision("highest")
    return pipe


def run_reference(ref_repo: Path, weights: Path, input_dir: Path, output: Path,
                  clip_len: int, upscale: int, overlap: int, threads: int, dtype: str = "float32") -> None:
    import torch

    torch.set_num_threads(threads)
    pipe = _load_reference_pipeline(ref_repo, weights, dtype)
    if output.exists():
        shutil.rmtree(output)
    print(f"reference: torch {torch.__version__}, cpu {dtype}, weights {weights}, "
          f"clip_len {clip_len}, upscale {upscale}, dit_overlap {overlap}")
    stats = pipe.restore_video(str(input_dir), str(output), upscale=upscale, clip_len=clip_len,
                               dit_overlap=overlap, png_save=True, verbose=True)
    print(f"reference: {stats['frames']} frames in {stats['seconds']:.2f}s -> {stats['output']}")


def run_reference_dump(ref_repo: Path, weights: Path, input_dir: Path, output: Path,
                       clip_len: int, upscale: int, threads: int, dtype: str = "float32") -> None:
    """Drive the release's own stages chunk by chunk (overlap 0) and save what goes in
    and out of each: the same computation restore_video does, without its threads."""
    import torch
    from safetensors.torch import load_file, save_file

    torch.set_num_threads(threads)
    pipe = _load_reference_pipeline(ref_repo, weights, dtype)
    compute = getattr(torch, dtype)
    from swiftvr import io as ref_io
    from swiftvr.streaming.chunk import ChunkType
    from swiftvr.streaming import dit as ref_dit

    output.mkdir(parents=True, exist_ok=True)
    raw_total, lq_h, lq_w, _ = ref_io.get_video_info(input_dir)
    total = 4 * ((raw_total - 1) // 4) + 1
    out_h, out_w, pad_h, pad_w = pipe._target_size(lq_h, lq_w, None, upscale)
    n_lat = clip_len // 4
    tae, dit = pipe.tae_stream, pipe.dit_stream
    tae.reset()
    dit.reset()
    dit.overlap = 0
    prompt = pipe.prompt_emb.to(compute)

    files = []
    prev_latents = None
    with torch.inference_mode():
        for spec, rgb in ref_io.iter_video_clips_fixed_scheme(input_dir, clip_len, total, lq_h, lq_w):
            clip = ref_io.preprocess_clip_uint8(rgb, out_h, out_w, pipe.upscale_mode, pad_h, pad_w,
                                                compute)
            z = tae.encode_chunk_fixed(clip, spec)  # [1, L, C, h, w]
            g_off = dit._g_off
            zb = z.permute(0, 2, 1, 3, 4).contiguous()  # [1, C, L, h, w]
            if spec.ctype == ChunkType.LAST:
                restored = dit.denoise_last_chunk(z, spec, prompt, prev_latents, n_lat,
                                                  torch.device("cpu"), compute)
                pad = (n_lat + 1) - (spec.b + 1)
                t_off = max(0, g_off - pad)
                # What denoise_last_chunk feeds the DiT (recorded here for the dump).
                if pad == 0:
                    dit_in = zb
                elif prev_latents is None:
                    dit_in = torch.cat([torch.zeros_like(zb[:, :, :1]).expand(-1, -1, pad, -1, -1), zb], 2)
                else:
                    dit_in = torch.cat([prev_latents[:, :, -pad:], zb], 2)
            else:
                restored = dit.denoise(zb, prompt).permute(0, 2, 1, 3, 4).contiguous()
                prev_latents = zb[:, :, -n_lat:].clone()
                pad, t_off, dit_in = 0, g_off, zb
            frames = tae.decode_chunk_fixed(restored, spec)
            frames = ref_io.crop_spatial_padding_ntchw(frames, pad_h, pad_w)
            tensors = {
                "input": clip.contiguous(),
                "latents": z.contiguous(),
                "dit_in": dit_in.contiguous(),
                "restored": restored.contiguous(),
                "decoded": frames.contiguous(),
                "decoded_uint8": torch.from_numpy(ref_io.ntchw_to_uint8_frames(frames)),
                "frame_start": torch.tensor([spec.frame_start]),
                "t_offset": torch.tensor([t_off]),
                "pad_latents": torch.tensor([pad]),
            }
            name = f"chunk{spec.clip_idx}_{spec.ctype.value}.safetensors"
            save_file(tensors, str(output / name))
            files.append(name)
            print(f"dump: {name}: frames {spec.frame_start}..{spec.frame_start + spec.frame_count - 1}"
                  f" latents {tuple(z.shape)} t_offset {t_off} pad {pad} -> {frames.shape[1]} frames")

    # The first chunk's DiT, once more with every intermediate kept.
    z0 = load_file(str(output / files[0]))["latents"].permute(0, 2, 1, 3, 4).contiguous()
    temb, tproj, ctx = ref_dit._precompute_cond(pipe.transformer, 1, prompt,
                                                torch.full((1,), ref_dit.INFERENCE_TIMESTEP,
                                                           dtype=torch.float32))
    pt, ph, pw = pipe.transformer.config.patch_size
    grid = (z0.shape[2] // pt, z0.shape[3] // ph, z0.shape[4] // pw)
    cos, sin = ref_dit._rope_with_offset(pipe.transformer.rope, *grid, 0)
    block_out: dict[str, torch.Tensor] = {}

    def keep_output(index: int):
        def hook(module, args, out) -> None:  # must return None: a value would replace `out`
            block_out[f"block{index}_out"] = out.detach().clone()  # blocks work in place
        return hook

    hooks = [blk.register_forward_hook(keep_output(i)) for i, blk in enumerate(pipe.transformer.blocks)]
    with torch.inference_mode():
        pred = ref_dit._dit_forward_chunk(pipe.transformer, z0, temb, tproj, ctx, t_off=0)
        embedded = pipe.transformer.patch_embedding(z0).flatten(2).transpose(1, 2)
    for h in hooks:
        h.remove()
    save_file({"dit_in": z0, "patch_tokens": embedded.contiguous(), "temb": temb.contiguous(),
               "timestep_proj": tproj.contiguous(), "context": ctx.contiguous(),
               "rope_cos": cos.contiguous(), "rope_sin": sin.contiguous(),
               "dit_pred": pred.contiguous(), "dit_out": (z0 - pred).contiguous(),
               **{k: v.contiguous() for k, v in block_out.items()}},
              str(output / "first_chunk_dit.safetensors"))
    print(f"dump: first_chunk_dit.safetensors ({len(block_out)} block outputs)")


def _swiftvr_command() -> list[str]:
    exe = Path(sys.executable).with_name("swiftvr")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("swiftvr")
    if found:
        return [found]
    raise SystemExit("swiftvr is not installed in this environment (pip install -e .)")


def ours_command(weights: Path, input_dir: Path, output: Path, clip_len: int, upscale: int,
                 overlap: int, dtype: str = "float32") -> list[str]:
    """The `swiftvr restore` call of the parity runs (weights resident, as the release holds them)."""
    return _swiftvr_command() + [
        "restore", str(input_dir), str(output), "--weights", str(weights),
        "--scale", str(upscale), "--chunk", str(clip_len), "--overlap", str(overlap),
        "--dtype", dtype, "--device", "cpu", "--no-offload",
    ]


def run_ours(weights: Path, input_dir: Path, output: Path, clip_len: int, upscale: int,
             overlap: int, dtype: str = "float32") -> int:
    """Run `swiftvr restore`; return its exit status."""
    if output.exists():
        shutil.rmtree(output)
    cmd = ours_command(weights, input_dir, output, clip_len, upscale, overlap, dtype)
    print("ours:", " ".join(cmd))
    t0 = time.perf_counter()
    rc = subprocess.run(cmd).returncode
    print(f"ours: exit status {rc} after {time.perf_counter() - t0:.2f}s")
    return rc


def frame_stats(a: np.ndarray, b: np.ndarray) -> dict:
    """How two uint8 frame stacks of one shape differ, in uint8 levels."""
    diff = np.abs(a.astype(np.int16) - b.astype(np.int16))
    mse = float((diff.astype(np.float64) ** 2).mean())
    return {
        "max_abs": int(diff.max()),
        "mean_abs": float(diff.mean()),
        "psnr_db": float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse)),
        "fraction_differing": float((diff > 0).mean()),
        "values_differing": int((diff > 0).sum()),
        "values": int(diff.size),
        "per_frame_max": [int(v) for v in diff.reshape(len(diff), -1).max(axis=1)],
    }


def compare(a_dir: Path, b_dir: Path, max_diff: int, max_fraction: float | None) -> int:
    """Print how two PNG folders differ; return 0 when they agree within tolerance."""
    names_a, a = load_pngs(a_dir)
    names_b, b = load_pngs(b_dir)
    print(f"A: {a_dir}: {len(names_a)} frames {a.shape[1:]}")
    print(f"B: {b_dir}: {len(names_b)} frames {b.shape[1:]}")
    if len(names_a) != len(names_b):
        print("FAIL: frame counts differ")
        return 1
    if a.shape != b.shape:
        print("FAIL: frame sizes differ")
        return 1
    if names_a != names_b:
        print("note: file names differ; frames are compared in numeric order")
    stats = frame_stats(a, b)
    print(f"max abs diff {stats['max_abs']} (uint8 levels); mean abs diff {stats['mean_abs']:.4f}; "
          f"PSNR {stats['psnr_db']:.2f} dB; values differing {stats['fraction_differing']:.6f} "
          f"({stats['values_differing']} of {stats['values']})")
    print("per-frame max:", " ".join(str(v) for v in stats["per_frame_max"]))
    ok = stats["max_abs"] <= max_diff and (max_fraction is None or stats["fraction_differing"] <= max_fraction)
    print("OK" if ok else "FAIL")
    return 0 if ok else 1


def tensor_stats(ours, ref) -> dict:
    """max / mean abs difference and the RMS of the difference relative to the reference's RMS."""
    a, b = ours.double(), ref.double()
    d = (a - b).abs()
    return {"max_abs": float(d.max()), "mean_abs": float(d.mean()),
            "rel_rms": float(d.pow(2).mean().sqrt() / b.pow(2).mean().sqrt().clamp_min(1e-30))}


def _dump_chunks(dump: Path) -> list[tuple[str, Path]]:
    """(kind, file) of the dumped chunks in video order."""
    files = sorted(dump.glob("chunk*_*.safetensors"), key=lambda f: int(f.stem[5:].split("_")[0]))
    return [(f.stem.split("_", 1)[1], f) for f in files]


def run_stages(weights: Path, input_dir: Path, dump: Path, clip_len: int, upscale: int, dtype: str,
               offload: bool, save: Path | None) -> dict:
    """swiftvr's model, stage by stage, on the inputs the release's stages got (`reference-dump`).

    Each stage is fed the release's own input for it, so a difference is that stage's alone:
    the encoder (the release's prepared frames), the DiT (the release's DiT input and RoPE
    offset), the decoder (the release's restored latents; decoder state carried as ours
    carries it), every DiT block of the first chunk (fed the release's DiT input), and the
    whole path from the PNG frames as `swiftvr restore` runs it (`end_to_end`). Runs with
    the project's python.
    """
    import torch
    from safetensors.torch import load_file, save_file

    try:
        from swiftvr_cli.model.loading import load_official
    except ImportError:  # run from a checkout without installing the package
        sys.path.insert(0, str(REPO_ROOT / "src"))
        from swiftvr_cli.model.loading import load_official
    from swiftvr_cli.model.protocol import ChunkKind
    from swiftvr_cli.model.reae import StreamState
    from swiftvr_cli.model.swiftvr import RestoreState

    compute = getattr(torch, dtype)
    model = load_official(weights, dtype=compute, offload=offload)
    _, frames = load_pngs(input_dir)
    video = torch.from_numpy(frames).permute(0, 3, 1, 2).float()  # [T, 3, h, w] on 0..255
    size = (video.shape[2] * upscale, video.shape[3] * upscale)
    report: dict = {"dtype": dtype, "offload": offload, "chunks": []}
    kept: dict[str, torch.Tensor] = {}
    encoder, decoder, state = StreamState(), StreamState(), RestoreState()
    chunks = _dump_chunks(dump)
    with torch.inference_mode():
        context_kv = model.context_kv()
        for index, (kind, path) in enumerate(chunks):
            ref = load_file(str(path))
            start = int(ref["frame_start"])
            stop = int(load_file(str(chunks[index + 1][1]))["frame_start"]) if index + 1 < len(chunks) else len(video)
            row: dict = {"chunk": path.stem, "frames": [start, stop - 1]}
            clip = ref["input"].to(compute)
            if kind == "last":  # the release repeats the last frame after pixel-unshuffle; the same frames
                clip = torch.cat([clip, clip[:, -1:].expand(-1, 3, -1, -1, -1)], dim=1)
            latents = model.reae.encode(clip, encoder)
            row["encoder"] = tensor_stats(latents, ref["latents"])
            z = ref["dit_in"].to(compute)
            restored = model.transformer.restore(z, context_kv, int(ref["t_offset"]))
            restored = restored[:, :, -ref["restored"].shape[1]:].permute(0, 2, 1, 3, 4)
            row["dit"] = tensor_stats(restored, ref["restored"])
            decoded = model.reae.decode(ref["restored"].to(compute), decoder)
            if index == 0:
                decoded = decoded[:, 3:]  # the decoder runs 3 frames behind
            decoded = decoded[:, :, :, :size[0], :size[1]]
            row["decoder"] = tensor_stats(decoded, ref["decoded"])
            out, state = model.restore_chunk(video[start:stop], ChunkKind(kind), state, size=size,
                                             clip_len=clip_len)
            row["end_to_end"] = tensor_stats(out[None], ref["decoded"])
            report["chunks"].append(row)
            kept.update({f"{path.stem}.latents": latents, f"{path.stem}.restored": restored,
                         f"{path.stem}.decoded": decoded, f"{path.stem}.end_to_end": out[None]})
            print(json.dumps(row), flush=True)

        first = load_file(str(dump / "first_chunk_dit.safetensors"))
        outputs: list[torch.Tensor] = []
        hooks = [block.register_forward_hook(lambda m, a, out: outputs.append(out.detach().clone()))
                 for block in model.transformer.blocks]
        try:
            pred = model.transformer(first["dit_in"].to(compute), context_kv, 0)
        finally:
            for hook in hooks:
                hook.remove()
        report["dit_pred_first_chunk"] = tensor_stats(pred, first["dit_pred"])
        report["blocks_first_chunk_rel_rms"] = [tensor_stats(o, first[f"block{i}_out"])["rel_rms"]
                                                for i, o in enumerate(outputs)]
        kept["first_chunk.dit_pred"] = pred
    if save is not None:
        save_file({k: v.float().contiguous() for k, v in kept.items()}, str(save))
    return report


# --------------------------------------------------------------------------- #
# Command line                                                                #
# --------------------------------------------------------------------------- #


def _add_run_args(p: argparse.ArgumentParser, output: bool = True) -> None:
    p.add_argument("--weights", type=Path, required=True, help="checkpoint directory")
    p.add_argument("--input", type=Path, required=True, help="input PNG folder")
    if output:
        p.add_argument("--output", type=Path, required=True, help="output PNG folder (replaced)")
    p.add_argument("--clip-len", type=int, default=CLIP_LEN, help="middle chunk size in frames")
    p.add_argument("--upscale", type=int, default=UPSCALE)
    p.add_argument("--dtype", choices=DTYPES, default="float32")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("make-input", help="write a short PNG sequence cut from a video")
    p.add_argument("--video", type=Path, default=DEFAULT_VIDEO)
    p.add_argument("--output", type=Path, required=True)
    p.add_argument("--frames", type=int, default=INPUT_FRAMES, help="4k+1")
    p.add_argument("--start", type=int, default=INPUT_START)
    p.add_argument("--width", type=int, default=INPUT_WIDTH)
    p.add_argument("--height", type=int, default=INPUT_HEIGHT)

    p = sub.add_parser("tiny-checkpoint", help="write a tiny random checkpoint (official layout)")
    p.add_argument("--output", type=Path, required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--sharded", action="store_true")

    p = sub.add_parser("reference", help="run the official pipeline (use the reference venv)")
    p.add_argument("--ref-repo", type=Path, default=DEFAULT_REF_REPO)
    _add_run_args(p)
    p.add_argument("--dit-overlap", type=int, default=DIT_OVERLAP)
    p.add_argument("--threads", type=int, default=THREADS)

    p = sub.add_parser("reference-dump", help="save the reference's per-chunk tensors")
    p.add_argument("--ref-repo", type=Path, default=DEFAULT_REF_REPO)
    _add_run_args(p)
    p.add_argument("--threads", type=int, default=THREADS)

    p = sub.add_parser("ours", help="run `swiftvr restore` on the same input")
    _add_run_args(p)
    p.add_argument("--dit-overlap", type=int, default=DIT_OVERLAP)

    p = sub.add_parser("stages", help="swiftvr's model stage by stage on a reference-dump's inputs")
    _add_run_args(p, output=False)
    p.add_argument("--dump", type=Path, required=True, help="folder written by reference-dump")
    p.add_argument("--offload", action="store_true", help="stream the DiT blocks (float32 at full size)")
    p.add_argument("--save", type=Path, default=None, help="safetensors file for swiftvr's stage outputs")
    p.add_argument("--json", type=Path, default=None, help="write the differences here")

    p = sub.add_parser("compare", help="compare two PNG folders")
    p.add_argument("a", type=Path)
    p.add_argument("b", type=Path)
    p.add_argument("--max-diff", type=int, default=MAX_ABS_DIFF)
    p.add_argument("--max-fraction", type=float, default=None,
                   help="also fail when more than this fraction of values differ")

    p = sub.add_parser("all", help="make-input, tiny-checkpoint, reference, ours, compare")
    p.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    p.add_argument("--ref-repo", type=Path, default=DEFAULT_REF_REPO)
    p.add_argument("--ref-python", type=Path, default=Path("/work/ref/venv/bin/python"),
                   help="python of the reference environment")
    p.add_argument("--clip-len", type=int, default=CLIP_LEN)
    p.add_argument("--upscale", type=int, default=UPSCALE)
    p.add_argument("--dtype", choices=DTYPES, default="float32")
    p.add_argument("--sharded", action="store_true")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.cmd == "make-input":
        make_input(args.video, args.output, args.frames, args.start, args.width, args.height)
    elif args.cmd == "tiny-checkpoint":
        tiny_checkpoint(args.output, args.seed, args.sharded)
    elif args.cmd == "reference":
        run_reference(args.ref_repo, args.weights, args.input, args.output, args.clip_len,
                      args.upscale, args.dit_overlap, args.threads, args.dtype)
    elif args.cmd == "reference-dump":
        run_reference_dump(args.ref_repo, args.weights, args.input, args.output, args.clip_len,
                           args.upscale, args.threads, args.dtype)
    elif args.cmd == "ours":
        return run_ours(args.weights, args.input, args.output, args.clip_len, args.upscale,
                        args.dit_overlap, args.dtype)
    elif args.cmd == "stages":
        report = run_stages(args.weights, args.input, args.dump, args.clip_len, args.upscale,
                            args.dtype, args.offload, args.save)
        text = json.dumps(report, indent=2)
        if args.json is not None:
            args.json.write_text(text + "\n")
        print(text)
    elif args.cmd == "compare":
        return compare(args.a, args.b, args.max_diff, args.max_fraction)
    elif args.cmd == "all":
        w = args.workdir
        make_input(DEFAULT_VIDEO, w / "input", INPUT_FRAMES, INPUT_START, INPUT_WIDTH, INPUT_HEIGHT)
        tiny_checkpoint(w / "weights", 0, args.sharded)
        subprocess.run([str(args.ref_python), str(Path(__file__).resolve()), "reference",
                        "--ref-repo", str(args.ref_repo), "--weights", str(w / "weights"),
                        "--input", str(w / "input"), "--output", str(w / "reference"),
                        "--clip-len", str(args.clip_len), "--upscale", str(args.upscale),
                        "--dtype", args.dtype], check=True)
        rc = run_ours(w / "weights", w / "input", w / "ours", args.clip_len, args.upscale,
                      DIT_OVERLAP, args.dtype)
        if rc != 0:
            return rc
        return compare(w / "reference", w / "ours", MAX_ABS_DIFF, None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
