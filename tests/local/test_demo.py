"""`make demo` on the real synthesized stacks: its exact outcome, and a second run that matches."""

from __future__ import annotations

import email
import json
from collections import Counter
from email import policy

from lambdas.domain.vocabulary import AttendeeStatus, EventStatus, Method
from lambdas.runtime.config import DEFAULT_SUBJECT_PREFIX, PLACEHOLDER_SENDER
from local import demo
from local.__main__ import main as local_main
from local.outbox import Outbox
from tests.local import fixture
from tests.support.oracles import check_imip

SUBJECT = DEFAULT_SUBJECT_PREFIX + " Event {}: Project kickoff"
ATTENDEES = ["ana@example.org", "ben@example.org", "chloe@example.org"]
EXPECTED_EMAILS = (
    [(a, SUBJECT.format("Invite"), Method.REQUEST, 0) for a in ATTENDEES]
    + [(a, SUBJECT.format("Updated"), Method.REQUEST, 1) for a in ATTENDEES]
    + [(a, SUBJECT.format("Cancelled"), Method.CANCEL, 2) for a in ATTENDEES]
)
INVITE, CANCELLATION = "InviteWorkerFunction", "CancellationWorkerFunction"


def test_the_demo_scenario_has_exactly_the_expected_outcome(app_assembly, start_runtime, tmp_path):
    runtime = start_runtime(app_assembly)

    result = demo.run(runtime, Outbox(tmp_path / "outbox"))

    # What each step made the functions do.
    assert [(dict(s.invocations), {f: dict(c) for f, c in s.outcomes.items()}) for s in result.steps] == [
        ({INVITE: 2}, {INVITE: {"fanned_out": 1, "sent": 3}}),
        ({INVITE: 2}, {INVITE: {"fanned_out": 1, "duplicate": 3}}),
        ({INVITE: 1}, {INVITE: {"invalid": 1}}),
        ({INVITE: 2}, {INVITE: {"fanned_out": 1, "sent": 3}}),
        ({CANCELLATION: 2}, {CANCELLATION: {"fanned_out": 1, "sent": 3}}),
    ]
    assert all(step.failed_records == 0 for step in result.steps)

    # Every email: to, subject, METHOD, SEQUENCE, and its files.
    sent = [(w.email.recipient, w.email.subject, w.email.method, w.email.sequence) for w in result.emails]
    assert sent == EXPECTED_EMAILS
    assert [w.eml.name for w in result.emails] == [
        f"{n:02d}-{to}-{method.lower()}.eml" for n, (to, _, method, _) in enumerate(EXPECTED_EMAILS, 1)
    ]
    for written, (to, subject, method, sequence) in zip(result.emails, EXPECTED_EMAILS, strict=True):
        raw = written.eml.read_bytes()
        message = email.message_from_bytes(raw, policy=policy.default)
        assert message.defects == [] and all(part.defects == [] for part in message.walk())
        assert message["To"].addresses[0].addr_spec == to
        assert message["Subject"] == subject
        assert message["From"].addresses[0].addr_spec == PLACEHOLDER_SENDER
        vevent = check_imip(raw, method).walk("VEVENT")[0]
        assert (str(vevent["UID"]), vevent["SEQUENCE"]) == (demo.UID, sequence)
        ics = _calendar_part(message).get_content().encode()
        assert written.ics.read_bytes().replace(b"\r\n", b"\n") == ics.replace(b"\r\n", b"\n")
    assert result.defects == {}

    # The DLQs: the invalid request alone, unchanged, with its reasons.
    assert result.dead_letters["cancellation"] == []
    [letter] = result.dead_letters["invite"]
    assert json.loads(letter.body) == demo.INVALID_REQUEST
    assert letter.reason == "event.end: must be after start; attendee.email: is not a valid email address"
    assert letter.errors == [
        {"field": "event.end", "reason": "must be after start"},
        {"field": "attendee.email", "reason": "is not a valid email address"},
    ]

    # The table: the event's counters and status, and each attendee's.
    event = result.status.event
    assert (event.status, event.sequence, event.cancelled_sequence) == (EventStatus.CANCELLED, 1, 2)
    assert (event.invites_sent, event.updates_sent, event.cancellations_sent) == (3, 3, 3)
    assert event.start.startswith("2026-12-02T14:00:00")
    assert [
        (a.email, a.status, a.sequence, [(h.method, h.sequence) for h in a.history])
        for a in result.status.attendees
    ] == [
        (a, AttendeeStatus.CANCELLED, 2, [(Method.REQUEST, 0), (Method.REQUEST, 1), (Method.CANCEL, 2)])
        for a in ATTENDEES
    ]
    assert all(a.pending is None for a in result.status.attendees)


def _calendar_part(message):
    return next(p for p in message.walk() if p.get_content_type() == "text/calendar")


def test_a_second_run_starts_clean_and_prints_the_same_report(app_assembly, start_runtime, tmp_path):
    outbox = tmp_path / "outbox"
    first_runtime = start_runtime(app_assembly, work_dir=tmp_path / "work")
    first = demo.report(demo.run(first_runtime, Outbox(outbox)), first_runtime)
    first_runtime.stop()
    (outbox / "99-someone@example.org-request.eml").write_bytes(b"left over")

    second_runtime = start_runtime(app_assembly, work_dir=tmp_path / "work")
    second = demo.report(demo.run(second_runtime, Outbox(outbox)), second_runtime)

    assert second == first
    assert len(list(outbox.glob("*.eml"))) == len(list(outbox.glob("*.ics"))) == 9
    for expected in (
        "1. Invite three attendees with one fan-out request  -> invite queue",
        "   InviteWorkerFunction: 2 invocations; fanned_out 1, sent 3",
        "   emails #07-#09",
        f"  07  ana@example.org    CANCEL   2         {SUBJECT.format('Cancelled')}",
        "    1. reason: event.end: must be after start; attendee.email: is not a valid email address",
        "    Sent       3 invites, 3 updates, 3 cancellations",
        "            fed by InviteWorkerQueue: batch 10, ReportBatchItemFailures, max concurrency 2",
    ):
        assert expected in first.splitlines()


def test_python_m_local_demo_prints_the_report(tmp_path, capsys):
    assembly_dir = fixture.write(tmp_path / "assembly")

    code = local_main(
        [
            "demo",
            "--cdk-out",
            str(assembly_dir),
            "--outbox",
            str(tmp_path / "out"),
            "--work-dir",
            str(tmp_path),
        ]
    )

    out = capsys.readouterr().out
    assert code == 0
    assert "Emails sent: 9" in out
    assert "every .eml parses without defects" in out
    assert Counter(p.suffix for p in (tmp_path / "out").iterdir()) == {".eml": 9, ".ics": 9}


def test_python_m_local_reports_a_broken_assembly_without_a_traceback(tmp_path, capsys):
    assert local_main(["demo", "--cdk-out", str(tmp_path)]) == 1
    assert "is not a cloud assembly" in capsys.readouterr().err
