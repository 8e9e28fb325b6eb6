"""What a newcomer meets first: refusals come at once and name the flag, --version,
examples in --help, readable `info`, PNG frame names kept."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from swiftvr_cli.cli import app
from tests import media

PROBE = """
import sys
from typer.testing import CliRunner
from swiftvr_cli.cli import app
result = CliRunner().invoke(app, sys.argv[1:])
print(result.exit_code, "torch" in sys.modules)
print(result.output)
"""


def run_fresh(*args: str) -> tuple[int, bool, str]:
    """The CLI in a new interpreter: exit code, whether torch got imported, the output."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    first, _, output = done.stdout.partition("\n")
    code, torch_loaded = first.split()
    return int(code), torch_loaded == "True", output


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return media.make_video(tmp_path_factory.mktemp("first") / "in.mp4", frames=2, size=(32, 32))


def test_an_existing_output_is_refused_before_torch_and_names_the_flag(clip, tmp_path):
    out = tmp_path / "out.mp4"
    out.write_bytes(b"keep me")
    code, torch_loaded, output = run_fresh("restore", clip, str(out))
    assert code == 4 and "-y/--overwrite" in output and "already exists" in output
    assert not torch_loaded  # the 7-10 s of model loading never happen
    assert out.read_bytes() == b"keep me"


def test_frames_in_an_output_folder_are_refused_with_the_flag_named(tmp_path):
    frames = media.make_images(tmp_path / "in", count=2, size=(16, 16))
    out = tmp_path / "out"
    media.make_images(out, count=1, size=(16, 16), names="%08d.png")
    code, torch_loaded, output = run_fresh("restore", os.path.dirname(frames[0]), str(out) + "/")
    assert code == 4 and "-y/--overwrite" in output and not torch_loaded


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["{clip}", "{clip}", "-y"], 4, "it is the input file"),
        (["{clip}", "{tmp}/o.mp4", "--scale", "9"], 2, "--scale must be in"),
        (["{clip}", "{tmp}/o.mp4", "--chunk", "6"], 2, "--chunk must be"),
        (["{clip}", "{tmp}/o.mp4", "--task", "deblur", "--scale", "2"], 2, "drop --scale"),
        (["{clip}", "{tmp}/missing/o.mp4"], 4, "does not exist"),
    ],
)
def test_bad_paths_and_options_are_refused_before_torch(clip, tmp_path, args, code, says):
    filled = [a.format(clip=clip, tmp=tmp_path) for a in args]
    got, torch_loaded, output = run_fresh("restore", *filled)
    assert got == code and says in output, output
    assert not torch_loaded


def test_version():
    from swiftvr_cli import __version__

    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"swiftvr {__version__}"


@pytest.mark.parametrize("command", ["restore", "info", "bench", "eval", "batch"])
def test_help_of_each_command_has_examples(command):
    result = CliRunner().invoke(app, [command, "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert "Examples:" in result.output
    example_lines = [line for line in result.output.splitlines() if f"swiftvr {command} " in line]
    assert len(example_lines) >= 2


def test_info_prints_tag_names_not_enum_numbers(tmp_path):
    src = media.make_video(tmp_path / "tagged.mp4", frames=2, size=(32, 32))
    table = CliRunner().invoke(app, ["info", src], terminal_width=200)
    assert table.exit_code == 0, table.output
    rows = {line.split("│")[1].strip(): line.split("│")[2].strip() for line in table.output.splitlines() if line.count("│") == 3}
    assert rows["field_order"] == "progressive"
    assert rows["colorspace"] in {"unspecified", "bt709", "smpte170m", "bt470bg"}
    assert not rows["color_primaries"].isdigit() and not rows["color_trc"].isdigit()
    details = json.loads(CliRunner().invoke(app, ["info", src, "--json"]).stdout)
    assert isinstance(details["colorspace"], int)  # the JSON keeps its numbers...
    assert details["field_order_name"] == "progressive"  # ...and gains the names


def _restore(*args: str, weights: str):
    return CliRunner().invoke(app, ["restore", *args, "--weights", weights, "--chunk", "4", "--scale", "1", "--quiet"])


def test_png_folder_output_keeps_the_input_frame_names(tmp_path, fast_weights):
    media.make_images(tmp_path / "in", count=3, size=(32, 24), names="%05d.png", start=1)  # 00001.png ...
    result = _restore(str(tmp_path / "in"), str(tmp_path / "out"), weights=fast_weights)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["00001.png", "00002.png", "00003.png"]
    again = _restore(str(tmp_path / "in"), str(tmp_path / "out"), weights=fast_weights)  # those names are frames now
    assert again.exit_code == 4 and "-y/--overwrite" in again.output
    # a pattern the user writes is followed as written
    result = _restore(str(tmp_path / "in"), str(tmp_path / "numbered" / "f%03d.png"), weights=fast_weights)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "numbered").iterdir()) == ["f000.png", "f001.png", "f002.png"]


def test_jpeg_frames_become_pngs_of_the_same_name(tmp_path, fast_weights):
    media.make_images(tmp_path / "in", count=2, size=(32, 24), names="shot_%d.jpg", start=7)
    result = _restore(str(tmp_path / "in"), str(tmp_path / "out") + "/", weights=fast_weights)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["shot_7.png", "shot_8.png"]


def test_info_weights_names_what_the_model_is(tmp_path):
    from typer.testing import CliRunner

    from swiftvr_cli.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["info", "--weights", "default", "--json"])
    assert result.exit_code == 0, result.output
    details = json.loads(result.stdout)
    assert details["parameters"] > 0 and 0 <= details["default_strength"] <= 2
    # the shipped default has no live latent path; info must say what actually runs
    assert "detail branch" in details["model"] and ("no latent path" in details["model"] or "adds exactly nothing" in details["model"])
    both = runner.invoke(app, ["info"])
    assert both.exit_code == 2 and "--weights" in both.output
