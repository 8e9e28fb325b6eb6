"""Killed runs are redone and concurrent runs never restore the same video twice."""

from __future__ import annotations

import json
import os
import signal
import time

from swiftvr_cli.batch.lock import VideoLock, lock_path
from tests.batch.helpers import batch, batch_process, frames_of, make_tree, manifest_lines, statuses, temp_files

TREE = {"a.mp4": 9, "b.mp4": 6, "c.mp4": 5, "d.mp4": 5, "e.mp4": 5, "f.mp4": 5}


def test_running_entry_stale_temp_and_output_of_a_killed_run_are_redone(tmp_path, fast_weights):
    src = make_tree(tmp_path / "in", {"a.mp4": 9})
    out = tmp_path / "out"
    assert batch(src, out, fast_weights)[0] == 0
    # what a run killed while redoing a.mp4 leaves: a 'running' line, a temp file, and the old output
    entry = {**manifest_lines(out)[-1], "status": "running"}
    with open(out / ".swiftvr" / "manifest.jsonl", "a") as f:
        f.write(json.dumps(entry) + "\n" + '{"input": "a.mp4", "status": "ok", "outp')  # torn last line
    (out / ".a.swiftvr-tmp-99999.mp4").write_bytes(b"half a video")
    code, summary, _ = batch(src, out, fast_weights)
    assert code == 0 and statuses(summary) == {"a.mp4": "ok"}
    assert not temp_files(out)
    assert len(frames_of(out / "a.mp4")) == 9
    assert [line["status"] for line in manifest_lines_tolerant(out)][-2:] == ["running", "ok"]


def manifest_lines_tolerant(out):
    lines = []
    for line in (out / ".swiftvr" / "manifest.jsonl").read_text().splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            pass
    return lines


def test_output_without_manifest_entry_is_not_taken_as_done(tmp_path, fast_weights):
    src = make_tree(tmp_path / "in", {"a.mp4": 5})
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.mp4").write_bytes(b"something that is not our output")
    code, summary, _ = batch(src, out, fast_weights)
    assert code == 0 and statuses(summary) == {"a.mp4": "ok"}
    assert len(frames_of(out / "a.mp4")) == 5


def test_locked_video_is_busy(tmp_path, fast_weights):
    src = make_tree(tmp_path / "in", {"a.mp4": 5, "b.mp4": 5})
    out = tmp_path / "out"
    held = VideoLock.try_acquire(lock_path(str(out / ".swiftvr"), "a.mp4"))
    try:
        code, summary, _ = batch(src, out, fast_weights)
    finally:
        held.release()
    assert code == 0 and statuses(summary) == {"a.mp4": "busy", "b.mp4": "ok"}
    assert statuses(batch(src, out, fast_weights)[1]) == {"a.mp4": "ok", "b.mp4": "skipped"}


def test_killed_process_is_redone_on_the_next_run(tmp_path, fast_weights):
    src = make_tree(tmp_path / "in", TREE)
    out = tmp_path / "out"
    proc = batch_process(src, out, fast_weights)
    manifest = out / ".swiftvr" / "manifest.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if manifest.exists() and '"running"' in manifest.read_text():
            break
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = [line for line in manifest_lines(out) if line["status"] == "ok"]
    assert len(finished) < len(TREE)  # it was killed part-way

    code, summary, _ = batch(src, out, fast_weights)
    assert code == 0
    assert set(statuses(summary).values()) <= {"ok", "skipped"} and "ok" in statuses(summary).values()
    for rel, frames in TREE.items():
        assert len(frames_of(out / rel)) == frames
    assert not temp_files(out)
    latest = {line["input"]: line["status"] for line in manifest_lines(out)}
    assert set(latest.values()) == {"ok"}


def test_two_concurrent_runs_restore_each_video_exactly_once(tmp_path, fast_weights):
    src = make_tree(tmp_path / "in", TREE)
    out = tmp_path / "out"
    procs = [batch_process(src, out, fast_weights) for _ in range(2)]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [r[1] for r in results]
    summaries = [json.loads(stdout) for stdout, _ in results]
    done = [{k for k, v in statuses(s).items() if v == "ok"} for s in summaries]
    assert done[0] | done[1] == set(TREE) and not done[0] & done[1]
    for summary, mine in zip(summaries, done):
        assert set(statuses(summary).values()) <= {"ok", "skipped", "busy"}
    lines = manifest_lines(out)
    for rel, frames in TREE.items():
        assert [line["status"] for line in lines if line["input"] == rel] == ["running", "ok"]
        assert len(frames_of(out / rel)) == frames
    assert not temp_files(out)
