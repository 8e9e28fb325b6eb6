"""`swiftvr bench`: resolution x chunk-size sweep of the real restore path.

For each (output resolution, chunk) pair: one FIRST chunk as warm-up, then a
fixed number of MIDDLE chunks timed (CUDA synchronised), repeated `repeats` times
(the median is reported with the spread, and wide spreads are flagged), per-part seconds from
the model, peak memory (CUDA allocator, or peak RSS sampled on CPU), and an
out-of-memory result recorded as such instead of crashing the sweep.
Optionally the whole pipeline (decode -> restore -> encode) on a synthetic
clip gives the end-to-end FPS.
"""

from __future__ import annotations

import os
import platform
import subprocess
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from ..failures import MEMORY, classify
from ..model.swiftvr import ChunkKind, RestoreState, SwiftVR

RESOLUTIONS = {
    "360p": (640, 360),
    "540p": (960, 540),
    "720p": (1280, 720),
    "1080p": (1920, 1080),
    "1440p": (2560, 1440),
    "4k": (3840, 2160),
}


def parse_resolutions(text: str) -> list[tuple[str, tuple[int, int]]]:
    """'360p,720p,1920x1080' -> [(name, (W, H)), ...]."""
    out = []
    for item in filter(None, (t.strip().lower() for t in text.split(","))):
        if item in RESOLUTIONS:
            out.append((item, RESOLUTIONS[item]))
        elif "x" in item:
            try:
                w, h = (int(v) for v in item.split("x", 1))
            except ValueError:
                raise ValueError(f"unknown resolution {item!r}: use {', '.join(RESOLUTIONS)} or WxH") from None
            if w <= 0 or h <= 0:
                raise ValueError(f"resolution {item!r}: width and height must be positive")
            out.append((item, (w, h)))
        else:
            raise ValueError(f"unknown resolution {item!r}: use {', '.join(RESOLUTIONS)} or WxH")
    return out


def parse_ints(text: str) -> list[int]:
    return [int(t) for t in text.split(",") if t.strip()]


@dataclass
class BenchResult:
    resolution: str
    width: int
    height: int
    chunk: int
    status: str  # "ok" or "oom"
    model_fps: float | None = None  # median over the repeats
    e2e_fps: float | None = None  # median over the repeats
    model_fps_runs: list[float] = field(default_factory=list)  # one figure per repeat
    e2e_fps_runs: list[float] = field(default_factory=list)
    part_ms_per_frame: dict[str, float] = field(default_factory=dict)
    peak_memory_mb: float | None = None
    peak_reserved_mb: float | None = None
    error: str | None = None


class PeakRSS:
    """Samples this process's resident memory in a thread (CPU peak memory)."""

    def __init__(self, interval_s: float = 0.01) -> None:
        self.interval_s = interval_s
        self.peak = 0
        self._stop = threading.Event()

    @staticmethod
    def current() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def __enter__(self) -> "PeakRSS":
        self.peak = self.current()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.peak = max(self.peak, self.current())

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.current())


# Repeats whose fastest and slowest differ by more than this share of the median are
# flagged: on a shared or throttled machine single figures mislead (an end-to-end run
# "faster" than the model alone, a smaller resolution slower than a larger one).
WIDE_SPREAD = 0.15


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def spread(values: list[float]) -> float | None:
    """(max - min) / median of repeated figures; None with fewer than two."""
    return (max(values) - min(values)) / median(values) if len(values) >= 2 and median(values) > 0 else None


def bench_model(
    model: SwiftVR,
    out_wh: tuple[int, int],
    chunk: int,
    scale: float,
    chunks: int,
    warmup_middle: int = 0,
    repeats: int = 1,
    reae_group: int = 0,
) -> BenchResult:
    """Model-only throughput on random frames of the LQ size, measured `repeats` times
    (`chunks` MIDDLE chunks each); the median is reported, every figure kept.
    ``reae_group``: latents per ReAE pass (0: automatic).

    warmup_middle: MIDDLE chunks run before the timer starts (a compiled model
    compiles the MIDDLE shapes there, not inside the timed chunks).
    """
    device = model.device
    width, height = out_wh
    lq_h, lq_w = max(1, round(height / scale)), max(1, round(width / scale))
    size = (height, width)
    result = BenchResult("", width, height, chunk, "ok")
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    try:
        with PeakRSS() as rss, torch.inference_mode():
            frames = torch.rand(chunk + 4, 3, lq_h, lq_w, device=device) * 255
            state = RestoreState()
            model.restore_chunk(frames, ChunkKind.FIRST, state, size=size, clip_len=chunk, reae_group=reae_group)  # warm-up
            for _ in range(warmup_middle):
                model.restore_chunk(frames[:chunk], ChunkKind.MIDDLE, state, size=size, clip_len=chunk, reae_group=reae_group)
            state.timings = {}
            for _ in range(repeats):
                if device.type == "cuda":
                    torch.cuda.synchronize(device)
                start = time.perf_counter()
                for _ in range(chunks):
                    model.restore_chunk(frames[:chunk], ChunkKind.MIDDLE, state, size=size, clip_len=chunk, reae_group=reae_group)
                if device.type == "cuda":
                    torch.cuda.synchronize(device)
                result.model_fps_runs.append(chunks * chunk / (time.perf_counter() - start))
    except Exception as exc:  # noqa: BLE001 - an OOM is a result, anything else re-raised
        if classify(exc).kind != MEMORY:  # the memory check's refusal counts too
            raise
        result.status, result.error = "oom", str(exc).splitlines()[0][:200]
        if device.type == "cuda":
            torch.cuda.empty_cache()
        return result
    frames_done = repeats * chunks * chunk
    result.model_fps = median(result.model_fps_runs)
    result.part_ms_per_frame = {k: 1000 * v / frames_done for k, v in state.timings.items()}
    record_peak_memory(result, device, rss)
    return result


def record_peak_memory(result: BenchResult, device: torch.device, rss: PeakRSS) -> None:
    """Peak memory of the timed run: the CUDA allocator's, or the sampled process RSS on CPU."""
    if device.type == "cuda":
        result.peak_memory_mb = torch.cuda.max_memory_allocated(device) / 2**20
        result.peak_reserved_mb = torch.cuda.max_memory_reserved(device) / 2**20
    else:
        result.peak_memory_mb = rss.peak / 2**20


def make_synthetic_clip(path: Path, width: int, height: int, frames: int, fps: int = 25) -> Path:
    """A moving-pattern clip (x264) to push through the real decode/encode path."""
    import av
    import numpy as np

    w, h = width + width % 2, height + height % 2
    yy, xx = np.mgrid[0:h, 0:w]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps, options={"crf": "23", "preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        for t in range(frames):
            r = ((xx + 3 * t) % 64) * 4
            g = ((yy + 2 * t) % 48) * 5
            b = ((xx + yy + t) % 80) * 3
            rgb = np.stack([r, g, b], -1).clip(0, 255).astype(np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def bench_end_to_end(model: SwiftVR, out_wh: tuple[int, int], chunk: int, scale: float, chunks: int, reae_group: int = 0) -> float:
    """Frames per second of the whole pipeline (decode, colour, model, encode) on a synthetic clip."""
    from ..io import EncodeOptions
    from ..pipeline.runner import RestoreSettings, restore_video

    width, height = out_wh
    lq_w, lq_h = max(2, round(width / scale)), max(2, round(height / scale))
    frames = chunk + 4 + chunks * chunk + 1
    with tempfile.TemporaryDirectory() as tmp:
        clip = make_synthetic_clip(Path(tmp) / "in.mp4", lq_w, lq_h, frames)
        settings = RestoreSettings(scale=scale, clip_len=chunk, encode=EncodeOptions(preset="ultrafast"), reae_group=reae_group)
        summary = restore_video(model, str(clip), str(Path(tmp) / "out.mp4"), settings)
    return summary.fps


def source_commit() -> str:
    """The git commit of the code measured, "-dirty" when the package source differs from it
    (only `src/` counts: a sweep that rewrites its own result files is not a code change)."""
    root = Path(__file__).resolve().parents[3]

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=5).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        return commit + ("-dirty" if commit and git("status", "--porcelain", "--untracked-files=no", "--", "src") else "")
    except (OSError, subprocess.SubprocessError):
        return ""


def environment(model: SwiftVR, dtype: torch.dtype, weights: str) -> dict:
    device = model.device
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU {platform.processor() or platform.machine()} x{os.cpu_count()}"
    commit = source_commit()
    return {
        "device": name,
        "device_type": device.type,
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "threads": torch.get_num_threads(),
        "dtype": str(dtype).replace("torch.", ""),
        "weights": weights,
        "parameters": sum(p.numel() for p in model.parameters()),
        "git_commit": commit,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def run_sweep(
    model: SwiftVR,
    resolutions,
    chunk_sizes,
    scale: float,
    chunks: int,
    end_to_end: bool,
    on_result=None,
    reae_group: int = 0,
    compiled: bool = False,
    repeats: int = 1,
) -> list[BenchResult]:
    """``repeats``: measurements of each setting (model-only and end-to-end); medians are
    reported and every figure kept.

    ``reae_group``: latents per ReAE pass (0: automatic, see `model.swiftvr.automatic_reae_group`;
    the end-to-end run may lower it to fit in memory).

    ``compiled`` (the model went through `model.compiled.compile_model`): the compiled
    graphs are reset before each setting and one MIDDLE chunk joins the warm-up, so
    every setting pays its own compilation outside the timed chunks.
    """
    from ..model.compiled import reset_compiled

    results = []
    for name, wh in resolutions:
        for chunk in chunk_sizes:
            if compiled:
                reset_compiled()
            result = bench_model(
                model, wh, chunk, scale, chunks, warmup_middle=1 if compiled else 0, repeats=repeats, reae_group=reae_group
            )
            result.resolution = name
            if end_to_end and result.status == "ok":
                try:
                    for _ in range(repeats):
                        result.e2e_fps_runs.append(bench_end_to_end(model, wh, chunk, scale, chunks, reae_group))
                    result.e2e_fps = median(result.e2e_fps_runs)
                except Exception as exc:  # noqa: BLE001
                    if classify(exc).kind != MEMORY:  # the memory check's refusal counts too
                        raise
                    result.status, result.error = "oom", "out of memory in the end-to-end run"
            results.append(result)
            if on_result:
                on_result(result)
    return results


def noise_warnings(results: list[BenchResult]) -> list[str]:
    """One line per setting whose figures cannot be trusted as they are: repeats far apart,
    or the whole pipeline measured faster than the model inside it."""
    lines = []
    for r in results:
        where = f"{r.resolution} chunk {r.chunk}"
        for label, runs in (("model", r.model_fps_runs), ("end-to-end", r.e2e_fps_runs)):
            wide = spread(runs)
            if wide is not None and wide > WIDE_SPREAD:
                lines.append(
                    f"{where}: {label} fps varied {min(runs):.2f}-{max(runs):.2f} over {len(runs)} repeats "
                    f"({wide:.0%} of the median): the machine is busy or throttling; close other work or add --repeats"
                )
        if r.model_fps and r.e2e_fps and r.e2e_fps > r.model_fps * (1 + WIDE_SPREAD):
            lines.append(f"{where}: end-to-end ({r.e2e_fps:.2f} fps) faster than the model alone ({r.model_fps:.2f}): the timings are noisy")
    return lines


def results_json(env: dict, results: list[BenchResult], settings: dict) -> dict:
    return {"environment": env, "settings": settings, "results": [asdict(r) for r in results]}
