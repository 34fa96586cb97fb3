"""Replies written by other projects (tests/fixtures/replies/SOURCES.md), end to end through the
local SES receiving: the event each answers is invited first, then the reply arrives as mail, and
the table must hold the answer the reply gives."""

from __future__ import annotations

from dataclasses import dataclass, field
from email.message import EmailMessage

import pytest

from local.samples import RSVP, invite_body
from tests.integration.test_occurrence_replies import tally
from tests.integration.test_record_reply import counts, last_outcome
from tests.support.inbox import Inbox
from tests.unit.inbound.ses import FIXTURES

SABRE_EVENT = {"uid": "foobar", "sequence": 2}
SABRE_DAILY = {
    **SABRE_EVENT,
    "start": "2014-07-24T00:00:00",
    "end": "2014-07-24T01:00:00",
    "timezone": "America/Toronto",
    "rrule": "FREQ=DAILY;COUNT=10",
}
LIBICAL_EVENT = {"uid": "calsrv.example.com-873970198738785@example.com", "sequence": 1}


@dataclass(frozen=True)
class Case:
    event: dict  # what the organizer invited (the invite contract's event fields)
    attendees: tuple[str, ...]
    attendee: str  # whose answer it is (and who mails a bare calendar)
    partstat: str
    occurrence: str | None = None  # the answer is for this occurrence only
    counted: dict[str, int] = field(default_factory=dict)  # the event's counts after it


CORPUS = {
    "sabre-vobject/reply-accept.ics": Case(
        SABRE_EVENT, ("foo@example.org",), "foo@example.org", "ACCEPTED", counted={"replies_accepted": 1}
    ),
    "sabre-vobject/reply-with-tz.ics": Case(
        SABRE_EVENT, ("foo@example.org",), "foo@example.org", "ACCEPTED", counted={"replies_accepted": 1}
    ),
    "sabre-vobject/reply-instance-recurrence-id-in-utc.ics": Case(
        SABRE_DAILY, ("foo@example.org",), "foo@example.org", "ACCEPTED", "2014-07-25T04:00:00+00:00"
    ),
    "sabre-vobject/reply-instance-recurrence-id-in-different-tz.ics": Case(
        SABRE_DAILY, ("foo@example.org",), "foo@example.org", "ACCEPTED", "2014-07-25T04:00:00+00:00"
    ),
    "apple-calendarserver/good_reply.eml": Case(
        {
            "uid": "1E71F9C8-AEDA-48EB-98D0-76E898F6BB5C",
            "sequence": 7,
            "start": "2008-08-12T10:00:00",
            "end": "2008-08-12T11:00:00",
            "timezone": "America/Los_Angeles",
        },
        ("xyzzy@example.com",),
        "xyzzy@example.com",
        "ACCEPTED",
        counted={"replies_accepted": 1},
    ),
    "libical/I5-reply-accept.ics": Case(
        LIBICAL_EVENT,
        ("b@example.com", "c@example.com"),
        "b@example.com",
        "ACCEPTED",
        counted={"replies_accepted": 1},
    ),
    "libical/I6-reply-delegate.ics": Case(
        LIBICAL_EVENT, ("b@example.com", "c@example.com"), "b@example.com", "DELEGATED"
    ),
    "libical/I8-reply-decline.ics": Case(
        LIBICAL_EVENT,
        ("b@example.com", "c@example.com"),
        "c@example.com",
        "DECLINED",
        counted={"replies_declined": 1},
    ),
}


def mailed(path: str, case: Case) -> bytes:
    raw = (FIXTURES / path).read_bytes()
    if path.endswith(".eml"):
        return raw
    message = EmailMessage()  # a bare calendar, mailed by its attendee's client
    message["From"], message["To"], message["Subject"] = case.attendee, RSVP, "Reply"
    message.set_content("answered")
    message.add_alternative(raw.decode("utf-8"), subtype="calendar", params={"method": "REPLY"})
    return message.as_bytes()


def test_every_corpus_file_is_run():
    found = sorted(str(p.relative_to(FIXTURES)) for p in FIXTURES.glob("*/*") if p.suffix in (".ics", ".eml"))
    assert found == sorted(CORPUS)


@pytest.mark.parametrize("path", sorted(CORPUS))
def test_each_real_reply_is_recorded_as_its_project_wrote_it(account, caplog, path):
    case = CORPUS[path]
    account.invoke("invite", invite_body(attendee=list(case.attendees), **case.event))
    account.drain("invite")
    inbox = Inbox(account)

    assert inbox.deliver(mailed(path, case), sender=case.attendee) == {"batchItemFailures": []}

    line = last_outcome(caplog)
    assert line["outcome"] == "recorded", line
    item = account.attendee_item(case.event["uid"], case.attendee)
    if case.occurrence is None:
        assert item.partstat == case.partstat
    else:
        assert item.occurrence_replies[case.occurrence].partstat == case.partstat
        assert item.partstat == "NEEDS-ACTION"  # the series answer is left alone
        assert tally(account, case.occurrence, uid=case.event["uid"]) == {"replies_accepted": 1}
    assert counts(account, case.event["uid"]) == case.counted
