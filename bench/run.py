"""Run the figures, print the table, write bench/results.json."""

from __future__ import annotations

import importlib
import json
import os
import platform
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

from bench.figures import Figure

RESULTS = Path(__file__).resolve().parent / "results.json"


# Each set's module and function, imported only when it runs (growth and asset pull in heavy
# dependencies). In this order: the asset is built once and reused by the import and memory figures.
SUITES = {
    "calls": "bench.aws:calls",
    "reply": "bench.reply:bench_reply_calls",
    "latency": "bench.aws:latency",
    "asset": "bench.asset:asset",
    "imports": "bench.imports:imports",
    "memory": "bench.process:memory",
    "render": "bench.render:render",
    "growth": "bench.growth:growth",  # last: minutes, through the whole local runtime
}


def measure(name: str) -> list[Figure]:
    module, _, function = SUITES[name].partition(":")
    return getattr(importlib.import_module(module), function)()


def main(argv: list[str]) -> int:
    unknown = [name for name in argv if name not in SUITES]
    if unknown:
        print(f"unknown figure set(s): {', '.join(unknown)}; choose from {', '.join(SUITES)}")
        return 2
    chosen = argv or list(SUITES)
    figures: list[Figure] = []
    errors: dict[str, str] = {}
    timings: dict[str, float] = {}
    for name in chosen:
        start = time.perf_counter()
        print(f"... {name}", file=sys.stderr, flush=True)
        try:
            figures += measure(name)
        except Exception as error:
            traceback.print_exc()
            errors[name] = repr(error)
        timings[name] = round(time.perf_counter() - start, 1)
    print(table(figures))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    print(f"\nmachine: {os.cpu_count()} CPUs, load average {load}; Python {platform.python_version()}")
    for name, error in errors.items():
        print(f"!! {name} could not be measured: {error}")
    write(figures, errors, timings)
    print(f"\nwritten: {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}")
    missed = [f.key for f in figures if f.met is False]
    if missed:
        print(f"goals missed: {', '.join(missed)} (see docs/performance.md)")
    return 1 if errors else 0


def table(figures: list[Figure]) -> str:
    rows = [("Figure", "Value", "Goal", "Met", "Command")]
    for f in figures:
        met = {True: "yes", False: "NO", None: ""}[f.met]
        rows.append((f.label, f.shown(), f.goal, met, f.command))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write(figures: list[Figure], errors: dict[str, str], timings: dict[str, float]) -> None:
    document = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        },
        "seconds_per_set": timings,
        "figures": [f.as_dict() for f in figures],
        "errors": errors,
    }
    RESULTS.write_text(json.dumps(document, indent=2) + "\n")
