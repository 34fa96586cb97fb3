"""The Lambda asset, built the way the stack bundles it, and its zipped size.

Same recipe as the CDK bundling (infra): ``pip install --target`` of requirements.txt for
manylinux2014_aarch64 / CPython 3.13, binary wheels only, no bytecode, plus the ``lambdas``
package without caches. Both functions ship this same asset (they differ only in the handler).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from bench.figures import Figure, at_most

ROOT = Path(__file__).resolve().parent.parent
PLATFORM = "manylinux2014_aarch64"
PYTHON_VERSION = "3.13"
ZIP_GOAL_MB = 3.0
EXCLUDED = ("__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis")

_built: Path | None = None


def pip_command(target: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--target",
        str(target),
        "--platform",
        PLATFORM,
        "--implementation",
        "cp",
        "--python-version",
        PYTHON_VERSION,
        "--only-binary=:all:",
        "-r",
        str(ROOT / "requirements.txt"),
    ]


def build() -> Path:
    """The asset directory (built once per process, in a temporary directory)."""
    global _built
    if _built is None:
        target = Path(tempfile.mkdtemp(prefix="bench-asset-")) / "asset"
        result = subprocess.run(pip_command(target), capture_output=True, text=True, check=False)  # noqa: S603
        if result.returncode != 0:
            raise RuntimeError(f"pip could not build the asset:\n{result.stdout}{result.stderr}")
        shutil.copytree(ROOT / "lambdas", target / "lambdas", ignore=shutil.ignore_patterns(*EXCLUDED))
        _built = target
    return _built


def zip_size(directory: Path) -> tuple[int, int]:
    """(zipped bytes, unzipped bytes) of a directory, deflated like CDK's asset zips."""
    archive = directory.parent / "asset.zip"
    unzipped = 0
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                unzipped += path.stat().st_size
                zf.write(path, path.relative_to(directory).as_posix())
    return archive.stat().st_size, unzipped


def largest(directory: Path, count: int = 6) -> dict[str, float]:
    sizes = {}
    for child in directory.iterdir():
        files = [child] if child.is_file() else [p for p in child.rglob("*") if p.is_file()]
        sizes[child.name] = sum(p.stat().st_size for p in files)
    top = sorted(sizes.items(), key=lambda item: -item[1])[:count]
    return {name: round(size / 1e6, 2) for name, size in top}


def asset() -> list[Figure]:
    directory = build()
    zipped, unzipped = zip_size(directory)
    mb = zipped / 1e6
    return [
        Figure(
            key=f"asset_zip_mb_{function}",
            label=f"{function} asset, zipped ({PLATFORM}, cp{PYTHON_VERSION.replace('.', '')})",
            value=mb,
            unit="MB",
            goal=f"<= {ZIP_GOAL_MB:g}",
            met=at_most(mb, ZIP_GOAL_MB),
            command="python -m bench asset",
            detail={
                "zipped_bytes": zipped,
                "unzipped_mb": round(unzipped / 1e6, 2),
                "largest_unzipped_mb": largest(directory),
                "note": "both functions ship the same asset; they differ only in their handler",
            },
        )
        for function in ("send-invite", "send-cancellation")
    ]
