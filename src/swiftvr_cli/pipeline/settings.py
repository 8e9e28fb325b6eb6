"""What one restore run is asked to do (`RestoreSettings`) and what it reports (`RestoreSummary`).

Their own module, so every part of the pipeline can name them without
importing the runner.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..io import EncodeOptions


@dataclass
class RestoreSettings:
    scale: float = 4.0
    clip_len: int = 24  # frames per chunk: `--chunk`
    overlap: int = 0
    stream: int | None = None  # video stream index of the input
    queue_size: int = 2  # chunks in flight between two stages
    overwrite: bool = False
    encode: EncodeOptions = field(default_factory=EncodeOptions)
    skip_corrupt: bool = False  # stand the previous good frame in for damaged ones instead of failing
    max_memory: int | None = None  # bytes the run may use (None: what the device has free)
    auto: bool = False  # lower the chunk when memory is short
    reae_group: int = 0  # latents per ReAE pass (0: automatic, see model.swiftvr.automatic_reae_group); the output is the same
    keep_partial: bool = False  # after an early stop, keep the frames done as NAME.partial.EXT
    resume: bool = False  # checkpoint beside the output; continue an interrupted run
    checkpoint_every: int = 8  # chunks per checkpoint (with resume)
    hwaccel: str | None = None  # hardware video decoding (e.g. "cuda" for NVDEC), CPU fallback with a note
    task: str = "sr"  # what the model restores (tasks.Task); the scale and weights are chosen by the caller
    mask: str | None = None  # fill mask (white = fill): an image for every frame, or a video of one mask per frame
    strength: float | None = None  # share of the model's correction, 0..2 (None: the weights' default)


@dataclass
class RestoreSummary:
    input: str
    output: str
    frames: int
    seconds: float
    fps: float
    input_size: tuple[int, int]
    output_size: tuple[int, int]
    stage_seconds: dict[str, float]
    notes: list[str]

    def as_dict(self) -> dict:
        return {
            "input": self.input,
            "output": self.output,
            "frames": self.frames,
            "seconds": round(self.seconds, 3),
            "fps": round(self.fps, 3),
            "input_size": list(self.input_size),
            "output_size": list(self.output_size),
            "stage_seconds": {k: round(v, 3) for k, v in self.stage_seconds.items()},
            "notes": self.notes,
        }
