"""pyproject.toml installs without noise and declares only what the code uses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+
ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_license_is_an_spdx_string_not_the_deprecated_table():
    # a table ({text = ...}) makes setuptools >= 77 print a deprecation warning per build step
    assert isinstance(PROJECT["license"], str)
    assert not any(c.startswith("License ::") for c in PROJECT.get("classifiers", []))


def test_every_declared_dependency_is_imported_somewhere():
    sources = "\n".join(p.read_text() for p in (ROOT / "src").rglob("*.py"))
    for requirement in PROJECT["dependencies"]:
        name = re.split(r"[<>=!~ \[]", requirement, maxsplit=1)[0]
        module = name.replace("-", "_")
        assert re.search(rf"^\s*(import|from) {module}\b", sources, re.M), f"{name} is declared but never imported"


def test_torch_internal_jit_deprecation_is_not_reported_but_ours_would_be():
    # torch.compile imports torch.utils.mkldnn, whose decorators warn (14 warnings per suite run)
    import warnings

    message = "`torch.jit.script_method` is deprecated. Please switch to `torch.compile` or `torch.export`."
    with warnings.catch_warnings(record=True) as caught:  # the suite's filters, as configured
        warnings.warn_explicit(message, DeprecationWarning, "_script.py", 365, module="torch.jit._script")
        warnings.warn_explicit("something of ours is deprecated", DeprecationWarning, "cli.py", 1, module="swiftvr_cli.cli")
    assert [str(w.message) for w in caught] == ["something of ours is deprecated"]
