"""What else a source carries besides pictures, audio and subtitles: kept where the output can
store it, and otherwise named in a note (never lost silently).

* timecode (a MOV ``tmcd`` track or a ``timecode`` tag): restoring keeps the frame rate, so the
  start timecode still holds; set as the output video's ``timecode`` tag, which MP4/MOV write as
  a timecode track again and Matroska as a tag;
* attachments (the fonts of styled subtitles): copied into Matroska, the only output that holds them;
* other data streams: dropped with a note;
* HDR10 mastering-display and content-light metadata (per-frame side data): not written by our
  encoders, so a note says the output keeps only the colour tags.
"""

from __future__ import annotations

import av

HDR10_SIDE_DATA = frozenset({"MASTERING_DISPLAY_METADATA", "CONTENT_LIGHT_LEVEL"})
ATTACHMENT_FORMATS = ("matroska",)


def _timecode(metadata: dict[str, str]) -> str | None:
    """The ``timecode`` tag, whatever its case (Matroska stores tags upper-case)."""
    return next((value for key, value in metadata.items() if key.lower() == "timecode" and value), None)


def source_timecode(source: av.container.InputContainer) -> str | None:
    for stream in source.streams:
        if _timecode(stream.metadata):
            return _timecode(stream.metadata)
    return _timecode(source.metadata)


def carry_extras(source: av.container.InputContainer, output: av.container.OutputContainer, notes: list[str]) -> None:
    """Copy timecode and attachments into ``output`` (before its header is written); note the rest."""
    fmt = output.format.name.split(",")[0]
    timecode = source_timecode(source)
    if timecode and output.streams.video:
        output.streams.video[0].metadata["timecode"] = timecode
    for stream in source.streams:
        if stream.type == "attachment":
            name = getattr(stream, "name", None) or f"attachment {stream.index}"
            if fmt in ATTACHMENT_FORMATS:
                output.add_attachment(name, stream.mimetype or "application/octet-stream", bytes(stream.data))
            else:
                notes.append(f"attachment {name!r} cannot be stored in {fmt}; dropped (use a .mkv output to keep it)")
        elif stream.type == "data" and not (timecode and _timecode(stream.metadata)):
            notes.append(f"data stream {stream.index} ({stream.metadata.get('handler_name', 'unknown')}) is not carried over")


def hdr10_note(frame: av.VideoFrame) -> str | None:
    """A note when the source's frames carry HDR10 static metadata that the output will not."""
    try:
        kinds = {getattr(sd.type, "name", str(sd.type)).split(".")[-1] for sd in frame.side_data}
    except (AttributeError, KeyError, TypeError):
        return None
    if not kinds & HDR10_SIDE_DATA:
        return None
    return ("the source's HDR10 mastering-display / content-light metadata is not written to the output "
            "(its colour primaries and transfer tags are kept)")  # fmt: skip
