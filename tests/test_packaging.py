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
