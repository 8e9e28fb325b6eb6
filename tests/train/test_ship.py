"""Shipping a detail-only run: the silent latent path is left out, the function kept."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from swiftvr_cli.model.describe import describe_weights
from swiftvr_cli.model.loading import load_embedded, random_model, save_embedded
from swiftvr_cli.model.presets import preset
from swiftvr_cli.pipeline.inmemory import restore_tensor
from swiftvr_cli.train.ship import drop_silent_latent_path, ship
from swiftvr_cli.train.trainer import init_for_restoration

SHIPPED = Path(__file__).resolve().parents[2] / "weights" / "swiftvr-tiny.json"


def _full_model():
    """The shipped function inside a full-size training model: the latent path present but
    silent (zero decoder output layer), as a detail-only run exports it."""
    shipped = load_embedded(SHIPPED)
    branch = shipped.cfg.reae  # the shipped branch's size, inside the training preset's latent path
    tiny = preset("tiny")
    sizes = {name: getattr(branch, name) for name in ("detail_width", "detail_layers", "detail_grid", "detail_experts")}
    full = random_model(replace(tiny, reae=replace(tiny.reae, **sizes)))
    init_for_restoration(full)
    full.load_state_dict(shipped.state_dict(), strict=False)
    return full.eval()


def test_dropping_the_silent_latent_path_keeps_the_output(tmp_path, one_torch_thread):
    full = _full_model()
    with torch.no_grad():
        assert full.cfg.has_latent_path and full.latent_path_silent()
    slim = drop_silent_latent_path(full)
    assert not slim.cfg.has_latent_path and slim.transformer is None
    assert not hasattr(slim.reae, "encoder") and not hasattr(slim.reae, "decoder")
    assert sum(p.numel() for p in slim.parameters()) == sum(p.numel() for p in full.reae.detail.parameters())
    clip = torch.rand(9, 3, 16, 24, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(restore_tensor(slim, clip, 4, clip_len=4), restore_tensor(full, clip, 4, clip_len=4), atol=1e-6, rtol=0)


def test_a_live_latent_path_is_kept():
    model = _full_model()
    with torch.no_grad():
        model.reae.decoder[-1].bias.fill_(0.01)
    assert drop_silent_latent_path(model) is model


def test_ship_writes_the_slim_model_and_its_strength(tmp_path, one_torch_thread):
    run = tmp_path / "run"
    run.mkdir()
    save_embedded(_full_model(), run / "best.json", {"training": {"steps": 7}})
    target = tmp_path / "out" / "m.json"
    target.parent.mkdir()
    ship(run, target, strength=0.75)
    meta = json.loads(target.read_text())
    assert meta["config"]["reae"]["latent_channels"] == 0 and meta["config"]["use_dit"] is False
    assert meta["inference"]["strength"] == 0.75
    assert "training" in meta
    shipped = load_embedded(target)
    assert shipped.default_strength == 0.75 and not shipped.cfg.has_latent_path
    assert target.with_suffix(".safetensors").stat().st_size < (run / "best.safetensors").stat().st_size / 2


def test_ship_from_a_runs_last_checkpoint(tmp_path, one_torch_thread):
    run = tmp_path / "run"
    run.mkdir()
    # a checkpoint as the trainer writes it: model.* tensors beside a json of scalars
    model = random_model(preset("tiny"), seed=3)
    init_for_restoration(model)  # the latent path silent, as in a detail-only run
    with torch.no_grad():
        for p in model.reae.detail.parameters():
            p.normal_(0, 0.02, generator=torch.Generator().manual_seed(p.numel()))
    model.eval()
    save_file({f"model.{k}": v.contiguous() for k, v in model.state_dict().items()}, str(run / "checkpoint.safetensors"))
    (run / "checkpoint.json").write_text(json.dumps({"step": 123, "config": {"preset": "tiny"}}))
    target = tmp_path / "m.json"
    ship(run, target, best="checkpoint")
    meta = json.loads(target.read_text())
    assert meta["training"]["steps"] == 123 and meta["config"]["reae"]["latent_channels"] == 0
    clip = torch.rand(5, 3, 16, 24, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(restore_tensor(load_embedded(target), clip, 4, clip_len=4), restore_tensor(model, clip, 4, clip_len=4), atol=1e-6, rtol=0)


def _run_with_branch_scaled(root: Path, name: str, scale: float, steps: int) -> tuple[Path, torch.nn.Module]:
    run = root / name
    run.mkdir()
    model = _full_model()
    with torch.no_grad():
        for p in model.reae.detail.parameters():
            p.mul_(scale)
    save_embedded(model, run / "best.json", {"training": {"steps": steps}, "validation": {"x4_gain_db": 1.0}})
    return run, model


def test_ship_averages_several_runs(tmp_path, one_torch_thread):
    run_a, model_a = _run_with_branch_scaled(tmp_path, "a", 1.0, 10)
    run_b, model_b = _run_with_branch_scaled(tmp_path, "b", 0.5, 20)
    target = tmp_path / "soup.json"
    ship([run_a, run_b], target, strength=1.0)
    meta = json.loads(target.read_text())
    assert [r["steps"] for r in meta["training"]["average_of"]] == [10, 20]
    assert meta["training"]["average_of"][1]["run"] == str(run_b)
    assert "validation" not in meta  # the runs' scores do not describe their average
    soup = load_embedded(target)
    assert describe_weights(soup, target)["training"] == "the average of 2 runs' weights (steps 10, 20)"
    soup_tensors, branch_b = soup.state_dict(), model_b.reae.detail.state_dict()
    for name, value in model_a.reae.detail.state_dict().items():
        torch.testing.assert_close(soup_tensors[f"reae.detail.{name}"], (value + branch_b[name]) / 2)


def test_ship_refuses_to_average_different_architectures(tmp_path, one_torch_thread):
    run_a, _ = _run_with_branch_scaled(tmp_path, "a", 1.0, 10)
    run_b = tmp_path / "b"
    run_b.mkdir()
    save_embedded(random_model(preset("test")), run_b / "best.json", {})
    with pytest.raises(ValueError, match="different architectures"):
        ship([run_a, run_b], tmp_path / "soup.json")


def test_ship_sets_a_routed_models_offset_and_refuses_it_for_others(tmp_path, one_torch_thread):
    run = tmp_path / "run"
    run.mkdir()
    routed = random_model(preset("tiny-routed"), seed=3)
    save_embedded(routed, run / "best.json", {"training": {"steps": 3}})
    ship(run, tmp_path / "routed.json", route_offset=2.5)
    path = tmp_path / "routed.json"
    shipped = load_embedded(path)
    assert float(shipped.reae.detail.router.offset) == 2.5
    assert json.loads(path.read_text())["inference"]["route_offset"] == 2.5
    frames = torch.rand(1, 4, 3, 24, 32) * 255
    with torch.no_grad():  # the offset moves every frame's share towards the base expert
        assert (shipped.route(frames) < load_embedded(run / "best.json").route(frames)).all()
    plain = tmp_path / "plain"
    plain.mkdir()
    save_embedded(random_model(preset("tiny-deep")), plain / "best.json", {"training": {"steps": 7}})
    with pytest.raises(ValueError, match="routed model"):
        ship(plain, tmp_path / "plain.json", route_offset=1.0)


def test_ship_puts_another_runs_branch_in_as_the_specialist(tmp_path, one_torch_thread):
    run = tmp_path / "run"
    run.mkdir()
    routed = random_model(preset("tiny-routed"), seed=3)
    save_embedded(routed, run / "best.json", {"training": {"steps": 3}})
    other = random_model(preset("tiny-deep"), seed=9)
    save_embedded(other, tmp_path / "spec.json", {"training": {"steps": 5}})
    meta = json.loads((run / "best.json").read_text())
    (run / "best.json").write_text(json.dumps({**meta, "validation": {"x4_gain_db": 0.5}}))
    ship(run, tmp_path / "routed.json", specialist=tmp_path / "spec.json")
    assert "validation" not in json.loads((tmp_path / "routed.json").read_text())  # it described the old specialist
    shipped = load_embedded(tmp_path / "routed.json")
    for name, value in other.reae.detail.body.state_dict().items():
        assert torch.equal(shipped.reae.detail.alt.state_dict()[name], value)
    for name, value in routed.reae.detail.body.state_dict().items():  # the base and the router stay
        assert torch.equal(shipped.reae.detail.body.state_dict()[name], value)
    assert torch.equal(shipped.reae.detail.router.head[0].weight, routed.reae.detail.router.head[0].weight)


def test_ship_puts_other_weights_in_as_the_base_expert(tmp_path, one_torch_thread):
    run = tmp_path / "run"
    run.mkdir()
    routed = random_model(preset("tiny-routed"), seed=3)
    save_embedded(routed, run / "best.json", {"training": {"steps": 3}})
    base, spec = random_model(preset("tiny-deep"), seed=9), random_model(preset("tiny-deep"), seed=11)
    save_embedded(base, tmp_path / "base.json", {"training": {"steps": 5}})
    save_embedded(spec, tmp_path / "spec.json", {"training": {"steps": 5}})
    ship(run, tmp_path / "routed.json", specialist=tmp_path / "spec.json", base=tmp_path / "base.json")
    record = json.loads((tmp_path / "routed.json").read_text())
    assert record["base"].endswith("base.json") and record["specialist"].endswith("spec.json")
    shipped = load_embedded(tmp_path / "routed.json")
    for name, value in base.reae.detail.body.state_dict().items():
        assert torch.equal(shipped.reae.detail.body.state_dict()[name], value)
    for name, value in spec.reae.detail.body.state_dict().items():
        assert torch.equal(shipped.reae.detail.alt.state_dict()[name], value)
    assert torch.equal(shipped.reae.detail.router.head[0].weight, routed.reae.detail.router.head[0].weight)
    plain = tmp_path / "plain"
    plain.mkdir()
    save_embedded(random_model(preset("tiny-deep")), plain / "best.json", {"training": {"steps": 7}})
    with pytest.raises(ValueError, match="routed model"):
        ship(plain, tmp_path / "plain.json", base=tmp_path / "base.json")
