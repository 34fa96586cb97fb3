"""The function asset: a hash that only moves with the asset's real inputs, and local bundling."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from infra import bundling
from tests.infra.synth import ROOT


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A copy of the asset's inputs (the `lambdas` package and requirements.txt)."""
    shutil.copytree(ROOT / bundling.PACKAGE, tmp_path / bundling.PACKAGE, ignore=bundling._ignore)
    shutil.copy(ROOT / bundling.REQUIREMENTS, tmp_path / bundling.REQUIREMENTS)
    return tmp_path


def test_asset_hash_is_stable_across_caches_and_copies(source: Path):
    before = bundling.asset_hash(source)
    cache = source / bundling.PACKAGE / "__pycache__"
    cache.mkdir(exist_ok=True)
    (cache / "handler.cpython-311.pyc").write_bytes(b"\0")
    (source / bundling.PACKAGE / ".pytest_cache").mkdir()
    (source / bundling.PACKAGE / "stray.pyc").write_bytes(b"\0")
    (source / "node_modules").mkdir()
    (source / "README.md").write_text("not part of the asset")
    assert bundling.asset_hash(source) == before == bundling.asset_hash(ROOT)


def test_asset_hash_moves_with_code_and_requirements(source: Path):
    before = bundling.asset_hash(source)
    handler = source / "lambdas" / "send_invite" / "handler.py"
    handler.write_text(handler.read_text() + "\n# changed\n")
    after_code = bundling.asset_hash(source)
    requirements = source / bundling.REQUIREMENTS
    requirements.write_text(requirements.read_text() + "\n# changed\n")
    assert len({before, after_code, bundling.asset_hash(source)}) == 3


def test_pip_targets_linux_arm64_cpython_313_wheels_only():
    arguments = bundling.pip_arguments("/out", Path("requirements.txt"))
    joined = " ".join(arguments)
    assert "--platform manylinux2014_aarch64" in joined
    assert "--python-version 3.13" in joined
    assert "--implementation cp" in joined
    assert "--only-binary=:all:" in arguments
    assert "--target /out" in joined
    assert bundling.RUNTIME.name == "python3.13"
    assert bundling.ARCHITECTURE.name == "arm64"


def test_local_bundler_copies_the_package_without_caches(source: Path, tmp_path: Path, monkeypatch):
    calls = []

    def fake_run(command, **kwargs):
        calls.append(command)

        class Result:
            returncode = 0
            stdout = stderr = ""

        return Result()

    monkeypatch.setattr(bundling.subprocess, "run", fake_run)
    (source / bundling.PACKAGE / "__pycache__").mkdir(exist_ok=True)
    (source / bundling.PACKAGE / "__pycache__" / "x.pyc").write_bytes(b"\0")
    out = tmp_path / "out"
    out.mkdir()
    assert bundling.LocalPipBundler(source).try_bundle(str(out)) is True
    assert calls and calls[0][1:4] == ["-m", "pip", "install"]
    assert (out / "lambdas" / "send_invite" / "handler.py").is_file()
    assert not list(out.rglob("__pycache__"))
    assert not list(out.rglob("*.pyc"))


def test_local_bundler_reports_pip_failures(source: Path, tmp_path: Path, monkeypatch):
    class Failed:
        returncode = 1
        stdout = ""
        stderr = "No matching distribution found for icalendar"

    monkeypatch.setattr(bundling.subprocess, "run", lambda command, **kwargs: Failed())
    with pytest.raises(RuntimeError, match="No matching distribution"):
        bundling.LocalPipBundler(source).try_bundle(str(tmp_path))
