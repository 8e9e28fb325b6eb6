"""`swiftvr batch` with the local engine, as a cron user runs it."""

from __future__ import annotations

import os

import pytest

import swiftvr_cli.batch.local as local_engine
from tests import media
from tests.batch.helpers import batch, frames_of, make_tree, manifest_lines, pts_of, statuses, temp_files

TREE = {"a.mp4": 9, "b.mkv": 6, "sub/c.mp4": 5}


@pytest.fixture
def tree(tmp_path):
    return make_tree(tmp_path / "in", TREE)


def forbid_work(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("nothing should be restored or loaded")

    monkeypatch.setattr(local_engine, "restore_video", fail)
    monkeypatch.setattr("swiftvr_cli.model.loading.load_model", fail)


def test_first_run_restores_all_mirrored_second_run_does_nothing(tree, tmp_path, fast_weights, monkeypatch):
    out = tmp_path / "out"
    code, summary, _ = batch(tree, out, fast_weights, "--recursive")
    assert code == 0
    assert statuses(summary) == {"a.mp4": "ok", "b.mkv": "ok", "sub/c.mp4": "ok"}
    for rel, frames in TREE.items():
        assert len(frames_of(out / rel)) == frames
        assert pts_of(out / rel) == pts_of(tree / rel)
    assert media.packets_of(out / "b.mkv", "audio") == media.packets_of(tree / "b.mkv", "audio")
    lines = manifest_lines(out)
    assert [(line["input"], line["status"]) for line in lines] == [
        ("a.mp4", "running"), ("a.mp4", "ok"), ("b.mkv", "running"), ("b.mkv", "ok"), ("sub/c.mp4", "running"), ("sub/c.mp4", "ok"),
    ]  # fmt: skip
    ok = lines[1]
    assert ok["output"] == "a.mp4" and ok["frames"] == 9 and len(ok["sha256"]) == 64 and ok["settings"]["scale"] == 2.0

    forbid_work(monkeypatch)
    code, summary, _ = batch(tree, out, fast_weights, "--recursive")
    assert code == 0
    assert set(statuses(summary).values()) == {"skipped"}
    assert len(manifest_lines(out)) == len(lines)  # a run with nothing to do writes nothing


def test_changed_input_settings_or_lost_output_are_redone(tree, tmp_path, fast_weights):
    out = tmp_path / "out"
    assert batch(tree, out, fast_weights)[0] == 0
    os.utime(tree / "a.mp4", ns=(1, 1))  # touched, same content: still done (sha256 matches)
    media.make_video(tree / "b.mkv", frames=7, size=(32, 24))  # replaced
    _, summary, _ = batch(tree, out, fast_weights)
    assert statuses(summary) == {"a.mp4": "skipped", "b.mkv": "ok"}
    assert len(frames_of(out / "b.mkv")) == 7

    (out / "a.mp4").unlink()
    _, summary, _ = batch(tree, out, fast_weights)
    assert statuses(summary) == {"a.mp4": "ok", "b.mkv": "skipped"}

    _, summary, _ = batch(tree, out, fast_weights, "--crf", "30")  # other settings: other outputs
    assert set(statuses(summary).values()) == {"ok"}


def test_failed_input_is_reported_batch_continues_and_is_not_retried(tree, tmp_path, fast_weights):
    (tree / "broken.mp4").write_bytes(b"not a video at all")
    out = tmp_path / "out"
    code, summary, stderr = batch(tree, out, fast_weights)
    assert code == 7
    assert statuses(summary) == {"a.mp4": "ok", "b.mkv": "ok", "broken.mp4": "failed"}
    assert summary["counts"]["failed"] == 1
    assert "broken.mp4" in stderr and "not a video" in stderr
    assert not (out / "broken.mp4").exists() and not temp_files(out)

    code, summary, _ = batch(tree, out, fast_weights)  # cron again: no retry of a broken file
    assert code == 0 and statuses(summary)["broken.mp4"] == "previously-failed"

    code, summary, _ = batch(tree, out, fast_weights, "--retry-failed")
    assert code == 7 and statuses(summary)["broken.mp4"] == "failed"

    media.make_video(tree / "broken.mp4", frames=5, size=(32, 24))  # fixed upstream: retried by itself
    code, summary, _ = batch(tree, out, fast_weights)
    assert code == 0 and statuses(summary) == {"a.mp4": "skipped", "b.mkv": "skipped", "broken.mp4": "ok"}


def test_shards_split_the_work_with_no_overlap(tree, tmp_path, fast_weights):
    make_tree(tree, {"d.mp4": 5, "e.mp4": 5})
    out = tmp_path / "out"
    done = []
    for i in range(2):
        code, summary, _ = batch(tree, out, fast_weights, "-r", "--shard", f"{i}/2")
        assert code == 0
        done.append({k for k, v in statuses(summary).items() if v == "ok"})
    assert done[0] | done[1] == {"a.mp4", "b.mkv", "sub/c.mp4", "d.mp4", "e.mp4"} and not done[0] & done[1]
    _, summary, _ = batch(tree, out, fast_weights, "-r", "--shard", "1/2")
    assert set(statuses(summary)) == done[1] and set(statuses(summary).values()) == {"skipped"}


def test_suffix_and_container(tree, tmp_path, fast_weights):
    out = tmp_path / "out"
    code, summary, _ = batch(tree, out, fast_weights, "--suffix", "_x2", "--ext", "mkv", "--glob", "*.mp4")
    assert code == 0 and [i["output"] for i in summary["items"]] == ["a_x2.mkv"]
    assert len(frames_of(out / "a_x2.mkv")) == 9


def test_unusable_weights_stop_the_batch_and_the_video_is_redone_later(tree, tmp_path, fast_weights):
    out = tmp_path / "out"
    code, _, stderr = batch(tree, out, str(tmp_path / "missing.json"))
    assert code == 5 and "missing.json" in stderr
    assert [line["status"] for line in manifest_lines(out)] == ["running", "aborted"]
    code, summary, _ = batch(tree, out, fast_weights)
    assert code == 0 and set(statuses(summary).values()) == {"ok"}


def test_compile_without_a_compiler_notes_it_once_and_restores_everything(tree, tmp_path, fast_weights, monkeypatch, one_torch_thread):
    from typer.testing import CliRunner

    from swiftvr_cli.cli import app
    from swiftvr_cli.model import compiled

    monkeypatch.setattr(compiled.shutil, "which", lambda name: None)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["batch", str(tree), str(out), "--weights", fast_weights, "--chunk", "8", "--scale", "2", "--compile"])  # no --threads: in-process it would leak into later tests
    assert result.exit_code == 0, result.output
    assert result.stderr.count("note: --compile: torch.compile cannot run on cpu: no C++ compiler found") == 1
    assert {p.name for p in out.iterdir() if not p.name.startswith(".")} == {"a.mp4", "b.mkv"}
