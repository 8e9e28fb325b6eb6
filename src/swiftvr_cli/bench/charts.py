"""Bench output: a Rich table, and a PNG of FPS and memory vs resolution per chunk size."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from .sweep import BenchResult, spread


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _fps(value: float | None, runs: list[float]) -> str:
    """The median, with the spread of the repeats when there are several."""
    wide = spread(runs)
    return _fmt(value, 2) + ("" if wide is None else f" ±{wide / 2:.0%}")


def results_table(results: list[BenchResult], title: str) -> Table:
    table = Table(title=title)
    for column in ("resolution", "chunk", "status", "model fps", "e2e fps", "encode ms/f", "dit ms/f", "decode ms/f", "peak MB"):
        table.add_column(column, justify="right")
    for r in results:
        parts = r.part_ms_per_frame
        table.add_row(
            f"{r.resolution} ({r.width}x{r.height})", str(r.chunk), r.status, _fps(r.model_fps, r.model_fps_runs), _fps(r.e2e_fps, r.e2e_fps_runs),
            _fmt(parts.get("reae_encode"), 2), _fmt(parts.get("dit"), 2), _fmt(parts.get("reae_decode"), 2),
            _fmt(r.peak_memory_mb, 0),
        )  # fmt: skip
    return table


def plot_results(results: list[BenchResult], path: Path, title: str) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, (fps_ax, mem_ax) = plt.subplots(1, 2, figsize=(11, 4))
    for chunk in sorted({r.chunk for r in results}):
        rows = [r for r in results if r.chunk == chunk and r.status == "ok"]
        if not rows:
            continue
        pixels = [r.width * r.height / 1e6 for r in rows]
        fps_ax.plot(pixels, [r.model_fps for r in rows], marker="o", label=f"chunk {chunk}")
        mem_ax.plot(pixels, [r.peak_memory_mb / 1024 for r in rows], marker="o", label=f"chunk {chunk}")
    fps_ax.set(xlabel="output megapixels", ylabel="model FPS", title=title)
    mem_ax.set(xlabel="output megapixels", ylabel="peak memory (GiB)")
    fps_ax.legend()
    mem_ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
