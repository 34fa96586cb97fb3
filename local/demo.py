"""``make demo``: one event's life on the local runtime, and a report of what came out.

The scenario: an invitation to three attendees in one fan-out request, the same request again, an
invalid request, an update (a higher sequence, a new time) and the cancellation of the whole
event. Requests are enqueued the way ``python -m cisctl`` does it (the queue URLs come from the
stacks' outputs), and the report reads the DLQs and the table the same way too.

Nothing in the report depends on the run (no message ids, ports or clock times), so a second run
prints the same report.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cisctl import ops, render
from cisctl.requests import validate
from cisctl.target import QUEUES, Target
from local.outbox import Outbox, WrittenEmail, defects
from local.runtime import Invocation, LocalRuntime, label

UID = "kickoff-2026@example.com"
ORGANIZER = {"email": "alice@example.com", "name": "Alice Martin"}
ATTENDEES = [
    {"email": "ana@example.org", "name": "Ana Lima"},
    {"email": "ben@example.org", "name": "Ben Okafor"},
    {"email": "chloe@example.org", "name": "Chloé Durand"},
]
EVENT = {
    "uid": UID,
    "sequence": 0,
    "summary": "Project kickoff",
    "description": "Goals, roles and the first milestones.\nBring your questions.",
    "location": "Room 4, Lyon office",
    "start": "2026-12-01T10:00:00",
    "end": "2026-12-01T11:00:00",
    "timezone": "Europe/Paris",
    "organizer": ORGANIZER,
}
UPDATED_EVENT = {**EVENT, "sequence": 1, "start": "2026-12-02T14:00:00", "end": "2026-12-02T15:30:00"}
INVALID_REQUEST = {
    "event": {
        **EVENT,
        "uid": "broken-2026@example.com",
        "start": "2026-12-03T10:00:00",
        "end": "2026-12-03T09:00:00",
    },
    "attendee": {"email": "not-an-address"},
}


@dataclass(frozen=True)
class Step:
    title: str
    kind: str  # invite | cancellation (the queue)
    body: dict[str, Any]
    valid: bool = True


STEPS = (
    Step(
        "Invite three attendees with one fan-out request", "invite", {"event": EVENT, "attendees": ATTENDEES}
    ),
    Step("The same request again (a producer retry)", "invite", {"event": EVENT, "attendees": ATTENDEES}),
    Step(
        "An invalid request: it ends before it starts, to a bad address",
        "invite",
        INVALID_REQUEST,
        valid=False,
    ),
    Step(
        "An update: sequence 1, moved to the next day",
        "invite",
        {"event": UPDATED_EVENT, "attendees": ATTENDEES},
    ),
    Step("Cancel the whole event (uid only)", "cancellation", {"event": {"uid": UID}}),
)


@dataclass
class StepResult:
    step: Step
    invocations: Counter = field(default_factory=Counter)  # function label -> invocations
    outcomes: dict[str, Counter] = field(default_factory=dict)  # function label -> outcome counts
    failed_records: int = 0
    emails: list[WrittenEmail] = field(default_factory=list)


@dataclass
class DemoResult:
    steps: list[StepResult]
    emails: list[WrittenEmail]
    dead_letters: dict[str, list[ops.DeadLetter]]
    dlq_urls: dict[str, str]
    status: ops.EventReport
    outbox: Path
    defects: dict[str, list[str]]  # file name -> defects (empty when every email parses cleanly)


def run(runtime: LocalRuntime, outbox: Outbox) -> DemoResult:
    """Play the scenario on a started runtime; every step runs until the queues are drained."""
    target = Target.endpoint(runtime.endpoint, region=runtime.region, stacks=tuple(runtime.assembly.names))
    outbox.clear()
    runtime.new_emails()  # start counting from here
    results = []
    for step in STEPS:
        if step.valid:
            validate(step.kind, [step.body])  # the way cisctl checks it before sending
        ops.enqueue(target, step.kind, [step.body])
        result = StepResult(step)
        for invocation in runtime.drain():
            _count(result, invocation)
        for sent in sorted(runtime.new_emails(), key=lambda e: e.recipient):
            result.emails.append(outbox.write(sent))
        results.append(result)
    dead = ops.dead_letters(target, list(QUEUES))
    return DemoResult(
        steps=results,
        emails=list(outbox.written),
        dead_letters=dead,
        dlq_urls={kind: target.dlq_url(kind) for kind in QUEUES},
        status=ops.event_status(target, UID),
        outbox=outbox.directory,
        defects={w.eml.name: found for w in outbox.written if (found := defects(w.email.raw))},
    )


def _count(result: StepResult, invocation: Invocation) -> None:
    name = invocation.function.label
    result.invocations[name] += 1
    result.outcomes.setdefault(name, Counter()).update(invocation.outcomes)
    result.failed_records += len(invocation.failed)


# ------------------------------------------------------------------------------------------ report


def report(result: DemoResult, runtime: LocalRuntime) -> str:
    lines = ["Calendar Invite Server: local demo", "=" * 34, ""]
    lines += _setup_lines(runtime)
    for number, step in enumerate(result.steps, 1):
        lines += ["", f"{number}. {step.step.title}  -> {step.step.kind} queue"]
        for name, count in step.invocations.items():
            outcomes = ", ".join(f"{o} {n}" for o, n in sorted(step.outcomes.get(name, Counter()).items()))
            lines.append(
                f"   {name}: {count} invocation{'s' if count != 1 else ''}; {outcomes or 'no outcome'}"
            )
        if step.failed_records:
            lines.append(f"   {step.failed_records} record(s) reported failed and redelivered")
        numbers = [f"#{w.number:02d}" for w in step.emails]
        if not numbers:
            lines.append("   no email")
        else:
            span = "-".join(dict.fromkeys([numbers[0], numbers[-1]]))
            lines.append(f"   email{'s' if len(numbers) > 1 else ''} {span}")
    lines += ["", f"Emails sent: {len(result.emails)}"]
    if result.emails:
        rows = [["#", "TO", "METHOD", "SEQUENCE", "SUBJECT"]]
        rows += [
            [f"{w.number:02d}", w.email.recipient, w.email.method, str(w.email.sequence), w.email.subject]
            for w in result.emails
        ]
        lines += render.table(rows)
    lines += ["", "Dead-letter queues"]
    for kind, letters in result.dead_letters.items():
        lines += [
            "  " + line
            for line in render.dead_letter_lines(kind, result.dlq_urls[kind], letters, show_ids=False)
        ]
    lines += ["", "Table"]
    lines += ["  " + line for line in render.event_lines(result.status, show_times=False)]
    lines += ["", "Files"]
    if result.emails:
        first, last = result.emails[0], result.emails[-1]
        lines.append(
            f"  {_relative(result.outbox)}/: {len(result.emails)} emails as <n>-<attendee>-<method>.eml,"
        )
        lines.append(f"  each beside its .ics, {first.eml.name} ... {last.eml.name}")
        if result.defects:
            lines.append(f"  DEFECTS: {result.defects}")
        else:
            lines.append("  every .eml parses without defects (email.message_from_bytes, policy.default)")
    logs = sorted({_relative(f.log_file) for f in runtime.functions})
    lines.append(f"  function logs (JSON lines): {', '.join(logs)}")
    lines += [
        "",
        "Next: `python -m local serve` keeps this runtime up; then try `python -m cisctl --local --help`.",
    ]
    return "\n".join(lines) + "\n"


def _setup_lines(runtime: LocalRuntime) -> list[str]:
    lines = [
        f"Stacks    {', '.join(runtime.assembly.names)}",
        f"          from {runtime.assembly.source}",
        "Created on a moto server on 127.0.0.1, through the service APIs:",
    ]
    for table in runtime.tables:
        keys = ", ".join(f"{name} {kind}" for name, kind in table.keys)
        lines.append(f"  table     {table.name} ({keys})")
    for identity in runtime.identities:
        origin = "" if identity.stack else " (not in the template)"
        lines.append(f"  identity  {identity.name}, verified{origin}")
    by_arn = runtime.queues
    for queue in by_arn.values():
        text = f"  queue     {label(queue.logical_id)}: visibility {queue.visibility_timeout} s"
        if queue.dead_letter_arn in by_arn:
            dlq = by_arn[queue.dead_letter_arn]
            text += f", to {label(dlq.logical_id)} after {queue.max_receive_count} receives"
        lines.append(text)
    for function in runtime.functions:
        lines.append(f"  function  {function.label}: {function.handler}, timeout {function.timeout} s")
        for mapping in (m for m in runtime.mappings if m.function is function):
            flags = "ReportBatchItemFailures" if mapping.report_batch_item_failures else "whole-batch results"
            concurrency = (
                f", max concurrency {mapping.maximum_concurrency}" if mapping.maximum_concurrency else ""
            )
            lines.append(
                f"            fed by {label(mapping.queue.logical_id)}:"
                f" batch {mapping.batch_size}, {flags}{concurrency}"
            )
    if runtime.not_emulated:
        skipped = ", ".join(f"{n} {kind}" for kind, n in sorted(runtime.not_emulated.items()))
        lines.append(f"  not needed locally: {skipped}")
    lines += [f"  note: {note}" for note in runtime.notes]
    return lines


def _relative(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
