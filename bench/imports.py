"""Cold-start import cost, measured in fresh interpreters against the built asset.

Each function's handler import is compared with the floor every function pays, ``import boto3,
icalendar``, in two forms of the asset (bench.asset builds it as ``cdk synth`` bundles it):

- as bundled. Where this machine has the runtime's own Python (infra/bytecode.py), the asset
  carries its bytecode and is timed in that interpreter, as Lambda runs it; the second form is the
  same files without bytecode, as a machine without that Python bundles them, and Lambda then
  compiles icalendar and our modules at every cold start (``/var/task`` is read-only).
- Elsewhere the asset is source only, timed in this interpreter as bundled, and the second form is
  a copy compiled by this interpreter: the modules' own work at import (class, enum and regex
  construction, tables), which no cache takes away.

Boto3 and botocore are bytecode cached, as the Lambda runtime provides them: this environment's,
or the same versions installed for and compiled by the runtime's Python. The interpreters run
with ``-B`` so that nothing is cached from one run to the next. Then ``-X importtime`` names the
ten of our modules with the most self time (with bytecode).

CPU time moves with the machine's load by ±0.02 of a ratio from one run to the next. Where
valgrind is installed, the same ratios are also counted in instructions (callgrind), which do not
move: the same code and inputs give the same count on a loaded machine as on an idle one, so a
change of a few hundred lines shows in them when it does not in the times. They have no goal of
their own: CPU time is what a cold start costs.
"""

from __future__ import annotations

import compileall
import re
import shutil
import statistics
import subprocess
import sys
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from bench import asset as asset_builder
from bench.figures import Figure, at_most

IMPORT_RUNS = 9
IMPORTTIME_RUNS = 5
IMPORT_RATIO_GOAL = 1.15
SLOWEST = 10
BASELINE = "boto3, icalendar"
OUR_PACKAGE = "lambdas"
HANDLERS = {
    "send-invite": "lambdas.send_invite.handler",
    "send-cancellation": "lambdas.send_cancellation.handler",
    "record-reply": "lambdas.record_reply.handler",
    "record-feedback": "lambdas.record_feedback.handler",
    "follow-organizer": "lambdas.follow_organizer.handler",
}
COMMAND = "python -m bench imports"

# Paired in one fresh interpreter: the baseline first, then what the handler adds on top of it.
# The ratio of the two is immune to the machine getting faster or slower between interpreters.
_TIMER = """
import sys, time
sys.path[:0] = {paths!r}
wall, cpu = time.perf_counter(), time.process_time()
import {baseline}
base_wall, base_cpu = time.perf_counter() - wall, time.process_time() - cpu
import {module}
print(base_wall, base_cpu, time.perf_counter() - wall, time.process_time() - cpu)
"""


@dataclass(frozen=True)
class Interpreter:
    """A Python to time imports in, and the boto3 it finds after the asset (None: its own)."""

    python: str
    boto3: Path | None
    name: str

    def paths(self, asset: Path) -> list[str]:
        """``sys.path``'s head: the asset first, as Lambda puts ``/var/task`` before its boto3."""
        return [str(asset)] + ([str(self.boto3)] if self.boto3 else [])


THIS = Interpreter(sys.executable, None, f"Python {sys.version_info.major}.{sys.version_info.minor}")


def fresh(
    code: str, *flags: str, env: dict | None = None, interpreter: Interpreter = THIS
) -> subprocess.CompletedProcess:
    """``code`` run by a fresh interpreter, isolated, writing no bytecode."""
    return subprocess.run(  # noqa: S603 - this interpreter or the runtime's, code built here
        [interpreter.python, "-I", "-B", *flags, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )


def _time_imports(interpreter: Interpreter, path: Path, module: str) -> dict[str, float]:
    code = _TIMER.format(paths=interpreter.paths(path), baseline=BASELINE, module=module)
    base_wall, base_cpu, wall, cpu = map(float, fresh(code, interpreter=interpreter).stdout.split())
    return {"base_wall": base_wall, "base_cpu": base_cpu, "wall": wall, "cpu": cpu}


def runtime_interpreter(asset: Path) -> Interpreter | None:
    """The runtime's Python, if the asset carries its bytecode, with boto3 and botocore of this
    environment's versions installed for it and compiled by it (as the runtime has them)."""
    from infra import bundling, bytecode

    python = bytecode.runtime_interpreter(bundling.RUNTIME.name)
    if python is None:
        return None
    target = asset.parent / "runtime-boto3"
    if not target.exists():
        pins = [f"{name}=={metadata.version(name)}" for name in ("boto3", "botocore")]
        pip = bundling.pip_arguments(str(target), Path(bundling.REQUIREMENTS))[:-2]  # not -r requirements
        subprocess.run([sys.executable, "-m", "pip", *pip, *pins], check=True)  # noqa: S603
        bytecode.compile_tree(python, target, task_root=str(target))
    return Interpreter(python, target, f"the runtime's {bundling.RUNTIME.name}")


def compiled_copy(source: Path) -> Path:
    """The asset with bytecode, compiled by this interpreter."""
    target = source.parent / "asset-compiled"
    if not target.exists():
        shutil.copytree(source, target)
        compileall.compile_dir(str(target), quiet=2, workers=1)
    return target


def source_copy(bundled: Path) -> Path:
    """The asset as a machine without the runtime's Python bundles it: no bytecode."""
    target = bundled.parent / "asset-source"
    if not target.exists():
        shutil.copytree(bundled, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def imports() -> list[Figure]:
    deployed = asset_builder.build()
    runtime = runtime_interpreter(deployed)
    interpreter = runtime or THIS
    with_bytecode = deployed if runtime is not None else compiled_copy(deployed)
    # Figure key suffix -> (label, asset): "" is the asset as it loads in AWS.
    if runtime is not None:
        variants = {
            "": (f"as bundled (with bytecode), in {runtime.name}", deployed),
            "_source": (f"without bytecode, in {runtime.name}", source_copy(deployed)),
        }
    elif any(deployed.rglob("*.pyc")):  # the runtime's bytecode, which this interpreter cannot read
        variants = {
            "": (f"as bundled with bytecode (the runtime's: timed with {THIS.name}'s)", with_bytecode),
            "_source": (f"without bytecode, in {THIS.name}", source_copy(deployed)),
        }
    else:
        variants = {
            "": (f"as bundled (no bytecode), in {THIS.name}", deployed),
            "_bytecode": (f"with bytecode, in {THIS.name}", with_bytecode),
        }
    source_suffix = "" if "_bytecode" in variants else "_source"  # the form counted in instructions
    counted = instruction_ratios(interpreter, variants[source_suffix][1])
    figures = []
    for suffix, (variant, path) in variants.items():
        samples: dict[str, list[dict[str, float]]] = defaultdict(list)
        for _ in range(IMPORT_RUNS):  # interleaved, so that load on the machine hits all alike
            for function, module in HANDLERS.items():
                samples[function].append(_time_imports(interpreter, path, module))
        figures += [_ratio(function, variant, suffix, samples[function]) for function in HANDLERS]
        if suffix == source_suffix and counted:
            figures += [_counted(function, variant, *counted[function]) for function in HANDLERS]
    return figures + slowest_modules(interpreter, with_bytecode)


def _ratio(function: str, variant: str, suffix: str, runs: list[dict[str, float]]) -> Figure:
    ratio = statistics.median(r["cpu"] / r["base_cpu"] for r in runs)
    return Figure(
        key=f"import_ratio_{function}{suffix}",
        label=f"{function} handler import / import {BASELINE}, {variant}",
        value=ratio,
        unit="ratio",
        goal=f"<= {IMPORT_RATIO_GOAL:g}x",
        met=at_most(ratio, IMPORT_RATIO_GOAL),
        command=COMMAND,
        detail={
            "handler_cpu_ms": _ms(statistics.median(r["cpu"] for r in runs)),
            "handler_wall_ms": _ms(statistics.median(r["wall"] for r in runs)),
            f"baseline_cpu_ms ({BASELINE})": _ms(statistics.median(r["base_cpu"] for r in runs)),
            "wall_ratio": round(statistics.median(r["wall"] / r["base_wall"] for r in runs), 3),
            "ratios": [round(r["cpu"] / r["base_cpu"], 3) for r in runs],
            "runs": len(runs),
            "statistic": "median of (baseline + handler) / baseline, CPU time",
        },
    )


def instruction_ratios(interpreter: Interpreter, path: Path) -> dict[str, tuple[float, int]] | None:
    """Each handler's import ÷ the floor in instructions (callgrind), with the instructions it adds;
    None without valgrind. One run each, the interpreter's own start-up taken off both sides."""
    if shutil.which("valgrind") is None:
        return None
    start_up = f"import sys; sys.path[:0] = {interpreter.paths(path)!r}"
    codes = {
        "start-up": start_up,
        "floor": f"{start_up}; import {BASELINE}",
        **{function: f"{start_up}; import {BASELINE}; import {m}" for function, m in HANDLERS.items()},
    }
    with ThreadPoolExecutor(max_workers=2) as pool:  # each count is one process, 15-30 s under valgrind
        found = pool.map(lambda code: _instructions(interpreter, code), codes.values())
        counts = dict(zip(codes, found, strict=True))
    if None in counts.values():
        return None
    start, floor = counts["start-up"], counts["floor"]
    return {f: ((counts[f] - start) / (floor - start), counts[f] - floor) for f in HANDLERS}


_COLLECTED = re.compile(r"Collected : (\d+)")


def _instructions(interpreter: Interpreter, code: str) -> int | None:
    """The instructions a fresh interpreter runs for ``code``, as callgrind counts them (through a
    wrapper script's ``exec`` too); None when valgrind cannot run it."""
    callgrind = ["valgrind", "--tool=callgrind", "--trace-children=yes", "--callgrind-out-file=/dev/null"]
    result = subprocess.run(  # noqa: S603 - valgrind on this interpreter or the runtime's, code built here
        [*callgrind, interpreter.python, "-I", "-B", "-c", code],
        capture_output=True,
        text=True,
        check=False,
    )
    counted = _COLLECTED.findall(result.stderr)
    return int(counted[-1]) if result.returncode == 0 and counted else None


def _counted(function: str, variant: str, ratio: float, added: int) -> Figure:
    return Figure(
        key=f"import_instructions_ratio_{function}",
        label=f"{function} handler import / import {BASELINE}, {variant}, in instructions",
        value=ratio,
        unit="ratio",
        command=COMMAND,
        detail={
            "instructions_added_millions": round(added / 1e6, 1),
            "statistic": "callgrind's count of one fresh interpreter each; start-up taken off both sides",
            "note": "deterministic: load on the machine does not move it; no goal (CPU time has it)",
        },
    )


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def self_times(path: Path, modules: str, interpreter: Interpreter = THIS) -> dict[str, float]:
    """``-X importtime`` self time of every module imported, in ms: the median of fresh runs."""
    runs: dict[str, list[int]] = defaultdict(list)
    code = f"import sys; sys.path[:0] = {interpreter.paths(path)!r}; import {modules}"
    for _ in range(IMPORTTIME_RUNS):
        for line in fresh(code, "-X", "importtime", interpreter=interpreter).stderr.splitlines():
            if line.startswith("import time:") and "self [us]" not in line:
                self_us, _, name = line[len("import time:") :].split("|")
                runs[name.strip()].append(int(self_us))
    return {name: statistics.median(micros) / 1000 for name, micros in runs.items()}


def slowest_modules(interpreter: Interpreter, path: Path) -> list[Figure]:
    """The ten of our modules that take longest to import, by self time, every handler loaded."""
    times = self_times(path, ", ".join([BASELINE, *HANDLERS.values()]), interpreter)
    ours = {name: ms for name, ms in times.items() if name.split(".")[0] == OUR_PACKAGE}
    slowest = sorted(ours.items(), key=lambda item: -item[1])[:SLOWEST]
    return [
        Figure(
            key=f"import_self_ms_{name}",
            label=f"import self time, {name} (with bytecode, in {interpreter.name}; #{rank} of ours)",
            value=round(ms, 2),
            unit="ms",
            command=COMMAND,
            detail={
                "all_of_ours_ms": round(sum(ours.values()), 1),
                "modules_of_ours": len(ours),
                "runs": IMPORTTIME_RUNS,
                "statistic": "median self time under -X importtime (which adds its own overhead)",
            },
        )
        for rank, (name, ms) in enumerate(slowest, start=1)
    ]
