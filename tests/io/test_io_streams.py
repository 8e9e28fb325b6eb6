"""Audio and subtitle streams: bit-exact copy, conversion when needed, interleaving."""

from __future__ import annotations

import av
import pytest

from tests import media
from tests.io.io_pipeline import transcode

from swiftvr_cli.io import EncodeOptions, probe


def _subtitle_texts(path: str) -> list[bytes]:
    with av.open(path) as container:
        stream = container.streams.subtitles[0]
        texts = []
        for packet in container.demux(stream):
            if packet.size:
                subs = stream.codec_context.decode2(packet)
                texts += [rect.ass.split(b",", 8)[-1] for rect in subs or []]
        return texts


def test_audio_packets_copied_bit_exact_mp4(cfr_mp4, tmp_path):
    out = str(tmp_path / "out.mp4")
    writer = transcode(cfr_mp4, out)
    assert writer.notes == []
    source_audio = media.packets_of(cfr_mp4, "audio")
    assert source_audio and media.packets_of(out, "audio") == source_audio


def test_audio_and_subtitles_copied_into_matroska(vfr_mkv, tmp_path):
    out = str(tmp_path / "out.mkv")
    transcode(vfr_mkv, out)
    info = probe(out)
    assert (info.audio_streams, info.subtitle_streams) == (1, 1)
    assert media.packets_of(out, "audio") == media.packets_of(vfr_mkv, "audio")
    assert media.packets_of(out, "subtitle") == media.packets_of(vfr_mkv, "subtitle")
    assert _subtitle_texts(out) == [b"Hello", b"World"]


def test_packets_are_interleaved(cfr_mp4, tmp_path):
    out = str(tmp_path / "out.mp4")
    transcode(cfr_mp4, out)
    with av.open(out) as container:
        order = "".join(p.stream.type[0] for p in container.demux() if p.size)
    assert order.index("a") < order.rindex("v")  # audio is not all parked at the end


def test_rejected_audio_is_reencoded_with_a_note(tmp_path):
    src = media.make_video(tmp_path / "pcm.mkv", frames=10, audio=True, audio_codec="pcm_u8")
    out = str(tmp_path / "out.mp4")
    writer = transcode(src, out)
    assert any("re-encoded to aac" in note for note in writer.notes)
    with av.open(out) as container:
        audio = container.streams.audio[0]
        assert audio.codec_context.name == "aac"
        packets = [p for p in container.demux(audio) if p.size]
        end = float((packets[-1].pts + packets[-1].duration) * audio.time_base)
    assert abs(end - 10 / 25) < 0.15


def test_text_subtitles_converted_for_mp4(vfr_mkv, tmp_path):
    out = str(tmp_path / "out.mp4")
    writer = transcode(vfr_mkv, out)
    assert any("converted to mov_text" in note for note in writer.notes)
    with av.open(out) as container:
        assert container.streams.subtitles[0].codec_context.name == "mov_text"
    assert _subtitle_texts(out) == [b"Hello", b"World"]


def test_copy_streams_off(cfr_mp4, tmp_path):
    out = str(tmp_path / "out.mp4")
    transcode(cfr_mp4, out, options=EncodeOptions(copy_streams=False))
    assert probe(out).audio_streams == 0


def test_title_and_chapters_follow_the_content(tmp_path):
    src = media.make_video(tmp_path / "c.mkv", frames=10, title="My Film", chapters=True)
    out = str(tmp_path / "c.mp4")
    transcode(src, out)
    with av.open(out) as container:
        assert container.metadata.get("title") == "My Film"
        assert [c["metadata"].get("title") for c in container.chapters()] == ["One", "Two"]


def test_webm_gets_opus_audio(cfr_mp4, tmp_path):
    if "libsvtav1" not in av.codecs_available:
        pytest.skip("no AV1 encoder in this FFmpeg build")
    out = str(tmp_path / "out.webm")
    writer = transcode(cfr_mp4, out, options=EncodeOptions(codec="libsvtav1", crf=50, preset="12"))
    assert any("re-encoded to libopus" in note for note in writer.notes)
    with av.open(out) as container:
        assert container.streams.audio[0].codec_context.name == "opus"
    assert probe(out, count_frames=True).frame_count == 12
