"""Shared helpers for the batch tests: tiny input trees, running the CLI, reading results."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
from typer.testing import CliRunner

from swiftvr_cli.cli import app
from tests import media

SIZE = (32, 24)
FAST = ["--chunk", "8", "--scale", "2", "--quiet"]
SWIFTVR = [sys.executable, "-m", "swiftvr_cli.cli"]


def make_tree(root: Path, names: dict[str, int]) -> Path:
    """Videos named by relative path -> frame count (tiny, 32x24)."""
    for rel, frames in names.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        media.make_video(path, frames=frames, size=SIZE, audio=rel.endswith(".mkv"))
    return root


def batch(in_dir: Path, out_dir: Path, weights: str, *extra: str):
    """Run `swiftvr batch` in-process; returns (exit code, parsed --json summary or None, stderr)."""
    result = CliRunner().invoke(app, ["batch", str(in_dir), str(out_dir), "--weights", weights, *FAST, "--json", *extra])
    summary = json.loads(result.stdout.strip().splitlines()[-1]) if result.stdout.strip() else None
    return result.exit_code, summary, result.stderr


def batch_process(in_dir: Path, out_dir: Path, weights: str, *extra: str) -> subprocess.Popen:
    """`swiftvr batch` as a separate process (stdout: the JSON summary)."""
    args = [*SWIFTVR, "batch", str(in_dir), str(out_dir), "--weights", weights, *FAST, "--json", "--threads", "1", *extra]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2])


def statuses(summary: dict) -> dict[str, str]:
    return {item["input"]: item["status"] for item in summary["items"]}


def manifest_lines(out_dir: Path) -> list[dict]:
    path = out_dir / ".swiftvr" / "manifest.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def frames_of(path: str | os.PathLike) -> np.ndarray:
    with av.open(os.fspath(path)) as c:
        return np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])


def pts_of(path: str | os.PathLike) -> list[int]:
    with av.open(os.fspath(path)) as c:
        return [f.pts for f in c.decode(video=0)]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def temp_files(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob("*") if "swiftvr-tmp" in p.name]
