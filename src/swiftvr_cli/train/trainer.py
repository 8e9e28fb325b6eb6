"""Training the embedded default model on CPU or CUDA, resumable.

A training clip of T frames runs through the real chunk path (a FIRST chunk
of T frames: encode, one DiT step, decode with the 3-frame decoder delay), so
the trained model is exactly what `swiftvr restore` runs; or, with
`detail_only`, through the detail branch alone (the same function while the
decoder's correction is zero, many times cheaper). The loss is squared error
on the frames plus a temporal term on consecutive-frame differences, which
keeps the output from flickering more than the truth.

Checkpoints are safetensors (model + optimizer tensors) beside a JSON of
scalars: no pickle, and a killed run resumes from the last one.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from ..metrics import luma, rgb_to_y
from ..model.loading import random_model, save_embedded
from ..model.presets import preset
from ..model.routing import damage_features
from ..model.swiftvr import ChunkKind, RestoreState, SwiftVR, prepare_frames
from .data import REAL_MOTION, ClipSampler, SamplerConfig, make_split, validation_clips
from ..fill import fill_masked
from ..random_draws import chance
from .degrade import CompressConfig, DegradeConfig, StageConfig, degrade_clip, quantize
from .masks import apply_mask, random_mask


def light_degradation(scale: int) -> DegradeConfig:
    """Everyday inputs (mild blur, a codec pass, little noise), drawn as often as the
    full second-order model so the model does not over-correct lightly damaged video."""
    first = StageConfig(
        blur_prob=0.7 if scale > 1 else 0.25, blur_sigma=(0.3, 1.5), blur_kind_probs=(0.8, 0.2, 0.0),
        resize_probs=(0.0, 0.3, 0.7), resize_down=(0.8, 1.0), noise_prob=0.2, gaussian_sigma=(1.0, 5.0),
        poisson_scale=(0.05, 0.5), jpeg_prob=0.0,
    )  # fmt: skip
    final = CompressConfig(jpeg_prob=0.1, video_prob=0.9, crf=(18, 38))
    return DegradeConfig(scale=scale, first=first, second_prob=0.0, final=final)


def clean_degradation(scale: int) -> DegradeConfig:
    """Well-made sources: an anti-aliased bicubic downscale and at most a light codec pass
    (at scale 1: a codec pass from good to very poor quality, the clean-up case)."""
    still = StageConfig(blur_prob=0.0, resize_probs=(0.0, 0.0, 1.0), noise_prob=0.0, jpeg_prob=0.0)
    if scale == 1:
        final = CompressConfig(jpeg_prob=0.0, video_prob=1.0, codec_probs=(("libx264", 0.8), ("libx265", 0.2)), crf=(24, 40))
    else:
        final = CompressConfig(jpeg_prob=0.0, video_prob=0.5, crf=(15, 25))
    return DegradeConfig(scale=scale, first=still, second_prob=0.0, resize_modes=("bicubic",), antialias_prob=1.0, final=final)


def task_degradation(task: str) -> DegradeConfig:
    """--task deblur / denoise training inputs at the same size (a light codec pass sometimes)."""
    light_codec = CompressConfig(jpeg_prob=0.0, video_prob=0.3, crf=(15, 23))
    if task == "deblur":
        first = StageConfig(
            blur_prob=1.0, blur_sigma=(0.8, 3.0), blur_kind_probs=(0.5, 0.2, 0.3), motion_length=(3.0, 15.0),
            resize_probs=(0.0, 0.0, 1.0), noise_prob=0.15, gaussian_sigma=(0.5, 3.0), poisson_scale=(0.05, 0.3), jpeg_prob=0.0,
        )  # fmt: skip
    elif task == "denoise":
        first = StageConfig(
            blur_prob=0.0, resize_probs=(0.0, 0.0, 1.0), noise_prob=1.0, gaussian_prob=0.7, gaussian_sigma=(5.0, 30.0),
            poisson_scale=(0.5, 4.0), gray_noise_prob=0.3, jpeg_prob=0.0,
        )  # fmt: skip
    else:
        raise ValueError(f"no degradation model for task {task!r}")
    return DegradeConfig(scale=1, first=first, second_prob=0.0, final=light_codec)


def downscale_degradation(scale: int, codec_prob: float = 0.35) -> DegradeConfig:
    """A plain downscale of the kind cameras and editors make (box/area, or anti-aliased
    bicubic or bilinear), sometimes through a light-to-moderate codec pass: the common case
    of real footage, which must gain without being over-sharpened."""
    still = StageConfig(blur_prob=0.0, resize_probs=(0.0, 0.0, 1.0), noise_prob=0.0, jpeg_prob=0.0)
    final = CompressConfig(jpeg_prob=0.0, video_prob=codec_prob, crf=(15, 30))
    return DegradeConfig(
        scale=scale, first=still, second_prob=0.0, resize_modes=("area", "area", "bicubic", "bilinear"), antialias_prob=1.0, final=final
    )


@dataclass(frozen=True)
class SrMix:
    """Shares of one SR training mix; the rest of the draws is the full second-order model."""

    downscale: float  # plain downscales (``downscale_degradation``)
    clean: float  # clean bicubic sources
    light: float  # everyday damage (blur, noise, codec)
    downscale_codec: float = 0.35  # of the plain downscales, the share that also goes through a codec


# SR training mixes by name. "real" follows real footage, whose common case is a plain
# downscale, often of a soft (moving, defocused) frame.
SR_MIX: dict[str, SrMix] = {
    "default": SrMix(0.0, 0.35, 0.45),
    "real": SrMix(0.6, 0.0, 0.3),
    "real-downscale": SrMix(0.8, 0.0, 0.15),  # "real" with fewer blurred inputs: less sharpening of soft frames
    "real-codec": SrMix(0.8, 0.0, 0.15, downscale_codec=0.6),  # more of its downscales compressed, none blurred
    # compressed or soft inputs only: the specialist that `model.routing` blends in for such video
    "real-compressed": SrMix(0.5, 0.0, 0.45, downscale_codec=1.0),
    "real-compressed-soft": SrMix(0.25, 0.0, 0.7, downscale_codec=1.0),
}


def draw_routing_example(scale: int, g: torch.Generator) -> tuple[DegradeConfig, float]:
    """A degradation and its routing label: 0 for a plain downscale with no codec (the base
    expert's case), 1 for the specialist's inputs (the ``real-compressed`` mix: a downscale
    through a codec, or blur, noise and compression)."""
    if float(torch.rand((), generator=g)) < 0.5:
        return downscale_degradation(scale, codec_prob=0.0), 0.0
    return draw_sr_degradation(scale, g, "real-compressed"), 1.0


def draw_sr_degradation(scale: int, g: torch.Generator, mix: str = "real") -> DegradeConfig:
    """One draw from a named SR training mix (``SR_MIX``)."""
    shares = SR_MIX[mix]
    if float(torch.rand((), generator=g)) < shares.downscale:
        return downscale_degradation(scale, shares.downscale_codec)
    rest = 1 - shares.downscale
    return draw_degradation(scale, g, shares.clean / rest, shares.light / rest)


def draw_degradation(scale: int, g: torch.Generator, clean_prob: float = 0.35, light_prob: float = 0.45) -> DegradeConfig:
    """The training mix: clean sources, everyday damage, or the full second-order model."""
    u = float(torch.rand((), generator=g))
    if u < clean_prob:
        return clean_degradation(scale)
    if u < clean_prob + light_prob:
        return light_degradation(scale)
    return DegradeConfig(scale=scale)


def deepen_detail(model: torch.nn.Module, tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A shallower detail branch's tensors laid out for the model's deeper one, same function.

    The old output convolution moves to the new last index; each inserted convolution
    starts as the identity (a Dirac kernel, zero bias). It follows a ReLU, so its input
    is non-negative and conv + ReLU passes it through unchanged: the deeper branch
    starts as the old one and can still learn. Tensors of a branch as deep as the
    model's come back unchanged.
    """
    own = model.state_dict()
    prefix = next((name.rsplit("body.", 1)[0] + "body." for name in own if ".detail.body." in name), None)
    if prefix is None:
        return tensors

    def conv_indices(names) -> list[int]:
        return sorted({int(n[len(prefix) :].split(".")[0]) for n in names if n.startswith(prefix)})

    new, old = conv_indices(own), conv_indices(tensors)
    if not old or old[-1] >= new[-1]:
        return tensors
    out = {name: value for name, value in tensors.items() if not name.startswith(f"{prefix}{old[-1]}.")}
    for kind in ("weight", "bias"):
        out[f"{prefix}{new[-1]}.{kind}"] = tensors[f"{prefix}{old[-1]}.{kind}"]
    for index in new[len(old) - 1 : -1]:
        weight = own[f"{prefix}{index}.weight"]
        out[f"{prefix}{index}.weight"] = torch.nn.init.dirac_(torch.empty_like(weight))
        out[f"{prefix}{index}.bias"] = torch.zeros(weight.shape[0])
    return out


def load_grown(model: torch.nn.Module, tensors: dict[str, torch.Tensor]) -> None:
    """Warm start from a smaller model of the same family, keeping its function exactly.

    A deeper detail branch gets identity convolutions before its output layer
    (`deepen_detail`). Equal shapes are copied. A tensor that grew gets the old values in its leading
    slice; the old units' weights on new inputs (e.g. a conv's extra input channels,
    or the channels of new units before it) are zeroed, so new inputs start switched
    off; new units (extra output rows) keep their initialisation, so a wider layer
    has live new features that the next layer's zeroed columns ignore at first
    (Net2Net-style widening: the grown model starts as the old one and can still
    learn). Tensors the old model lacks keep their initialisation.
    """
    tensors = deepen_detail(model, tensors)
    own = model.state_dict()
    for name, old in tensors.items():
        if name not in own:
            continue
        new = own[name]
        if new.shape == old.shape:
            new.copy_(old)
        elif new.dim() == old.dim() and all(n >= o for n, o in zip(new.shape, old.shape)):
            if new.dim() >= 2:
                new[: old.shape[0]].zero_()  # old units: nothing from the new inputs
            new[tuple(slice(0, o) for o in old.shape)].copy_(old)
        else:
            raise ValueError(f"cannot grow {name} from {tuple(old.shape)} to {tuple(new.shape)}")


def load_expert(model: torch.nn.Module, tensors: dict[str, torch.Tensor], expert: str = "alt") -> None:
    """Put another model's detail branch into one expert of a routed branch: ``"alt"``, the
    specialist, or ``"body"``, the base. The rest of the model, which both experts share,
    stays as it is."""
    if expert not in ("alt", "body"):
        raise ValueError(f"expert is 'alt' (the specialist) or 'body' (the base), not {expert!r}")
    own = model.state_dict()
    for name, value in tensors.items():
        if ".detail.body." in name:
            own[name.replace(".detail.body.", f".detail.{expert}.")].copy_(value)


@dataclass
class TrainConfig:
    preset: str = "tiny"
    data_dir: str = "../shared/data"
    run_dir: str = "runs/tiny"
    steps: int = 6000
    batch: int = 4
    clip_len: int = 8  # frames per training clip (multiple of 4): 2 latents, 5 supervised frames
    patch: int = 128  # HR patch side (multiple of 32)
    scales: dict[int, float] = field(default_factory=lambda: {4: 0.5, 2: 0.25, 1: 0.25})  # scale -> probability
    lr: float = 1e-3
    min_lr: float = 5e-5
    warmup: int = 200
    temporal_weight: float = 0.5
    luma_weight: float = 0.0  # extra squared error on luma (see clip_loss)
    clean_prob: float = 0.35  # share of clips with clean degradations (bicubic down, light codec)
    light_prob: float = 0.45  # share with everyday ones (mild blur, codec, little noise); the rest heavy
    seed: int = 0
    checkpoint_every: int = 200
    eval_every: int = 500
    time_budget_s: float | None = None  # stop (with a checkpoint) after this long
    threads: int | None = None
    device: str = "cpu"
    init_from: str | None = None  # warm start: a run's checkpoint.safetensors or shipped weights (weights/*.safetensors)
    # Same-size task model instead of super-resolution: task -> probability, e.g.
    # {"clean": 0.3, "deblur": 0.2, "denoise": 0.2, "inpaint": 0.3}. Empty: the SR model.
    tasks: dict[str, float] = field(default_factory=dict)
    # Train only the detail branch (the decoder's last layer stays zero): see `run_detail`.
    detail_only: bool = False
    # "real": camera speeds up to 30 px/frame with motion blur in the ground truth and a
    # degradation mix led by plain downscales (see SR_MIX); "default": the earlier recipe.
    mix: str = "default"
    # Data echoing: each degraded batch trains this many steps, every repeat under a fresh
    # flip/rotation. On CPU, making an SR batch (blur, resize, a real codec pass) costs about
    # as much as the step itself; 1 = every step gets new data.
    echo: int = 1
    # Share of training clips cut from the real videos (the rest: photos under a synthetic
    # camera); None keeps the sampler's default.
    video_share: float | None = None
    # Relative sampling weights of named training videos (1 for the rest; SamplerConfig).
    video_weights: dict[str, float] = field(default_factory=dict)
    # Fixed degradations that validation measures and the best step is chosen on; None:
    # those that fit the mix or task (a specialist is judged on its own inputs).
    validate_on: tuple[str, ...] | None = None
    # A routed model (preset "tiny-routed", `model.routing`): the specialist expert's weights
    # (a run's checkpoint or a shipped file; `init_from` gives the base expert), and the
    # parameter-name prefixes that train, the rest staying fixed (e.g. only the router).
    specialist_from: str | None = None
    train_only: tuple[str, ...] | None = None
    # "restore": the restoration loss; "route": a routed model's router learns, as a classifier
    # of the input's damage (`draw_routing_example`), which expert a frame should get.
    objective: str = "restore"
    # objective "route" (required there): draw this many labelled clips once and train on
    # random frames of them. The router is cheap to run and slow to learn, so fresh clips (a
    # codec pass each) would cost most of the time; a resume draws a new pool.
    route_pool: int = 0
    # objective "route": the share of pool clips made grey before their degradation. Grey
    # footage silences the router's chroma cues, so it must learn luma ones too.
    route_grey: float = 0.0

    @property
    def validation_tasks(self) -> tuple[str, ...]:
        if self.validate_on:
            return tuple(self.validate_on)
        if not self.tasks:
            return SR_REAL_VALIDATION_TASKS if self.mix.startswith("real") else SR_VALIDATION_TASKS
        return tuple(dict.fromkeys("crf35" if task in CLEAN_UP_MIX else task for task in self.tasks))  # clean-up is measured on CRF 35


SR_VALIDATION_TASKS = ("x4", "x4-clean", "x2")  # scale 1 is the clean-up model's
SR_REAL_VALIDATION_TASKS = ("x4-area", "x4", "x4-clean", "x2")

Batch = tuple[torch.Tensor, torch.Tensor, tuple[int, int], "torch.Tensor | None"]  # HQ, LQ, HQ size, fill mask


def echoed(batch: Batch, transform: int) -> Batch:
    """One of the 8 flips/rotations (``transform`` in 0..7) applied alike to every tensor of a
    batch ([B, T, C, H, W]); patches are square, so every shape and size stays the same."""
    hq, lq, size, mask = batch

    def apply(x: torch.Tensor | None) -> torch.Tensor | None:
        if x is None:
            return None
        x = torch.rot90(x, transform % 4, dims=(-2, -1))
        return x.flip(-1) if transform >= 4 else x

    return apply(hq), apply(lq), size, apply(mask)


# Same-size clean-up training mixes: task -> (share of codec-only damage, share of everyday
# damage); the rest is the full second-order model. "codec" weighs compressed video more.
CLEAN_UP_MIX: dict[str, tuple[float, float]] = {"clean": (0.6, 0.3), "codec": (0.85, 0.15)}


def clip_loss(out: torch.Tensor, target: torch.Tensor, temporal_weight: float, luma_weight: float = 0.0) -> torch.Tensor:
    """Frames [B, T, 3, H, W]: squared error on the frames + on consecutive-frame differences,
    + ``luma_weight`` x squared error on BT.601 luma (in [0, 1] units).

    The luma term exists because models are judged on PSNR-Y: with RGB error alone, a
    denoiser buys its loss by removing colour noise (cheap, invisible in Y) while smoothing
    luma detail, and fell below the noisy input in Y on detailed real footage.

    Squared error, not L1/Charbonnier: with an L1 loss the many flat pixels (where the
    upscaled input is already right up to 8-bit noise) contribute sign noise of the same
    weight as edges, and the correction barely leaves zero on a CPU budget (the comparison
    is in weights/README.md, Training).
    """
    loss = F.mse_loss(out, target)
    if luma_weight:  # luma in [0, 1] units (its offset cancels in the difference)
        loss = loss + luma_weight * F.mse_loss(rgb_to_y(out, out.dtype) / 255.0, rgb_to_y(target, target.dtype) / 255.0)
    if temporal_weight and out.shape[1] > 1:
        loss = loss + temporal_weight * F.mse_loss(out[:, 1:] - out[:, :-1], target[:, 1:] - target[:, :-1])
    return loss


def _filled_frames(lq01: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """[B, T, 3, h, w] in [0, 1] -> 0..255 frames, holes pre-filled as `swiftvr restore` does."""
    frames = lq01 * 255.0
    if mask is None:
        return frames
    return fill_masked(frames.flatten(0, 1), mask.flatten(0, 1)).unflatten(0, frames.shape[:2])


def run_clip(model: SwiftVR, lq01: torch.Tensor, size: tuple[int, int], mask: torch.Tensor | None = None) -> torch.Tensor:
    """LQ clip [B, T, 3, h, w] in [0, 1] -> restored [B, T-3, 3, H, W] (frames 0..T-4).

    mask [B, T, 1, h, w] (inpainting): the holes are pre-filled as `swiftvr restore` does.
    """
    clip_len = lq01.shape[1] - 4
    frames = _filled_frames(lq01, mask)
    out, _ = model.restore_chunk(frames, ChunkKind.FIRST, RestoreState(), size=size, clip_len=clip_len, mask=mask)
    return out


def run_detail(model: SwiftVR, lq01: torch.Tensor, size: tuple[int, int], mask: torch.Tensor | None = None) -> torch.Tensor:
    """The model with its latent path silent: upscaled input + the detail branch's correction.

    Exactly what `run_clip` computes while the decoder's last layer is zero (the
    state after `init_for_restoration`), for every frame (no decoder delay), at a
    fraction of the cost: the encoder, DiT and decoder are skipped. Used to train the
    detail branch first, on many more clips per CPU second.
    """
    b = lq01.shape[0]
    frames = _filled_frames(lq01, mask)
    rgb = prepare_frames(frames, size, 1, torch.float32, model.cfg.upscale_mode)
    m = None if mask is None else prepare_frames(mask * 255.0, size, 1, torch.float32)
    correction, _ = model.reae.detail(rgb, m, None, model.route(frames))
    out = (rgb.flatten(0, 1) + correction).clamp(0, 1).unflatten(0, (b, -1))
    return out if m is None else torch.lerp(rgb, out, m)


def init_relu_stack(stack: torch.nn.Sequential) -> None:
    """He (fan-in, ReLU) initialisation for a plain conv/ReLU stack; the last conv starts at zero.

    PyTorch's default conv initialisation shrinks the signal with depth, so the
    zero-initialised last layer sees tiny features and the stack spends its first
    thousands of steps only rescaling (measurements in weights/README.md, Training).
    """
    convs = [layer for layer in stack if isinstance(layer, torch.nn.Conv2d)]
    for layer in convs[:-1]:
        torch.nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
        torch.nn.init.zeros_(layer.bias)
    torch.nn.init.zeros_(convs[-1].weight)
    torch.nn.init.zeros_(convs[-1].bias)


def init_for_restoration(model: SwiftVR) -> None:
    """Start as the identity on top of the upscaled input: never worse than interpolation at step 0."""
    if model.reae.has_latent_path:
        last = model.reae.decoder[-1]
        torch.nn.init.zeros_(last.weight)
        torch.nn.init.zeros_(last.bias)
    if model.cfg.reae.detail_width:
        init_relu_stack(model.reae.detail.body)
    if model.transformer is not None:
        torch.nn.init.zeros_(model.transformer.proj_out.weight)
        torch.nn.init.zeros_(model.transformer.proj_out.bias)


def _model_part(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The model.* entries of a checkpoint (beside optim.* and rng), without the prefix."""
    return {key[6:]: value for key, value in tensors.items() if key.startswith("model.")}


def model_tensors(path: str | Path) -> dict[str, torch.Tensor]:
    """Model weights from a run's checkpoint (model.* keys) or a shipped safetensors file."""
    tensors = load_file(str(path))
    return _model_part(tensors) if any(key.startswith("model.") for key in tensors) else tensors


def lr_at(step: int, cfg: TrainConfig) -> float:
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    progress = min(1.0, (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup))
    return cfg.min_lr + 0.5 * (cfg.lr - cfg.min_lr) * (1 + math.cos(math.pi * progress))


@torch.no_grad()
def validate(model: SwiftVR, clips: list[tuple[str, torch.Tensor]], tasks=SR_VALIDATION_TASKS) -> dict[str, float]:
    """Mean PSNR-Y, and gain over the plain baseline, per fixed degradation.

    Restored through the real chunk path. The baseline is bicubic for super-resolution,
    the best of the degraded input and the task's simple method at the same size.
    """
    from ..evaluation import gains_over_baseline, restore_with_baselines
    from ..metrics import gain_summary

    model.eval()
    result: dict[str, float] = {}
    for task in tasks:
        gains, psnrs, every_gain, clip_gains = [], [], [], []
        for _, clip in clips:
            clean, _, outputs = restore_with_baselines(model, clip, task, clip_len=4)
            _, ours, clip_frame_gains = gains_over_baseline(outputs, clean)
            psnrs.append(sum(ours) / len(ours))
            gains.append(sum(clip_frame_gains) / len(clip_frame_gains))
            every_gain += clip_frame_gains
            clip_gains.append(gains[-1])
        summary = gain_summary(every_gain)
        result[f"{task}_psnr_y"] = sum(psnrs) / len(psnrs)
        result[f"{task}_gain_db"] = sum(gains) / len(gains)
        result[f"{task}_worst_frame_db"] = summary["worst"]
        result[f"{task}_worst10_db"] = summary["worst10"]
        result[f"{task}_worst_clip_db"] = min(clip_gains)
    model.train()
    return result


def validation_score(metrics: dict[str, float], tasks: tuple[str, ...]) -> float:
    """What the best checkpoint maximises: the mean gains, minus a steep penalty for any
    frame more than 0.3 dB below the baseline (a model that ships must never do that)."""
    score = 0.0
    for task in tasks:
        score += metrics[f"{task}_gain_db"]
        worst = metrics.get(f"{task}_worst_frame_db")
        if worst is not None:
            score += 5.0 * min(0.0, worst + 0.3)
    return score


class Trainer:
    def __init__(self, cfg: TrainConfig, log: Callable[[str], None] = print) -> None:
        if cfg.echo < 1:
            raise ValueError(f"echo must be 1 or more, got {cfg.echo}")
        routed = preset(cfg.preset).reae.detail_experts == 2
        if (cfg.specialist_from or cfg.objective == "route") and not routed:
            raise ValueError(f"specialist_from and objective 'route' need a routed model (preset tiny-routed), not {cfg.preset!r}")
        if cfg.objective not in ("restore", "route"):
            raise ValueError(f"objective must be 'restore' or 'route', got {cfg.objective!r}")
        if cfg.objective == "route" and cfg.tasks:
            raise ValueError("objective 'route' trains on SR inputs, not tasks")
        if cfg.route_pool and (cfg.objective != "route" or cfg.echo != 1):
            raise ValueError("route_pool is for objective 'route' with echo 1 (the pool is its own reuse)")
        if not 0.0 <= cfg.route_grey <= 1.0 or (cfg.route_grey and not cfg.route_pool):
            raise ValueError(f"route_grey is a share in [0, 1] of route_pool's clips, got {cfg.route_grey} with route_pool {cfg.route_pool}")
        if cfg.objective == "route" and not cfg.route_pool:
            raise ValueError("objective 'route' learns from a pool of drawn frames: set route_pool")
        self.cfg = cfg
        self.log = log
        self.run_dir = Path(cfg.run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        self.device = torch.device(cfg.device)
        self.model = random_model(preset(cfg.preset), self.device, torch.float32, seed=cfg.seed)
        init_for_restoration(self.model)
        if not self.checkpoint_path.exists():  # a resume replaces every weight: its warm starts may be gone
            with torch.no_grad():
                if cfg.init_from:
                    load_grown(self.model, model_tensors(cfg.init_from))
                if cfg.specialist_from:
                    load_expert(self.model, model_tensors(cfg.specialist_from))
        self.model.train()
        trained = []
        for name, p in self.model.named_parameters():
            p.requires_grad_(not cfg.train_only or name.startswith(tuple(cfg.train_only)))
            trained += [p] if p.requires_grad else []
        if not trained:
            raise ValueError(f"no parameter starts with any of train_only {list(cfg.train_only or ())}")
        self.opt = torch.optim.AdamW(trained, lr=cfg.lr, weight_decay=0.0, betas=(0.9, 0.99))
        self.generator = torch.Generator().manual_seed(cfg.seed)
        train_sources, _ = make_split(cfg.data_dir)
        if cfg.mix not in SR_MIX:
            raise ValueError(f"unknown mix {cfg.mix!r}; choose from {', '.join(SR_MIX)}")
        sampling = SamplerConfig(motion=REAL_MOTION) if cfg.mix.startswith("real") else SamplerConfig()
        if cfg.video_share is not None:
            sampling = replace(sampling, video_prob=cfg.video_share)
        sampling = replace(sampling, video_weights=dict(cfg.video_weights))
        self.sampler = ClipSampler(train_sources, cfg.clip_len, cfg.patch, cfg.seed, sampling)
        self.step = 0
        self.history: list[dict] = []
        self.best: float | None = None
        self._echo: Batch | None = None  # the batch being echoed
        self._echo_left = 0  # repeats it still has
        self._route_pool: dict[int, tuple[torch.Tensor, torch.Tensor]] | None = None  # route_pool: frames, labels by scale
        self._route_labels = torch.zeros(0)  # objective "route": the current batch's labels, one per frame
        self._resume()

    # -- checkpoints -------------------------------------------------------
    @property
    def checkpoint_path(self) -> Path:
        return self.run_dir / "checkpoint.safetensors"

    def save_checkpoint(self) -> None:
        tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in self.model.state_dict().items()}
        state = self.opt.state_dict()
        for index, slots in state["state"].items():
            for name, value in slots.items():
                tensors[f"optim.{index}.{name}"] = torch.as_tensor(value).detach().cpu().contiguous()
        tensors["rng"] = self.generator.get_state()
        if self._echo_left:  # mid-echo: the batch goes with the checkpoint, so a resume repeats it exactly
            hq, lq, _, mask = self._echo
            echo = {"echo.hq": hq, "echo.lq": lq, **({"echo.mask": mask} if mask is not None else {})}
            tensors.update({k: v.detach().cpu().contiguous() for k, v in echo.items()})
        tmp = self.checkpoint_path.with_suffix(".tmp")
        save_file(tensors, str(tmp))
        tmp.replace(self.checkpoint_path)
        meta = {"step": self.step, "best": self.best, "history": self.history, "config": asdict(self.cfg), "echo_left": self._echo_left}
        (self.run_dir / "checkpoint.json").write_text(json.dumps(meta, indent=1))

    def _resume(self) -> None:
        if not self.checkpoint_path.exists():
            return
        tensors = load_file(str(self.checkpoint_path))
        meta = json.loads((self.run_dir / "checkpoint.json").read_text())
        self.model.load_state_dict(_model_part(tensors))
        state = self.opt.state_dict()
        for key, value in tensors.items():
            if key.startswith("optim."):
                _, index, name = key.split(".", 2)
                state["state"].setdefault(int(index), {})[name] = value
        self.opt.load_state_dict(state)
        self.generator.set_state(tensors["rng"])
        self.step, self.best, self.history = meta["step"], meta["best"], meta["history"]
        self._echo_left = meta.get("echo_left", 0)
        if self._echo_left:
            hq, lq = tensors["echo.hq"], tensors["echo.lq"]
            self._echo = (hq, lq, tuple(hq.shape[-2:]), tensors.get("echo.mask"))
        self.log(f"resumed from step {self.step}")

    # -- training ------------------------------------------------------------
    def _draw(self, table: dict) -> object:
        keys, probs = zip(*table.items())
        return keys[int(torch.multinomial(torch.tensor(probs, dtype=torch.float64), 1, generator=self.generator))]

    def _next_batch(self) -> Batch:
        """A new batch, or (with `echo` > 1) a flipped/rotated repeat of the current one."""
        if self._echo_left:
            self._echo_left -= 1
            return echoed(self._echo, int(torch.randint(8, (1,), generator=self.generator)))
        batch = self._batch()
        if self.cfg.echo > 1:
            self._echo, self._echo_left = batch, self.cfg.echo - 1
        return batch

    def _batch(self) -> Batch:
        if self.cfg.objective == "route":  # frames of the pool: no clip to sample
            return self._pool_batch()
        hq = torch.stack([self.sampler.sample(self.generator) for _ in range(self.cfg.batch)])
        size = tuple(hq.shape[-2:])
        if self.cfg.tasks:
            task = self._draw(self.cfg.tasks)
            if task == "inpaint":
                mask = torch.stack([random_mask(c.shape[0], *size, self.generator) for c in hq])
                colours = [tuple(float(v) for v in torch.rand(3, generator=self.generator).round()) for _ in hq]
                lq = torch.stack([quantize(apply_mask(c, m, colour)) for c, m, colour in zip(hq, mask, colours)])
                return hq, lq, size, mask
            if task in CLEAN_UP_MIX:  # same-size clean-up: codec damage, some blur and noise
                clean_prob, light_prob = CLEAN_UP_MIX[task]
                configs = [draw_degradation(1, self.generator, clean_prob=clean_prob, light_prob=light_prob) for _ in hq]
            else:
                configs = [task_degradation(task) for _ in hq]
        else:
            scale = self._draw(self.cfg.scales)
            configs = [self._degradation(scale) for _ in hq]
        lq = torch.stack([degrade_clip(c, cfg, self.generator) for c, cfg in zip(hq, configs)])
        return hq, lq, size, None

    def _pool_batch(self) -> Batch:
        """objective "route": batch x clip_len random frames of one scale's pool (drawn once),
        each its own one-frame clip (the LQ frames stand in for the unused HQ ones)."""
        if self._route_pool is None:
            drawn: dict[int, list[tuple[torch.Tensor, torch.Tensor]]] = {}
            for _ in range(self.cfg.route_pool):
                scale = self._draw(self.cfg.scales)
                config, label = draw_routing_example(scale, self.generator)
                clip = self.sampler.sample(self.generator)
                if self.cfg.route_grey and chance(self.generator, self.cfg.route_grey):
                    clip = luma(clip)[:, None].expand_as(clip).contiguous()
                lq = degrade_clip(clip, config, self.generator)
                as_bytes = (lq * 255).round().to(torch.uint8)  # degrade_clip's output is on 8-bit levels
                drawn.setdefault(scale, []).append((as_bytes, torch.full((len(lq),), label)))
            self._route_pool = {scale: tuple(torch.cat(parts) for parts in zip(*clips)) for scale, clips in drawn.items()}
            if self.step == 0:  # a fresh router: its features standardized on the pool (a resume keeps its own)
                features = torch.cat([damage_features(frames.float() / 255) for frames, _ in self._route_pool.values()])
                self.model.reae.detail.router.standardize(features.to(self.device))
        scale = self._draw({s: p for s, p in self.cfg.scales.items() if s in self._route_pool})
        frames, labels = self._route_pool[scale]
        pick = torch.randint(len(frames), (self.cfg.batch * self.cfg.clip_len,), generator=self.generator)
        lq = frames[pick, None].float() / 255
        self._route_labels = labels[pick]
        return lq, lq, (self.cfg.patch, self.cfg.patch), None

    def _degradation(self, scale: int) -> DegradeConfig:
        if self.cfg.mix == "default":
            return draw_degradation(scale, self.generator, self.cfg.clean_prob, self.cfg.light_prob)
        return draw_sr_degradation(scale, self.generator, self.cfg.mix)

    def _route_loss(self, lq: torch.Tensor) -> torch.Tensor:
        """Binary cross-entropy of the router's per-frame logit (on the input frames, as
        `SwiftVR.route` reads them) against its clip's label."""
        logits = self.model.reae.detail.router.logit(lq.flatten(0, 1).to(self.device))
        labels = self._route_labels.to(self.device).repeat_interleave(lq.shape[1])
        return F.binary_cross_entropy_with_logits(logits, labels)

    def train_step(self) -> float:
        hq, lq, size, mask = self._next_batch()
        for group in self.opt.param_groups:
            group["lr"] = lr_at(self.step, self.cfg)
        if self.cfg.objective == "route":
            loss = self._route_loss(lq)
        else:
            run = run_detail if self.cfg.detail_only else run_clip
            out = run(self.model, lq.to(self.device), size, None if mask is None else mask.to(self.device))
            loss = clip_loss(out, hq[:, : out.shape[1]].to(self.device), self.cfg.temporal_weight, self.cfg.luma_weight)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.opt.param_groups[0]["params"], 1.0)  # the parameters that train
        self.opt.step()
        self.step += 1
        return loss.item()

    def export(self, json_path: Path, metrics: dict) -> None:
        export = random_model(preset(self.cfg.preset))
        export.load_state_dict(self.model.state_dict())
        export.prompt_emb = self.model.prompt_emb.detach().cpu()
        save_embedded(export, json_path, {"training": {"steps": self.step, "config": asdict(self.cfg)}, "validation": metrics})

    def fit(self, on_step: Callable[[int, float], None] | None = None) -> None:
        started = time.monotonic()
        val = validation_clips(self.cfg.data_dir, clip_len=self.cfg.clip_len)
        running = None
        while self.step < self.cfg.steps:
            loss = self.train_step()
            running = loss if running is None else 0.98 * running + 0.02 * loss
            if on_step:
                on_step(self.step, running)
            if self.step % 20 == 0:
                self.history.append({"step": self.step, "loss": running})
            if self.step % self.cfg.eval_every == 0 or self.step == self.cfg.steps:
                metrics = validate(self.model, val, self.cfg.validation_tasks)
                self.history.append({"step": self.step, **metrics})
                score = validation_score(metrics, self.cfg.validation_tasks)
                self.log(f"step {self.step}: loss {running:.4f} " + " ".join(f"{k} {v:.3f}" for k, v in metrics.items()))
                if self.best is None or score > self.best:
                    self.best = score
                    self.export(self.run_dir / "best.json", metrics)
            if self.step % self.cfg.checkpoint_every == 0:
                self.save_checkpoint()
                self.plot()
            if self.cfg.time_budget_s and time.monotonic() - started > self.cfg.time_budget_s:
                self.log(f"time budget reached at step {self.step}")
                break
        self.save_checkpoint()
        self.plot()

    def plot(self) -> None:
        """Loss and validation curves as PNG (skipped if matplotlib is missing)."""
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            return
        losses = [(h["step"], h["loss"]) for h in self.history if "loss" in h]
        gains = {task: [(h["step"], h[f"{task}_gain_db"]) for h in self.history if f"{task}_gain_db" in h] for task in self.cfg.validation_tasks}
        fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
        if losses:
            a.plot(*zip(*losses))
        a.set(title="training loss", xlabel="step", yscale="log")
        for task, points in gains.items():
            if points:
                b.plot(*zip(*points), label=f"{task} vs {'bicubic' if task.startswith('x') else 'baseline'}")
        if any(gains.values()):
            b.legend()
        b.set(title="validation PSNR-Y gain (dB)", xlabel="step")
        fig.tight_layout()
        fig.savefig(self.run_dir / "curves.png", dpi=80)
        plt.close(fig)
