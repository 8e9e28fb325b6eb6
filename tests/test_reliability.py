"""Reliability, as a user sees it (issue 7): bad inputs, interruptions, resume, long videos, memory.

Every case runs the real CLI. A failure must give one clear line on stderr
and a distinct exit code, leave no output or temporary file behind and not
touch the input; a valid but unusual input must give a correct output.
The inputs are generated at test time by ``tests/data/make_corpus.py``.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from swiftvr_cli.cli import app
from tests import media
from tests.data import make_corpus

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> dict[str, Path]:
    return make_corpus.build(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(autouse=True)
def _one_torch_thread(one_torch_thread):
    """Every test here runs with one torch thread (see tests/conftest.py)."""


@pytest.fixture
def out_dir(tmp_path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def restore(src: str | Path, out: str | Path, *args: str, weights: str, stdin: bytes | None = None):
    argv = ["restore", str(src), str(out), "--weights", weights, "--chunk", "8", "--scale", "2", "--quiet", *args]
    return runner.invoke(app, argv, input=stdin)


def state_of(path: Path) -> tuple:
    """What must not change: a file's bytes and mtime, or a folder's listing."""
    if path.is_dir():
        return ("dir", sorted(os.listdir(path)))
    if not path.exists():
        return ("missing",)
    return ("file", hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)


def error_lines(result) -> list[str]:
    assert "Traceback" not in result.output, result.output
    return [line for line in result.stderr.splitlines() if line.strip()]


def one_error_line(result) -> str:
    lines = error_lines(result)
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def notes(result) -> str:
    return " ".join(result.stderr.split())  # notes may wrap at the console width


def decoded(path: Path) -> list[av.VideoFrame]:
    with av.open(str(path)) as container:
        return list(container.decode(video=0))


def pts_of(path: Path) -> list[int]:
    return [f.pts for f in decoded(path)]


def no_pipeline_threads() -> bool:
    return not any(t.name.startswith("swiftvr-") and t.is_alive() for t in threading.enumerate())


# --- bad inputs: one line, a distinct code, nothing written, input untouched --------------------------

BAD_INPUTS = [
    ("missing", [], 3, "file not found"),
    ("directory", [], 3, "no images"),
    ("zero_byte", [], 3, "file is empty"),
    ("text_as_mp4", [], 3, "not a video FFmpeg can read"),
    ("truncated", [], 3, "the file is truncated at frame 9"),
    ("corrupt", [], 3, "damaged data at frame 11"),
    ("audio_only", [], 3, "no video stream"),
    ("two_video_streams", ["--stream", "5"], 3, "stream 5 is not a video stream (video streams: 0, 1)"),
    ("huge_8000x8000", [], 6, "not enough memory: 8000x8000 -> 16000x16000"),
    ("huge_8000x8000", ["--scale", "1", "--max-memory", "2G"], 6, "--max-memory allows 2.0 GiB"),
    ("bad_y4m", ["--stdin"], 3, "invalid YUV4MPEG2 header 'YUV4MPEG2 W-5 Hbanana F25:1'"),
    ("y4m_cut", ["--stdin"], 3, "stdin: the stream ended in the middle of frame 5 (5 complete frames received)"),
]


@pytest.mark.parametrize("case, args, code, message", BAD_INPUTS, ids=[f"{c[0]}{'+' if c[1] else ''}" for c in BAD_INPUTS])
def test_bad_input(corpus, out_dir, fast_weights, case, args, code, message):
    src = corpus[case]
    before = state_of(src)
    stdin = None
    if "--stdin" in args:
        args, stdin, src = [a for a in args if a != "--stdin"], src.read_bytes(), "-"
    started = time.monotonic()
    result = restore(src, out_dir / "out.mp4", *args, weights=fast_weights, stdin=stdin)
    assert result.exit_code == code, result.output
    assert message in one_error_line(result)
    assert list(out_dir.iterdir()) == []
    assert state_of(corpus[case]) == before
    if case.startswith("huge"):  # refused from the header: no 64-megapixel frame was decoded or restored
        assert time.monotonic() - started < 5
        assert "--scale" in result.stderr


def test_damaged_input_hints_at_skip_corrupt(corpus, out_dir, fast_weights):
    result = restore(corpus["corrupt"], out_dir / "out.mp4", weights=fast_weights)
    assert "--skip-corrupt replaces damaged frames" in one_error_line(result)


def test_unreadable_input(corpus, out_dir, fast_weights, monkeypatch):
    src = corpus["unreadable"]
    before = state_of(src)
    if os.geteuid() == 0:  # root reads through chmod 000: give it the EACCES any other user would get
        real_open = av.open

        def deny(file, *args, **kwargs):
            if os.fspath(file) == str(src):
                raise PermissionError(errno.EACCES, "Permission denied", str(src))
            return real_open(file, *args, **kwargs)

        monkeypatch.setattr(av, "open", deny)
    else:
        src.chmod(0)
    try:
        result = restore(src, out_dir / "out.mp4", weights=fast_weights)
    finally:
        src.chmod(0o644)
    assert result.exit_code == 3
    assert "permission denied" in one_error_line(result)
    assert list(out_dir.iterdir()) == []
    assert state_of(src) == before


# --- valid but unusual inputs: a correct output ------------------------------------------------------


def _stream(path: Path):
    container = av.open(str(path))
    return container, container.streams.video[0]


def check_one_frame(out: Path, corpus, result) -> None:
    assert len(decoded(out)) == 1


def check_odd_size(out: Path, corpus, result) -> None:
    frames = decoded(out)
    assert len(frames) == 2 and (frames[0].width, frames[0].height) == (333, 187)
    assert "odd-sized" in notes(result)


def check_tiny(out: Path, corpus, result) -> None:
    frames = decoded(out)
    assert len(frames) == 3 and (frames[0].width, frames[0].height) == (1, 1)


def check_rotated(out: Path, corpus, result) -> None:
    def rotation(path: Path) -> int:
        with av.open(str(path)) as container:
            assert len(container.streams.audio) == 1
            return round(next(container.decode(video=0)).rotation)

    assert rotation(out) == rotation(corpus["rotated"]) != 0  # the display matrix survived


def check_interlaced(out: Path, corpus, result) -> None:
    container, stream = _stream(out)
    with container:
        assert stream.codec_context.field_order == 2  # top field first, as the source
    assert len(decoded(out)) == 6 and "interlaced input" in notes(result)


def check_hevc_10bit(out: Path, corpus, result) -> None:
    container, stream = _stream(out)
    with container:
        assert stream.codec_context.name == "hevc" and stream.codec_context.pix_fmt == "yuv420p10le"
    assert len(decoded(out)) == 5


def check_vfr(out: Path, corpus, result) -> None:
    assert pts_of(out) == pts_of(corpus["vfr"])


def check_first_stream(out: Path, corpus, result) -> None:
    frames = decoded(out)
    assert len(frames) == 6 and (frames[0].width, frames[0].height) == (96, 64)  # stream 0 is 48x32


def check_second_stream(out: Path, corpus, result) -> None:
    frames = decoded(out)
    assert len(frames) == 6 and (frames[0].width, frames[0].height) == (64, 96)  # stream 1 is 32x48


def check_corrupt_skipped(out: Path, corpus, result) -> None:
    assert pts_of(out) == pts_of(corpus["clean"])  # every frame, every timestamp
    assert "--skip-corrupt: 1 of 20 frames were damaged (frame 11) and replaced by the previous good frame" in notes(result)


def check_truncated_skipped(out: Path, corpus, result) -> None:
    # once intermittent (10 frames) while the corpus made this clip in-process; on failure the
    # notes and timestamps say which frame went missing
    assert len(decoded(out)) == 11, (notes(result), pts_of(out))
    assert "1 of 11 frames were damaged (frame 9)" in notes(result)
    assert "file is truncated after frame 10" in notes(result)


def check_y4m_cut_skipped(out: Path, corpus, result) -> None:
    assert len(decoded(out)) == 5
    assert "stdin ended in the middle of frame 5; the 5 complete frames were restored" in notes(result)


VALID_INPUTS = [
    ("one_frame", "out.mp4", [], check_one_frame),
    ("odd_333x187", "out.mp4", ["--scale", "1"], check_odd_size),
    ("tiny_1x1", "out.mkv", ["--scale", "1"], check_tiny),
    ("rotated", "out.mp4", [], check_rotated),
    ("interlaced", "out.mkv", ["--scale", "1"], check_interlaced),
    ("hevc_10bit", "out.mkv", ["--scale", "1", "--codec", "libx265", "--pix-fmt", "yuv420p10le"], check_hevc_10bit),
    ("vfr", "out.mkv", [], check_vfr),
    ("two_video_streams", "out.mkv", [], check_first_stream),
    ("two_video_streams", "out.mkv", ["--stream", "1"], check_second_stream),
    ("corrupt", "out.mp4", ["--skip-corrupt"], check_corrupt_skipped),
    ("truncated", "out.mp4", ["--skip-corrupt"], check_truncated_skipped),
    ("y4m_cut", "out.mkv", ["--stdin", "--skip-corrupt"], check_y4m_cut_skipped),
]


@pytest.mark.parametrize("case, name, args, check", VALID_INPUTS, ids=[f"{c[0]}{'+' + c[2][-1] if c[2] else ''}" for c in VALID_INPUTS])
def test_unusual_but_valid_input(corpus, out_dir, fast_weights, case, name, args, check):
    src = corpus[case]
    before = state_of(src)
    stdin = None
    if "--stdin" in args:
        args, stdin, src = [a for a in args if a != "--stdin"], src.read_bytes(), "-"
    result = restore(src, out_dir / name, *args, weights=fast_weights, stdin=stdin)
    assert result.exit_code == 0, result.output
    assert [p.name for p in out_dir.iterdir()] == [name]
    check(out_dir / name, corpus, result)
    assert state_of(corpus[case]) == before


def test_tiny_input_upscaled(corpus, out_dir, fast_weights):
    result = restore(corpus["tiny_1x1"], out_dir / "out.mp4", "--scale", "4", weights=fast_weights)
    assert result.exit_code == 0, result.output
    frames = decoded(out_dir / "out.mp4")
    assert len(frames) == 3 and (frames[0].width, frames[0].height) == (4, 4)


# --- outputs: missing or read-only folder, disk full, stdout closed ---------------------------------


def test_missing_output_folder(corpus, tmp_path, fast_weights):
    result = restore(corpus["clip"], tmp_path / "nope" / "out.mp4", weights=fast_weights)
    assert result.exit_code == 4
    assert "does not exist" in one_error_line(result)
    assert not (tmp_path / "nope").exists()


def test_read_only_output_folder(corpus, tmp_path, fast_weights):
    if os.geteuid() == 0:
        folder = Path("/proc")  # root may write anywhere chmod allows nothing; procfs refuses new files even to root
    else:
        folder = tmp_path / "locked"
        folder.mkdir()
        folder.chmod(0o555)
    try:
        result = restore(corpus["clip"], folder / "out.mp4", weights=fast_weights)
    finally:
        if folder != Path("/proc"):
            folder.chmod(0o755)
    assert result.exit_code == 4
    assert "is not writable" in one_error_line(result)
    assert not (folder / "out.mp4").exists()
    assert not [n for n in os.listdir(folder) if "swiftvr" in n]


def test_disk_full_removes_partial_output(corpus, out_dir, fast_weights, monkeypatch):
    from swiftvr_cli.io import video_sink

    calls = [0]
    mux = video_sink.ContainerSink._mux_video

    def full_disk(self, packets):
        calls[0] += 1
        if calls[0] == 12:  # part-way through the video
            raise OSError(errno.ENOSPC, "No space left on device")
        return mux(self, packets)

    monkeypatch.setattr(video_sink.ContainerSink, "_mux_video", full_disk)
    src = corpus["clip"]
    before = state_of(src)
    result = restore(src, out_dir / "out.mp4", weights=fast_weights)
    assert result.exit_code == 4
    assert "disk full" in one_error_line(result)
    assert list(out_dir.iterdir()) == []
    assert state_of(src) == before
    assert no_pipeline_threads()


def test_stdout_closed_early_is_quiet(corpus, fast_weights):
    cmd = f"'{PY}' -m swiftvr_cli.cli restore '{corpus['clip']}' - --weights '{fast_weights}' --chunk 8 -q | head -c 1000 > /dev/null"
    proc = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == ""


# --- weights ------------------------------------------------------------------------------------------


def _copy_weights(fast_weights: str, folder: Path) -> tuple[Path, Path]:
    src = Path(fast_weights)
    folder.mkdir()
    json_path, tensors_path = folder / src.name, folder / src.with_suffix(".safetensors").name
    json_path.write_text(src.read_text())
    tensors_path.write_bytes(src.with_suffix(".safetensors").read_bytes())
    return json_path, tensors_path


def _missing(json_path: Path, tensors_path: Path) -> str:
    tensors_path.unlink()
    return f"missing weights file: {tensors_path}"


def _truncated(json_path: Path, tensors_path: Path) -> str:
    data = tensors_path.read_bytes()
    tensors_path.write_bytes(data[: len(data) // 2])
    return f"{tensors_path} does not match the sha256"


def _truncated_unverified(json_path: Path, tensors_path: Path) -> str:
    _truncated(json_path, tensors_path)
    meta = json.loads(json_path.read_text())
    meta.pop("sha256")
    json_path.write_text(json.dumps(meta))
    return f"cannot read weights file {tensors_path}"


def _wrong_shape(json_path: Path, tensors_path: Path) -> str:
    from safetensors.torch import load_file, save_file

    from swiftvr_cli.model.loading import file_sha256

    tensors = load_file(str(tensors_path))
    name = "reae.encoder.0.weight"
    tensors[name] = torch.zeros(3, *tensors[name].shape[1:])
    save_file(tensors, str(tensors_path))
    meta = json.loads(json_path.read_text())
    meta["sha256"] = file_sha256(tensors_path)
    json_path.write_text(json.dumps(meta))
    return f"tensor '{name}' in {tensors_path} has shape [3,"


@pytest.mark.parametrize("damage", [_missing, _truncated, _truncated_unverified, _wrong_shape], ids=lambda f: f.__name__[1:])
def test_bad_weights_name_file_and_tensor(corpus, out_dir, tmp_path, fast_weights, damage):
    json_path, tensors_path = _copy_weights(fast_weights, tmp_path / "weights")
    message = damage(json_path, tensors_path)
    result = restore(corpus["clip"], out_dir / "out.mp4", weights=str(json_path))
    assert result.exit_code == 5
    assert message in one_error_line(result)
    assert list(out_dir.iterdir()) == []


# --- out of memory ------------------------------------------------------------------------------------


GPU_OOM = torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
# what PyTorch's CPU allocator raises when malloc fails (issue 16: it was not taken for out of memory)
CPU_OOM = RuntimeError("[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate memory: "
                       "you tried to allocate 35184372088832 bytes. Error code 12 (Cannot allocate memory)")  # fmt: skip


def _oom_once(monkeypatch, error: Exception = GPU_OOM) -> list[int]:
    from swiftvr_cli.pipeline.restorer import ChunkRestorer

    sizes: list[int] = []
    original = ChunkRestorer.restore

    def restore_chunk(self, frames, kind, state):
        sizes.append(self.clip_len)
        if len(sizes) == 1:
            raise error
        return original(self, frames, kind, state)

    monkeypatch.setattr(ChunkRestorer, "restore", restore_chunk)
    return sizes


@pytest.mark.parametrize("error", [GPU_OOM, CPU_OOM], ids=["cuda", "cpu"])
def test_out_of_memory_says_what_to_lower(corpus, out_dir, fast_weights, monkeypatch, error):
    _oom_once(monkeypatch, error)
    result = restore(corpus["clip"], out_dir / "out.mp4", weights=fast_weights)
    assert result.exit_code == 6
    line = one_error_line(result)
    assert all(option in line for option in ("--chunk", "--scale", "--max-memory", "--auto"))
    assert list(out_dir.iterdir()) == []
    assert no_pipeline_threads()


@pytest.mark.parametrize("error", [GPU_OOM, CPU_OOM], ids=["cuda", "cpu"])
def test_auto_retries_with_a_smaller_chunk(corpus, out_dir, fast_weights, monkeypatch, error):
    sizes = _oom_once(monkeypatch, error)
    result = restore(corpus["clip"], out_dir / "out.mp4", "--auto", weights=fast_weights)
    assert result.exit_code == 0, result.output
    assert sizes[0] == 8 and set(sizes[1:]) == {4}
    assert "--auto: out of memory with --chunk 8; restarted with --chunk 4" in notes(result)
    assert pts_of(out_dir / "out.mp4") == pts_of(corpus["clip"])


def test_auto_fits_the_chunk_to_max_memory(corpus, out_dir, fast_weights):
    from swiftvr_cli.model.loading import load_model
    from swiftvr_cli.pipeline import budget

    model = load_model(fast_weights)
    shape = budget.RunShape(model.cfg, (32, 48), (64, 96), torch.float32, frames=30, prompt_len=model.prompt_len)  # 48x32 at x2
    # the least each chunk needs: one latent per ReAE pass (tried before the chunk is lowered); the whole run's peak
    need8, need4 = (budget.estimate(shape, c, reae_group=1).peak(shape.device) for c in (8, 4))
    limit = str((need4 + need8) // 2 // 1024) + "K"
    refused = restore(corpus["clip"], out_dir / "out.mp4", "--max-memory", limit, weights=fast_weights)
    assert refused.exit_code == 6 and "--chunk 4 needs about" in one_error_line(refused)
    result = restore(corpus["clip"], out_dir / "out.mp4", "--max-memory", limit, "--auto", weights=fast_weights)
    assert result.exit_code == 0, result.output
    assert "using --chunk 4" in notes(result)


def test_max_memory_first_picks_fewer_latents_per_reae_pass(corpus, out_dir, fast_weights, monkeypatch):
    from swiftvr_cli.model.loading import load_model
    from swiftvr_cli.model.swiftvr import SwiftVR
    from swiftvr_cli.pipeline import budget

    model = load_model(fast_weights)
    shape = budget.RunShape(model.cfg, (32, 48), (64, 96), torch.float32, frames=30, prompt_len=model.prompt_len)  # 48x32 at x2
    pair, single = (budget.estimate(shape, 8, reae_group=g).peak(shape.device) for g in (2, 1))
    groups: list[int] = []
    original = SwiftVR.restore_chunk
    monkeypatch.setattr(SwiftVR, "restore_chunk", lambda self, *a, **k: groups.append(k.get("reae_group")) or original(self, *a, **k))
    limit = str((pair + single) // 2 // 1024) + "K"  # the whole chunk (3 latents) and pairs do not fit
    # asked for the whole chunk per pass (on CPU the automatic choice is already one latent)
    result = restore(corpus["clip"], out_dir / "out.mp4", "--max-memory", limit, "--reae-group", "3", weights=fast_weights)
    assert result.exit_code == 0, result.output  # no --auto needed: the output is the same
    assert "decoding 1 latent per ReAE pass" in notes(result) and "--chunk" not in notes(result)
    assert set(groups) == {1} and pts_of(out_dir / "out.mp4") == pts_of(corpus["clip"])


def test_cpu_default_is_one_latent_per_reae_pass_without_a_memory_note(corpus, out_dir, fast_weights, monkeypatch):
    from swiftvr_cli.model.swiftvr import SwiftVR

    groups: list[int] = []
    original = SwiftVR.restore_chunk
    monkeypatch.setattr(SwiftVR, "restore_chunk", lambda self, *a, **k: groups.append(k.get("reae_group")) or original(self, *a, **k))
    result = restore(corpus["clip"], out_dir / "out.mp4", weights=fast_weights)
    assert result.exit_code == 0, result.output
    assert set(groups) == {1} and "ReAE pass" not in notes(result)


def test_max_memory_must_be_readable(corpus, out_dir, fast_weights):
    result = restore(corpus["clip"], out_dir / "out.mp4", "--max-memory", "lots", weights=fast_weights)
    assert result.exit_code == 2 and "--max-memory" in one_error_line(result)


# --- interruptions: SIGINT, SIGTERM, --keep-partial (real processes) ----------------------------------


def slow_cli(delay: float, *args: str) -> subprocess.Popen:
    """The CLI in a subprocess, DELAY seconds per chunk, printing `progress N` lines."""
    return subprocess.Popen([PY, "-m", "tests.slow_cli", str(delay), *args], cwd=ROOT, stderr=subprocess.PIPE, text=True)


def wait_for_progress(proc: subprocess.Popen, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    for line in proc.stderr:
        if line.startswith("progress "):
            return int(line.split()[1])
        assert time.monotonic() < deadline, "no progress"
    raise AssertionError(f"the run ended before any progress (exit {proc.wait()})")


def no_process_writing(target: Path) -> bool:
    """No process (orphaned helper included) still has the target on its command line."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if str(target).encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                return False
        except OSError:
            continue
    return True


@pytest.mark.parametrize("sig, code, word, option", [
    (signal.SIGINT, 130, "interrupted", None),
    (signal.SIGTERM, 143, "terminated", None),
    (signal.SIGTERM, 143, "terminated", "--keep-partial"),
    (signal.SIGINT, 130, "interrupted", "--resume"),
], ids=["sigint", "sigterm", "sigterm-keep-partial", "sigint-resume"])
def test_signal_stops_cleanly(corpus, out_dir, fast_weights, sig, code, word, option):
    target = out_dir / "out.mp4"
    args = ["restore", str(corpus["clip"]), str(target), "--weights", fast_weights, "--chunk", "4", "--threads", "1"]
    proc = slow_cli(0.3, *args, *([option, "--checkpoint-every", "1"] if option == "--resume" else [option] if option else []))
    try:
        done = wait_for_progress(proc)
        proc.send_signal(sig)
        sent = time.monotonic()
        rest = proc.stderr.read()
        assert proc.wait(timeout=30) == code, rest
    finally:
        proc.kill()
    assert time.monotonic() - sent < 5  # every stage stopped within the grace period
    assert rest.splitlines()[0] == word and "Traceback" not in rest
    assert not target.exists() and no_process_writing(target)
    if option == "--keep-partial":
        partial = out_dir / "out.partial.mp4"
        assert [p.name for p in out_dir.iterdir()] == [partial.name]
        kept = len(decoded(partial))
        assert done <= kept < 30 and f"kept the {kept} frames restored so far" in rest
    elif option == "--resume":  # the checkpoints stay for the next run, and the user is told
        assert [p.name for p in out_dir.iterdir()] == [".out.mp4.swiftvr-resume"]
        assert "run again with --resume to continue" in rest
    else:
        assert list(out_dir.iterdir()) == []


# --- resume after SIGKILL ------------------------------------------------------------------------------


def test_resume_after_kill_matches_an_uninterrupted_run(corpus, tmp_path, fast_weights):
    src = corpus["clip"]
    # lossless, CPU float32, one thread: the pixels themselves must match
    common = ["--weights", fast_weights, "--chunk", "4", "--scale", "1", "--crf", "0", "--device", "cpu",
              "--dtype", "float32", "--threads", "1", "--quiet"]  # fmt: skip
    reference = tmp_path / "reference.mp4"
    assert runner.invoke(app, ["restore", str(src), str(reference), *common]).exit_code == 0

    target = tmp_path / "out" / "out.mp4"
    target.parent.mkdir()
    journal = target.parent / ".out.mp4.swiftvr-resume" / "journal.json"
    seed = random.randrange(1 << 30)
    pause = random.Random(seed).uniform(0.0, 0.6)
    proc = slow_cli(0.25, "restore", str(src), str(target), *common, "--resume", "--checkpoint-every", "1")
    try:
        deadline = time.monotonic() + 60
        while not (journal.exists() and json.loads(journal.read_text())["frames_out"] > 0):
            assert proc.poll() is None and time.monotonic() < deadline, f"no checkpoint (seed {seed})"
            time.sleep(0.02)
        time.sleep(pause)  # a random point after the first checkpoint
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        proc.kill()
    assert not target.exists()
    saved = json.loads(journal.read_text())["frames_out"]

    other = runner.invoke(app, ["restore", str(src), str(target), *common, "--resume", "--scale", "2"])
    assert other.exit_code == 4 and "from a different input, model or settings" in one_error_line(other)

    result = runner.invoke(app, ["restore", str(src), str(target), *common, "--resume", "--checkpoint-every", "1"])
    assert result.exit_code == 0, result.output
    resumed_at = int(notes(result).split("resumed at frame ")[1].split()[0])
    assert 0 < resumed_at and resumed_at >= saved, f"seed {seed}"
    assert [p.name for p in target.parent.iterdir()] == ["out.mp4"]  # work folder gone
    ours, theirs = decoded(target), decoded(reference)
    assert [f.pts for f in ours] == [f.pts for f in theirs] == pts_of(src)
    for a, b in zip(ours, theirs):
        assert np.array_equal(a.to_ndarray(), b.to_ndarray()), f"frame {a.pts} differs (seed {seed})"
    assert media.packets_of(target, "audio") == media.packets_of(src, "audio")


def test_stale_resume_folder(corpus, out_dir, fast_weights):
    folder = out_dir / ".out.mp4.swiftvr-resume"
    folder.mkdir()
    (folder / "journal.json").write_text(json.dumps({"fingerprint": "another run", "segments": ["seg-00000.mp4"]}))
    plain = restore(corpus["clip"], out_dir / "other.mp4", weights=fast_weights)
    assert plain.exit_code == 0 and folder.exists()  # another output's checkpoints are left alone
    reminder = restore(corpus["clip"], out_dir / "out.mp4", weights=fast_weights)
    assert reminder.exit_code == 0 and "add --resume to continue it" in notes(reminder) and folder.exists()
    (out_dir / "out.mp4").unlink()
    refused = restore(corpus["clip"], out_dir / "out.mp4", "--resume", weights=fast_weights)
    assert refused.exit_code == 4 and "from a different input, model or settings" in one_error_line(refused)
    assert "add --overwrite to discard it" in refused.stderr and folder.exists()
    discarded = restore(corpus["clip"], out_dir / "out.mp4", "--resume", "--overwrite", weights=fast_weights)
    assert discarded.exit_code == 0, discarded.output
    assert sorted(p.name for p in out_dir.iterdir()) == ["other.mp4", "out.mp4"]
    assert pts_of(out_dir / "out.mp4") == pts_of(corpus["clip"])


def test_resume_refuses_pipes(corpus, out_dir, fast_weights):
    result = restore(corpus["clip"], "-", "--resume", weights=fast_weights)
    assert result.exit_code == 2 and "--resume needs a video file" in one_error_line(result)


# --- long videos: memory does not grow with the length ------------------------------------------------


def peak_rss_mib(args: list[str]) -> float:
    proc = subprocess.Popen([PY, "-m", "swiftvr_cli.cli", *args], cwd=ROOT, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, proc.stderr.read().decode()
    proc.stderr.close()
    return usage.ru_maxrss / 1024  # KiB on Linux


@pytest.mark.slow
def test_three_minutes_need_the_memory_of_ten_seconds(tmp_path, fast_weights):
    peaks = {}
    for seconds in (10, 180):
        src = media.make_video(tmp_path / f"{seconds}s.mkv", frames=25 * seconds, size=(32, 32), options={"preset": "ultrafast"})
        out = tmp_path / f"{seconds}s_out.mkv"
        peaks[seconds] = peak_rss_mib(["restore", src, str(out), "--weights", fast_weights, "--scale", "2",
                                       "--preset", "ultrafast", "--threads", "1", "--quiet"])  # fmt: skip
        assert len(decoded(out)) == 25 * seconds
    print(f"peak RSS: 10 s clip {peaks[10]:.1f} MiB, 3 min clip {peaks[180]:.1f} MiB")
    assert peaks[180] <= peaks[10] * 1.05 + 16, peaks
