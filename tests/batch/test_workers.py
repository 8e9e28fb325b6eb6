"""Worker layout and worker failures, without starting Ray."""

from __future__ import annotations

import pytest

from swiftvr_cli.batch.ray_engine import RayOptions, worker_resources
from swiftvr_cli.batch.worker import RestoreWorker, WorkItem, WorkerSpec
from swiftvr_cli.io import probe
from swiftvr_cli.pipeline.runner import RestoreSettings
from tests import media
from tests.batch.helpers import batch


def test_one_worker_per_gpu_or_one_single_threaded_worker_per_cpu():
    spec = WorkerSpec()
    assert worker_resources({"CPU": 16, "GPU": 4}, RayOptions(), spec) == ({"num_gpus": 1.0, "num_cpus": 1}, 4, spec)
    assert worker_resources({"CPU": 16, "GPU": 4}, RayOptions(num_gpus_per_worker=0.5), spec)[1] == 8
    resources, count, cpu_spec = worker_resources({"CPU": 6}, RayOptions(), spec)
    assert resources == {"num_cpus": 1} and count == 6 and (cpu_spec.device, cpu_spec.threads) == ("cpu", 1)
    with pytest.raises(ValueError, match="no|0 GPUs"):
        worker_resources({"CPU": 6}, RayOptions(), WorkerSpec(device="cuda"))


def test_worker_reports_failures_as_data(tmp_path, fast_weights):
    broken = RestoreWorker(WorkerSpec(weights=str(tmp_path / "missing.json")), RestoreSettings())
    assert broken.ready()["error"][0] == "WeightsError"

    src = media.make_video(tmp_path / "a.mp4", frames=5, size=(32, 24))
    worker = RestoreWorker(WorkerSpec(weights=fast_weights), RestoreSettings(scale=2, clip_len=8, overwrite=True))
    info = probe(src)
    good = worker.run(WorkItem("a.mp4", src, str(tmp_path / "out.mp4"), info, 5))
    assert (good.error, good.frames) == (None, 5)
    bad = worker.run(WorkItem("a.mp4", str(tmp_path / "gone.mp4"), str(tmp_path / "x.mp4"), info, 5))
    assert bad.error_kind == "input" and "not found" in bad.error


def test_ray_only_options_need_the_ray_engine(tmp_path, fast_weights):
    (tmp_path / "in").mkdir()
    code, _, stderr = batch(tmp_path / "in", tmp_path / "out", fast_weights, "--segment-seconds", "60")
    assert code == 2 and "--engine ray" in stderr


def test_a_memory_check_refusal_keeps_its_advice_in_batch(tmp_path, fast_weights):
    """MemoryBudgetError is a MemoryError: batch once replaced its advice with the generic out-of-memory line."""
    src = media.make_video(tmp_path / "a.mp4", frames=5, size=(32, 24))
    worker = RestoreWorker(WorkerSpec(weights=fast_weights), RestoreSettings(scale=2, clip_len=8, overwrite=True, max_memory=1024))
    result = worker.run(WorkItem("a.mp4", src, str(tmp_path / "out.mp4"), probe(src), 5))
    assert result.error_kind == "memory"
    assert result.error.startswith("not enough memory:") and "--max-memory allows" in result.error
    assert not (tmp_path / "out.mp4").exists()
