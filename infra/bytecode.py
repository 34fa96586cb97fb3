"""Bytecode for the asset, compiled by the Lambda runtime's own Python when this machine has one.

Lambda's ``/var/task`` is read-only, so a function shipped as source compiles icalendar and our
modules at every cold start (90 to 120 ms of CPU in CPython 3.13: docs/performance.md, "Bytecode
and SnapStart"). The runtime only reads bytecode cached for its own version (its magic number is in
every ``.pyc``), so only a CPython 3.13 can write it. pip's ``--platform`` bundling needs none, and
many machines that synthesize have none, so this is best effort:

- ``CIS_BYTECODE_PYTHON`` unset: ``python3.13`` on the PATH, if it is CPython 3.13; if not, the
  asset ships as source and synthesis says so once, on stderr.
- ``CIS_BYTECODE_PYTHON=/path/to/python3.13``: that interpreter, and an error if it is not one.
- ``CIS_BYTECODE_PYTHON=off``: source only (the tests pin this, so that what they synthesize and
  bundle does not depend on the machine).

The ``.pyc`` files are ``unchecked-hash``: the runtime loads them without reading the source's
timestamps, which the asset zip does not keep. They are built with a fixed hash seed and with the
paths the runtime will see (``/var/task``), so the same inputs give the same bytes anywhere.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

VARIABLE = "CIS_BYTECODE_PYTHON"
DISABLED = "off"
LAMBDA_TASK_ROOT = "/var/task"

_cautioned = False


class BytecodeInterpreterError(RuntimeError):
    """``CIS_BYTECODE_PYTHON`` names something that cannot compile for the runtime."""


def cache_tag(runtime_name: str) -> str:
    """The cache tag a Lambda runtime's interpreter reads, ``python3.13`` -> ``cpython-313``."""
    major, minor = runtime_name.removeprefix("python").split(".")
    return f"cpython-{major}{minor}"


def _tag_of(interpreter: str) -> str | None:
    try:
        result = subprocess.run(  # noqa: S603 - an interpreter the user named or the PATH holds
            [interpreter, "-I", "-c", "import sys; print(sys.implementation.cache_tag)"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def runtime_interpreter(runtime_name: str, environ: dict[str, str] | None = None) -> str | None:
    """The interpreter that compiles for ``runtime_name`` on this machine, or None (source only)."""
    environ = os.environ if environ is None else environ
    wanted = cache_tag(runtime_name)
    named = environ.get(VARIABLE, "").strip()
    if named.lower() == DISABLED:
        return None
    if named:
        found = _tag_of(named)
        if found != wanted:
            raise BytecodeInterpreterError(
                f"{VARIABLE}={named!r} must be a CPython interpreter for the {runtime_name} runtime "
                f"(cache tag {wanted}); it is {found or 'not a Python that runs'}. "
                f"Set {VARIABLE}={DISABLED} to ship the asset without bytecode."
            )
        return named
    on_path = shutil.which(runtime_name)
    if on_path and _tag_of(on_path) == wanted:
        return on_path
    _caution(runtime_name)
    return None


def _caution(runtime_name: str) -> None:
    global _cautioned
    if not _cautioned:
        _cautioned = True
        print(
            f"note: the Lambda asset ships without bytecode: no CPython for {runtime_name} here "
            f"({runtime_name} on the PATH, or {VARIABLE}). Every cold start then compiles the "
            f"sources; set {VARIABLE}={DISABLED} to silence this.",
            file=sys.stderr,
        )


def recipe(interpreter: str | None, runtime_name: str) -> str:
    """What the asset hash records of this step: whether the asset carries bytecode."""
    return f"bytecode:{cache_tag(runtime_name)}:unchecked-hash" if interpreter else "bytecode:none"


def compile_tree(interpreter: str, directory: Path, task_root: str = LAMBDA_TASK_ROOT) -> None:
    """Compile every module under ``directory`` as the runtime will find it under ``task_root``."""
    command = [
        interpreter,
        "-I",
        "-m",
        "compileall",
        "-q",
        "--invalidation-mode",
        "unchecked-hash",
        "-s",
        str(directory),
        "-p",
        task_root,
        "-x",
        r"/(bin|tests)/",  # the wheels' console scripts and test suites: never imported
        str(directory),
    ]
    # A fixed seed: frozenset constants are written in iteration order, which follows the seed.
    environment = {**os.environ, "PYTHONHASHSEED": "0"}
    result = subprocess.run(command, capture_output=True, text=True, env=environment, check=False)  # noqa: S603
    if result.returncode != 0:
        raise RuntimeError(
            f"compiling the asset's bytecode with {interpreter} failed ({result.returncode})\n"
            f"{result.stdout}{result.stderr}"
        )
