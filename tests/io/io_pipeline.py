"""Identity read->RGB->write loop shared by the I/O tests."""

from __future__ import annotations

from swiftvr_cli.io import EncodeOptions, VideoReader, VideoWriter, frames_to_rgb


def transcode(src: str, dst: str, *, chunk: int = 4, options: EncodeOptions | None = None, **kwargs) -> VideoWriter:
    """Identity pipeline exactly as the CLI drives it: read, batch to RGB, write."""
    with VideoReader(src) as reader:
        info = reader.info
        options = options or EncodeOptions()
        writer = VideoWriter(dst, width=info.width, height=info.height, source=info, options=options, **kwargs)
        with writer:
            batch = []
            for frame in reader:
                batch.append(frame)
                if len(batch) == chunk:
                    writer.write(frames_to_rgb(batch, info) / 255.0, [f.pts for f in batch])
                    batch = []
            if batch:
                writer.write(frames_to_rgb(batch, info) / 255.0, [f.pts for f in batch])
    return writer
