"""`swiftvr bench` repeats each measurement, shows the spread, flags noisy figures and
prints its table whole."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from swiftvr_cli.bench.charts import results_table
from swiftvr_cli.bench.sweep import BenchResult, median, noise_warnings, spread
from swiftvr_cli.cli import app


def _result(model_runs, e2e_runs=()) -> BenchResult:
    r = BenchResult("360p", 640, 360, 24, "ok", model_fps_runs=list(model_runs), e2e_fps_runs=list(e2e_runs))
    r.model_fps = median(r.model_fps_runs)
    r.e2e_fps = median(r.e2e_fps_runs) if e2e_runs else None
    return r


def test_spread_and_median():
    assert median([3.0, 1.0, 2.0]) == 2.0 and median([1.0, 3.0]) == 2.0
    assert spread([10.0, 12.0, 11.0]) == 2.0 / 11.0
    assert spread([10.0]) is None


def test_wide_spread_and_an_impossible_end_to_end_figure_are_flagged():
    assert noise_warnings([_result([40.0, 41.0, 40.5], [30.0, 30.5, 31.0])]) == []
    wide = noise_warnings([_result([30.0, 45.0, 40.0])])
    assert len(wide) == 1 and "model fps varied 30.00-45.00 over 3 repeats" in wide[0]
    faster = noise_warnings([_result([20.0, 20.1, 20.2], [30.0, 30.1, 30.2])])
    assert len(faster) == 1 and "faster than the model alone" in faster[0]


def test_the_table_shows_the_spread():
    from rich.console import Console

    console = Console(width=300, record=True)
    console.print(results_table([_result([30.0, 45.0, 40.0])], "t"))
    assert "40.00 ±19%" in console.export_text()


def test_bench_repeats_and_prints_the_whole_table_at_80_columns(tmp_path, fast_weights):
    out = tmp_path / "bench.json"
    args = ["bench", "--weights", fast_weights, "--res", "32x32", "--chunk", "4", "--chunks", "1", "--repeats", "3", "--model-only", "--device", "cpu", "--json", str(out)]
    result = CliRunner().invoke(app, args, terminal_width=80)
    assert result.exit_code == 0, result.output
    row = json.loads(out.read_text())["results"][0]
    assert len(row["model_fps_runs"]) == 3 and row["model_fps"] == median(row["model_fps_runs"])
    assert "peak MB" in result.stdout and "…" not in result.stdout  # not cut at 80 columns
