"""Figures measured in fresh interpreters: cold-start import time and peak RSS of a batch.

Both run against the built asset (bench.asset), as Lambda would: the asset directory first on
``sys.path``, boto3/botocore from this environment (the Lambda runtime provides them). The asset
has no bytecode (the bundling passes ``--no-compile`` and excludes ``__pycache__``) and Lambda's
``/var/task`` is read-only, so every cold start compiles the asset's modules from source; the
interpreters here run with ``-B`` so that nothing is cached between runs either.
"""

from __future__ import annotations

import compileall
import json
import shutil
import statistics
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from bench import asset as asset_builder
from bench.figures import Figure, at_most

IMPORT_RUNS = 9
IMPORT_RATIO_GOAL = 1.25
RSS_GOAL_MB = 100.0
BASELINE = "boto3, icalendar"
HANDLERS = {
    "send-invite": "lambdas.send_invite.handler",
    "send-cancellation": "lambdas.send_cancellation.handler",
    "record-reply": "lambdas.record_reply.handler",
    "record-feedback": "lambdas.record_feedback.handler",
}

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


def _fresh(code: str, *flags: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - this interpreter, code built here
        [sys.executable, "-I", "-B", *flags, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )


def _time_imports(path: Path, module: str) -> dict[str, float]:
    code = _TIMER.format(path=str(path), baseline=BASELINE, module=module)
    base_wall, base_cpu, wall, cpu = map(float, _fresh(code).stdout.split())
    return {"base_wall": base_wall, "base_cpu": base_cpu, "wall": wall, "cpu": cpu}


def _compiled_copy(source: Path) -> Path:
    target = source.parent / "asset-compiled"
    if not target.exists():
        shutil.copytree(source, target)
        compileall.compile_dir(str(target), quiet=2, workers=1)
    return target


def imports() -> list[Figure]:
    deployed = asset_builder.build()
    variants = {"as bundled (no bytecode)": deployed, "with bytecode": _compiled_copy(deployed)}
    figures = []
    for variant, path in variants.items():
        samples: dict[str, list[dict[str, float]]] = defaultdict(list)
        for _ in range(IMPORT_RUNS):  # interleaved, so that load on the machine hits both alike
            for function, module in HANDLERS.items():
                samples[function].append(_time_imports(path, module))
        bundled = variant.startswith("as bundled")
        for function in HANDLERS:
            runs = samples[function]
            ratio = statistics.median(r["cpu"] / r["base_cpu"] for r in runs)
            figures.append(
                Figure(
                    key=f"import_ratio_{function}" + ("" if bundled else "_bytecode"),
                    label=f"{function} handler import / import {BASELINE}, {variant}",
                    value=ratio,
                    unit="ratio",
                    goal=f"<= {IMPORT_RATIO_GOAL:g}x" if bundled else "",
                    met=at_most(ratio, IMPORT_RATIO_GOAL) if bundled else None,
                    command="python -m bench imports",
                    detail={
                        "handler_cpu_ms": round(statistics.median(r["cpu"] for r in runs) * 1000, 1),
                        "handler_wall_ms": round(statistics.median(r["wall"] for r in runs) * 1000, 1),
                        f"baseline_cpu_ms ({BASELINE})": round(
                            statistics.median(r["base_cpu"] for r in runs) * 1000, 1
                        ),
                        "wall_ratio": round(statistics.median(r["wall"] / r["base_wall"] for r in runs), 3),
                        "ratios": [round(r["cpu"] / r["base_cpu"], 3) for r in runs],
                        "runs": IMPORT_RUNS,
                        "statistic": "median of (baseline + handler) / baseline, CPU time",
                    },
                )
            )
        if bundled:
            figures[-1].detail["extra_import_ms_by_package"] = _extra_by_package(path)
    return figures


def _extra_by_package(path: Path) -> dict[str, float]:
    """-X importtime: self time of what the handler imports beyond the baseline, per package."""

    def self_times(modules: str) -> dict[str, int]:
        code = f"import sys; sys.path.insert(0, {str(path)!r}); import {modules}"
        times = {}
        for line in _fresh(code, "-X", "importtime").stderr.splitlines():
            if line.startswith("import time:") and "self [us]" not in line:
                self_us, _, name = line[len("import time:") :].split("|")
                times[name.strip()] = int(self_us)
        return times

    base = self_times(BASELINE)
    handler = self_times(HANDLERS["send-invite"])
    extra: dict[str, float] = defaultdict(float)
    for name, micros in handler.items():
        if name not in base:
            extra[name.split(".")[0]] += micros / 1000
    return {k: round(v, 1) for k, v in sorted(extra.items(), key=lambda kv: -kv[1])[:8]}


_PROBE = """
import json, sys, time
sys.path.insert(0, {path!r})
records = json.loads(sys.stdin.read())

def peak_rss_kb():
    # VmHWM: this process image's peak RSS. (ru_maxrss survives exec on Linux, so a child started
    # from a large parent would report the parent's peak.)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

from {module} import lambda_handler
cpu, wall = time.process_time(), time.perf_counter()
response = lambda_handler({{"Records": records}}, None)
print(json.dumps({{
    "maxrss_kb": peak_rss_kb(),
    "cpu_s": time.process_time() - cpu,
    "wall_s": time.perf_counter() - wall,
    "failures": len(response["batchItemFailures"]),
}}))
"""

_BASELINE_RSS = """
import sys
sys.path.insert(0, {path!r})
import boto3, icalendar
boto3.session.Session().client("dynamodb", region_name="us-east-1")
print(next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")))
"""


def memory() -> list[Figure]:
    import os

    from bench.aws import _cancel, _invite, local_aws

    path = asset_builder.build()
    figures = []
    with local_aws() as (_server, account):
        from local.samples import record

        # The cancellation batch needs invited attendees: invite them first, in this process.
        uid = "rss@example.com"
        pairs = [(uid, f"guest{i}@example.org") for i in range(10)]
        setup = account.invoke("invite", *[_invite(u, a) for u, a in pairs])
        assert setup["batchItemFailures"] == [], setup
        bodies = {
            "send-invite": [_invite("rss-2@example.com", a) for _, a in pairs],
            "send-cancellation": [_cancel(u, a) for u, a in pairs],
        }
        # The two sending functions: a batch of sends is the heaviest work (record reply's bound on a
        # 40 MB email is asserted with tracemalloc in tests/integration/test_record_reply.py).
        for function in bodies:
            module = HANDLERS[function]
            env = {
                **{k: v for k, v in os.environ.items() if k.startswith("AWS_") or k == "PATH"},
                **account.environment("invite" if function == "send-invite" else "cancel"),
                "POWERTOOLS_LOG_LEVEL": "INFO",
            }
            records = json.dumps([record(body) for body in bodies[function]])
            result = subprocess.run(  # noqa: S603 - this interpreter, code built here
                [sys.executable, "-I", "-B", "-c", _PROBE.format(path=str(path), module=module)],
                input=records,
                capture_output=True,
                text=True,
                check=True,
                env=env,
            )
            probe = json.loads(result.stdout.strip().splitlines()[-1])
            if probe["failures"]:
                raise RuntimeError(f"{function}: {probe['failures']} records failed in the RSS probe")
            mb = probe["maxrss_kb"] / 1024
            figures.append(
                Figure(
                    key=f"peak_rss_mb_{function}",
                    label=f"Peak RSS, {function}, fresh process, batch of 10",
                    value=mb,
                    unit="MB",
                    goal=f"<= {RSS_GOAL_MB:g}",
                    met=at_most(mb, RSS_GOAL_MB),
                    command="python -m bench memory",
                    detail={
                        "batch_cpu_ms_cold": round(probe["cpu_s"] * 1000, 1),
                        "batch_wall_ms_cold": round(probe["wall_s"] * 1000, 1),
                        "note": "first batch of a fresh process: clients created, no injected RTT",
                    },
                )
            )
    baseline_kb = int(_fresh(_BASELINE_RSS.format(path=str(path))).stdout)
    figures.append(
        Figure(
            key="peak_rss_mb_baseline",
            label=f"Peak RSS of a process that imports {BASELINE} and makes one client",
            value=baseline_kb / 1024,
            unit="MB",
            command="python -m bench memory",
        )
    )
    return figures
