"""The Lambda asset, built the way the stack bundles it, and its zipped size.

Built by ``infra.bundling.LocalPipBundler``, the bundler ``cdk synth`` uses: ``pip install
--target`` of requirements.txt for manylinux2014_aarch64 / CPython 3.13, binary wheels only, plus
the ``lambdas`` package without caches, and bytecode compiled for the runtime's Python (by an
installed CPython 3.13 or by Pyodide's: infra/bytecode.py), as synthesis compiles it. Every
function ships this same asset (they differ only in the handler).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import zipfile
from pathlib import Path

from bench.figures import Figure, at_most

ZIP_GOAL_MB = 3.0

_built: Path | None = None


def build() -> Path:
    """The asset directory, built by the stack's own local bundler (once per process)."""
    global _built
    if _built is None:
        from infra import bytecode
        from infra.bundling import RUNTIME, LocalPipBundler  # imports aws-cdk-lib: only when measuring

        root = Path(tempfile.mkdtemp(prefix="bench-asset-"))
        atexit.register(shutil.rmtree, root, ignore_errors=True)  # ~20 MB a run, never reused
        target = root / "asset"
        LocalPipBundler(compiler=bytecode.runtime_compiler(RUNTIME.name)).try_bundle(str(target))
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
    from infra.bundling import PIP_PLATFORM, PIP_PYTHON_VERSION

    directory = build()
    zipped, unzipped = zip_size(directory)
    mb = zipped / 1e6
    return [
        Figure(
            key=f"asset_zip_mb_{function}",
            label=f"{function} asset, zipped ({PIP_PLATFORM}, cp{PIP_PYTHON_VERSION.replace('.', '')})",
            value=mb,
            unit="MB",
            goal=f"<= {ZIP_GOAL_MB:g}",
            met=at_most(mb, ZIP_GOAL_MB),
            command="python -m bench asset",
            detail={
                "zipped_bytes": zipped,
                "unzipped_mb": round(unzipped / 1e6, 2),
                "with_bytecode": any(directory.rglob("*.pyc")),
                "largest_unzipped_mb": largest(directory),
                "note": "every function ships the same asset; they differ only in their handler",
            },
        )
        for function in ("send-invite", "send-cancellation")
    ]
