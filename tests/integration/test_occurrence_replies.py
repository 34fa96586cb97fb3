"""Answers per occurrence: an answer with RECURRENCE-ID is recorded for that occurrence
and that attendee, the series answer stays, and each occurrence's counts stay exact."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage

import pytest

from lambdas.adapters.expressions import from_item, to_attribute_values
from lambdas.domain.items import OccurrenceAnswersItem
from lambdas.domain.keys import occurrence_answers_key
from lambdas.record_reply.handler import lambda_handler as reply_handler
from local.driver import Driver
from local.samples import RSVP, record, reply_mail
from tests.integration.test_record_reply import (
    BOB,
    CAROL,
    UID,
    counts,
    invite,
    last_outcome,
    local_aws,
    outcomes,
    served,
)
from tests.support.inbox import Inbox
from tests.support.oracles import check_imip

WEEKLY = {"rrule": "FREQ=WEEKLY;COUNT=6", "start": "2026-12-01T15:00:00Z", "end": "2026-12-01T16:00:00Z"}
__all__ = ["local_aws", "served"]  # fixtures, used by name
DAN = "dan@example.org"
SECOND = "2026-12-08T15:00:00+00:00"
THIRD = "2026-12-15T15:00:00+00:00"


@pytest.fixture
def inbox(account) -> Inbox:
    return Inbox(account)


def tally(account: Driver, occurrence: str, uid: str = UID) -> dict[str, int]:
    stored = from_item(
        account.client("dynamodb")
        .get_item(
            TableName=account.table,
            Key=to_attribute_values(occurrence_answers_key(uid, occurrence)),
            ConsistentRead=True,
        )
        .get("Item")
    )
    if stored is None:
        return {}
    item = OccurrenceAnswersItem.read(stored, uid=uid, occurrence=occurrence)
    names = ("replies_accepted", "replies_declined", "replies_tentative")
    return {name: getattr(item, name) for name in names if getattr(item, name)}


def instance(attendee: str, partstat: str, recurrence_id: str = "20261208T150000Z", **kwargs) -> bytes:
    return reply_mail(attendee, partstat, event_lines=(f"RECURRENCE-ID:{recurrence_id}",), **kwargs)


def google_style(attendee: str, series: str, instances: dict[str, str]) -> bytes:
    """Google Calendar's shape: the series answer and the instance answers in one calendar."""

    def vevent(partstat: str, extra: str = "") -> list[str]:
        return [
            "BEGIN:VEVENT",
            f"UID:{UID}",
            "DTSTAMP:20261124T120000Z",
            "SEQUENCE:0",
            *([extra] if extra else []),
            f"ORGANIZER:mailto:{RSVP}",
            f"ATTENDEE;PARTSTAT={partstat}:mailto:{attendee}",
            "END:VEVENT",
        ]

    lines = [
        "BEGIN:VCALENDAR",
        "PRODID:-//Google Inc//Google Calendar 70.9054//EN",
        "VERSION:2.0",
        "METHOD:REPLY",
    ]
    lines += vevent(series)
    for recurrence_id, partstat in instances.items():
        lines += vevent(partstat, f"RECURRENCE-ID:{recurrence_id}")
    lines.append("END:VCALENDAR")
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = attendee, RSVP, "Accepted: Weekly"
    message.set_content("answered")
    message.add_alternative("\r\n".join(lines) + "\r\n", subtype="calendar", params={"method": "REPLY"})
    return message.as_bytes()


def test_an_answer_for_one_occurrence_is_recorded_for_it_and_the_series_answer_stays(account, inbox, caplog):
    invite(account, **WEEKLY)
    inbox.deliver(reply_mail(BOB, "ACCEPTED"))
    inbox.deliver(instance(BOB, "DECLINED", dtstamp="20261124T130000Z"))

    line = last_outcome(caplog)
    assert (line["outcome"], line["occurrence"], line["recurrenceId"]) == ("recorded", SECOND, SECOND)
    item = account.attendee_item(UID, BOB)
    assert item.partstat == "ACCEPTED"
    assert item.occurrence_replies[SECOND].partstat == "DECLINED"
    assert counts(account) == {"replies_accepted": 1}
    assert tally(account, SECOND) == {"replies_declined": 1}


def test_one_message_with_the_series_and_instance_answers_records_all(account, inbox, caplog):
    invite(account, **WEEKLY)
    inbox.deliver(
        google_style(BOB, "ACCEPTED", {"20261208T150000Z": "DECLINED", "20261215T150000Z": "TENTATIVE"})
    )

    line = last_outcome(caplog)
    assert [a["outcome"] for a in line["answers"]] == ["recorded"] * 3
    item = account.attendee_item(UID, BOB)
    assert item.partstat == "ACCEPTED"
    assert {o: r.partstat for o, r in item.occurrence_replies.items()} == {
        SECOND: "DECLINED",
        THIRD: "TENTATIVE",
    }
    assert counts(account) == {"replies_accepted": 1}
    assert tally(account, SECOND) == {"replies_declined": 1}
    assert tally(account, THIRD) == {"replies_tentative": 1}


def test_occurrence_counts_are_exact_under_redelivery_and_changes_of_mind(account, inbox, caplog):
    invite(account, **WEEKLY)
    first = inbox.store(instance(BOB, "DECLINED", dtstamp="20261124T120000Z"))
    account.invoke("reply", first)
    account.invoke("reply", first)  # redelivered
    assert last_outcome(caplog)["outcome"] == "duplicate"
    inbox.deliver(instance(CAROL, "DECLINED"))
    inbox.deliver(instance(BOB, "ACCEPTED", dtstamp="20261124T140000Z"))  # Bob changes his mind
    inbox.deliver(instance(BOB, "TENTATIVE", dtstamp="20261124T130000Z"))  # an older one, late

    assert last_outcome(caplog)["outcome"] == "stale"
    assert tally(account, SECOND) == {"replies_declined": 1, "replies_accepted": 1}


def test_a_recurrence_id_in_another_zone_or_floating_names_the_same_occurrence(account, inbox):
    invite(account, **WEEKLY, timezone="Europe/Paris")
    # 16:00 in Paris is 15:00 UTC; a floating time (its TZID did not resolve) is the series' zone.
    inbox.deliver(instance(BOB, "DECLINED", "20261208T160000", dtstamp="20261124T120000Z"))
    inbox.deliver(reply_mail(CAROL, "DECLINED", event_lines=("RECURRENCE-ID;TZID=Pacific:20261208T160000",)))

    assert tally(account, SECOND) == {"replies_declined": 2}


@pytest.mark.parametrize(
    ("recurrence_id", "reason"),
    [("20261209T150000Z", "not an occurrence"), ("20270601T150000Z", "not an occurrence")],
)
def test_a_recurrence_id_that_is_no_occurrence_is_stale(account, inbox, caplog, recurrence_id, reason):
    invite(account, **WEEKLY)
    inbox.deliver(instance(BOB, "DECLINED", recurrence_id))

    line = last_outcome(caplog)
    assert line["outcome"] == "stale" and reason in line["reason"]
    assert account.attendee_item(UID, BOB).occurrence_replies == {}


def test_an_answer_for_one_occurrence_of_a_single_event_is_unsupported(account, inbox, caplog):
    invite(account)
    inbox.deliver(instance(BOB, "DECLINED"))

    assert last_outcome(caplog)["outcome"] == "unsupported"
    assert outcomes(caplog)[-1]["recurrenceId"] == SECOND


def test_a_refresh_for_one_occurrence_sends_that_occurrence_again(account, inbox, caplog):
    invite(account, **WEEKLY)
    inbox.deliver(instance(BOB, "DECLINED"))
    sent_before = len(account.sent())
    inbox.deliver(instance(BOB, None, method="REFRESH"))

    assert last_outcome(caplog)["outcome"] == "refreshed"
    [resent] = account.sent()[sent_before:]
    [vevent] = check_imip(resent.raw, "REQUEST").walk("VEVENT")
    assert vevent.decoded("RECURRENCE-ID").isoformat() == SECOND
    assert vevent.decoded("DTSTART").isoformat() == SECOND
    assert "RRULE" not in vevent
    assert vevent["ATTENDEE"].params["PARTSTAT"] == "DECLINED"  # the answer for that occurrence


def test_concurrent_copies_and_changes_of_mind_keep_each_occurrences_counts_exact(served):
    account, inbox = served
    invite(account, attendees=(BOB, CAROL, DAN), **WEEKLY)
    answers = ["ACCEPTED", "DECLINED", "TENTATIVE"] * 3
    bob = [
        inbox.store(instance(BOB, partstat, dtstamp=f"20261124T12{minute:02d}00Z"))
        for minute, partstat in enumerate(answers)
    ]
    carol = [inbox.store(instance(CAROL, "DECLINED"))] * 6
    dan = [inbox.store(instance(DAN, "ACCEPTED", "20261215T150000Z"))] * 6  # another occurrence
    bodies = bob + carol + dan

    with account.environment_of("reply"), ThreadPoolExecutor(max_workers=12) as pool:
        responses = list(pool.map(lambda body: reply_handler({"Records": [record(body)]}, None), bodies))
    failed = [body for body, r in zip(bodies, responses, strict=True) if r["batchItemFailures"]]
    with account.environment_of("reply"):  # what SQS redelivers
        for body in failed:
            assert reply_handler({"Records": [record(body)]}, None) == {"batchItemFailures": []}

    assert account.attendee_item(UID, BOB).occurrence_replies[SECOND].partstat == answers[-1]
    assert tally(account, SECOND) == {"replies_tentative": 1, "replies_declined": 1}
    assert tally(account, THIRD) == {"replies_accepted": 1}
    assert counts(account) == {}  # no series answer at all


def test_removing_an_attendee_takes_their_occurrence_answers_out_of_those_counts(account, inbox):
    invite(account, attendees=(BOB, CAROL), **WEEKLY)
    inbox.deliver(instance(BOB, "DECLINED"))
    inbox.deliver(instance(CAROL, "DECLINED"))
    inbox.deliver(instance(BOB, "ACCEPTED", "20261215T150000Z"))
    assert tally(account, SECOND) == {"replies_declined": 2}

    # Carol leaves the second occurrence only: her answer to it no longer counts.
    account.invoke("cancel", {"event": {"uid": UID, "occurrence": SECOND}, "attendee": {"email": CAROL}})
    assert tally(account, SECOND) == {"replies_declined": 1}
    # Bob is removed from the event: none of his answers counts any more.
    account.invoke("cancel", {"event": {"uid": UID}, "attendee": {"email": BOB}, "scope": "attendee"})
    assert tally(account, SECOND) == {}
    assert tally(account, THIRD) == {}
    assert account.attendee_item(UID, BOB).occurrence_replies[SECOND].partstat == "DECLINED"  # kept
