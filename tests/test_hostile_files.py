"""Hostile or shared folders (issue 16): swiftvr never deletes, truncates or writes through a path it
did not create, and one bad input never stops a batch.

The "attacker" here is the same user planting links in a temporary folder: what matters is that
swiftvr never follows them, whoever planted them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from swiftvr_cli.cli import app
from swiftvr_cli.io import safe_paths
from swiftvr_cli.io.safe_paths import NotOursError, create_new_file, ensure_own_dir, open_own_file
from swiftvr_cli.io.targets import is_temp_of, temp_file_for
from tests import media
from tests.batch.helpers import batch, make_tree, manifest_lines, statuses

runner = CliRunner()


@pytest.fixture
def victim(tmp_path) -> Path:
    """A folder of someone's precious files, outside everything swiftvr is told about."""
    folder = tmp_path / "home"
    folder.mkdir()
    (folder / "thesis.tex").write_text("five years of work")
    return folder


@pytest.fixture
def clip(tmp_path) -> Path:
    path = tmp_path / "in" / "clip.mp4"
    path.parent.mkdir()
    media.make_video(path, frames=6, size=(32, 24))
    return path


def restore(src, out, weights, *args):
    argv = ["restore", str(src), str(out), "--weights", weights, "--chunk", "8", "--scale", "2", "--quiet", *args]
    return runner.invoke(app, argv)


def one_error(result) -> str:
    assert "Traceback" not in result.output, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def intact(victim: Path) -> bool:
    return sorted(os.listdir(victim)) == ["thesis.tex"] and (victim / "thesis.tex").read_text() == "five years of work"


# --- 1. the --resume folder ------------------------------------------------------------------------------


def test_resume_refuses_a_linked_state_folder(clip, tmp_path, victim, fast_weights):
    out = tmp_path / "out"
    out.mkdir()
    (out / ".out.mp4.swiftvr-resume").symlink_to(victim)
    result = restore(clip, out / "out.mp4", fast_weights, "--resume")
    assert result.exit_code == 4 and "symbolic link" in one_error(result)
    assert intact(victim) and not (out / "out.mp4").exists()
    overwrite = restore(clip, out / "out.mp4", fast_weights, "--resume", "--overwrite")
    assert overwrite.exit_code == 4 and intact(victim)


def test_resume_cleans_only_its_own_files(clip, tmp_path, fast_weights):
    out = tmp_path / "out"
    folder = out / ".out.mp4.swiftvr-resume"
    folder.mkdir(parents=True)
    (folder / "thesis.tex").write_text("not swiftvr's")
    (folder / "seg-00007.mp4").write_bytes(b"half a segment a killed run left")
    result = restore(clip, out / "out.mp4", fast_weights, "--resume")
    assert result.exit_code == 0, result.output
    assert sorted(os.listdir(folder)) == ["thesis.tex"]  # ours gone, the stranger's file kept (and the folder)


# --- 2. batch state: locks and manifest -------------------------------------------------------------------


def test_batch_never_writes_through_planted_links(tmp_path, victim, fast_weights):
    tree = make_tree(tmp_path / "in", {"a.mp4": 5})
    out = tmp_path / "out"
    (out / ".swiftvr" / "locks").mkdir(parents=True)
    from swiftvr_cli.batch.lock import lock_path

    (Path(lock_path(str(out / ".swiftvr"), "a.mp4"))).symlink_to(victim / "thesis.tex")
    (out / ".swiftvr" / "manifest.jsonl").symlink_to(victim / "notes.jsonl")
    code, summary, stderr = batch(tree, out, fast_weights)
    assert code == 4 and "symbolic link" in stderr and "Traceback" not in stderr
    assert intact(victim)


def test_batch_refuses_a_linked_state_folder(tmp_path, victim, fast_weights):
    tree = make_tree(tmp_path / "in", {"a.mp4": 5})
    out = tmp_path / "out"
    out.mkdir()
    (out / ".swiftvr").symlink_to(victim)
    code, _, stderr = batch(tree, out, fast_weights)
    assert code == 4 and "symbolic link" in stderr
    assert intact(victim)


# --- 3. temporary files: unguessable, created new, never through a link --------------------------------------


def test_temp_file_is_new_and_unguessable(tmp_path, victim):
    first, second = temp_file_for(str(tmp_path / "out.mp4")), temp_file_for(str(tmp_path / "out.mp4"))
    assert first.path != second.path and str(os.getpid()) not in os.path.basename(first.path)
    assert is_temp_of(os.path.basename(first.path), "out.mp4")
    os.remove(first.path)
    os.symlink(victim / "thesis.tex", first.path)  # planted where the first one was: never reused
    assert not first.intact()
    with pytest.raises(NotOursError, match="replaced while we wrote it"):
        safe_paths.move_into_place(first, str(tmp_path / "out.mp4"))
    assert intact(victim) and not (tmp_path / "out.mp4").exists()


def test_restore_ignores_links_planted_at_the_old_predictable_names(clip, tmp_path, victim, fast_weights):
    out = tmp_path / "out"
    out.mkdir()
    pid = os.getpid()
    (out / f".swiftvr-write-test-{pid}").symlink_to(victim / "thesis.tex")
    (out / f".out.swiftvr-tmp-{pid}.mp4").symlink_to(victim / "thesis.tex")
    result = restore(clip, out / "out.mp4", fast_weights)
    assert result.exit_code == 0, result.output
    assert intact(victim)
    assert not (out / "out.mp4").is_symlink() and (out / "out.mp4").stat().st_size > 1000


def test_state_files_must_be_plain_files_of_ours(tmp_path, victim):
    folder = ensure_own_dir(str(tmp_path / "state"))
    os.symlink(victim / "thesis.tex", os.path.join(folder, "manifest.jsonl"))
    with pytest.raises(NotOursError, match="symbolic link"):
        open_own_file(os.path.join(folder, "manifest.jsonl"), os.O_RDWR | os.O_CREAT)
    os.link(victim / "thesis.tex", os.path.join(folder, "hard.lock"))
    with pytest.raises(NotOursError, match="hard links"):
        open_own_file(os.path.join(folder, "hard.lock"), os.O_RDWR | os.O_CREAT)
    os.chmod(folder, 0o777)
    with pytest.raises(NotOursError, match="every user may write"):
        ensure_own_dir(folder)
    assert intact(victim)


def test_someone_elses_state_folder_is_refused(tmp_path, monkeypatch):
    folder = tmp_path / "state"
    folder.mkdir()
    monkeypatch.setattr(safe_paths.os, "geteuid", lambda: os.stat(folder).st_uid + 1)  # as if another user ran us
    with pytest.raises(NotOursError, match="belongs to another user"):
        ensure_own_dir(str(folder))


def test_temp_names_fit_long_file_names(tmp_path):
    name = "é" * 120 + ".mp4"  # 244 bytes: a legal name that leaves no room for a suffix
    temp = create_new_file(str(tmp_path), f".{name}.swiftvr-tmp-", ".mp4")
    assert len(os.fsencode(os.path.basename(temp.path))) <= 255 and temp.path.endswith(".mp4")
    os.path.basename(temp.path).encode("utf-8")  # cut at a character boundary


def test_batch_skips_input_links_that_leave_the_input_folder(tmp_path, fast_weights):
    tree = make_tree(tmp_path / "in", {"a.mp4": 5})
    elsewhere = make_tree(tmp_path / "private", {"secret.mp4": 5})
    (tree / "sub").mkdir()
    (tree / "sub" / "secret.mp4").symlink_to(elsewhere / "secret.mp4")
    (tree / "inside.mp4").symlink_to(tree / "a.mp4")
    out = tmp_path / "out"
    code, summary, stderr = batch(tree, out, fast_weights, "--recursive")
    assert code == 0, stderr
    assert statuses(summary) == {"a.mp4": "ok", "inside.mp4": "ok"}
    assert "sub/secret.mp4" in " ".join(stderr.split()) and "--follow-links" in stderr
    code, summary, _ = batch(tree, out, fast_weights, "--recursive", "--follow-links")
    assert code == 0 and statuses(summary)["sub/secret.mp4"] == "ok"
    assert [line["status"] for line in manifest_lines(out) if line["input"] == "sub/secret.mp4"] == ["running", "ok"]
    json.dumps(summary)


# --- 4. an input that cannot be read fails alone ----------------------------------------------------------


def test_unreadable_input_fails_alone(tmp_path, fast_weights, monkeypatch):
    import errno

    from swiftvr_cli.batch import claims

    tree = make_tree(tmp_path / "in", {"a.mp4": 5, "b.mp4": 5, "c.mp4": 5})
    real = claims.sha256_of

    def failing_disk(path):
        if path.endswith("b.mp4"):
            raise OSError(errno.EIO, "Input/output error")
        return real(path)

    monkeypatch.setattr(claims, "sha256_of", failing_disk)
    out = tmp_path / "out"
    code, summary, stderr = batch(tree, out, fast_weights)
    assert code == 7 and "Traceback" not in stderr
    assert statuses(summary) == {"a.mp4": "ok", "b.mp4": "failed", "c.mp4": "ok"}
    assert "Input/output error" in summary["items"][1]["error"]
    assert [(line["status"], line.get("error_kind")) for line in manifest_lines(out) if line["input"] == "b.mp4"] == [("failed", "input")]
    code, summary, _ = batch(tree, out, fast_weights)  # unchanged and unreadable: not retried every hour
    assert code == 0 and statuses(summary)["b.mp4"] == "previously-failed"


# --- 5. any name the filesystem allows ---------------------------------------------------------------------

ODD_NAMES = {
    "latin1": os.fsdecode(b"caf\xe9.mp4"),  # not UTF-8
    "percent-d": "50%d.mp4",  # not a frame pattern: a video's name
    "percent": "100%.mp4",
    "long": "x" * 247 + ".mp4",  # 251 bytes: no room for a temporary suffix
}


def test_batch_restores_odd_names(tmp_path, fast_weights):
    tree = make_tree(tmp_path / "in", {"a.mp4": 5})
    for name in ODD_NAMES.values():
        os.link(tree / "a.mp4", os.path.join(tree, name))
    out = tmp_path / "out"
    code, summary, stderr = batch(tree, out, fast_weights)
    assert code == 0, stderr
    assert set(statuses(summary).values()) == {"ok"} and len(summary["items"]) == 5
    for name in ODD_NAMES.values():
        assert os.path.getsize(os.path.join(out, name)) > 1000
    assert sorted(os.listdir(out)) == sorted([".swiftvr", "a.mp4", *ODD_NAMES.values()])
    code, summary, _ = batch(tree, out, fast_weights)
    assert code == 0 and set(statuses(summary).values()) == {"skipped"}


def test_resume_with_a_long_name(clip, tmp_path, fast_weights):
    target = tmp_path / ("y" * 247 + ".mp4")
    result = restore(clip, target, fast_weights, "--resume")
    assert result.exit_code == 0, result.output
    assert target.stat().st_size > 1000 and sorted(os.listdir(tmp_path)) == sorted(["in", target.name])


# --- 7. signals while stdin is stalled ------------------------------------------------------------------------

Y4M_HEADER = b"YUV4MPEG2 W32 H24 F25:1 Ip A1:1 C420jpeg\n"
Y4M_FRAME = b"FRAME\n" + bytes(32 * 24 * 3 // 2)


def pipe_drained(fd: int) -> bool:
    import array
    import fcntl
    import termios

    waiting = array.array("i", [0])
    fcntl.ioctl(fd, termios.FIONREAD, waiting)
    return waiting[0] == 0


@pytest.mark.parametrize("sent, sig, code, word", [
    (b"YUV4MPEG2 W32 H2", "SIGTERM", 143, "terminated"),  # inside the header: FFmpeg is waiting in its read
    (b"YUV4MPEG2 W32 H2", "SIGINT", 130, "interrupted"),
    (Y4M_HEADER + Y4M_FRAME * 2 + Y4M_FRAME[:500], "SIGTERM", 143, "terminated"),  # mid-frame, in the decoding thread
], ids=["header-sigterm", "header-sigint", "frames-sigterm"])
def test_signal_while_stdin_stalls(tmp_path, fast_weights, sent, sig, code, word):
    import signal
    import subprocess
    import sys
    import time

    args = [sys.executable, "-m", "swiftvr_cli.cli", "restore", "-", str(tmp_path / "out.mp4"), "--weights", fast_weights,
            "--chunk", "8", "--scale", "2", "--quiet", "--threads", "1"]  # fmt: skip
    proc = subprocess.Popen(args, stdin=subprocess.PIPE, stderr=subprocess.PIPE, cwd=Path(__file__).parents[1])
    try:
        proc.stdin.write(sent)
        proc.stdin.flush()
        deadline = time.monotonic() + 120
        while not pipe_drained(proc.stdin.fileno()):  # read: the signal handlers are in place
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        proc.send_signal(getattr(signal, sig))
        _, stderr = proc.communicate(timeout=30)  # the producer stays silent: before the fix, a hang
    finally:
        proc.kill()
        proc.stdin.close()
    text = stderr.decode()
    assert proc.returncode == code, text
    assert text.split() == [word] and not list(tmp_path.iterdir())


# --- 8. the CPU's out-of-memory: tests/test_reliability.py (test_out_of_memory_*, test_auto_retries_*)


# --- 9. weights: the config is checked before anything is allocated, the tensors once at load ---------------


def copy_weights(fast_weights: str, folder: Path) -> tuple[Path, Path]:
    import shutil

    folder.mkdir()
    json_path = folder / "w.json"
    shutil.copy(fast_weights, json_path)
    shutil.copy(Path(fast_weights).with_suffix(".safetensors"), folder / "w.safetensors")
    return json_path, folder / "w.safetensors"


def edit_config(json_path: Path, part: str | None, key: str, value) -> None:
    meta = json.loads(json_path.read_text())
    (meta["config"][part] if part else meta["config"])[key] = value
    meta.pop("config_sha256", None)  # a hostile file would not carry a stale one
    json_path.write_text(json.dumps(meta))


def edit_tensors(json_path: Path, tensors_path: Path, change) -> None:
    from safetensors.torch import load_file, save_file

    from swiftvr_cli.hashing import file_sha256

    tensors = load_file(str(tensors_path))
    name = next(k for k, v in tensors.items() if v.is_floating_point() and v.numel() > 1 and k != "prompt_emb")
    tensors[name] = change(tensors[name])
    save_file(tensors, str(tensors_path))
    meta = json.loads(json_path.read_text())
    meta["sha256"] = file_sha256(tensors_path)  # a consistent but hostile file
    json_path.write_text(json.dumps(meta))


BAD_WEIGHTS = {
    "huge-text-dim": (lambda j, t: edit_config(j, "dit", "text_dim", 3_000_000_000), "dit.text_dim = 3000000000 is out of range"),
    "float-layers": (lambda j, t: edit_config(j, "dit", "num_layers", 1e9), "dit.num_layers must be an integer"),
    "many-layers": (lambda j, t: edit_config(j, "dit", "num_layers", 100_000), "dit.num_layers = 100000 is out of range"),
    "other-width": (lambda j, t: edit_config(j, "dit", "ffn_dim", 7), "the config expects"),
    "string-config": (lambda j, t: j.write_text(json.dumps({"config": "abc"})), "it has no 'config' object"),
    "list-json": (lambda j, t: j.write_text("[1, 2]"), "it has no 'config' object"),
    "unknown-key": (lambda j, t: edit_config(j, "reae", "colour", 3), "colour"),
    "nan": (lambda j, t: edit_tensors(j, t, lambda x: x.index_fill(0, torch.tensor([0]), float("nan"))), "NaN or infinite"),
    "inf": (lambda j, t: edit_tensors(j, t, lambda x: x.index_fill(0, torch.tensor([0]), float("inf"))), "NaN or infinite"),
    "int32": (lambda j, t: edit_tensors(j, t, lambda x: x.to(torch.int32)), "is int32, not floating point"),
}


@pytest.mark.parametrize("case", list(BAD_WEIGHTS))
def test_bad_weights_exit_5(clip, tmp_path, fast_weights, case):
    damage, message = BAD_WEIGHTS[case]
    json_path, tensors_path = copy_weights(fast_weights, tmp_path / "weights")
    damage(json_path, tensors_path)
    result = restore(clip, tmp_path / "out.mp4", str(json_path))
    assert result.exit_code == 5 and message in one_error(result)
    assert not (tmp_path / "out.mp4").exists()


def test_config_is_covered_by_its_own_hash(tmp_path):
    from swiftvr_cli.model.config import DiTConfig, ReAEConfig, SwiftVRConfig
    from swiftvr_cli.model.loading import WeightsError, load_embedded, random_model, save_embedded

    cfg = SwiftVRConfig(dit=DiTConfig(num_attention_heads=2, attention_head_dim=8, text_dim=16, freq_dim=16, ffn_dim=32, num_layers=1),
                        reae=ReAEConfig(latent_channels=8, encoder_width=8, decoder_widths=(16, 16, 8), decoder_out_width=8))  # fmt: skip
    json_path = tmp_path / "m.json"
    save_embedded(random_model(cfg), json_path)
    assert load_embedded(json_path).cfg == cfg
    meta = json.loads(json_path.read_text())
    meta["config"]["upscale_mode"] = "bicubic"  # shapes unchanged, so only the hash can tell
    json_path.write_text(json.dumps(meta))
    with pytest.raises(WeightsError, match="config_sha256"):
        load_embedded(json_path)


# --- 10. bench: a random model that cannot fit is refused before it is built -------------------------------


def test_bench_refuses_a_random_model_that_cannot_fit(monkeypatch):
    from swiftvr_cli.bench import memory_guard

    monkeypatch.setattr(memory_guard, "available_bytes", lambda device: 2 << 30)
    result = runner.invoke(app, ["bench", "--random-weights", "official", "--device", "cpu", "--res", "64x64", "--chunk", "8"])
    assert result.exit_code == 6
    line = one_error(result)
    assert "5.04 B parameters need about 20.7 GiB on cpu, 2.0 GiB is free" in line


# --- 14. one line and a documented code, not a traceback --------------------------------------------------------


@pytest.mark.parametrize("args, message", [
    (["restore", "{clip}", "{out}", "--scale", "nan"], "--scale must be in (0, 8], got nan"),
    (["restore", "{clip}", "{out}", "--threads", "-1"], "--threads must be >= 1"),
    (["batch", "{folder}", "{out}", "--threads", "-1"], "--threads must be >= 1"),
    (["bench", "--res", "0x0"], "width and height must be positive"),
    (["bench", "--res", "-64x32"], "width and height must be positive"),
    (["bench", "--scale", "0"], "--scale must be in (0, 8], got 0.0"),
    (["bench", "--scale", "nan"], "--scale must be in (0, 8], got nan"),
], ids=["scale-nan", "threads-restore", "threads-batch", "res-0x0", "res-negative", "bench-scale-0", "bench-scale-nan"])
def test_bad_numbers_are_usage_errors(clip, tmp_path, fast_weights, args, message):
    paths = {"clip": str(clip), "out": str(tmp_path / "out.mp4"), "folder": str(clip.parent)}
    argv = [a.format(**paths) for a in args] + ["--weights", fast_weights]
    result = runner.invoke(app, argv)
    assert result.exit_code == 2 and message in one_error(result)


def run_cli(args: list[str], **popen) -> tuple[int, str]:
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "swiftvr_cli.cli", *args], stderr=subprocess.PIPE, text=True,
                          cwd=Path(__file__).parents[1], timeout=300, **popen)  # fmt: skip
    return proc.returncode, proc.stderr


def test_closed_or_full_stdout_is_an_output_error(clip, tmp_path, fast_weights):
    common = ["--weights", fast_weights, "--chunk", "8", "--scale", "2", "--quiet", "--threads", "1"]
    with open("/dev/full", "w") as full:  # --json to a full stdout: the video is written, the summary cannot be
        code, stderr = run_cli(["restore", str(clip), str(tmp_path / "a.mp4"), *common, "--json"], stdout=full)
    assert code == 4 and stderr.strip() == "error: cannot write to stdout: disk full (no space left on device)"
    code, stderr = run_cli(["restore", str(clip), "-", *common], preexec_fn=lambda: os.close(1))  # started with >&-
    assert code == 4 and stderr.strip() == "error: cannot write to stdout: it is closed"


def test_full_disk_leaves_no_torn_manifest_line(tmp_path, fast_weights, monkeypatch):
    import errno

    from swiftvr_cli.batch import manifest

    tree = make_tree(tmp_path / "in", {"a.mp4": 5})
    out = tmp_path / "out"
    assert batch(tree, out, fast_weights)[0] == 0
    before = (out / ".swiftvr" / "manifest.jsonl").read_bytes()
    real_write = os.write

    def disk_fills(fd, data):
        if os.readlink(f"/proc/self/fd/{fd}").endswith("manifest.jsonl"):
            real_write(fd, data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(manifest.os, "write", disk_fills)
    media.make_video(tree / "a.mp4", frames=6, size=(32, 24))  # changed: to be redone
    code, _, stderr = batch(tree, out, fast_weights)
    assert code == 4 and "disk full" in stderr and "Traceback" not in stderr
    assert (out / ".swiftvr" / "manifest.jsonl").read_bytes() == before


def test_resume_on_a_full_disk_does_not_claim_progress(tmp_path, fast_weights, monkeypatch):
    import errno

    from swiftvr_cli.pipeline import resume

    src = tmp_path / "long.mp4"
    media.make_video(src, frames=16, size=(32, 24))

    def full(state, path):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(resume, "save_state", full)
    out = tmp_path / "out"
    out.mkdir()
    result = runner.invoke(app, ["restore", str(src), str(out / "o.mp4"), "--weights", fast_weights, "--chunk", "4",
                                 "--scale", "2", "--quiet", "--resume", "--checkpoint-every", "1"])  # fmt: skip
    assert result.exit_code == 4, result.output
    assert "disk full" in result.stderr and "progress saved" not in result.stderr
    assert list(out.iterdir()) == []


def test_eval_of_one_frame_and_of_different_lengths(tmp_path):
    one, other = tmp_path / "one.mp4", tmp_path / "other.mp4"
    media.make_video(one, frames=1, size=(32, 24))
    media.make_video(other, frames=3, size=(32, 24))
    result = runner.invoke(app, ["eval", str(one), str(one), "--json"])
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    assert "flicker" not in json.loads(result.stdout)["restored"]  # a temporal metric needs two frames
    result = runner.invoke(app, ["eval", str(one), str(other)])
    assert result.exit_code == 0, result.output
    assert "differ in length" in result.stderr and "compared the first 1" in " ".join(result.stderr.split())


# --- 6. .webm and .y4m inputs get an output their encoder fits -----------------------------------------------


def test_batch_gives_webm_and_y4m_inputs_an_output_that_fits(tmp_path, fast_weights):
    from swiftvr_cli.batch.containers import output_ext_for

    tree = make_tree(tmp_path / "in", {"a.mp4": 5})
    media.make_video(tree / "b.webm", frames=5, size=(32, 24), codec="libvpx-vp9")
    media.make_video(tree / "c.y4m", frames=5, size=(32, 24), codec="rawvideo")
    out = tmp_path / "out"
    code, summary, stderr = batch(tree, out, fast_weights)
    assert code == 0, stderr
    assert {i["input"]: (i["status"], i["output"]) for i in summary["items"]} == {
        "a.mp4": ("ok", "a.mp4"), "b.webm": ("ok", "b.mkv"), "c.y4m": ("ok", "c.mkv"),
    }  # fmt: skip
    assert output_ext_for(".webm", "libvpx-vp9") is None  # an encoder WebM holds keeps the name
    assert output_ext_for(".MP4", "libx264") is None


# --- 13. y4m frame headers may carry parameters ------------------------------------------------------------


def test_y4m_frame_headers_with_parameters(tmp_path, fast_weights):
    import av

    payload = (bytes(range(256)) * 5)[: 32 * 24 * 3 // 2]  # holds newlines, as real pictures do
    stream = Y4M_HEADER + b"".join(b"FRAME Ip XAPP=1\n" + payload for _ in range(5))
    argv = ["restore", "-", str(tmp_path / "out.mp4"), "--weights", fast_weights, "--chunk", "8", "--scale", "2", "--quiet"]
    result = runner.invoke(app, argv, input=stream)
    assert result.exit_code == 0, result.output
    with av.open(str(tmp_path / "out.mp4")) as container:
        assert sum(1 for _ in container.decode(video=0)) == 5
    cut = runner.invoke(app, [*argv[:2], str(tmp_path / "cut.mp4"), *argv[3:]], input=stream[:-300])
    assert cut.exit_code == 3 and "ended in the middle of frame 4" in one_error(cut)


# --- 11. a >8-bit source on a y4m pipe keeps its depth ---------------------------------------------------------


def test_ten_bit_source_to_stdout_is_ten_bit_y4m(tmp_path, fast_weights):
    src = tmp_path / "ten.mp4"
    media.make_video(src, frames=3, size=(32, 24), pix_fmt="yuv420p10le")
    result = runner.invoke(app, ["restore", str(src), "-", "--weights", fast_weights, "--chunk", "8", "--scale", "2", "--quiet"])
    assert result.exit_code == 0, result.stderr
    header = result.stdout_bytes.split(b"\n", 1)[0]
    assert header.startswith(b"YUV4MPEG2 W64 H48") and b" C420p10" in header
    assert result.stdout_bytes.count(b"FRAME\n") == 3


# --- 12. what the source carries besides pictures: kept where the output can, else named ------------------------


def restore_notes(src, out, fast_weights) -> str:
    result = runner.invoke(app, ["restore", str(src), str(out), "--weights", fast_weights, "--chunk", "8", "--scale", "2", "--quiet"])
    assert result.exit_code == 0, result.output
    return " ".join(result.stderr.split())


def test_timecode_and_attachments_are_kept_or_named(tmp_path, fast_weights):
    import av
    import numpy as np

    src = tmp_path / "src.mkv"
    with av.open(str(src), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 32, 24, "yuv420p"
        stream.metadata["timecode"] = "01:02:03:04"
        container.add_attachment("font.ttf", "font/ttf", b"\x00\x01not really a font")
        for _ in range(3):
            frame = av.VideoFrame.from_ndarray(np.zeros((24, 32, 3), np.uint8), "rgb24").reformat(format="yuv420p")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    restore_notes(src, tmp_path / "out.mkv", fast_weights)
    with av.open(str(tmp_path / "out.mkv")) as out:
        assert out.streams.video[0].metadata.get("TIMECODE") == "01:02:03:04"  # Matroska's tag
        attachments = [s for s in out.streams if s.type == "attachment"]
        assert [(a.name, bytes(a.data)) for a in attachments] == [("font.ttf", b"\x00\x01not really a font")]
    notes = restore_notes(src, tmp_path / "out.mov", fast_weights)
    assert "attachment 'font.ttf' cannot be stored in mov; dropped" in notes
    with av.open(str(tmp_path / "out.mov")) as out:  # MOV writes the timecode as a tmcd track again
        assert out.streams.video[0].metadata.get("timecode") == "01:02:03:04"


def test_hdr10_metadata_is_named(tmp_path, fast_weights):
    import av

    src = tmp_path / "hdr.mkv"
    params = ("log-level=error:master-display=G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1)"
              ":max-cll=1000,400:colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc")  # fmt: skip
    if "libx265" not in av.codecs_available:
        pytest.skip("no libx265 in this FFmpeg")
    media.make_video(src, frames=2, size=(32, 24), codec="libx265", pix_fmt="yuv420p10le", options={"x265-params": params})
    assert "HDR10 mastering-display / content-light metadata is not written" in restore_notes(src, tmp_path / "o.mkv", fast_weights)


def test_sixteen_bit_png_input_stays_sixteen_bit_and_rotation_is_named(tmp_path, fast_weights):
    import av

    media.make_images(tmp_path / "frames", count=2, size=(32, 24), bits=16)
    restore_notes(tmp_path / "frames", tmp_path / "out", fast_weights)
    first = sorted((tmp_path / "out").glob("*.png"))[0]  # named like the input's frames
    with av.open(str(first)) as png:
        assert png.streams.video[0].codec_context.pix_fmt.startswith("rgb48")
    rotated = tmp_path / "rotated.mp4"
    media.make_video(rotated, frames=2, size=(32, 24), rotation=90)
    assert "rotation tag (90 degrees) cannot be stored in PNG files" in restore_notes(rotated, tmp_path / "rot", fast_weights)
