"""Side-by-side pictures: tiles of the same frame, each under its name, left to right
(`swiftvr eval --png`, `make demo`)."""

from __future__ import annotations

from pathlib import Path

import torch

from .labels import label_strip

GAP = 4  # white pixels between tiles


def side_by_side(tiles: dict[str, torch.Tensor], title: str | None = None, scale: int = 1) -> torch.Tensor:
    """Named [3, h, w] tiles in [0, 1] -> one labelled [3, H, W] image (height and width even)."""
    columns = []
    for name, tile in tiles.items():
        columns += [torch.cat([label_strip(name, tile.shape[-1], scale), tile.float().clamp(0, 1)], dim=1)]
        columns.append(torch.ones(3, columns[-1].shape[1], GAP))
    image = torch.cat(columns[:-1], dim=2)
    if title:
        image = torch.cat([label_strip(title, image.shape[-1], scale), image], dim=1)
    # even sides: what 4:2:0 video encoders need
    return torch.nn.functional.pad(image, (0, image.shape[-1] % 2, 0, image.shape[-2] % 2))


def save_png(image: torch.Tensor, path: Path) -> Path:
    """Write a [3, H, W] image in [0, 1] as an 8-bit RGB PNG."""
    import av

    rgb = (image.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).contiguous().numpy()
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", format="image2", options={"update": "1"}) as container:
        stream = container.add_stream("png", rate=1)
        stream.width, stream.height, stream.pix_fmt = rgb.shape[1], rgb.shape[0], "rgb24"
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return Path(path)
