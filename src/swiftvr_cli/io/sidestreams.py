"""Carrying the source's audio and subtitle streams into the output.

A second demuxer reads only those streams from the source file. Packets are
stream-copied (bit-exact) when the output container accepts the codec;
audio it rejects is re-encoded (AAC for MP4/MOV, Opus otherwise), text
subtitles are converted (mov_text for MP4/MOV, WebVTT for WebM) and bitmap
subtitles are dropped, each with a note. Packets are fed in time
order just ahead of the video so the muxer interleaves properly without
buffering the whole soundtrack.
"""

from __future__ import annotations

import math
from fractions import Fraction
from dataclasses import dataclass, field
from typing import Iterator

import av
from av.subtitles.subtitle import SubtitleSet

from .errors import describe_av_error
from .extras import carry_extras
from .stdin_side import WAIT, SidePacketTap
from .stdio import is_broken_pipe

MP4_FAMILY = ("mp4", "mov", "ipod", "3gp", "3g2", "psp", "ismv", "f4v")
_COPIED_METADATA = ("language", "title", "handler_name")
# Container tags that describe the old file rather than its content.
_TECHNICAL_METADATA = frozenset({"major_brand", "minor_version", "compatible_brands", "encoder", "duration"})
# Named layouts by channel count: sources often report unnamed ones ("1 channels").
_LAYOUTS = {1: "mono", 2: "stereo", 3: "2.1", 4: "quad", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}


COPY, AUDIO, TEXT = "copy", "audio", "text"


@dataclass
class _Route:
    source: av.stream.Stream
    output: av.stream.Stream
    mode: str  # COPY | AUDIO (re-encode) | TEXT (subtitle conversion)
    dropped: int = field(default=0)


def _encoder_opens(codec: str, rate: int, layout: str) -> bool:
    try:
        ctx = av.CodecContext.create(codec, "w")
        ctx.sample_rate, ctx.layout = rate, layout
        ctx.format = ctx.codec.audio_formats[0].name if ctx.codec.audio_formats else "fltp"
        ctx.open()
        return True
    except (av.FFmpegError, ValueError, TypeError):
        return False


def _time(packet: av.Packet) -> float | None:
    stamp = packet.dts if packet.dts is not None else packet.pts
    if stamp is None or packet.time_base is None:
        return None
    return float(stamp * packet.time_base)


class SideStreams:
    """Audio/subtitle routes from ``source`` (a file path, or stdin's packet tap) into ``output``."""

    def __init__(self, output: av.container.OutputContainer, source: str | SidePacketTap, notes: list[str]) -> None:
        self._output = output
        self._notes = notes
        self._routes: dict[int, _Route] = {}
        self._pending: av.Packet | None = None
        self._tap = source if isinstance(source, SidePacketTap) else None
        self._finishing = False
        self._input = av.open(source, metadata_errors="replace") if self._tap is None else None
        if self._input is not None:
            self._copy_container_facts()
            carry_extras(self._input, output, notes)
        for stream in self._input.streams if self._input is not None else self._tap.streams:
            if stream.type in ("audio", "subtitle"):
                self._add(stream)
        self._packets: Iterator[av.Packet] | None = None
        if self._routes and self._input is not None:
            self._packets = self._input.demux([r.source for r in self._routes.values()])
        elif self._routes:
            self._packets = iter(())  # packets come from the tap; this only marks "not finished"
        else:
            self.close()
            if self._tap is not None:
                self._tap.decline()

    def _copy_container_facts(self) -> None:
        """Title, comments and chapters belong to the content, so they follow it."""
        self._output.metadata.update(
            {k: v for k, v in self._input.metadata.items() if k.lower() not in _TECHNICAL_METADATA}
        )
        try:
            chapters = self._input.chapters()
            if chapters:
                self._output.set_chapters(chapters)
        except (av.FFmpegError, ValueError, TypeError):
            self._notes.append("chapters could not be copied")

    def _label(self, stream: av.stream.Stream) -> str:
        name = stream.codec_context.name if stream.codec_context else "unknown"
        return f"{stream.type} stream {stream.index} ({name})"

    def _decorate(self, source: av.stream.Stream, output: av.stream.Stream) -> None:
        output.metadata.update({k: v for k, v in source.metadata.items() if k in _COPIED_METADATA})
        output.disposition = source.disposition

    def _add(self, stream: av.stream.Stream) -> None:
        try:
            output = self._output.add_stream_from_template(stream)
        except (ValueError, av.FFmpegError):
            output = None
        if output is not None:
            self._decorate(stream, output)
            self._routes[stream.index] = _Route(stream, output, COPY)
        elif stream.codec_context is not None and stream.type == "audio":
            self._add_audio_encoder(stream)
        elif stream.codec_context is not None and stream.codec_context.codec.text_sub:
            self._add_text_converter(stream)
        else:
            self._notes.append(f"{self._label(stream)} cannot be stored in {self._format}; dropped")

    @property
    def _format(self) -> str:
        return self._output.format.name.split(",")[0]

    def _add_audio_encoder(self, stream: av.stream.Stream) -> None:
        codec = "aac" if self._format in MP4_FAMILY else "libopus"
        layout = _LAYOUTS.get(stream.codec_context.layout.nb_channels, "stereo")
        rates = [48000] if codec == "libopus" else [stream.codec_context.sample_rate, 48000]
        # Try the encoder on its own first: a stream cannot be removed once added.
        rate = next((r for r in rates if _encoder_opens(codec, r, layout)), None)
        if rate is None:
            self._notes.append(f"{self._label(stream)} cannot be stored or re-encoded for {self._format}; dropped")
            return
        output = self._output.add_stream(codec, rate=rate, layout=layout)
        self._decorate(stream, output)
        stream.thread_type = "AUTO"
        self._routes[stream.index] = _Route(stream, output, AUDIO)
        self._notes.append(f"{self._label(stream)} cannot be copied into {self._format}; re-encoded to {codec}")

    def _add_text_converter(self, stream: av.stream.Stream) -> None:
        codec = "mov_text" if self._format in MP4_FAMILY else "webvtt" if self._format == "webm" else None
        try:
            if codec is None:
                raise ValueError("no text subtitle codec for this container")
            stream.codec_context.open()  # text decoders build the ASS header the encoder needs
            output = self._output.add_stream(codec)
            output.codec_context.subtitle_header = stream.codec_context.subtitle_header
        except (ValueError, av.FFmpegError):
            self._notes.append(f"{self._label(stream)} cannot be stored in {self._format}; dropped")
            return
        self._decorate(stream, output)
        self._routes[stream.index] = _Route(stream, output, TEXT)
        self._notes.append(f"{self._label(stream)} cannot be copied into {self._format}; converted to {codec}")

    def feed_until(self, seconds: float) -> None:
        """Mux every side packet that starts before ``seconds``."""
        if self._packets is None:
            return
        while True:
            packet = self._pending if self._pending is not None else self._next_packet()
            self._pending = None
            if packet is WAIT:  # stdin: the reader has not got that far yet
                return
            if packet is None:
                self._packets = None
                return
            when = _time(packet)
            if when is not None and when >= seconds:
                self._pending = packet
                return
            self._emit(packet)

    def _next_packet(self) -> av.Packet | None:
        """Next side packet; a damaged source ends the copy (with a note) instead of the whole job."""
        if self._tap is not None:
            return self._tap.next_packet(block=self._finishing)
        try:
            return next(self._packets, None)
        except (av.FFmpegError, OSError) as error:
            self._notes.append(f"stopped copying audio/subtitles early: {describe_av_error(error)}")
            return None

    def _emit(self, packet: av.Packet) -> None:
        route = self._routes.get(packet.stream.index)
        if route is None:
            return
        if route.mode == AUDIO:
            self._transcode(route, packet)
            return
        if packet.size == 0:  # demuxer's end-of-stream marker
            return
        if route.mode == TEXT:
            self._convert_text(route, packet)
            return
        packet.stream = route.output
        self._mux(route, packet)

    def _convert_text(self, route: _Route, packet: av.Packet) -> None:
        try:
            subtitles = route.source.codec_context.decode2(packet)
        except av.FFmpegError:
            subtitles = None
        if subtitles is None:
            route.dropped += 1
            return
        for rect in subtitles:
            if getattr(rect, "type", b"") not in (b"ass", b"text"):
                continue
            event = SubtitleSet.create(
                rect.ass, subtitles.start_display_time, subtitles.end_display_time, pts=subtitles.pts
            )
            try:
                out = route.output.codec_context.encode_subtitle(event)
            except av.FFmpegError:
                route.dropped += 1
                continue
            out.stream = route.output
            out.time_base = packet.time_base
            out.pts = out.dts = packet.pts
            out.duration = packet.duration
            self._mux(route, out)

    def _transcode(self, route: _Route, packet: av.Packet) -> None:
        try:
            frames = route.source.decode(packet if packet.size else None)
        except av.FFmpegError:
            route.dropped += 1
            return
        for frame in frames:
            self._encode_audio(route, frame)

    def _encode_audio(self, route: _Route, frame: av.AudioFrame) -> None:
        """Re-stamp in samples (1/rate) so the resampler keeps the source start time."""
        if frame.pts is not None and frame.time_base is not None:
            rate = Fraction(1, frame.sample_rate)
            frame.pts = round(frame.pts * frame.time_base / rate)
            frame.time_base = rate
        for out in route.output.encode(frame):
            self._mux(route, out)

    def _mux(self, route: _Route, packet: av.Packet) -> None:
        try:
            self._output.mux(packet)
        except av.FFmpegError as error:
            if is_broken_pipe(error):  # the writer reports a closed stdout itself
                raise
            route.dropped += 1

    def finish(self) -> None:
        """Mux the remaining packets, flush re-encoders, close the demuxer."""
        self._finishing = True  # stdin: wait for the reader's last packets
        self.feed_until(math.inf)
        for route in self._routes.values():
            if route.mode == AUDIO:
                try:
                    tail = route.source.decode(None)
                except av.FFmpegError:
                    tail = []
                for frame in tail:
                    self._encode_audio(route, frame)
                for out in route.output.encode(None):
                    self._mux(route, out)
            if route.dropped:
                label = self._label(route.source)
                self._notes.append(f"{label}: {route.dropped} packets could not be written and were skipped")
        if self._tap is not None and self._tap.dropped:
            self._notes.append(f"{self._tap.dropped} audio/subtitle packets from stdin could not be buffered and were skipped")
        self.close()

    def close(self) -> None:
        self._packets = None
        if self._input is not None:
            self._input.close()
