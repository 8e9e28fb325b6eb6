"""Carrying the source's audio and subtitle streams into the output.

A second demuxer reads only those streams from the source file. Packets are
stream-copied (bit-exact) when the output container accepts the codec;
audio it rejects is re-encoded (AAC for MP4/MOV, Opus otherwise) and other
rejected streams are dropped, each with a note. Packets are fed in time
order just ahead of the video so the muxer interleaves properly without
buffering the whole soundtrack.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterator

import av

from .errors import describe_av_error

MP4_FAMILY = ("mp4", "mov", "ipod", "3gp", "3g2", "psp", "ismv", "f4v")
_COPIED_METADATA = ("language", "title", "handler_name")


@dataclass
class _Route:
    source: av.stream.Stream
    output: av.stream.Stream
    transcode: bool
    dropped: int = field(default=0)


def _time(packet: av.Packet) -> float | None:
    stamp = packet.dts if packet.dts is not None else packet.pts
    if stamp is None or packet.time_base is None:
        return None
    return float(stamp * packet.time_base)


class SideStreams:
    """Audio/subtitle routes from ``source_path`` into ``output``."""

    def __init__(self, output: av.container.OutputContainer, source_path: str, notes: list[str]) -> None:
        self._output = output
        self._notes = notes
        self._routes: dict[int, _Route] = {}
        self._pending: av.Packet | None = None
        self._input = av.open(source_path, metadata_errors="replace")
        for stream in self._input.streams:
            if stream.type in ("audio", "subtitle"):
                self._add(stream)
        self._packets: Iterator[av.Packet] | None = None
        if self._routes:
            self._packets = self._input.demux([r.source for r in self._routes.values()])
        else:
            self._input.close()

    def _label(self, stream: av.stream.Stream) -> str:
        name = stream.codec_context.name if stream.codec_context else "unknown"
        return f"{stream.type} stream {stream.index} ({name})"

    def _decorate(self, source: av.stream.Stream, output: av.stream.Stream) -> None:
        output.metadata = {k: v for k, v in source.metadata.items() if k in _COPIED_METADATA}
        try:
            output.disposition = source.disposition
        except (AttributeError, TypeError, ValueError):
            pass

    def _add(self, stream: av.stream.Stream) -> None:
        fmt = self._output.format.name
        try:
            output = self._output.add_stream_from_template(stream)
            self._decorate(stream, output)
            self._routes[stream.index] = _Route(stream, output, transcode=False)
            return
        except (ValueError, av.FFmpegError):
            pass
        if stream.type != "audio" or stream.codec_context is None:
            self._notes.append(f"{self._label(stream)} cannot be stored in {fmt}; dropped")
            return
        codec = "aac" if fmt.split(",")[0] in MP4_FAMILY else "libopus"
        ctx = stream.codec_context
        rate = 48000 if codec == "libopus" else ctx.sample_rate
        try:
            layout = ctx.layout.name if ctx.layout.nb_channels <= 2 else "5.1"
            output = self._output.add_stream(codec, rate=rate, layout=layout)
        except (ValueError, av.FFmpegError) as error:
            self._notes.append(f"{self._label(stream)} cannot be stored or re-encoded for {fmt}; dropped ({describe_av_error(error)})")
            return
        self._decorate(stream, output)
        stream.thread_type = "AUTO"
        self._routes[stream.index] = _Route(stream, output, transcode=True)
        self._notes.append(f"{self._label(stream)} cannot be copied into {fmt}; re-encoded to {codec}")

    @property
    def active(self) -> bool:
        return bool(self._routes)

    def feed_until(self, seconds: float) -> None:
        """Mux every side packet that starts before ``seconds``."""
        if self._packets is None:
            return
        while True:
            packet = self._pending if self._pending is not None else next(self._packets, None)
            self._pending = None
            if packet is None:
                self._packets = None
                return
            when = _time(packet)
            if when is not None and when >= seconds:
                self._pending = packet
                return
            self._emit(packet)

    def _emit(self, packet: av.Packet) -> None:
        route = self._routes.get(packet.stream.index)
        if route is None:
            return
        if route.transcode:
            self._transcode(route, packet)
            return
        if packet.size == 0:  # demuxer's end-of-stream marker
            return
        packet.stream = route.output
        self._mux(route, packet)

    def _transcode(self, route: _Route, packet: av.Packet) -> None:
        try:
            frames = route.source.decode(packet if packet.size else None)
        except av.FFmpegError:
            route.dropped += 1
            return
        for frame in frames:
            frame.pts = None  # let the encoder count samples; avoids gaps from resampling
            for out in route.output.encode(frame):
                self._mux(route, out)

    def _mux(self, route: _Route, packet: av.Packet) -> None:
        try:
            self._output.mux(packet)
        except av.FFmpegError as error:
            if getattr(error, "errno", 0) in (32, -32):  # EPIPE must reach the writer
                raise
            route.dropped += 1

    def finish(self) -> None:
        """Mux the remaining packets, flush re-encoders, close the demuxer."""
        self.feed_until(math.inf)
        for route in self._routes.values():
            if route.transcode:
                try:
                    tail = route.source.decode(None)
                except av.FFmpegError:
                    tail = []
                for frame in tail:
                    frame.pts = None
                    for out in route.output.encode(frame):
                        self._mux(route, out)
                for out in route.output.encode(None):
                    self._mux(route, out)
            if route.dropped:
                self._notes.append(f"{self._label(route.source)}: {route.dropped} packets could not be written and were skipped")
        self.close()

    def close(self) -> None:
        self._packets = None
        self._input.close()
