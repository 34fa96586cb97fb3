"""``make demo``: one event's life on the local runtime, then a weekly series', and a report.

The scenario: an invitation to three attendees in one fan-out request, the same request again, an
invalid request, an update (a higher sequence, a new time) and the cancellation of the whole
event; then a weekly series across the change to summer time, one occurrence moved, another
cancelled, and the series cancelled. When the stacks receive replies, two more attendees are
invited before the update and the answers of local/demo_replies.py arrive through SES receiving;
the report then shows who accepted, declined or said maybe, and why the others were not recorded;
then a forged notification on the reply queue goes to its DLQ, unread.
When they publish delivery feedback too, SES's events for three invitations follow the answers
(local/demo_feedback.py: delivered, a hard bounce, a complaint), and the update is not sent to the
bounced and complained addresses. When they have an event address, organizers run an event from
their own calendar last (local/demo_organizer.py: created from Outlook and Google, attendees added
by its id, moved, cancelled).
Requests are enqueued the way ``bin/cisctl`` does it (the queue URLs come from the stacks'
outputs), and the report reads the DLQs and the table the same way too.

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
from local import demo_feedback, demo_organizer, demo_replies
from local.demo_feedback import FEEDBACK, Feedback
from local.demo_organizer import OrganizerMail
from local.demo_replies import LATER_ATTENDEES, REPLIES, Reply
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


SERIES_UID = "weekly-sync-2027@example.com"
SERIES = {
    "uid": SERIES_UID,
    "sequence": 0,
    "summary": "Weekly sync",
    "start": "2027-03-16T09:30:00",
    "end": "2027-03-16T10:00:00",
    "timezone": "Europe/Paris",
    "rrule": "FREQ=WEEKLY;BYDAY=TU;COUNT=8",
    "organizer": ORGANIZER,
}
MOVED = {
    **SERIES,
    "sequence": 1,
    "occurrence": "2027-03-30T09:30:00",
    "start": "2027-04-01T14:00:00",
    "end": "2027-04-01T14:30:00",
}
del MOVED["rrule"]


@dataclass(frozen=True)
class Step:
    title: str
    kind: str  # invite | cancellation (the queue) | reply (SES receiving) | feedback (SES events)
    body: dict[str, Any] = field(default_factory=dict)
    valid: bool = True
    reply: Reply | None = None
    feedback: Feedback | None = None
    mail: OrganizerMail | None = None  # an organizer's message to the event address


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
    Step(
        "Invite a weekly series: Tuesdays 09:30 Paris time, 8 times",
        "invite",
        {"event": SERIES, "attendees": ATTENDEES},
    ),
    Step(
        "Move one occurrence: 30 March to Thursday 1 April",
        "invite",
        {"event": MOVED, "attendees": ATTENDEES},
    ),
    Step(
        "Cancel another occurrence for everyone: 13 April",
        "cancellation",
        {"event": {"uid": SERIES_UID, "occurrence": "2027-04-13T09:30:00"}},
    ),
    Step("Cancel the series (uid only)", "cancellation", {"event": {"uid": SERIES_UID}}),
)
EVERYONE = ATTENDEES + LATER_ATTENDEES
# With the reply path: after the invalid request, two more attendees and the replies; the update
# then goes to all five.
REPLY_STEPS = (
    *STEPS[:3],
    Step(
        "Invite Carla and Dan to the same event (sequence 0)",
        "invite",
        {"event": EVENT, "attendees": LATER_ATTENDEES},
    ),
    *(Step(reply.title, "reply", reply=reply) for reply in REPLIES),
    Step(demo_replies.FORGED_TITLE, "reply", valid=False),  # its body is the runtime's: steps_for
    Step(
        "An update: sequence 1, moved to the next day",
        "invite",
        {"event": UPDATED_EVENT, "attendees": EVERYONE},
    ),
    *STEPS[4:],
)


# With delivery feedback too: after the replies, what SES tells of three invitations; the update
# is then not sent to the bounced and the complained addresses.
_UPDATE = len(STEPS[:3]) + 1 + len(REPLIES) + 1
FEEDBACK_STEPS = (
    *REPLY_STEPS[:_UPDATE],
    *(Step(feedback.title, "feedback", feedback=feedback) for feedback in FEEDBACK),
    Step(
        "An update: sequence 1, moved to the next day (not to the bounced or complained address)",
        "invite",
        {"event": UPDATED_EVENT, "attendees": EVERYONE},
    ),
    *REPLY_STEPS[_UPDATE + 1 :],
)


def steps_for(runtime: LocalRuntime) -> tuple[Step, ...]:
    if not demo_replies.receives_replies(runtime):
        return STEPS
    steps = FEEDBACK_STEPS if demo_feedback.publishes_feedback(runtime) else REPLY_STEPS
    forged = Step(demo_replies.FORGED_TITLE, "reply", demo_replies.forged_notification(runtime), valid=False)
    steps = tuple(forged if step.title == forged.title else step for step in steps)
    return _with_series_replies(steps, demo_replies.rsvp_address(runtime)) + _organizer_steps(runtime)


def _organizer_steps(runtime: LocalRuntime) -> tuple[Step, ...]:
    """With an event address: two events created from calendars, attendees added to Marge's by its
    id, then her update and her cancellation, followed for them."""
    address = demo_organizer.event_address(runtime)
    if address is None:
        return ()
    created_outlook, created_google, moved, cancelled = demo_organizer.mails(address)
    by_id = Step(
        "Add Eve, Finn and Gus to Marge's event by its id (cisctl invite --uid)",
        "invite",
        demo_organizer.invite_by_id(address),
    )
    return tuple(
        Step(m.title, "organizer", mail=m) if isinstance(m, OrganizerMail) else m
        for m in (created_outlook, created_google, by_id, moved, cancelled)
    )


def _with_series_replies(steps: tuple[Step, ...], rsvp: str) -> tuple[Step, ...]:
    """After the series' occurrence is moved: an answer for that occurrence alone, and a relayed
    (unverified) answer for the series."""
    moved = next(index for index, step in enumerate(steps) if step.body.get("event") is MOVED)
    answers = tuple(Step(r.title, "reply", reply=r) for r in demo_replies.series_replies(SERIES_UID, rsvp))
    return (*steps[: moved + 1], *answers, *steps[moved + 1 :])


@dataclass
class StepResult:
    step: Step
    invocations: Counter = field(default_factory=Counter)  # function label -> invocations
    outcomes: dict[str, Counter] = field(default_factory=dict)  # function label -> outcome counts
    failed_records: int = 0
    emails: list[WrittenEmail] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)  # what the record reply function made of a reply


@dataclass
class DemoResult:
    steps: list[StepResult]
    emails: list[WrittenEmail]
    dead_letters: dict[str, list[ops.DeadLetter]]
    dlq_urls: dict[str, str]
    status: ops.EventReport
    answers: ops.EventReport | None  # the table after the replies, before the update resets them
    series_status: ops.EventReport
    outbox: Path
    defects: dict[str, list[str]]  # file name -> defects (empty when every email parses cleanly)
    organizer_status: ops.EventReport | None = None  # Marge's event, with an event address


def run(runtime: LocalRuntime, outbox: Outbox) -> DemoResult:
    """Play the scenario on a started runtime; every step runs until the queues are drained."""
    target = Target.endpoint(runtime.endpoint, region=runtime.region, stacks=tuple(runtime.assembly.names))
    outbox.clear()
    runtime.new_emails()  # start counting from here
    results = []
    answers = None
    for step in steps_for(runtime):
        if step.reply is not None:
            runtime.receive_email(step.reply.raw)
        elif step.mail is not None:
            runtime.receive_email(step.mail.raw, recipient=step.mail.recipient)
        elif step.feedback is not None:
            demo_feedback.publish(runtime, step.feedback, UID)
        else:
            if step.valid:
                validate(step.kind, [step.body])  # the way cisctl checks it before sending
            ops.enqueue(target, step.kind, [step.body])
        result = StepResult(step)
        for invocation in runtime.drain():
            _count(result, invocation)
            if step.kind == "reply":
                result.answers += demo_replies.outcome_lines(invocation.lines)
        for sent in sorted(runtime.new_emails(), key=lambda e: e.recipient):
            result.emails.append(outbox.write(sent))
        results.append(result)
        if step.reply is not None and step.reply is REPLIES[-1]:
            answers = ops.event_status(target, UID)
    # Every DLQ the stacks publish: a hand-written assembly may have fewer pipelines than the app.
    kinds = [kind for kind in QUEUES if target.has_queues(kind)]
    dead = ops.dead_letters(target, kinds)
    written = [email for result in results for email in result.emails]
    return DemoResult(
        steps=results,
        emails=written,
        dead_letters=dead,
        dlq_urls={kind: target.dlq_url(kind) for kind in kinds},
        status=ops.event_status(target, UID),
        answers=answers,
        series_status=ops.event_status(target, SERIES_UID),
        outbox=outbox.directory,
        defects={w.eml.name: found for w in written if (found := defects(w.email.raw))},
        organizer_status=_organizer_status(runtime, target),
    )


def _organizer_status(runtime: LocalRuntime, target: Target) -> ops.EventReport | None:
    address = demo_organizer.event_address(runtime)
    if address is None:
        return None
    return ops.event_status(target, demo_organizer.event_id(demo_organizer.OUTLOOK_CREATE, address))


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
        if step.step.reply is not None:
            lines += ["", f"{number}. {step.step.title}  -> SES receiving ({step.step.reply.fixture})"]
        elif step.step.mail is not None:
            lines += ["", f"{number}. {step.step.title}  -> the event address ({step.step.mail.fixture})"]
        elif step.step.feedback is not None:
            lines += [
                "",
                f"{number}. {step.step.title}  -> SES event publishing ({step.step.feedback.described})",
            ]
        else:
            lines += ["", f"{number}. {step.step.title}  -> {step.step.kind} queue"]
        for name, count in step.invocations.items():
            outcomes = ", ".join(f"{o} {n}" for o, n in sorted(step.outcomes.get(name, Counter()).items()))
            lines.append(
                f"   {name}: {count} invocation{'s' if count != 1 else ''}; {outcomes or 'no outcome'}"
            )
        if step.failed_records:
            lines.append(f"   {step.failed_records} record(s) reported failed and redelivered")
        lines += [f"   {answer}" for answer in step.answers]
        numbers = [f"#{w.number:02d}" for w in step.emails]
        if not numbers:
            lines.append("   no email")
        else:
            span = "-".join(dict.fromkeys([numbers[0], numbers[-1]]))
            lines.append(f"   email{'s' if len(numbers) > 1 else ''} {span}")
        if step.step.reply is REPLIES[-1] and result.answers is not None:
            lines += [
                "",
                "   Answers after the replies (the update that follows resets them to NEEDS-ACTION):",
            ]
            lines += ["  " + line for line in demo_replies.answer_lines(result.answers)]
    lines += ["", f"Emails sent: {len(result.emails)}"]
    if result.emails:
        rows = [["#", "TO", "METHOD", "SEQUENCE", "SUBJECT"]]
        rows += [
            [
                f"{w.number:02d}",
                w.email.recipient,
                w.email.method or "-",  # the organizer's confirmation carries no calendar
                "-" if w.email.sequence is None else str(w.email.sequence),
                w.email.subject,
            ]
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
    lines += ["  " + line for line in render.event_lines(result.series_status, show_times=False)]
    if result.organizer_status is not None:
        lines += ["  " + line for line in render.event_lines(result.organizer_status, show_times=False)]
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
        "Next: `make serve` keeps this runtime up; then try `bin/cisctl --local --help`.",
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
    lines += demo_replies.setup_lines(runtime)
    lines += demo_feedback.setup_lines(runtime)
    lines += demo_organizer.setup_lines(runtime)
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
