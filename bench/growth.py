"""How one event's invitation grows with its size: time, peak memory and AWS calls per attendee.

One event of 100, 1,000 and 10,000 attendees, invited in requests of the contract's maximum
(``MAX_ATTENDEES``), through the local runtime built from the synthesized template
(bench/local_runtime.py), with the bench's round trip on every AWS request. Each size runs in a
fresh interpreter (``python -m bench.growth --probe SIZE``), so that its memory is its own; the
peak is the RSS sampled every half second while the event is sent. Time grows linearly when the
time per attendee stays the same; memory stays flat when the process grows by no more than what
moto, in this process, keeps for the event (every item and email, as the table and SES do) times
``STORED_OVERHEAD``.

``BENCH_GROWTH_SIZES=100,1000 python -m bench growth`` measures fewer sizes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.figures import Figure, at_most
from bench.local_runtime import (
    STORED_OVERHEAD,
    RssSampler,
    dead_lettered,
    drain,
    function_calls,
    requests,
    rss_kb,
    started,
    stored_bytes,
    target,
)

SIZES = (100, 1_000, 10_000)
SIZES_ENV = "BENCH_GROWTH_SIZES"
# Time per attendee at the largest size over that at the smallest: 1.0 is perfectly linear.
LINEAR_GOAL = 1.25
SECONDS_PER_ATTENDEE_LIMIT = 1.0  # a probe gives up after this much wall time per attendee (+ 5 min)
COMMAND = "python -m bench growth"
DEFECTS = ("attendees_without_email", "attendees_with_duplicates", "dead_lettered")


def probe(size: int) -> dict:
    """Invite ``size`` attendees to one event through a fresh runtime; what it cost."""
    from cisctl import ops
    from local.samples import invite_body

    uid = f"growth-{size}@example.com"
    attendees = [f"guest{i:05d}@example.org" for i in range(size)]
    bodies = requests(invite_body(uid=uid)["event"], attendees)
    with (
        tempfile.TemporaryDirectory(prefix="bench-growth-") as work,
        started(Path(work)) as (runtime, transport),
    ):
        where = target(runtime)
        ready_kb = rss_kb()
        with RssSampler() as sampler:
            wall, cpu = time.perf_counter(), time.process_time()
            ops.enqueue(where, "invite", bodies)  # what `cisctl invite --file` does
            invocations = drain(runtime, seconds=300 + SECONDS_PER_ATTENDEE_LIMIT * size)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        counted = transport.snapshot()
        emails = Counter(e.recipient.lower() for e in runtime.new_emails())
        stored_kb = stored_bytes(runtime) / 1024
        dead = dead_lettered(runtime)
    functions = function_calls(counted, client_messages=len(bodies))
    return {
        "size": size,
        "requests": len(bodies),
        "invocations": invocations,
        "wall_s": wall,
        "cpu_s": cpu,
        "ready_rss_mb": ready_kb / 1024,
        # Sampled while the event is sent: VmHWM would also hold the deployment's own peak.
        "peak_rss_mb": sampler.peak_mb(),
        "vmhwm_mb": rss_kb("VmHWM") / 1024,
        "rss_samples_mb": [
            round(kb / 1024, 1) for _, _, kb in sampler.samples[:: max(1, len(sampler.samples) // 40)]
        ],
        "emulator_stored_mb": stored_kb / 1024,
        "function_calls": sum(functions.values()),
        "runtime_calls": sum(counted.values()) - sum(functions.values()),
        "by_operation": {f"{s}:{o}": n for (s, o), n in sorted(functions.items())},
        "emails": sum(emails.values()),
        "attendees_without_email": sum(1 for a in attendees if emails[a] == 0),
        "attendees_with_duplicates": sum(1 for n in emails.values() if n > 1),
        "dead_lettered": sum(dead.values()),
    }


def _run_probe(size: int) -> dict:
    result = subprocess.run(  # noqa: S603 - this interpreter, this module
        [sys.executable, "-m", "bench.growth", "--probe", str(size)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"the {size}-attendee probe failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def sizes() -> tuple[int, ...]:
    chosen = os.environ.get(SIZES_ENV, "")
    return tuple(int(s) for s in chosen.split(",") if s.strip()) or SIZES


def growth() -> list[Figure]:
    runs = []
    for size in sizes():
        print(f"... growth: {size:,} attendees", file=sys.stderr, flush=True)
        runs.append(_run_probe(size))
    figures = []
    for run in runs:
        size = run["size"]
        defects = {k: run[k] for k in DEFECTS if run[k]}
        if defects:
            raise RuntimeError(f"{size:,} attendees: {defects}")
        per_attendee_ms = run["wall_s"] * 1000 / size
        added_kb = (run["peak_rss_mb"] - run["ready_rss_mb"]) * 1024
        detail = {k: v for k, v in run.items() if k != "size"}
        figures += [
            Figure(
                key=f"growth_ms_per_attendee_{size}",
                label=f"One event of {size:,} attendees ({_requests(run)}): time per attendee",
                value=per_attendee_ms,
                unit="ms",
                command=COMMAND,
                detail={
                    **detail,
                    "wall_s": round(run["wall_s"], 1),
                    "emails_per_s": round(size / run["wall_s"], 1),
                },
            ),
            Figure(
                key=f"growth_peak_rss_mb_{size}",
                label=f"Peak RSS of the runtime process, {size:,} attendees",
                value=run["peak_rss_mb"],
                unit="MB",
                command=COMMAND,
                detail={
                    "ready_rss_mb": round(run["ready_rss_mb"], 1),
                    "added_kb_per_attendee": round(added_kb / size, 1),
                    "emulator_stored_kb_per_attendee": round(run["emulator_stored_mb"] * 1024 / size, 1),
                },
            ),
            Figure(
                key=f"growth_calls_per_attendee_{size}",
                label=f"AWS calls per attendee, {size:,} attendees (fan-out included)",
                value=run["function_calls"] / size,
                unit="calls",
                command=COMMAND,
                detail={"by_operation": run["by_operation"], "runtime_calls": run["runtime_calls"]},
            ),
            Figure(
                key=f"growth_defects_{size}",
                label=f"Attendees not sent one email, and messages dead-lettered, {size:,} attendees",
                value=sum(defects.values()),
                unit="",
                goal="0",
                met=not any(defects.values()),
                command=COMMAND,
                detail=defects,
            ),
        ]
    if len(runs) > 1:
        small, large = runs[0], runs[-1]
        ratio = (large["wall_s"] / large["size"]) / (small["wall_s"] / small["size"])
        figures.append(
            Figure(
                key="growth_time_ratio",
                label=f"Time per attendee at {large['size']:,} / at {small['size']:,} (1.00x: linear)",
                value=ratio,
                unit="ratio",
                goal=f"<= {LINEAR_GOAL:g}x",
                met=at_most(ratio, LINEAR_GOAL),
                command=COMMAND,
            )
        )
        added = (large["peak_rss_mb"] - small["peak_rss_mb"]) * 1024 / (large["size"] - small["size"])
        stored = (
            (large["emulator_stored_mb"] - small["emulator_stored_mb"])
            * 1024
            / (large["size"] - small["size"])
        )
        limit = STORED_OVERHEAD * stored
        figures.append(
            Figure(
                key="growth_rss_kb_per_extra_attendee",
                label=f"Peak RSS added per attendee from {small['size']:,} to {large['size']:,} attendees",
                value=added,
                unit="kB",
                goal=f"<= {limit:.0f} kB (moto's data x{STORED_OVERHEAD:g})",
                met=at_most(added, limit),
                command=COMMAND,
                detail={
                    "moto_stored_kb_per_attendee": round(stored, 2),
                    "beyond_moto_kb_per_attendee": {
                        r["size"]: round(_added_beyond_stored_kb(r), 1) for r in runs
                    },
                },
            )
        )
    return figures


def _requests(run: dict) -> str:
    return f"{run['requests']} request{'s' if run['requests'] > 1 else ''}"


def _added_beyond_stored_kb(run: dict) -> float:
    added = (run["peak_rss_mb"] - run["ready_rss_mb"] - run["emulator_stored_mb"]) * 1024
    return added / run["size"]


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "--probe":
        print(json.dumps(probe(int(argv[1]))))
        return 0
    print("usage: python -m bench.growth --probe SIZE (`python -m bench growth`: the figures)")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
