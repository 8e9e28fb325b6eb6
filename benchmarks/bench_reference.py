"""Benchmark the official SwiftVR release with the protocol of `swiftvr bench`.

Run it with the REFERENCE environment's python (see benchmarks/reference_parity.py
for setting that up); the release is imported at run time from --ref-repo and never
copied into this repository. For each (output resolution, chunk):

- one FIRST chunk (chunk + 4 frames) as warm-up, then --chunks MIDDLE chunks timed,
  CUDA synchronised before and after;
- what is timed is the body of the release's own GPU worker (swiftvr/runner.py,
  run_pipeline.gpu_worker) for a MIDDLE chunk: preprocess_clip_uint8 on uint8 frames
  already on the device, StreamingTAE.encode_chunk_fixed, StreamingDiT.denoise
  (with the permutes around it), the copy of the last latents to the CPU that the
  worker keeps for the LAST chunk, StreamingTAE.decode_chunk_fixed and the crop;
- per-part times come from wrappers put on the release's objects at run time
  (instance attributes; no file of the release is changed); like ours they
  synchronise CUDA around each part. `other` is the chunk time not in a part;
- peak memory: CUDA max_memory_allocated / max_memory_reserved after
  empty_cache + reset_peak_memory_stats, or the sampled peak RSS of the process on
  CPU (the same PeakRSS sampler as ours); both include the weights;
- an out-of-memory error is recorded as status "oom", not raised.

The LQ frames are random uint8 at round(output / scale), cropped to a multiple of 8
like the release's reader does, and the output size is passed to the release as
its `resolution`, so both runners produce exactly W x H.

--e2e also times the release's whole `restore_video` (its decord reader, its
4-thread reader/H2D/GPU/writer pipeline and its libx265 writer through
imageio-ffmpeg) on a synthetic mp4 of (chunk + 4) + chunks * chunk + 1 frames and
reports the FPS it returns (frames written / wall time), as ours does.

Models
------
--weights DIR            an official-layout checkpoint (decoder widths read from it)
--random-weights official  the Wan2.2-TI2V-5B SwiftVR configuration with random
                         weights, built directly on the target device in the target
                         dtype (no files): 30 layers, 24 heads x 128, ffn 14336,
                         text_dim 4096, freq_dim 256, 48 latent channels, window
                         16x16, decoder widths 512/256/128, a 512-token prompt
--random-weights tiny    the tiny official-layout checkpoint's sizes (= our `test`
                         preset): 2 layers, 2 heads x 12, ffn 48, text_dim 32,
                         freq_dim 16, window 4x4, decoder widths 24/20/16
--meta                   build the chosen configuration on the meta device, print
                         its parameter counts and exit (checks the 5B config builds
                         without allocating it)

Examples
--------
    REF_PY=/work/ref/venv/bin/python
    # one H100, full-size random weights:
    $REF_PY benchmarks/bench_reference.py --random-weights official --res 1440p,4k \\
        --chunk 24 --chunks 8 --device cuda --dtype bfloat16 --e2e \\
        --json benchmarks/results/official_h100_bf16.json
    # CPU smoke test:
    $REF_PY benchmarks/bench_reference.py --random-weights tiny --res 128x96 --chunk 8 \\
        --chunks 1 --device cpu --dtype float32 --threads 2 --json /tmp/official.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_REF_REPO = Path("/work/ref/SwiftVR")

# The release's ReAE and DiT sizes for --random-weights. `tiny` matches
# swiftvr_cli.testing.tiny_checkpoint.TinyCheckpointSpec and our `test` preset.
RANDOM_CONFIGS = {
    "official": {
        "transformer": dict(
            patch_size=(1, 2, 2), num_attention_heads=24, attention_head_dim=128,
            in_channels=48, out_channels=48, text_dim=4096, freq_dim=256, ffn_dim=14336,
            num_layers=30, cross_attn_norm=True, qk_norm="rms_norm_across_heads", eps=1e-6,
            rope_max_seq_len=1024, self_attn_window_hw=(16, 16), use_torch_compile=False,
        ),
        "decoder_widths": (512, 256, 128),
        "prompt_len": 512,  # the release's empty UMT5 prompt embedding is [1, 512, 4096]
    },
    "tiny": {
        "transformer": dict(
            patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12,
            in_channels=48, out_channels=48, text_dim=32, freq_dim=16, ffn_dim=48,
            num_layers=2, cross_attn_norm=True, qk_norm="rms_norm_across_heads", eps=1e-6,
            rope_max_seq_len=1024, self_attn_window_hw=(4, 4), use_torch_compile=False,
        ),
        "decoder_widths": (24, 20, 16),
        "prompt_len": 8,  # as in the tiny official-layout checkpoint
    },
}
OFFICIAL_DECODER_WIDTHS = (512, 256, 128)  # what the release's ReAE builds by default
DTYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}
LQ_CROP_MULTIPLE = 8  # the release's reader crops LQ frames to a multiple of 8
SEED = 0


# --------------------------------------------------------------------------- #
# Imports: our bench protocol pieces and the release                          #
# --------------------------------------------------------------------------- #


def import_our_protocol():
    """BenchResult, PeakRSS, resolution parsing and the synthetic clip from our own
    `swiftvr bench` (pure torch/stdlib, importable from the reference venv), so both
    sides share the result format and the memory sampler."""
    sys.path.insert(0, str(REPO_ROOT / "src"))
    from swiftvr_cli.bench import sweep

    return sweep


def out_of_memory(exc: BaseException) -> bool:
    """Our own test of an allocation failure (`swiftvr_cli.failures`; src/ is on the path
    once `import_our_protocol` ran), so both sides record an OOM the same way."""
    from swiftvr_cli.failures import is_out_of_memory

    return is_out_of_memory(exc)


def _stub_decord() -> None:
    """The release imports decord (its video reader) when swiftvr.io is imported, but
    the model-only bench never reads a file: without decord, a stand-in module lets
    the import succeed; any use of it fails loudly."""
    import types

    def unavailable(*args, **kwargs):
        raise RuntimeError("decord is not installed (stand-in from bench_reference.py); --e2e needs it")

    stub = types.ModuleType("decord")
    stub.bridge = types.SimpleNamespace(set_bridge=lambda name: None)
    stub.VideoReader = unavailable
    sys.modules["decord"] = stub


def import_release(ref_repo: Path, need_reader: bool = True):
    if not (ref_repo / "swiftvr" / "pipeline.py").exists():
        raise SystemExit(f"{ref_repo} does not look like the official SwiftVR checkout")
    try:
        import decord  # noqa: F401
    except ImportError:
        if need_reader:
            raise SystemExit("--e2e needs decord (the release's video reader) in this environment") from None
        print("note: decord is not installed; using a stand-in (model-only timing never reads video)",
              file=sys.stderr)
        _stub_decord()
    sys.path.insert(0, str(ref_repo))
    import swiftvr  # noqa: F401  (the release package)

    return swiftvr


def git_commit(path: Path) -> str:
    try:
        out = subprocess.run(["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=10)
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


# --------------------------------------------------------------------------- #
# Building the release's pipeline                                             #
# --------------------------------------------------------------------------- #


def _decoder_widths_stub(widths):
    """The release's ReAE takes an integer width_mult and builds 256*m/128*m/64*m;
    benchmarks/reference_parity.py's stand-in answers those products with any widths."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from reference_parity import _DecoderWidths

    return _DecoderWidths(*widths)


def _reae_width_mult(widths):
    return 2 if tuple(widths) == OFFICIAL_DECODER_WIDTHS else _decoder_widths_stub(widths)


@contextlib.contextmanager
def default_dtype(dtype: torch.dtype):
    old = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(old)


def build_random_modules(name: str, device: torch.device | str, dtype: torch.dtype,
                         prompt_len: int | None = None):
    """The release's ReAE and WanTransformer3DModel of configuration `name`, with the
    classes' own random initialisation, created directly on `device` in `dtype`
    (the RoPE tables come out as the class computes them whatever the default dtype;
    the pipeline's .to() then casts everything, exactly as after from_pretrained)."""
    from swiftvr.models import ReAE, WanTransformer3DModel

    cfg = RANDOM_CONFIGS[name]
    torch.manual_seed(SEED)
    with torch.device(device), default_dtype(dtype):
        reae = ReAE(None, width_mult=_reae_width_mult(cfg["decoder_widths"]))
        transformer = WanTransformer3DModel(**cfg["transformer"])
        prompt = torch.randn(prompt_len or cfg["prompt_len"], cfg["transformer"]["text_dim"])
    return reae, transformer, prompt


def count_parameters(*modules) -> int:
    return sum(p.numel() for m in modules for p in m.parameters())


def build_pipeline(args, device: torch.device, dtype: torch.dtype):
    """(pipeline, label, parameter count before the release fuses its projections)."""
    from swiftvr import SwiftVRPipeline

    if args.weights:
        from safetensors.torch import load_file
        from swiftvr.models import ReAE, WanTransformer3DModel

        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from reference_parity import _decoder_widths

        weights = Path(args.weights)
        widths = _decoder_widths(weights / "reae.safetensors")
        if widths == OFFICIAL_DECODER_WIDTHS:
            pipe = SwiftVRPipeline.from_pretrained(str(weights))
        else:  # the release hard-codes 512/256/128; build its class with the file's widths
            reae = ReAE(None, width_mult=_decoder_widths_stub(widths))
            reae.load_state_dict(load_file(str(weights / "reae.safetensors")), strict=True)
            transformer = WanTransformer3DModel.from_pretrained(str(weights), subfolder="transformer")
            prompt = load_file(str(weights / "prompt_embedding.safetensors"))["prompt_emb"][0]
            pipe = SwiftVRPipeline(reae, transformer, prompt)
        label = str(weights)
    else:
        reae, transformer, prompt = build_random_modules(args.random_weights, device, dtype,
                                                         args.prompt_len)
        pipe = SwiftVRPipeline(reae, transformer, prompt)
        label = f"random:{args.random_weights}"
    params = count_parameters(pipe.reae, pipe.transformer)
    # As the release's runner does: cast, eval, fuse QKV/KV, install the shifted-window
    # processor, pick the attention backend (auto), optionally torch.compile the blocks.
    pipe.to(device, dtype=dtype, attention_backend=args.attention_backend,
            torch_compile=args.torch_compile)
    return pipe, label, params


def meta_check(name: str) -> int:
    """Build configuration `name` on the meta device and print parameter counts."""
    reae, transformer, prompt = build_random_modules(name, "meta", torch.bfloat16)
    n_dit, n_reae = count_parameters(transformer), count_parameters(reae)
    print(f"{name}: DiT {n_dit:,} parameters, ReAE {n_reae:,} "
          f"(encoder {count_parameters(reae.encoder):,}, decoder {count_parameters(reae.decoder):,}), "
          f"total {n_dit + n_reae:,}; prompt {tuple(prompt.shape)}")
    print(f"  bf16 weights: {2 * (n_dit + n_reae) / 2**30:.2f} GiB "
          f"(+ the fused QKV/KV copies the release adds in prepare_for_inference)")
    cfg = transformer.config
    print(f"  config: {cfg.num_layers} layers, {cfg.num_attention_heads} heads x {cfg.attention_head_dim}, "
          f"ffn {cfg.ffn_dim}, text_dim {cfg.text_dim}, freq_dim {cfg.freq_dim}, "
          f"channels {cfg.in_channels}, window {tuple(cfg.self_attn_window_hw)}, "
          f"decoder widths {reae.decoder[1].out_channels}/{reae.decoder[8].out_channels}/"
          f"{reae.decoder[14].out_channels}")
    return 0


# --------------------------------------------------------------------------- #
# Timing                                                                      #
# --------------------------------------------------------------------------- #


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class PartTimer:
    """Accumulates seconds per part; synchronises CUDA around each part like our
    `timed` context. Off (no syncs) unless `timings` is a dict."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.timings: dict[str, float] | None = None

    @contextlib.contextmanager
    def part(self, name: str):
        if self.timings is None:
            yield
            return
        synchronize(self.device)
        start = time.perf_counter()
        yield
        synchronize(self.device)
        self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - start

    def wrap(self, obj, method: str, name: str) -> None:
        """Time `obj.method` under `name` by shadowing it with an instance attribute."""
        original = getattr(obj, method)

        def timed(*args, **kwargs):
            with self.part(name):
                return original(*args, **kwargs)

        setattr(obj, method, timed)


def lq_size(out_wh: tuple[int, int], scale: float) -> tuple[int, int]:
    """(h, w) of the LQ frames: round(output / scale), cropped to a multiple of 8
    as the release's reader crops every input."""
    width, height = out_wh
    h, w = max(1, round(height / scale)), max(1, round(width / scale))
    m = LQ_CROP_MULTIPLE
    return max(m, h // m * m), max(m, w // m * m)


class ReleaseChunkRunner:
    """The per-chunk body of the release's run_pipeline.gpu_worker (FIRST / MIDDLE)."""

    def __init__(self, pipe, timer: PartTimer, out_wh, chunk: int) -> None:
        self.pipe, self.timer, self.chunk = pipe, timer, chunk
        width, height = out_wh
        # resolution given -> out = (H, W), padded to a multiple of 32 (release's rule)
        self.out_h, self.out_w, self.pad_h, self.pad_w = pipe._target_size(0, 0, (width, height), 4)
        self.n_lat = chunk // 4
        self.prev_dit_out_cpu = None

    def reset(self) -> None:
        self.pipe.tae_stream.reset()
        self.pipe.dit_stream.reset()
        self.pipe.dit_stream.overlap = 0  # restore_video's default dit_overlap
        self.prev_dit_out_cpu = None

    def run(self, gpu_rgb: torch.Tensor, spec):
        from swiftvr.io import crop_spatial_padding_ntchw, preprocess_clip_uint8

        pipe, part = self.pipe, self.timer.part
        with part("prepare"):
            clip_rgb = preprocess_clip_uint8(gpu_rgb, out_h=self.out_h, out_w=self.out_w,
                                             mode=pipe.upscale_mode, pad_h=self.pad_h,
                                             pad_w=self.pad_w, dtype=pipe.dtype)
        with part("reae_encode"):
            z = pipe.tae_stream.encode_chunk_fixed(clip_rgb, spec)
        with part("dit"):
            z_bcfhw = z.permute(0, 2, 1, 3, 4).contiguous()
            z_den = pipe.dit_stream.denoise(z_bcfhw, pipe.prompt_emb)
            z_ntchw = z_den.permute(0, 2, 1, 3, 4).contiguous()
        self.prev_dit_out_cpu = z_bcfhw[:, :, -self.n_lat:].detach().cpu().clone()
        with part("reae_decode"):
            rgb_out = pipe.tae_stream.decode_chunk_fixed(z_ntchw, spec)
        if rgb_out is not None and rgb_out.shape[1] > 0:
            return crop_spatial_padding_ntchw(rgb_out, self.pad_h, self.pad_w).detach()
        return None


def bench_model(sweep, pipe, out_wh, chunk: int, scale: float, chunks: int, warmup_middle: int = 0):
    """Model-only throughput of the release on random LQ frames (our protocol:
    warm-up on the FIRST chunk only; `warmup_middle` > 0 adds untimed MIDDLE chunks)."""
    from swiftvr.streaming.chunk import build_chunk_specs

    device = pipe.device
    width, height = out_wh
    result = sweep.BenchResult("", width, height, chunk, "ok")
    h, w = lq_size(out_wh, scale)
    n_middle = warmup_middle + chunks
    specs = build_chunk_specs((chunk + 4) + n_middle * chunk + 1, chunk)  # FIRST, MIDDLE..., LAST
    timer = PartTimer(device)
    runner = ReleaseChunkRunner(pipe, timer, out_wh, chunk)
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    try:
        with sweep.PeakRSS() as rss, torch.inference_mode():
            gen = torch.Generator(device=device).manual_seed(SEED)
            frames = torch.randint(0, 256, (chunk + 4, h, w, 3), generator=gen, device=device,
                                   dtype=torch.uint8)
            runner.reset()
            out = runner.run(frames, specs[0])  # FIRST chunk: warm-up
            if out is None or out.shape[1] != chunk + 4 - 3 or out.shape[-2:] != (height, width):
                raise RuntimeError(f"unexpected warm-up output {None if out is None else tuple(out.shape)}")
            for spec in specs[1:1 + warmup_middle]:
                runner.run(frames[:chunk], spec)
            timer.timings = {}
            synchronize(device)
            start = time.perf_counter()
            for spec in specs[1 + warmup_middle:1 + n_middle]:
                out = runner.run(frames[:chunk], spec)
            synchronize(device)
            seconds = time.perf_counter() - start
            if out is None or out.shape[1] != chunk:
                raise RuntimeError(f"unexpected MIDDLE output {None if out is None else tuple(out.shape)}")
    except Exception as exc:  # noqa: BLE001 - an OOM is a result, anything else re-raised
        if not out_of_memory(exc):
            raise
        result.status, result.error = "oom", str(exc).splitlines()[0][:200]
        del exc
        runner.reset()
        if device.type == "cuda":
            torch.cuda.empty_cache()
        return result
    finally:
        timings, timer.timings = timer.timings, None
        runner.reset()
    frames_done = chunks * chunk
    result.model_fps = frames_done / seconds
    result.part_ms_per_frame = {k: 1000 * v / frames_done for k, v in (timings or {}).items()}
    result.part_ms_per_frame["other"] = max(0.0, 1000 * seconds / frames_done - sum(result.part_ms_per_frame.values()))
    sweep.record_peak_memory(result, device, rss)
    return result


def bench_end_to_end(sweep, pipe, out_wh, chunk: int, scale: float, chunks: int) -> float:
    """FPS of the release's own restore_video (reader -> H2D -> GPU -> writer) on a
    synthetic mp4, as returned by it (frames written / wall seconds)."""
    width, height = out_wh
    h, w = lq_size(out_wh, scale)
    frames = (chunk + 4) + chunks * chunk + 1
    with tempfile.TemporaryDirectory() as tmp:
        clip = sweep.make_synthetic_clip(Path(tmp) / "in.mp4", w, h, frames)
        stats = pipe.restore_video(str(clip), str(Path(tmp) / "out.mp4"), resolution=(width, height),
                                   clip_len=chunk, dit_overlap=0, verbose=False)
    if stats["frames"] != frames:
        raise RuntimeError(f"restore_video wrote {stats['frames']} of {frames} frames")
    return float(stats["fps"])


# --------------------------------------------------------------------------- #
# Environment and command line                                                #
# --------------------------------------------------------------------------- #


def environment(pipe, dtype, label: str, params: int, ref_repo: Path, args) -> dict:
    from swiftvr.models import get_attention_backend

    device = pipe.device
    name = (torch.cuda.get_device_name(device) if device.type == "cuda"
            else f"CPU {platform.processor() or platform.machine()} x{os.cpu_count()}")
    try:
        import diffusers

        diffusers_version = diffusers.__version__
    except ImportError:  # pragma: no cover
        diffusers_version = ""
    return {
        "runner": "official",
        "device": name,
        "device_type": device.type,
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "diffusers": diffusers_version,
        "threads": torch.get_num_threads(),
        "dtype": str(dtype).replace("torch.", ""),
        "weights": label,
        "parameters": params,
        "prompt_tokens": int(pipe.prompt_emb.shape[-2]),
        "attention_backend": get_attention_backend(),
        "torch_compile": bool(args.torch_compile),
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
        "ref_repo": str(ref_repo),
        "git_commit": git_commit(ref_repo),  # the reference release that was measured
        "harness_commit": git_commit(REPO_ROOT),
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ref-repo", type=Path, default=DEFAULT_REF_REPO, help="official SwiftVR checkout")
    model = ap.add_mutually_exclusive_group(required=True)
    model.add_argument("--weights", type=Path, help="official-layout checkpoint directory")
    model.add_argument("--random-weights", choices=sorted(RANDOM_CONFIGS),
                       help="the release's classes with random weights (no files)")
    ap.add_argument("--meta", action="store_true",
                    help="with --random-weights: build on the meta device, print parameter counts, exit")
    ap.add_argument("--prompt-len", type=int, default=None,
                    help="with --random-weights: prompt tokens (default: 512 for official, as the "
                         "release's empty-prompt embedding; 8 for tiny)")
    ap.add_argument("--res", default="360p", help="360p,540p,720p,1080p,1440p,4k or WxH list (output size)")
    ap.add_argument("--chunk", default="24", help="MIDDLE chunk sizes, e.g. 8,16,24 (multiples of 4)")
    ap.add_argument("--scale", type=float, default=4.0, help="input = output / scale")
    ap.add_argument("--chunks", type=int, default=2, help="timed MIDDLE chunks after one FIRST warm-up chunk")
    ap.add_argument("--warmup-middle", type=int, default=0,
                    help="untimed MIDDLE chunks after the FIRST warm-up (0 = ours' protocol). The "
                         "release turns cudnn.benchmark on, so its first MIDDLE chunk autotunes "
                         "the MIDDLE conv shapes; 1 shows how much that costs")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--dtype", choices=sorted(DTYPES), default=None,
                    help="default: bfloat16 on cuda, float32 on cpu")
    ap.add_argument("--e2e", action="store_true", help="also time the release's whole restore_video")
    ap.add_argument("--attention-backend", default="auto",
                    help="the release's attention backend (auto = its own priority order)")
    ap.add_argument("--torch-compile", action="store_true",
                    help="torch.compile the DiT blocks (off in the release's pipeline by default)")
    ap.add_argument("--threads", type=int, default=None, help="CPU threads (torch.set_num_threads)")
    ap.add_argument("--json", type=Path, default=None, help="write results here (BenchResult format)")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import_release(args.ref_repo, need_reader=args.e2e)
    if args.meta:
        if not args.random_weights:
            raise SystemExit("--meta needs --random-weights")
        return meta_check(args.random_weights)

    sweep = import_our_protocol()
    try:
        resolutions, chunk_sizes = sweep.parse_resolutions(args.res), sweep.parse_ints(args.chunk)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    if any(c <= 0 or c % 4 for c in chunk_sizes):
        raise SystemExit("--chunk values must be positive multiples of 4")
    if args.chunks < 1:
        raise SystemExit("--chunks must be at least 1")
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    dtype = DTYPES[args.dtype or ("bfloat16" if device.type == "cuda" else "float32")]

    pipe, label, params = build_pipeline(args, device, dtype)
    env = environment(pipe, dtype, label, params, args.ref_repo, args)
    print(f"official runner on {env['device']} ({env['dtype']}, {params:,} parameters, {label}, "
          f"attention {env['attention_backend']}, compile {env['torch_compile']}, "
          f"reference {env['git_commit'][:7]})", file=sys.stderr)

    results = []
    for name, wh in resolutions:
        for chunk in chunk_sizes:
            result = bench_model(sweep, pipe, wh, chunk, args.scale, args.chunks, args.warmup_middle)
            result.resolution = name
            if args.e2e and result.status == "ok":
                try:
                    result.e2e_fps = bench_end_to_end(sweep, pipe, wh, chunk, args.scale, args.chunks)
                except Exception as exc:  # noqa: BLE001
                    if not out_of_memory(exc):
                        raise
                    result.status, result.error = "oom", "out of memory in the end-to-end run"
                    if device.type == "cuda":
                        torch.cuda.empty_cache()
            parts = " ".join(f"{k} {v:.2f}" for k, v in result.part_ms_per_frame.items())
            peak = "-" if result.peak_memory_mb is None else f"{result.peak_memory_mb:.0f} MB"
            e2e = "" if result.e2e_fps is None else f", e2e {result.e2e_fps:.2f} fps"
            print(f"  {name} ({wh[0]}x{wh[1]}) chunk {chunk}: {result.status} "
                  f"model {result.model_fps or 0:.2f} fps{e2e}, peak {peak}; ms/frame: {parts}",
                  file=sys.stderr)
            results.append(result)

    settings = {"scale": args.scale, "chunks": args.chunks, "end_to_end": args.e2e,
                "warmup_middle": args.warmup_middle}
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {"environment": env, "settings": settings, "results": [asdict(r) for r in results]}
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"wrote {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
