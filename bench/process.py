"""Peak RSS of a batch, measured in a fresh interpreter (import time: bench.imports).

It runs against the built asset (bench.asset), as Lambda would: the asset directory first on
``sys.path``, boto3/botocore from this environment (the Lambda runtime provides them). The asset
has no bytecode (the bundling passes ``--no-compile`` and excludes ``__pycache__``) and Lambda's
``/var/task`` is read-only, so every cold start compiles the asset's modules from source; the
interpreters here run with ``-B`` so that nothing is cached between runs either.
"""

from __future__ import annotations

import json
import subprocess
import sys

from bench import asset as asset_builder
from bench.figures import Figure, at_most
from bench.imports import BASELINE, HANDLERS
from bench.imports import fresh as _fresh

RSS_GOAL_MB = 100.0

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
