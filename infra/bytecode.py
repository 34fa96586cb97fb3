"""Bytecode for the asset, compiled for the Lambda runtime's own Python.

Lambda's ``/var/task`` is read-only, so a function shipped as source compiles icalendar and our
modules at every cold start (90 to 120 ms of CPU in CPython 3.13: docs/performance.md, "Bytecode
and SnapStart"). The runtime only reads bytecode cached for its own version (its magic number is in
every ``.pyc``), so only a CPython 3.13 can write it. What writes it:

- ``CIS_BYTECODE_PYTHON`` unset: ``python3.13`` on the PATH, if it is CPython 3.13; else Pyodide,
  which ``npm ci`` installs (package.json): CPython 3.13 built for WebAssembly, run by Node.js.
  Its compiler is CPython's own code, so it writes what CPython 3.13 writes (docs/performance.md
  compares the two, file by file). With neither, the asset ships as source and synthesis says so
  once, on stderr.
- ``CIS_BYTECODE_PYTHON=/path/to/python3.13``: that interpreter, and an error if it is not one.
- ``CIS_BYTECODE_PYTHON=pyodide``: Pyodide, and an error if it is not installed or not 3.13.
- ``CIS_BYTECODE_PYTHON=off``: source only (the tests pin this, so that what they synthesize and
  bundle does not depend on the machine).

The ``.pyc`` files are ``unchecked-hash``: the runtime loads them without reading the source's
timestamps, which the asset zip does not keep. They are built with a fixed hash seed and with the
paths the runtime will see (``/var/task``), so the same inputs give the same bytes anywhere.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

VARIABLE = "CIS_BYTECODE_PYTHON"
DISABLED = "off"
PYODIDE = "pyodide"
LAMBDA_TASK_ROOT = "/var/task"
PYODIDE_PACKAGE = Path(__file__).resolve().parent.parent / "node_modules" / "pyodide"
PYODIDE_SCRIPT = Path(__file__).resolve().with_name("pyodide_compile.mjs")

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


@dataclass(frozen=True)
class Compiler:
    """What writes the runtime's bytecode: an installed CPython of its version, or Pyodide's."""

    name: str  # in the asset hash's recipe and in messages: "cpython-313", "pyodide-0.29.5"
    program: str  # the interpreter, or Node.js for Pyodide

    @property
    def is_pyodide(self) -> bool:
        return self.name.startswith(PYODIDE)

    def compile_tree(self, directory: Path, task_root: str = LAMBDA_TASK_ROOT) -> None:
        if self.is_pyodide:
            _run([self.program, str(PYODIDE_SCRIPT), str(directory), task_root], self.name)
        else:
            compile_tree(self.program, directory, task_root)


def runtime_compiler(runtime_name: str, environ: dict[str, str] | None = None) -> Compiler | None:
    """What compiles the asset for ``runtime_name`` on this machine, or None (source only)."""
    environ = os.environ if environ is None else environ
    named = environ.get(VARIABLE, "").strip().lower()
    if named == DISABLED:
        return None
    if named != PYODIDE and (interpreter := runtime_interpreter(runtime_name, environ)):
        return Compiler(cache_tag(runtime_name), interpreter)
    compiler = pyodide_compiler(runtime_name)
    if compiler is None and named == PYODIDE:
        raise BytecodeInterpreterError(
            f"{VARIABLE}={PYODIDE}: no Pyodide of {runtime_name} with Node.js here ({PYODIDE_PACKAGE}: "
            f"`make install` or `npm ci` installs it). Set {VARIABLE}={DISABLED} to ship the asset "
            "without bytecode."
        )
    if compiler is None:
        _caution(runtime_name)
    return compiler


def runtime_interpreter(runtime_name: str, environ: dict[str, str] | None = None) -> str | None:
    """An installed CPython of ``runtime_name``'s version (``CIS_BYTECODE_PYTHON``, or on the
    PATH), or None: what the bench times cold starts in."""
    environ = os.environ if environ is None else environ
    wanted = cache_tag(runtime_name)
    named = environ.get(VARIABLE, "").strip()
    if named.lower() in (DISABLED, PYODIDE):
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
    return None


def pyodide_compiler(runtime_name: str, package: Path | None = None) -> Compiler | None:
    """Pyodide, as ``npm ci`` installs it, if its Python is ``runtime_name``'s and Node.js runs here."""
    package = PYODIDE_PACKAGE if package is None else package
    node = shutil.which("node")
    try:
        version = json.loads((package / "package.json").read_text())["version"]
        python = json.loads((package / "pyodide-lock.json").read_text())["info"]["python"]
    except (OSError, ValueError, KeyError):
        return None
    if node is None or not f"python{python}".startswith(runtime_name + "."):
        return None
    return Compiler(f"{PYODIDE}-{version}", node)


def _caution(runtime_name: str) -> None:
    global _cautioned
    if not _cautioned:
        _cautioned = True
        print(
            f"note: the Lambda asset ships without bytecode: no CPython for {runtime_name} here "
            f"({runtime_name} on the PATH, or {VARIABLE}), and no Pyodide of it (`npm ci`). Every "
            f"cold start then compiles the sources; set {VARIABLE}={DISABLED} to silence this.",
            file=sys.stderr,
        )


def recipe(compiler: Compiler | None, runtime_name: str) -> str:
    """What the asset hash records of this step: whether the asset carries bytecode, and what
    wrote it (two compilers may write the same code with different bytes)."""
    if compiler is None:
        return "bytecode:none"
    written_by = f":{compiler.name}" if compiler.is_pyodide else ""
    return f"bytecode:{cache_tag(runtime_name)}:unchecked-hash{written_by}"


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
        # The wheels' console scripts and test suites, never imported (below `directory` only).
        rf"^{re.escape(str(directory))}/(.+/)?(bin|tests)/",
        str(directory),
    ]
    _run(command, interpreter)


def _run(command: list[str], compiler: str) -> None:
    # A fixed seed: frozenset constants are written in iteration order, which follows the seed.
    environment = {**os.environ, "PYTHONHASHSEED": "0"}
    result = subprocess.run(command, capture_output=True, text=True, env=environment, check=False)  # noqa: S603
    if result.returncode != 0:
        raise RuntimeError(
            f"compiling the asset's bytecode with {compiler} failed ({result.returncode}); "
            f"{VARIABLE}={DISABLED} ships the asset without it\n{result.stdout}{result.stderr}"
        )
