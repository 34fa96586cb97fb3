"""`make demo` on the real synthesized stacks: its exact outcome, and a second run that matches."""

from __future__ import annotations

import email
import json
from collections import Counter
from email import policy

import pytest
import recurring_ical_events

from lambdas.domain.vocabulary import (
    AttendeeStatus,
    BounceType,
    DeliveryState,
    EventStatus,
    Method,
    PartStat,
)
from lambdas.runtime.config import DEFAULT_SUBJECT_PREFIX, PLACEHOLDER_SENDER
from local import assembly as assemblies
from local import demo, demo_organizer
from local.__main__ import main as local_main
from local.outbox import Outbox
from tests.local import fixture
from tests.support.oracles import check_imip

SUBJECT = DEFAULT_SUBJECT_PREFIX + " Event {}: Project kickoff"
SERIES_SUBJECT = DEFAULT_SUBJECT_PREFIX + " Event {}: Weekly sync"
ATTENDEES = ["ana@example.org", "ben@example.org", "chloe@example.org"]
LATER = ["carla@example.org", "dan@example.net"]
EVERYONE = sorted(ATTENDEES + LATER)
# Delivery feedback after the answers: Chloé's address bounces for good, Dan complains.
BOUNCED, COMPLAINED, DELIVERED = "chloe@example.org", "dan@example.net", "ana@example.org"
STILL_SENT = [a for a in EVERYONE if a not in (BOUNCED, COMPLAINED)]
# The real app receives replies: two more attendees are invited, then the answers arrive; then
# SES's feedback, and the update and the cancellation are not sent to the suppressed addresses.
EXPECTED_EMAILS = (
    [(a, SUBJECT.format("Invite"), Method.REQUEST, 0) for a in ATTENDEES + LATER]
    + [(a, SUBJECT.format("Updated"), Method.REQUEST, 1) for a in STILL_SENT]
    + [(a, SUBJECT.format("Cancelled"), Method.CANCEL, 2) for a in STILL_SENT]
    + [(a, SERIES_SUBJECT.format("Invite"), Method.REQUEST, 0) for a in ATTENDEES]
    + [(a, SERIES_SUBJECT.format("Updated"), Method.REQUEST, 1) for a in ATTENDEES]
    + [(a, SERIES_SUBJECT.format("Cancelled"), Method.CANCEL, 1) for a in ATTENDEES]
    + [(a, SERIES_SUBJECT.format("Cancelled"), Method.CANCEL, 2) for a in ATTENDEES]
)
# Last, with the event address `make demo` synthesizes with: Marge's Outlook event and a Google
# Meet meeting, each answered (REPLY, confirmation); three attendees added by the event's id; Marge's
# move (the update, and her calendar answered again) and her cancellation.
MARGE, GOOGLE = "marge@example.org", "example@gmail.com"
FOLLOWED = ["eve@example.org", "finn@example.org", "gus@example.net"]
TESTAUS = DEFAULT_SUBJECT_PREFIX + " Event {}: Testaus"
ORGANIZER_EMAILS = (
    [(MARGE, DEFAULT_SUBJECT_PREFIX + " Accepted: Testaus", "REPLY", 0)]
    + [(MARGE, DEFAULT_SUBJECT_PREFIX + " Event held: Testaus", "", None)]
    + [(GOOGLE, DEFAULT_SUBJECT_PREFIX + " Accepted: Meeeeet me HTML", "REPLY", 0)]
    + [(GOOGLE, DEFAULT_SUBJECT_PREFIX + " Event held: Meeeeet me HTML", "", None)]
    + [(a, TESTAUS.format("Invite"), Method.REQUEST, 0) for a in FOLLOWED]
    + [(a, TESTAUS.format("Updated"), Method.REQUEST, 1) for a in FOLLOWED]
    + [(MARGE, DEFAULT_SUBJECT_PREFIX + " Accepted: Testaus", "REPLY", 1)]  # her SEQUENCE
    + [(a, TESTAUS.format("Cancelled"), Method.CANCEL, 2) for a in FOLLOWED]
)
EMAILS = len(EXPECTED_EMAILS) + len(ORGANIZER_EMAILS)
# The fixture app neither receives replies nor publishes feedback: three attendees get the
# invitation, the update and the cancellation, and the four emails of the series.
EMAILS_WITHOUT_REPLIES = (3 + 4) * len(ATTENDEES)
INVITE, CANCELLATION, REPLY = "InviteWorkerFunction", "CancellationWorkerFunction", "ReplyWorkerFunction"
ORGANIZER = "OrganizerWorkerFunction"
FEEDBACK = "FeedbackWorkerFunction"
# What the record reply function made of each email of local/demo_replies.py, in order.
EXPECTED_ANSWERS = [
    (["ana@example.org ACCEPTED -> recorded"], "recorded"),
    (["ben@example.org DECLINED -> recorded"], "recorded"),
    (["carla@example.org ACCEPTED -> recorded"], "recorded"),
    (["dan@example.net ACCEPTED -> recorded"], "recorded"),
    (["ana@example.org TENTATIVE -> recorded"], "recorded"),  # the change of mind
    # The forgery names Ben in Reply-To:: relayed, so kept apart as unverified, never counted.
    (["ben@example.org DECLINED -> unverified: relayed"], "unverified"),
    (
        ["ana@example.org -> not_calendar: no iTIP calendar: kept in the bucket, not forwarded"],
        "not_calendar",
    ),
]


# The forged notification (local/demo_replies.py): dead-lettered on its topic, the bucket unread.
FORGED_TOPIC = "arn:aws:sns:us-east-1:123456789012:not-the-inbound-topic"
FORGED_REASON = f"TopicArn: {FORGED_TOPIC!r} is not the inbound topic"


@pytest.fixture(scope="session")
def demo_assembly() -> assemblies.Assembly:
    """The app as `make demo` synthesizes it: cdk.json's context and an event address."""
    return assemblies.locate(assemblies.ROOT, prefer_cdk_out=False, context=demo_organizer.CONTEXT)


def test_the_demo_has_exactly_the_expected_outcome_and_a_second_run_the_same(
    demo_assembly, start_runtime, tmp_path, reads
):
    """One run checked in full, then a second run in the same work directory and outbox (two runs
    of the whole scenario are a tenth of the suite's time: the first is not repeated for it)."""
    runtime = start_runtime(demo_assembly, work_dir=tmp_path / "work")

    result = demo.run(runtime, Outbox(tmp_path / "outbox"))
    first_report = demo.report(result, runtime)

    # What each step made the functions do.
    assert [(dict(s.invocations), {f: dict(c) for f, c in s.outcomes.items()}) for s in result.steps] == [
        ({INVITE: 2}, {INVITE: {"fanned_out": 1, "sent": 3}}),
        ({INVITE: 2}, {INVITE: {"fanned_out": 1, "duplicate": 3}}),
        ({INVITE: 1}, {INVITE: {"invalid": 1}}),
        ({INVITE: 2}, {INVITE: {"fanned_out": 1, "sent": 2}}),
        *(({REPLY: 1}, {REPLY: {outcome: 1}}) for _, outcome in EXPECTED_ANSWERS),
        ({REPLY: 1}, {REPLY: {"invalid": 1}}),  # the forged notification
        *(({FEEDBACK: 1}, {FEEDBACK: {"feedback_recorded": 1}}) for _ in range(3)),
        ({INVITE: 2}, {INVITE: {"fanned_out": 1, "sent": 3, "suppressed": 2}}),
        ({CANCELLATION: 2}, {CANCELLATION: {"fanned_out": 1, "sent": 3, "suppressed": 2}}),
        ({INVITE: 2}, {INVITE: {"fanned_out": 1, "sent": 3}}),
        ({INVITE: 2}, {INVITE: {"fanned_out": 1, "sent": 3}}),
        ({REPLY: 1}, {REPLY: {"recorded": 1}}),  # Ben declines the moved occurrence only
        ({REPLY: 1}, {REPLY: {"unverified": 1}}),  # Chloé's answer, relayed by a Nextcloud
        ({CANCELLATION: 2}, {CANCELLATION: {"fanned_out": 1, "sent": 3}}),
        ({CANCELLATION: 2}, {CANCELLATION: {"fanned_out": 1, "sent": 3}}),
        # an event run from the organizer's calendar
        ({ORGANIZER: 1}, {ORGANIZER: {"event_created": 1}}),  # Outlook
        ({ORGANIZER: 1}, {ORGANIZER: {"event_created": 1}}),  # Google
        ({INVITE: 2}, {INVITE: {"fanned_out": 1, "sent": 3}}),  # by the event's id
        ({ORGANIZER: 1, INVITE: 2}, {ORGANIZER: {"event_updated": 1}, INVITE: {"fanned_out": 1, "sent": 3}}),
        (
            {ORGANIZER: 1, CANCELLATION: 2},
            {ORGANIZER: {"event_cancelled": 1}, CANCELLATION: {"fanned_out": 1, "sent": 3}},
        ),
    ]
    assert all(step.failed_records == 0 for step in result.steps)

    # The replies, as each client's email arrived through SES receiving, and the answers they left.
    assert [s.answers for s in result.steps[4:11]] == [answers for answers, _ in EXPECTED_ANSWERS]
    assert result.steps[11].answers == [f"the notification -> invalid: {FORGED_REASON}"]
    opened = [key for _, key in reads]
    replies_opened = [key for key in opened if key.startswith("inbound/")]
    assert len(replies_opened) == len(EXPECTED_ANSWERS) + 2  # and the series' two
    assert "inbound/forged" not in opened
    assert len([key for key in opened if key.startswith("organizer/")]) == 4  # the organizer's mails
    answers = {a.email: a.partstat for a in result.answers.attendees}
    assert answers == {
        "ana@example.org": PartStat.TENTATIVE,
        "ben@example.org": PartStat.DECLINED,
        "carla@example.org": PartStat.ACCEPTED,
        "chloe@example.org": PartStat.NEEDS_ACTION,
        "dan@example.net": PartStat.ACCEPTED,
    }
    counted = result.answers.event
    assert (counted.replies_accepted, counted.replies_declined, counted.replies_tentative) == (2, 1, 1)

    # Every email: to, subject, METHOD, SEQUENCE, and its files.
    sent = [(w.email.recipient, w.email.subject, w.email.method, w.email.sequence) for w in result.emails]
    assert sent == EXPECTED_EMAILS + ORGANIZER_EMAILS
    assert [w.eml.name for w in result.emails] == [
        f"{n:02d}-{to}-{(method or 'email').lower()}.eml"
        for n, (to, _, method, _) in enumerate(EXPECTED_EMAILS + ORGANIZER_EMAILS, 1)
    ]
    _check_organizer_emails(result.emails[len(EXPECTED_EMAILS) :], result.organizer_status)
    for written, (to, subject, method, sequence) in zip(
        result.emails[: len(EXPECTED_EMAILS)], EXPECTED_EMAILS, strict=True
    ):
        raw = written.eml.read_bytes()
        message = email.message_from_bytes(raw, policy=policy.default)
        assert message.defects == [] and all(part.defects == [] for part in message.walk())
        assert message["To"].addresses[0].addr_spec == to
        assert message["Subject"] == subject
        assert message["From"].addresses[0].addr_spec == PLACEHOLDER_SENDER
        vevent = check_imip(raw, method).walk("VEVENT")[0]
        uid = demo.UID if "kickoff" in subject else demo.SERIES_UID
        assert (str(vevent["UID"]), vevent["SEQUENCE"]) == (uid, sequence)
        ics = _calendar_part(message).get_content().encode()
        assert written.ics.read_bytes().replace(b"\r\n", b"\n") == ics.replace(b"\r\n", b"\n")
    assert result.defects == {}

    # The DLQs: the invalid request alone, unchanged, with its reasons.
    assert result.dead_letters["cancellation"] == []
    [forged] = result.dead_letters["reply"]
    assert (forged.reason, json.loads(forged.body)["MessageId"]) == (FORGED_REASON, "forged")
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
    assert (event.invites_sent, event.updates_sent, event.cancellations_sent) == (5, 3, 3)
    assert (event.delivered, event.bounced, event.complained) == (1, 1, 1)
    delivery = {
        a.email: (a.delivery.state if a.delivery else None, a.suppressed is not None)
        for a in result.status.attendees
    }
    assert delivery == {
        DELIVERED: (DeliveryState.DELIVERED, False),
        "ben@example.org": (None, False),
        "carla@example.org": (None, False),
        BOUNCED: (DeliveryState.BOUNCED, True),
        COMPLAINED: (DeliveryState.COMPLAINED, True),
    }
    assert result.status.attendees[3].delivery.bounce_type is BounceType.PERMANENT
    assert event.start.startswith("2026-12-02T14:00:00")
    replies = {
        "ana@example.org": [0, 0],
        "ben@example.org": [0],
        "carla@example.org": [0],
        "dan@example.net": [1],
    }
    assert [
        (a.email, a.status, a.sequence, a.partstat, [(h.method, h.sequence) for h in a.history])
        for a in result.status.attendees
    ] == [
        (
            a,
            AttendeeStatus.CANCELLED,
            2,
            PartStat.NEEDS_ACTION,  # the update reset every answer
            [
                (Method.REQUEST, 0),
                *((Method.REPLY, n) for n in replies.get(a, [])),
                (Method.REQUEST, 1),
                (Method.CANCEL, 2),
            ],
        )
        if a in STILL_SENT
        else (  # suppressed: neither the update nor the cancellation went out
            a,
            AttendeeStatus.INVITED,
            0,
            PartStat.ACCEPTED if a == COMPLAINED else PartStat.NEEDS_ACTION,
            [(Method.REQUEST, 0), *((Method.REPLY, n) for n in replies.get(a, []))],
        )
        for a in EVERYONE
    ]
    assert all(a.pending is None for a in result.status.attendees)

    # The series: one occurrence moved, one cancelled, then the whole series cancelled.
    series = result.series_status
    assert (series.event.status, series.event.rrule) == (
        EventStatus.CANCELLED,
        "FREQ=WEEKLY;COUNT=8;BYDAY=TU",
    )
    assert [(o.occurrence, o.cancelled) for o in series.overrides] == [
        ("2027-03-30T07:30:00+00:00", False),
        ("2027-04-13T07:30:00+00:00", True),
    ]
    assert [(a.email, a.status) for a in series.attendees] == [
        (a, AttendeeStatus.CANCELLED) for a in ATTENDEES
    ]
    # Ben's answer for the moved occurrence alone, counted for it; Chloé's relayed answer kept apart.
    [moved] = series.occurrence_answers
    assert (moved.occurrence, moved.replies_declined, moved.replies_sequence) == (
        "2027-03-30T07:30:00+00:00",
        1,
        1,
    )
    ben = next(a for a in series.attendees if a.email == "ben@example.org")
    assert ben.occurrence_replies["2027-03-30T07:30:00+00:00"].partstat == PartStat.DECLINED
    chloe = next(a for a in series.attendees if a.email == "chloe@example.org")
    assert (chloe.unverified.partstat, chloe.unverified.reason) == (PartStat.ACCEPTED, "relayed")
    assert chloe.unverified.relayed_by == "no-reply@cloud.example.net"
    first_series_email = next(w for w in result.emails if w.email.subject == SERIES_SUBJECT.format("Invite"))
    found = recurring_ical_events.of(check_imip(first_series_email.eml.read_bytes(), "REQUEST")).count()
    assert found == 8

    runtime.stop()
    _check_a_second_run_starts_clean_and_prints_the_same_report(
        demo_assembly, start_runtime, tmp_path, first_report
    )


def _check_organizer_emails(written, status) -> None:
    """The organizer's answers come from the event address; the attendees' copies carry the event's
    id (not the organizer's UID) and, as every invitation, the RSVP address as ORGANIZER."""
    uid = status.event.uid
    assert uid.startswith("cal-") and status.event.status == EventStatus.CANCELLED
    assert [(a.email, a.status) for a in status.attendees] == [
        (a, AttendeeStatus.CANCELLED) for a in FOLLOWED
    ]
    for w in written:
        message = email.message_from_bytes(w.eml.read_bytes(), policy=policy.default)
        assert message.defects == [] and all(part.defects == [] for part in message.walk())
        if w.email.recipient in (MARGE, GOOGLE):
            assert message["From"].addresses[0].addr_spec == demo_organizer.CONTEXT["eventEmail"]
            if w.email.recipient == MARGE and w.email.method != "REPLY":  # her confirmation names its id
                assert f"Its id: {uid}" in message.get_body(("plain",)).get_content()
            continue
        vevent = check_imip(w.eml.read_bytes(), w.email.method).walk("VEVENT")[0]
        assert str(vevent["UID"]) == uid
        assert str(vevent["ORGANIZER"]) == f"mailto:{PLACEHOLDER_SENDER}"  # the RSVP address: cdk.json's
        assert vevent["ORGANIZER"].params["CN"] == "Marge"


def _calendar_part(message):
    return next(p for p in message.walk() if p.get_content_type() == "text/calendar")


def _check_a_second_run_starts_clean_and_prints_the_same_report(
    demo_assembly, start_runtime, tmp_path, first: str
) -> None:
    outbox = tmp_path / "outbox"
    (outbox / "99-someone@example.org-request.eml").write_bytes(b"left over")

    second_runtime = start_runtime(demo_assembly, work_dir=tmp_path / "work")
    second = demo.report(demo.run(second_runtime, Outbox(outbox)), second_runtime)

    assert second == first
    assert len(list(outbox.glob("*.eml"))) == len(list(outbox.glob("*.ics"))) == EMAILS
    for expected in (
        "1. Invite three attendees with one fan-out request  -> invite queue",
        "   InviteWorkerFunction: 2 invocations; fanned_out 1, sent 3",
        "5. Ana accepts, from Gmail  -> SES receiving (gmail-accepted.eml)",
        "   ReplyWorkerFunction: 1 invocation; recorded 1",
        "   ben@example.org DECLINED -> unverified: relayed",
        "   ben@example.org DECLINED -> recorded",
        "   chloe@example.org ACCEPTED -> unverified: relayed",
        "  Answers per occurrence: 1",
        "  Unverified answers (not counted): 1",
        "    accepted   carla@example.org, dan@example.net",
        "    maybe      ana@example.org",
        "    no answer  chloe@example.org",
        "    counted on the event: 2 accepted, 1 declined, 1 tentative",
        "12. A forged notification on the reply queue: SES's shape, every verdict PASS, the inbound bucket,"
        " but not from the inbound topic  -> reply queue",
        "   ReplyWorkerFunction: 1 invocation; invalid 1",
        f"    1. reason: {FORGED_REASON}",
        "14. Chloé's address does not exist: a hard bounce  -> SES event publishing (Bounce Permanent)",
        "   FeedbackWorkerFunction: 1 invocation; feedback_recorded 1",
        "   InviteWorkerFunction: 2 invocations; fanned_out 1, sent 3, suppressed 2",
        "   emails #09-#11",
        f"  09  ana@example.org    CANCEL   2         {SUBJECT.format('Cancelled')}",
        "    1. reason: event.end: must be after start; attendee.email: is not a valid email address",
        "    Sent       5 invites, 3 updates, 3 cancellations",
        "    Answers    2 accepted, 1 declined, 1 tentative (to sequence 0)",
        "    Delivery   1 delivered, 1 bounced, 1 complained",
        "    chloe@example.org  Chloé Durand  invited    0         NEEDS-ACTION  bounced Permanent/General,"
        " suppressed  REQUEST 0",
        "  sending   configuration set CalendarInviteWorkers-sends: Bounce, Complaint, Delivery,"
        " DeliveryDelay, Reject, Rendering Failure events to DeliveryFeedbackTopic",
        "            fed by InviteWorkerQueue: batch 10, ReportBatchItemFailures, max concurrency 2",
        "  receiving invites@example.com: rule rsvp-to-reply-queue stores to InboundMailBucket inbound/,"
        " notifies InboundMailTopic",
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
    assert f"Emails sent: {EMAILS_WITHOUT_REPLIES}" in out
    assert "every .eml parses without defects" in out
    files = Counter(p.suffix for p in (tmp_path / "out").iterdir())
    assert files == {".eml": EMAILS_WITHOUT_REPLIES, ".ics": EMAILS_WITHOUT_REPLIES}


def test_python_m_local_reports_a_broken_assembly_without_a_traceback(tmp_path, capsys):
    assert local_main(["demo", "--cdk-out", str(tmp_path)]) == 1
    assert "is not a cloud assembly" in capsys.readouterr().err
