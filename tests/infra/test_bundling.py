"""The function asset: a hash that only moves with the asset's real inputs, and local bundling."""

from __future__ import annotations

import json
import marshal
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infra import bundling, bytecode
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


# Bytecode (infra/bytecode.py). This interpreter stands in for the runtime's: what is checked is
# that the asset's modules load from their bytecode alone, which any CPython shows alike.
THIS_RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"
OTHER_RUNTIME = "python3.99"
# Pyodide, as `npm ci` installs it (package.json): the runtime's Python where none is installed.
PYODIDE_RUNTIME = bundling.RUNTIME.name
PYODIDE_VERSION = json.loads((bytecode.PYODIDE_PACKAGE / "package.json").read_text())["version"]
NODE = shutil.which("node")


def test_the_bytecode_step_can_be_turned_off():
    assert bytecode.runtime_compiler(THIS_RUNTIME, {bytecode.VARIABLE: "off"}) is None
    assert bytecode.runtime_compiler(PYODIDE_RUNTIME, {bytecode.VARIABLE: "off"}) is None


def test_a_named_interpreter_for_another_runtime_is_a_clear_error():
    with pytest.raises(bytecode.BytecodeInterpreterError) as refused:
        bytecode.runtime_interpreter(OTHER_RUNTIME, {bytecode.VARIABLE: sys.executable})
    message = str(refused.value)
    assert bytecode.VARIABLE in message and OTHER_RUNTIME in message and "cpython-399" in message
    assert sys.implementation.cache_tag in message  # what it is instead
    with pytest.raises(bytecode.BytecodeInterpreterError, match="not a Python that runs"):
        bytecode.runtime_interpreter(THIS_RUNTIME, {bytecode.VARIABLE: "/nowhere/python3.13"})


def test_the_runtime_python_is_found_on_the_path_before_pyodide(tmp_path: Path, monkeypatch):
    (tmp_path / THIS_RUNTIME).symlink_to(sys.executable)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert bytecode.runtime_interpreter(THIS_RUNTIME, {}) == str(tmp_path / THIS_RUNTIME)
    found = bytecode.runtime_compiler(THIS_RUNTIME, {})
    assert found == bytecode.Compiler(sys.implementation.cache_tag, str(tmp_path / THIS_RUNTIME))


def test_without_an_installed_runtime_python_pyodide_compiles(tmp_path: Path, monkeypatch):
    (tmp_path / "node").symlink_to(NODE)
    monkeypatch.setenv("PATH", str(tmp_path))  # node, and no python3.13
    found = bytecode.runtime_compiler(PYODIDE_RUNTIME, {})
    assert found == bytecode.Compiler(f"pyodide-{PYODIDE_VERSION}", str(tmp_path / "node"))
    assert found.is_pyodide
    assert bytecode.runtime_interpreter(PYODIDE_RUNTIME, {}) is None  # nothing to time cold starts in
    named = bytecode.runtime_compiler(PYODIDE_RUNTIME, {bytecode.VARIABLE: "pyodide"})
    assert named == found


def test_a_pyodide_of_another_python_or_without_node_compiles_nothing(tmp_path: Path, monkeypatch):
    shutil.copytree(bytecode.PYODIDE_PACKAGE, tmp_path / "pyodide", ignore=lambda *_: {"pyodide.asm.wasm"})
    lock = tmp_path / "pyodide" / "pyodide-lock.json"
    lock.write_text(lock.read_text().replace('"python": "3.13.', '"python": "3.12.'))
    assert bytecode.pyodide_compiler(PYODIDE_RUNTIME, tmp_path / "pyodide") is None
    assert bytecode.pyodide_compiler(PYODIDE_RUNTIME, tmp_path / "nowhere") is None
    monkeypatch.setenv("PATH", str(tmp_path))  # no node
    assert bytecode.pyodide_compiler(PYODIDE_RUNTIME) is None
    with pytest.raises(bytecode.BytecodeInterpreterError, match="npm ci"):
        bytecode.runtime_compiler(PYODIDE_RUNTIME, {bytecode.VARIABLE: "pyodide"})


def test_without_a_runtime_python_or_pyodide_the_asset_is_source_and_synthesis_says_so_once(
    tmp_path: Path, monkeypatch, capsys
):
    (tmp_path / OTHER_RUNTIME).symlink_to(sys.executable)  # the right name, the wrong Python
    (tmp_path / "node").symlink_to(NODE)  # and a Pyodide of another Python
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(bytecode, "_cautioned", False)
    assert bytecode.runtime_compiler(OTHER_RUNTIME, {}) is None
    assert bytecode.runtime_compiler(OTHER_RUNTIME, {}) is None
    caution = capsys.readouterr().err
    assert caution.count("ships without bytecode") == 1 and bytecode.VARIABLE in caution
    assert "npm ci" in caution


def test_asset_hash_records_whether_the_asset_has_bytecode_and_what_wrote_it(source: Path):
    installed = bytecode.Compiler("cpython-313", "/usr/bin/python3.13")
    pyodide = bytecode.Compiler("pyodide-0.29.5", "/usr/bin/node")
    hashes = {bundling.asset_hash(source, compiler) for compiler in (None, installed, pyodide)}
    assert len(hashes) == 3


def _pyc(module: Path) -> Path:
    return module.parent / "__pycache__" / f"{module.stem}.{sys.implementation.cache_tag}.pyc"


def test_the_compiled_asset_loads_from_bytecode_without_reading_its_sources(source: Path):
    bytecode.compile_tree(sys.executable, source)
    modules = sorted((source / bundling.PACKAGE).rglob("*.py"))
    assert modules and all(_pyc(module).is_file() for module in modules)
    handler = source / "lambdas" / "send_invite" / "handler.py"
    header = _pyc(handler).read_bytes()[:16]
    assert int.from_bytes(header[4:8], "little") == 0b01  # hash-based, source never checked
    code = marshal.loads(_pyc(handler).read_bytes()[16:])  # noqa: S302 - the file this test wrote
    assert code.co_filename == "/var/task/lambdas/send_invite/handler.py"  # the runtime's path
    # A source changed after compiling is not read: the runtime's /var/task keeps no timestamps.
    handler.write_text('raise SystemExit("the source was compiled again")\n')
    loaded = subprocess.run(
        [
            sys.executable,
            "-I",
            "-B",
            "-c",
            "import sys; sys.path.insert(0, sys.argv[1]); import lambdas.send_invite.handler",
            str(source),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert loaded.returncode == 0, loaded.stderr


def test_the_bytecode_is_the_same_wherever_and_whenever_it_is_built(
    source: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch
):
    other = tmp_path_factory.mktemp("elsewhere") / "asset"
    shutil.copytree(source, other)
    bytecode.compile_tree(sys.executable, source)
    monkeypatch.setenv("PYTHONHASHSEED", "12345")  # the caller's seed does not leak into the bytes
    bytecode.compile_tree(sys.executable, other)
    built = sorted(p.relative_to(source) for p in source.rglob("*.pyc"))
    assert built and built == sorted(p.relative_to(other) for p in other.rglob("*.pyc"))
    assert all((source / p).read_bytes() == (other / p).read_bytes() for p in built)


def test_a_module_that_does_not_compile_fails_the_bundling_with_its_name(tmp_path: Path):
    (tmp_path / "broken.py").write_text("def (:\n")
    with pytest.raises(RuntimeError, match=r"broken\.py"):
        bytecode.compile_tree(sys.executable, tmp_path)


def test_local_bundler_compiles_the_asset_with_the_runtime_python(source: Path, tmp_path: Path, monkeypatch):
    compiled = []
    monkeypatch.setattr(
        bundling.subprocess, "run", lambda command, **kwargs: type("Ok", (), {"returncode": 0})()
    )
    monkeypatch.setattr(
        bytecode,
        "compile_tree",
        lambda interpreter, directory, task_root: compiled.append((interpreter, directory)),
    )
    out = tmp_path / "out"
    out.mkdir()
    installed = bytecode.Compiler("cpython-313", "/usr/bin/python3.13")
    assert bundling.LocalPipBundler(source, installed).try_bundle(str(out)) is True
    assert compiled == [("/usr/bin/python3.13", out)]
    assert bundling.LocalPipBundler(source).try_bundle(str(tmp_path / "plain")) is True
    assert len(compiled) == 1


# What Pyodide writes is what CPython 3.13 writes: the same magic number, flags and paths, and it
# loads and runs in a CPython 3.13 (Pyodide's own: none is installed here) from its bytecode alone.
RUNTIME_MAGIC = (3571).to_bytes(2, "little") + b"\r\n"  # CPython 3.13's (importlib.util.MAGIC_NUMBER)
RUN_IN_PYODIDE = ROOT / "tests" / "infra" / "pyodide_run.mjs"
# A weekly series in a time zone: the contract, the recurrence, the zones and icalendar all run.
CALENDAR_OF_A_SERIES = """
import json
from datetime import UTC, datetime
from lambdas.domain.calendar import ItipMessage, build_calendar
from lambdas.domain.contract import parse_invite
from lambdas.domain.vocabulary import EventStatus, Method
event = {"uid": "series@example.com", "sequence": 2, "summary": "Weekly sync", "start": "2026-12-01T10:00:00",
         "end": "2026-12-01T11:00:00", "timezone": "Europe/Berlin", "rrule": "FREQ=WEEKLY;COUNT=8",
         "organizer": {"email": "alice@example.com", "name": "Alice"}}
request = parse_invite(json.dumps({"event": event, "attendee": {"email": "bob@example.org", "name": "Bob"}}))
print(build_calendar(ItipMessage(
    method=Method.REQUEST, event=request.event, attendee=request.attendee, sequence=2,
    organizer_mailbox="rsvp@example.com", dtstamp=datetime(2026, 12, 1, tzinfo=UTC),
    status=EventStatus.CONFIRMED,
)).decode())
"""


def _pyodide() -> bytecode.Compiler:
    found = bytecode.pyodide_compiler(PYODIDE_RUNTIME)
    assert found is not None, "Pyodide is installed by `make install` (npm ci): see package.json"
    return found


def test_pyodide_writes_the_runtime_s_bytecode_which_a_cpython_3_13_runs_without_the_sources(source: Path):
    _pyodide().compile_tree(source)
    modules = sorted((source / bundling.PACKAGE).rglob("*.py"))
    compiled = [module.parent / "__pycache__" / f"{module.stem}.cpython-313.pyc" for module in modules]
    assert modules and all(pyc.is_file() for pyc in compiled)
    assert {pyc.read_bytes()[:4] for pyc in compiled} == {RUNTIME_MAGIC}
    assert {int.from_bytes(pyc.read_bytes()[4:8], "little") for pyc in compiled} == {0b01}  # unchecked hash
    for module in modules:  # what runs below can only be the bytecode
        module.write_text(f"raise SystemExit('the source of {module.name} was read')\n")
    site_packages = next(Path(p) for p in sys.path if p.endswith("site-packages"))  # icalendar, dateutil
    run = subprocess.run(
        ["node", str(RUN_IN_PYODIDE), CALENDAR_OF_A_SERIES, str(source), str(site_packages)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    here = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            f"import sys; sys.path.insert(0, {str(ROOT)!r})\n{CALENDAR_OF_A_SERIES}",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "RRULE:FREQ=WEEKLY;COUNT=8" in here.stdout and "BEGIN:VTIMEZONE" in here.stdout
    assert run.stdout == here.stdout  # the same calendar as this interpreter renders from the sources


def test_pyodide_s_bytecode_is_the_same_wherever_it_is_built_and_names_the_runtime_s_paths(
    source: Path, tmp_path_factory: pytest.TempPathFactory
):
    other = tmp_path_factory.mktemp("elsewhere") / "asset"
    shutil.copytree(source, other)
    for tree in (source, other):
        _pyodide().compile_tree(tree)
    built = sorted(p.relative_to(source) for p in source.rglob("*.pyc"))
    assert built and built == sorted(p.relative_to(other) for p in other.rglob("*.pyc"))
    assert all((source / p).read_bytes() == (other / p).read_bytes() for p in built)
    handler = (source / "lambdas" / "send_invite" / "__pycache__" / "handler.cpython-313.pyc").read_bytes()
    assert b"/var/task/lambdas/send_invite/handler.py" in handler  # the path tracebacks will show
    assert str(source).encode() not in handler


def test_a_module_pyodide_cannot_compile_fails_the_bundling_with_its_name(tmp_path: Path):
    (tmp_path / "fine.py").write_text("x = 1\n")
    (tmp_path / "broken.py").write_text("def (:\n")
    with pytest.raises(RuntimeError, match=r"broken\.py") as failed:
        _pyodide().compile_tree(tmp_path)
    assert f"{bytecode.VARIABLE}=off" in str(failed.value)  # the way out, should it be Pyodide's fault
