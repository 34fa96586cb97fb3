"""Cold-start import cost, measured in fresh interpreters against the built asset.

Each function's handler import is compared with the floor every function pays, ``import boto3,
icalendar``, in two forms of the asset (bench.asset builds it as ``cdk synth`` bundles it):

- as bundled: no bytecode (the bundling passes ``--no-compile``), as Lambda runs it today: its
  ``/var/task`` is read-only, so every cold start compiles icalendar and our modules from source;
- with bytecode: the same files compiled first, so the figure is the modules' own work at import
  (class, enum and regex construction, tables), which no cache takes away.

Boto3 and botocore come from this environment, bytecode cached, as the Lambda runtime provides
them. The interpreters run with ``-B`` so that nothing is cached from one run to the next. Then
``-X importtime`` names the ten of our modules with the most self time (with bytecode).
"""

from __future__ import annotations

import compileall
import shutil
import statistics
import subprocess
import sys
from collections import defaultdict
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
sys.path.insert(0, {path!r})
wall, cpu = time.perf_counter(), time.process_time()
import {baseline}
base_wall, base_cpu = time.perf_counter() - wall, time.process_time() - cpu
import {module}
print(base_wall, base_cpu, time.perf_counter() - wall, time.process_time() - cpu)
"""


def fresh(code: str, *flags: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """``code`` run by a fresh interpreter like this one, isolated, writing no bytecode."""
    return subprocess.run(  # noqa: S603 - this interpreter, code built here
        [sys.executable, "-I", "-B", *flags, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )


def _time_imports(path: Path, module: str) -> dict[str, float]:
    code = _TIMER.format(path=str(path), baseline=BASELINE, module=module)
    base_wall, base_cpu, wall, cpu = map(float, fresh(code).stdout.split())
    return {"base_wall": base_wall, "base_cpu": base_cpu, "wall": wall, "cpu": cpu}


def compiled_copy(source: Path) -> Path:
    """The asset with bytecode, compiled by this interpreter (not the runtime's: see
    docs/performance.md, "Bytecode and SnapStart")."""
    target = source.parent / "asset-compiled"
    if not target.exists():
        shutil.copytree(source, target)
        compileall.compile_dir(str(target), quiet=2, workers=1)
    return target


def imports() -> list[Figure]:
    deployed = asset_builder.build()
    compiled = compiled_copy(deployed)
    variants = {"as bundled (no bytecode)": ("", deployed), "with bytecode": ("_bytecode", compiled)}
    figures = []
    for variant, (suffix, path) in variants.items():
        samples: dict[str, list[dict[str, float]]] = defaultdict(list)
        for _ in range(IMPORT_RUNS):  # interleaved, so that load on the machine hits all alike
            for function, module in HANDLERS.items():
                samples[function].append(_time_imports(path, module))
        figures += [_ratio(function, variant, suffix, samples[function]) for function in HANDLERS]
    return figures + slowest_modules(compiled)


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


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def self_times(path: Path, modules: str) -> dict[str, float]:
    """``-X importtime`` self time of every module imported, in ms: the median of fresh runs."""
    runs: dict[str, list[int]] = defaultdict(list)
    code = f"import sys; sys.path.insert(0, {str(path)!r}); import {modules}"
    for _ in range(IMPORTTIME_RUNS):
        for line in fresh(code, "-X", "importtime").stderr.splitlines():
            if line.startswith("import time:") and "self [us]" not in line:
                self_us, _, name = line[len("import time:") :].split("|")
                runs[name.strip()].append(int(self_us))
    return {name: statistics.median(micros) / 1000 for name, micros in runs.items()}


def slowest_modules(path: Path) -> list[Figure]:
    """The ten of our modules that take longest to import, by self time, every handler loaded."""
    times = self_times(path, ", ".join([BASELINE, *HANDLERS.values()]))
    ours = {name: ms for name, ms in times.items() if name.split(".")[0] == OUR_PACKAGE}
    slowest = sorted(ours.items(), key=lambda item: -item[1])[:SLOWEST]
    return [
        Figure(
            key=f"import_self_ms_{name}",
            label=f"import self time, {name} (with bytecode; #{rank} of ours)",
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
