"""`restore_video`: a whole file, a span of it, a resumed run, a fill mask."""

from __future__ import annotations

import dataclasses

import av
import numpy as np
import pytest

from swiftvr_cli.io import EncodeOptions, InputError
from swiftvr_cli.io.span import Span
from swiftvr_cli.model.loading import load_embedded
from swiftvr_cli.pipeline.runner import RestoreSettings, restore_video
from tests import media
from tests.pipeline.interrupt import crash_after_checkpoint

SIZE = (32, 24)
LOSSLESS = EncodeOptions(crf=0, preset="ultrafast")


def stamps(path) -> list[float]:
    """Presentation times in seconds (containers differ in time base)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return sorted(round(float(p.pts * stream.time_base), 4) for p in container.demux(stream) if p.size)


def source_pts(path) -> list[int]:
    with av.open(str(path)) as container:
        return sorted(p.pts for p in container.demux(container.streams.video[0]) if p.size)


def decoded(path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24").astype(np.int16) for f in container.decode(video=0)]


def assert_same_picture(ours: np.ndarray, theirs: np.ndarray, what: str) -> None:
    """Equal up to float rounding: a last-bit difference in the model's output moves a
    Y'CbCr level by one, which the conversion back to RGB can turn into two."""
    diff = np.abs(ours - theirs)
    assert diff.max() <= 2 and (diff > 0).mean() < 0.05, what


@pytest.fixture
def model(fast_weights, one_torch_thread):
    return load_embedded(fast_weights)


@pytest.mark.parametrize("seek", [False, True])
def test_a_span_writes_only_its_kept_frames_as_the_whole_run_restores_them(tmp_path, model, seek):
    src = media.make_video(tmp_path / "in.mkv", frames=30, size=SIZE, audio=True, options={"g": "12", "keyint_min": "12", "sc_threshold": "0"})
    pts = source_pts(src)
    settings = RestoreSettings(scale=2, clip_len=8, overwrite=True, encode=LOSSLESS)
    whole = restore_video(model, src, str(tmp_path / "whole.mkv"), settings)
    assert whole.frames == 30
    # warm-up from frame 12 (a chunk boundary of the whole run), keep 20..27, a tail of one chunk + 1
    first = 12 if seek else 0
    span = Span(first=pts[first], keep_from=pts[20], stop=pts[28], end=None, seek=seek)
    part = tmp_path / "part.mp4"
    summary = restore_video(model, src, str(part), settings, span=span)
    assert summary.frames == 8 and stamps(part) == stamps(src)[20:28]
    with av.open(str(part)) as container:
        assert not container.streams.audio  # a segment is video only; the join adds the audio
    for i, (ours, theirs) in enumerate(zip(decoded(part), decoded(tmp_path / "whole.mkv")[20:28])):
        assert_same_picture(ours, theirs, f"frame {20 + i} differs from the whole run's")


def test_a_span_is_refused_with_resume_or_a_mask(tmp_path, model):
    span = Span(first=0, keep_from=0, stop=None, end=None, seek=False)
    for settings in (RestoreSettings(resume=True), RestoreSettings(task="inpaint", mask="mask.png")):
        with pytest.raises(ValueError, match="span"):
            restore_video(model, "in.mp4", str(tmp_path / "out.mp4"), settings, span=span)


def test_a_resumed_run_writes_every_frame_once(tmp_path, model, monkeypatch):
    src = media.make_video(tmp_path / "in.mp4", frames=30, size=SIZE)
    settings = RestoreSettings(scale=2, clip_len=8, encode=LOSSLESS, resume=True, checkpoint_every=1)
    reference = restore_video(model, src, str(tmp_path / "reference.mp4"), dataclasses.replace(settings, resume=False))
    target = tmp_path / "out.mp4"
    crash_after_checkpoint(monkeypatch, model, src, str(target), settings)
    progress: list[int] = []
    summary = restore_video(model, src, str(target), settings, on_progress=lambda done, total: progress.append(done))
    assert any(note.startswith("resumed at frame") for note in summary.notes)
    assert summary.frames == reference.frames == 30 and progress[-1] == 30 and progress[0] > 8
    assert stamps(target) == stamps(src)
    for i, (ours, theirs) in enumerate(zip(decoded(target), decoded(tmp_path / "reference.mp4"))):
        assert_same_picture(ours, theirs, f"frame {i} differs from the uninterrupted run")


@pytest.mark.parametrize("mask_frames", [9, 13])
def test_a_mask_video_of_another_length_fails_and_leaves_no_output(tmp_path, detail_weights, mask_frames):
    src = media.make_video(tmp_path / "in.mp4", frames=11, size=(32, 32))
    mask = media.make_mask_video(tmp_path / "mask.mkv", (32, 32), [(2, 2, 8, 8)] * mask_frames)
    settings = RestoreSettings(scale=1, clip_len=4, task="inpaint", mask=mask, encode=LOSSLESS)
    out = tmp_path / "out" / "out.mp4"
    out.parent.mkdir()
    with pytest.raises(InputError, match="mask video"):
        restore_video(load_embedded(detail_weights), src, str(out), settings)
    assert list(out.parent.iterdir()) == []


def test_a_mask_is_read_before_any_output_exists(tmp_path, model):
    src = media.make_video(tmp_path / "in.mp4", frames=6, size=SIZE)
    wrong_size = media.make_mask_image(tmp_path / "mask.png", (16, 16), (2, 2, 4, 4))
    out = tmp_path / "out" / "out.mp4"
    out.parent.mkdir()
    settings = RestoreSettings(scale=1, clip_len=4, task="inpaint", mask=wrong_size, encode=LOSSLESS)
    with pytest.raises(InputError, match="mask"):
        restore_video(model, src, str(out), settings)
    assert list(out.parent.iterdir()) == []


def test_an_interrupt_while_stdin_stalls_leaves_the_stalled_decoder_alone(tmp_path, model, monkeypatch):
    """Ctrl-C or SIGTERM while the decode stage waits on a silent stdin: the run stops with
    the interrupt, not an error from closing the demuxer under the thread that is inside it."""
    import _thread
    import os
    import sys
    import threading
    import time

    from swiftvr_cli.pipeline import stages

    header = b"YUV4MPEG2 W32 H24 F25:1 Ip A1:1 C420jpeg\n"
    frame = b"FRAME\n" + bytes(32 * 24 * 3 // 2)
    read_end, write_end = os.pipe()
    os.write(write_end, header + frame * 2 + frame[:500])  # the producer stalls mid-frame and stays open
    monkeypatch.setattr(sys, "stdin", os.fdopen(read_end, "r"))
    monkeypatch.setattr(stages, "STOP_GRACE_S", 0.2)

    def decoder() -> threading.Thread | None:
        return next((t for t in threading.enumerate() if t.name == "swiftvr-decode"), None)

    def interrupt_once_the_decoder_waits() -> None:
        deadline = time.monotonic() + 60
        while decoder() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)  # the two whole frames are through; it waits in its read
        _thread.interrupt_main()

    out = tmp_path / "out.mp4"
    threading.Thread(target=interrupt_once_the_decoder_waits, daemon=True).start()
    try:
        with pytest.raises(KeyboardInterrupt):
            restore_video(model, "-", str(out), RestoreSettings(scale=1, clip_len=4, encode=LOSSLESS))
        assert decoder() is not None  # what the test is about: the decoder outlived the grace, still reading
        assert list(tmp_path.iterdir()) == []
    finally:
        os.close(write_end)  # the end of the stream lets the left-behind decoder finish
    deadline = time.monotonic() + 30
    while decoder() is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert decoder() is None
