"""The Ray engine gives what the local engine gives: same frames, counts and timestamps."""

from __future__ import annotations

import pytest
import torch

from tests.batch.helpers import batch, frames_of, make_tree, manifest_lines, pts_of, psnr, statuses

ray = pytest.importorskip("ray")

TREE = {"a.mp4": 9, "b.mkv": 6, "sub/c.mp4": 5, "long.mkv": 40}
# long.mkv (1.6 s) -> 3 segments; lossless encoding and one thread everywhere isolate the model
SPLIT = ["--segment-seconds", "0.4", "--crf", "0", "-r", "--threads", "1"]


@pytest.fixture(scope="module")
def local_ray():
    threads = torch.get_num_threads()  # the in-process local run sets 1 thread
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()
    torch.set_num_threads(threads)


def test_ray_batch_matches_local_batch(tmp_path, fast_weights, local_ray):
    src = make_tree(tmp_path / "in", TREE)
    code, summary, stderr = batch(src, tmp_path / "ray", fast_weights, "--engine", "ray", *SPLIT)
    assert code == 0, stderr
    assert set(statuses(summary).values()) == {"ok"}
    by_input = {item["input"]: item for item in summary["items"]}
    assert by_input["long.mkv"]["segments"] == 3 and by_input["a.mp4"]["segments"] is None
    assert [line.get("segments") for line in manifest_lines(tmp_path / "ray") if line["input"] == "long.mkv"] == [None, 3]
    assert not list((tmp_path / "ray" / ".swiftvr" / "segments").iterdir())  # segment files cleaned up

    code, _, _ = batch(src, tmp_path / "local", fast_weights, "--crf", "0", "-r", "--threads", "1")
    assert code == 0
    for rel, frames in TREE.items():
        ray_out, local_out = tmp_path / "ray" / rel, tmp_path / "local" / rel
        assert pts_of(ray_out) == pts_of(local_out) == pts_of(src / rel)
        a, b = frames_of(ray_out), frames_of(local_out)
        assert len(a) == len(b) == frames
        if rel == "long.mkv":
            assert psnr(a, b) > 35  # measured: identical frames (inf dB) with one thread everywhere
        else:
            assert (a == b).all()

    code, summary, _ = batch(src, tmp_path / "ray", fast_weights, "--engine", "ray", *SPLIT)
    assert code == 0 and set(statuses(summary).values()) == {"skipped"}


def test_ray_workers_without_a_model_stop_the_batch_cleanly(tmp_path, fast_weights, local_ray):
    src = make_tree(tmp_path / "in", {"a.mp4": 5})
    code, _, stderr = batch(src, tmp_path / "out", str(tmp_path / "missing.json"), "--engine", "ray")
    assert code == 5 and "missing.json" in stderr
    assert [line["status"] for line in manifest_lines(tmp_path / "out")] == ["running", "aborted"]
    code, summary, _ = batch(src, tmp_path / "out", fast_weights, "--engine", "ray")
    assert code == 0 and statuses(summary) == {"a.mp4": "ok"}
