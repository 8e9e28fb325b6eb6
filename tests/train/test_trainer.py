"""The trainer on a tiny synthetic data folder: warm starts, task batches, resumable steps."""

from dataclasses import asdict, replace

import pytest
import torch

from swiftvr_cli.model.loading import random_model
from swiftvr_cli.model.presets import preset
from swiftvr_cli.model.routing import damage_features
from swiftvr_cli.model.swiftvr import ChunkKind, RestoreState
from swiftvr_cli.train.trainer import TrainConfig, Trainer, echoed, init_for_restoration, init_relu_stack, load_grown, model_tensors

from .test_data import data_dir  # noqa: F401  (fixture)


def test_grown_model_starts_as_the_smaller_one():
    from dataclasses import replace

    small_cfg = preset("tiny")
    small_cfg = replace(small_cfg, reae=replace(small_cfg.reae, detail_width=0))
    small = random_model(small_cfg, seed=1)
    torch.nn.init.normal_(small.reae.decoder[22].weight, std=0.01)
    big = random_model(preset("tiny"), seed=1)  # same seed: the same (non-trained) prompt embedding
    init_for_restoration(big)
    with torch.no_grad():
        load_grown(big, small.state_dict())
    frames = torch.rand(8, 3, 16, 24) * 255
    with torch.inference_mode():
        a, _ = small.restore_chunk(frames, ChunkKind.FIRST, RestoreState(), size=(64, 96), clip_len=4)
        b, _ = big.restore_chunk(frames, ChunkKind.FIRST, RestoreState(), size=(64, 96), clip_len=4)
    assert torch.allclose(a, b, atol=1e-6)


def _grow_trained_branch(small, big) -> tuple[torch.Tensor, torch.Tensor]:
    """Give ``small``'s detail branch a non-trivial function, grow ``big`` from it, and run
    both branches on the same clip (``big`` with gradients on, for the caller to check)."""
    with torch.no_grad():
        for p in small.reae.detail.parameters():
            p.normal_(0, 0.05)
        load_grown(big, small.state_dict())
    big.requires_grad_(True)
    lq = torch.rand(1, 5, 3, 64, 64)
    return small.reae.detail(lq, None, None)[0], big.reae.detail(lq, None, None)[0]


def test_widened_detail_branch_starts_as_the_narrow_one_and_its_new_units_learn():
    """Net2Net-style widening: same output at step 0, and the new units get gradients."""
    tiny = preset("tiny")
    wider = replace(tiny, reae=replace(tiny.reae, detail_width=tiny.reae.detail_width + 16))
    narrow, wide = random_model(tiny, seed=1), random_model(wider, seed=1)
    init_for_restoration(wide)
    a, b = _grow_trained_branch(narrow, wide)
    assert torch.allclose(a, b, atol=1e-6)
    b.square().sum().backward()
    width = narrow.cfg.reae.detail_width
    last = wide.reae.detail.body[-1].weight
    assert last.grad[:, width:].abs().sum() > 0  # the new units' outputs are live


def test_deepened_detail_branch_starts_as_the_shallow_one_and_its_new_layers_learn():
    """Identity convolutions inserted before the output: same output at step 0, live gradients."""
    shallow, deep = random_model(preset("tiny"), seed=1), random_model(preset("tiny-deep"), seed=2)
    assert len(deep.reae.detail.body) > len(shallow.reae.detail.body)
    a, b = _grow_trained_branch(shallow, deep)
    assert a.abs().mean() > 1e-3  # a real function, not two silent branches
    assert torch.allclose(a, b, atol=1e-5)
    b.square().sum().backward()
    inserted = deep.reae.detail.body[len(shallow.reae.detail.body) - 1]
    assert inserted.weight.grad.abs().sum() > 0


def test_detail_branch_starts_silent_with_activations_at_the_input_scale():
    """He initialisation: the signal reaching the (zero) output conv is not shrunk by depth,
    so the first steps train every layer (the default init shrank it ~20x over 7 layers)."""
    model = random_model(preset("tiny-fine"), seed=0)
    init_for_restoration(model)
    body = model.reae.detail.body
    assert not body[-1].weight.any() and not body[-1].bias.any()
    x = torch.rand(2, 28, 48, 48) - 0.5
    with torch.no_grad():
        features = body[:-1](x)
    ratio = features.pow(2).mean().sqrt() / x.pow(2).mean().sqrt()
    assert 0.2 < ratio < 5, ratio
    default = torch.nn.Sequential(*[torch.nn.Conv2d(28 if i == 0 else 48, 48, 3, padding=1) for i in range(8)])
    default_ratio = torch.nn.Sequential(*[m for c in default for m in (c, torch.nn.ReLU())])(x).pow(2).mean().sqrt() / x.pow(2).mean().sqrt()
    assert default_ratio < ratio / 10  # what the old initialisation did
    init_relu_stack(default)  # works on any conv stack (the CNN baseline uses it too)
    assert not default[-1].weight.any()


def _config(tmp_path, data_dir, **kw) -> TrainConfig:  # noqa: F811
    kw = {"patch": 32, **kw}
    return TrainConfig(
        data_dir=str(data_dir), run_dir=str(tmp_path / "run"), steps=2, batch=1, clip_len=8,
        warmup=1, checkpoint_every=1, eval_every=1000, threads=1, **kw,
    )  # fmt: skip


def test_task_batches_have_masks_only_for_inpainting(tmp_path, data_dir):  # noqa: F811
    trainer = Trainer(_config(tmp_path, data_dir, tasks={"clean": 1, "deblur": 1, "denoise": 1, "inpaint": 1}), log=lambda _: None)
    seen = set()
    for _ in range(12):
        hq, lq, size, mask = trainer._batch()
        assert lq.shape == hq.shape and size == (32, 32)
        seen.add(mask is not None)
        if mask is not None:
            assert mask.shape == (1, 8, 1, 32, 32)
    assert seen == {True, False}
    loss = trainer.train_step()
    assert loss > 0 and trainer.step == 1


def test_training_resumes_where_it_stopped(tmp_path, data_dir):  # noqa: F811
    cfg = _config(tmp_path, data_dir)
    first = Trainer(cfg, log=lambda _: None)
    first.train_step()
    first.save_checkpoint()
    second = Trainer(cfg, log=lambda _: None)
    assert second.step == 1
    for name, value in first.model.state_dict().items():
        assert torch.equal(value, second.model.state_dict()[name])


def test_resume_does_not_need_the_warm_start_file(tmp_path, data_dir):  # noqa: F811
    """A shipped training state names the run it started from, which a fresh clone lacks."""
    cfg = _config(tmp_path, data_dir)
    first = Trainer(cfg, log=lambda _: None)
    first.train_step()
    first.save_checkpoint()
    second = Trainer(replace(cfg, init_from=str(tmp_path / "gone.safetensors")), log=lambda _: None)
    assert second.step == 1
    for name, value in first.model.state_dict().items():
        assert torch.equal(value, second.model.state_dict()[name])


def test_echo_transforms_commute_with_downscaling():
    """A flipped/rotated repeat of an SR batch is still a valid pair: each of the 8 transforms,
    applied to HQ and LQ alike, equals degrading the transformed HQ."""
    hq = torch.rand(2, 4, 3, 16, 16)
    lq = torch.nn.functional.avg_pool2d(hq.flatten(0, 1), 4).unflatten(0, (2, 4))
    mask = (torch.rand(2, 4, 1, 16, 16) > 0.5).float()
    seen = set()
    for transform in range(8):
        t_hq, t_lq, size, t_mask = echoed((hq, lq, (16, 16), mask), transform)
        assert size == (16, 16) and t_hq.shape == hq.shape and t_mask.shape == mask.shape
        assert torch.allclose(t_lq, torch.nn.functional.avg_pool2d(t_hq.flatten(0, 1), 4).unflatten(0, (2, 4)))
        assert torch.equal(t_mask, echoed((mask, mask, size, None), transform)[0])
        seen.add(t_hq.numpy().tobytes())
    assert len(seen) == 8


def test_echo_repeats_each_batch_transformed_then_draws_a_new_one(tmp_path, data_dir):  # noqa: F811
    trainer = Trainer(_config(tmp_path, data_dir, echo=3, scales={4: 1.0}), log=lambda _: None)
    first = trainer._next_batch()
    repeats = [trainer._next_batch() for _ in range(2)]
    fresh = trainer._next_batch()
    variants = [echoed(first, t) for t in range(8)]
    for hq, lq, size, _ in repeats:
        assert size == first[2] and any(torch.equal(hq, v[0]) and torch.equal(lq, v[1]) for v in variants)
    assert not any(torch.equal(fresh[0], v[0]) for v in variants)
    with pytest.raises(ValueError, match="echo"):
        Trainer(_config(tmp_path / "bad", data_dir, echo=0), log=lambda _: None)


def test_resume_in_the_middle_of_an_echo_is_exact(tmp_path, data_dir):  # noqa: F811
    cfg = _config(tmp_path, data_dir, echo=2)
    straight = Trainer(replace(cfg, run_dir=str(tmp_path / "straight")), log=lambda _: None)
    for _ in range(3):
        straight.train_step()
    first = Trainer(cfg, log=lambda _: None)
    first.train_step()  # one repeat of this batch is still to come
    first.save_checkpoint()
    second = Trainer(cfg, log=lambda _: None)
    second.train_step()
    second.train_step()
    # the same batches and optimizer state: the weights agree to float rounding (a step on a
    # different batch moves Adam's weights by about the learning rate, 1e-3 here)
    for name, value in straight.model.state_dict().items():
        torch.testing.assert_close(second.model.state_dict()[name], value, rtol=0, atol=1e-6, msg=name)


def test_warm_start_from_shipped_weights_or_a_checkpoint(tmp_path, data_dir):  # noqa: F811
    """init_from takes a run's checkpoint (model.* keys, optimizer beside) or a shipped weights file."""
    from swiftvr_cli.model.loading import save_embedded

    source = Trainer(_config(tmp_path / "a", data_dir, preset="tiny-fine", detail_only=True, tasks={"denoise": 1}), log=lambda _: None)
    source.train_step()
    source.save_checkpoint()
    shipped = save_embedded(source.model, tmp_path / "shipped.json")
    for init in (source.checkpoint_path, shipped.with_suffix(".safetensors")):
        warm = Trainer(_config(tmp_path / init.stem, data_dir, preset="tiny-fine", init_from=str(init)), log=lambda _: None)
        assert warm.step == 0
        for name, value in source.model.state_dict().items():
            assert torch.equal(value, warm.model.state_dict()[name]), name


def test_luma_weight_adds_the_luma_error_and_ignores_colour_only_error():
    from swiftvr_cli.metrics import Y_WEIGHTS
    from swiftvr_cli.train.trainer import clip_loss

    target = torch.full((1, 2, 3, 8, 8), 0.5)
    grey = target + 0.1  # a brightness error: luma moves by 0.1 x (sum of the weights)
    luma_step = 0.1 * sum(Y_WEIGHTS) / 255.0
    assert clip_loss(grey, target, 0.0, luma_weight=2.0).item() == pytest.approx(0.01 + 2.0 * luma_step**2, rel=1e-4)
    # a colour error with no luma change (orthogonal to the luma weights) costs only its RGB error
    w = torch.tensor(Y_WEIGHTS)
    chroma = torch.tensor([1.0, 0.0, 0.0]) - w * w[0] / (w @ w)
    tinted = target + 0.05 * chroma.view(1, 1, 3, 1, 1)
    plain = clip_loss(tinted, target, 0.0)
    assert plain.item() > 0
    assert clip_loss(tinted, target, 0.0, luma_weight=5.0).item() == pytest.approx(plain.item(), rel=1e-4, abs=1e-9)


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_video_share_sets_how_many_clips_come_from_the_real_videos(tmp_path, data_dir, share):  # noqa: F811
    trainer = Trainer(_config(tmp_path, data_dir, video_share=share), log=lambda _: None)
    assert trainer.sampler.videos and trainer.sampler.photos
    # the fixture's video frames are flat grey levels, its photos are noise
    flat = [bool(trainer.sampler.sample()[0].std() < 0.02) for _ in range(12)]
    assert flat == [bool(share)] * 12


def test_sr_mixes_draw_their_shares():
    """Each named mix's shares add up, and "real-codec" compresses more of its plain
    downscales than "real-downscale" while drawing as many of them."""
    from swiftvr_cli.train.trainer import SR_MIX, draw_sr_degradation

    for shares in SR_MIX.values():
        assert 0 <= shares.downscale + shares.clean + shares.light <= 1

    def plain_and_compressed(mix: str) -> tuple[int, int]:
        g = torch.Generator().manual_seed(5)
        draws = [draw_sr_degradation(4, g, mix) for _ in range(400)]
        plain = [d for d in draws if d.second_prob == 0.0 and d.first.blur_prob == 0.0]
        return len(plain), sum(d.final.video_prob for d in plain)

    plain, codec = plain_and_compressed("real-downscale")
    plain_codec, codec_more = plain_and_compressed("real-codec")
    assert plain == plain_codec and abs(plain - 320) < 40
    assert codec_more / plain_codec == pytest.approx(0.6) and codec / plain == pytest.approx(0.35)


def test_routed_model_trains_only_its_router_from_two_experts(tmp_path, data_dir):  # noqa: F811
    """preset tiny-routed: the base expert from init_from, the specialist from specialist_from,
    and with train_only the experts stay exactly as given while the router learns."""
    from swiftvr_cli.model.loading import save_embedded

    experts = []
    for seed in (1, 2):
        model = random_model(preset("tiny-deep"), seed=seed)
        with torch.no_grad():
            for p in model.reae.detail.parameters():
                p.normal_(0, 0.02)
        experts.append(save_embedded(model, tmp_path / f"expert{seed}.json").with_suffix(".safetensors"))
    cfg = _config(
        tmp_path, data_dir, preset="tiny-routed", detail_only=True, mix="real", lr=1e-2, init_from=str(experts[0]),
        specialist_from=str(experts[1]), train_only=("reae.detail.router",),
    )  # fmt: skip
    trainer = Trainer(cfg, log=lambda _: None)
    before = {name: value.clone() for name, value in trainer.model.state_dict().items()}
    given = {tag: random_model(preset("tiny-deep")) for tag in ("body", "alt")}
    for tag, path in zip(("body", "alt"), experts):
        load_grown(given[tag], model_tensors(path))
        for name, value in given[tag].reae.detail.body.state_dict().items():
            assert torch.equal(before[f"reae.detail.{tag}.{name}"], value)
    trainer.train_step()
    trainer.train_step()
    after = trainer.model.state_dict()
    changed = {name for name in before if not torch.equal(before[name], after[name])}
    assert changed and all(name.startswith("reae.detail.router.") for name in changed)


def test_specialist_and_train_only_are_checked(tmp_path, data_dir):  # noqa: F811
    with pytest.raises(ValueError, match="routed model"):
        Trainer(_config(tmp_path / "a", data_dir, preset="tiny-deep", specialist_from=str(tmp_path / "x.safetensors")), log=lambda _: None)
    with pytest.raises(ValueError, match="train_only"):
        Trainer(_config(tmp_path / "b", data_dir, train_only=("no.such.part",)), log=lambda _: None)


def test_routing_examples_label_plain_downscales_0_and_damaged_input_1():
    from swiftvr_cli.train.trainer import draw_routing_example

    g = torch.Generator().manual_seed(0)
    draws = [draw_routing_example(4, g) for _ in range(200)]
    assert 60 < sum(label == 0 for _, label in draws) < 140
    for cfg, label in draws:
        plain = cfg.final.video_prob == 0 and cfg.final.jpeg_prob == 0 and cfg.first.blur_prob == 0 and cfg.first.noise_prob == 0
        assert plain == (label == 0) or (label == 1 and cfg.final.video_prob > 0)


def test_route_objective_trains_the_router_as_a_classifier(tmp_path, data_dir):  # noqa: F811
    """The router learns from a pool of labelled frames, its features standardized on the pool."""
    cfg = _config(
        tmp_path, data_dir, preset="tiny-routed", mix="real", objective="route", train_only=("reae.detail.router",), lr=1e-2,
        route_pool=4, scales={4: 1.0},
    )  # fmt: skip
    trainer = Trainer(cfg, log=lambda _: None)
    before = {name: value.clone() for name, value in trainer.model.state_dict().items()}
    loss = trainer.train_step()
    assert 0 < loss < 5 and set(trainer._route_labels.tolist()) <= {0.0, 1.0} and len(trainer._route_labels) == cfg.batch * cfg.clip_len
    router = trainer.model.reae.detail.router
    features = damage_features(trainer._route_pool[4][0].float() / 255)
    assert torch.allclose(router.feature_mean, features.mean(dim=0), atol=1e-5)
    after = trainer.model.state_dict()
    changed = {name for name in before if not torch.equal(before[name], after[name])}
    assert changed and all(name.startswith("reae.detail.router.") for name in changed)
    trainer.save_checkpoint()
    resumed = Trainer(cfg, log=lambda _: None)  # a resume keeps the standardization it trained with
    resumed.train_step()
    assert torch.equal(resumed.model.reae.detail.router.feature_mean, router.feature_mean)
    with pytest.raises(ValueError, match="not tasks"):
        Trainer(replace(cfg, tasks={"denoise": 1}, run_dir=str(tmp_path / "e")), log=lambda _: None)
    with pytest.raises(ValueError, match="routed model"):
        Trainer(replace(cfg, preset="tiny-deep", run_dir=str(tmp_path / "p")), log=lambda _: None)
    with pytest.raises(ValueError, match="set route_pool"):
        Trainer(replace(cfg, route_pool=0, run_dir=str(tmp_path / "n")), log=lambda _: None)


def test_route_pool_draws_its_clips_once_and_trains_on_their_frames(tmp_path, data_dir):  # noqa: F811
    cfg = _config(
        tmp_path, data_dir, preset="tiny-routed", mix="real", objective="route", train_only=("reae.detail.router",),
        route_pool=6, scales={4: 1.0},
    )  # fmt: skip
    trainer = Trainer(cfg, log=lambda _: None)
    trainer.train_step()
    frames, labels = trainer._route_pool[4]
    assert frames.shape == (6 * 8, 3, 8, 8) and frames.dtype == torch.uint8 and len(labels) == 48
    pool = frames.clone()
    trainer.train_step()
    assert torch.equal(trainer._route_pool[4][0], pool)  # drawn once, not per step
    assert len(trainer._route_labels) == cfg.batch * cfg.clip_len
    with pytest.raises(ValueError, match="route_pool"):
        Trainer(replace(cfg, echo=2, run_dir=str(tmp_path / "e")), log=lambda _: None)


def test_route_grey_makes_that_share_of_the_pool_grey(tmp_path, data_dir):  # noqa: F811
    cfg = _config(
        tmp_path, data_dir, preset="tiny-routed", mix="real", objective="route", train_only=("reae.detail.router",),
        route_pool=6, scales={4: 1.0},
    )  # fmt: skip

    def colour_spread(run: str, grey: float) -> torch.Tensor:
        trainer = Trainer(replace(cfg, route_grey=grey, run_dir=str(tmp_path / run)), log=lambda _: None)
        trainer.train_step()
        frames = trainer._route_pool[4][0].int()
        return (frames.amax(dim=1) - frames.amin(dim=1)).flatten(1).amax(dim=1)  # per frame, in grey levels

    assert colour_spread("colour", 0.0).amax() > 8  # the sources are colour photos and videos
    assert colour_spread("grey", 1.0).amax() <= 3  # a codec's 4:2:0 rounding leaves a level or two
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="route_grey"):
            Trainer(replace(cfg, route_grey=bad, run_dir=str(tmp_path / "b")), log=lambda _: None)
    with pytest.raises(ValueError, match="route_grey"):
        Trainer(replace(cfg, route_grey=0.5, objective="restore", route_pool=0, run_dir=str(tmp_path / "r")), log=lambda _: None)


def test_video_weights_reach_the_sampler_from_a_json_config(tmp_path, data_dir):  # noqa: F811
    import json

    from swiftvr_cli.train.__main__ import parse_config

    config = tmp_path / "cfg.json"
    config.write_text(json.dumps({**asdict(_config(tmp_path, data_dir)), "scales": {"4": 1.0}, "video_weights": {"clip": 2}}))
    cfg = parse_config(["--config", str(config)])
    assert cfg.video_weights == {"clip": 2.0}
    assert Trainer(cfg, log=lambda _: None).sampler.config.video_weights == {"clip": 2.0}
    with pytest.raises(ValueError, match="not among the training videos"):
        Trainer(replace(cfg, video_weights={"nope": 1.0}), log=lambda _: None)
