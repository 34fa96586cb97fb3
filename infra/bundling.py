"""The function asset: the `lambdas` package plus the wheels from requirements.txt.

Bundling runs locally with pip (`--platform manylinux2014_aarch64 --only-binary=:all:`), so it
needs neither Docker nor a machine of the target architecture. Docker bundling with the Lambda
build image is configured only as the fallback that CDK uses when the local bundler declines.

The asset also carries bytecode compiled for the runtime's own Python, by an installed CPython 3.13
or by Pyodide's (`infra/bytecode.py`): cold starts in AWS then skip compiling icalendar and our
modules.

The asset hash is computed here from the files that go into the asset (the `lambdas` sources and
requirements.txt, caches excluded) and the bundling recipe, bytecode or none included. It is
therefore the same for the same inputs and recipe, and synthesis never fingerprints the whole
repository.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import jsii
from aws_cdk import AssetHashType, BundlingOptions, ILocalBundling
from aws_cdk import aws_lambda as lambda_

from infra import bytecode

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "lambdas"
REQUIREMENTS = "requirements.txt"

RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64
PIP_PLATFORM = "manylinux2014_aarch64"
PIP_PYTHON_VERSION = "3.13"
PIP_IMPLEMENTATION = "cp"
DOCKER_PLATFORM = "linux/arm64"

# Never part of the asset (nor of its hash): caches and editor litter.
EXCLUDED_NAMES = ("__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis", ".DS_Store")
EXCLUDED_SUFFIXES = (".pyc", ".pyo")


def pip_arguments(output_dir: str, requirements: Path) -> list[str]:
    """`pip install` arguments that fetch Linux arm64 / CPython 3.13 wheels into output_dir."""
    return [
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--target",
        output_dir,
        "--platform",
        PIP_PLATFORM,
        "--implementation",
        PIP_IMPLEMENTATION,
        "--python-version",
        PIP_PYTHON_VERSION,
        "--only-binary=:all:",
        "-r",
        str(requirements),
    ]


def _excluded(path: Path) -> bool:
    return any(part in EXCLUDED_NAMES for part in path.parts) or path.suffix in EXCLUDED_SUFFIXES


def _ignore(_directory: str, names: list[str]) -> set[str]:
    return {name for name in names if name in EXCLUDED_NAMES or name.endswith(EXCLUDED_SUFFIXES)}


def source_files(root: Path = ROOT) -> list[Path]:
    """The files that go into the asset as they are: requirements.txt and the package sources."""
    package = root / PACKAGE
    files = [path for path in package.rglob("*") if path.is_file() and not _excluded(path.relative_to(root))]
    return [root / REQUIREMENTS, *sorted(files)]


def asset_hash(root: Path = ROOT, compiler: bytecode.Compiler | None = None) -> str:
    """A hash of the asset's inputs: file names and contents, and the bundling recipe (with the
    bytecode step when ``compiler`` compiles it)."""
    digest = hashlib.sha256()
    recipe = [
        RUNTIME.name,
        ARCHITECTURE.name,
        *pip_arguments("<out>", Path(REQUIREMENTS)),
        bytecode.recipe(compiler, RUNTIME.name),
    ]
    digest.update("\0".join(recipe).encode())
    for path in source_files(root):
        digest.update(b"\0" + path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


@jsii.implements(ILocalBundling)
class LocalPipBundler:
    """Builds the asset on this machine with pip; CDK calls it before trying Docker."""

    def __init__(self, root: Path = ROOT, compiler: bytecode.Compiler | None = None) -> None:
        self._root = root
        self._compiler = compiler  # writes the runtime's bytecode; None: source only

    def try_bundle(self, output_dir: str, options: object = None) -> bool:
        result = subprocess.run(  # noqa: S603 - fixed argument list, no shell
            [sys.executable, "-m", "pip", *pip_arguments(output_dir, self._root / REQUIREMENTS)],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            # Raise instead of returning False: the Docker fallback would hide pip's message
            # behind "docker: command not found" on machines without Docker.
            raise RuntimeError(
                f"local bundling failed: pip exited with {result.returncode}\n{result.stdout}{result.stderr}"
            )
        shutil.copytree(self._root / PACKAGE, Path(output_dir) / PACKAGE, ignore=_ignore)
        if self._compiler is not None:
            self._compiler.compile_tree(Path(output_dir))
        return True


def function_code(root: Path = ROOT) -> lambda_.Code:
    """The code asset shared by every function (they differ only in their handler)."""
    compiler = bytecode.runtime_compiler(RUNTIME.name)
    docker_command = " && ".join(
        [
            "pip install --no-compile --only-binary=:all: -r /asset-input/requirements.txt -t /asset-output",
            f"cp -r /asset-input/{PACKAGE} /asset-output/",
            f"find /asset-output/{PACKAGE} -name __pycache__ -prune -exec rm -rf {{}} +",
        ]
    )
    return lambda_.Code.from_asset(
        str(root),
        asset_hash=asset_hash(root, compiler),
        asset_hash_type=AssetHashType.CUSTOM,
        bundling=BundlingOptions(
            image=RUNTIME.bundling_image,
            platform=DOCKER_PLATFORM,
            command=["bash", "-c", docker_command],
            local=LocalPipBundler(root, compiler),
        ),
    )
