"""Hypothesis: real replies, mutated the way old or careless clients and attackers write them
(dates at the edges of the calendar, folder-like TZIDs, missing properties, duplicated
components), run end to end through record reply. No input ever ends ``failed`` (retried until
the DLQ alarm fires), and a mutation that leaves the answer readable never loses it."""

from __future__ import annotations

import re
from email.message import EmailMessage

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambdas.domain.inbound.itip import read_email
from local.samples import RSVP, invite_body
from tests.integration.test_record_reply import FIXTURE_GUESTS, invite, outcomes
from tests.integration.test_reply_corpus import CORPUS
from tests.support.inbox import Inbox
from tests.unit.inbound.expectations import EXPECTED
from tests.unit.inbound.expectations import UID as FIXTURE_UID
from tests.unit.inbound.ses import FIXTURES
from tests.unit.inbound.test_fixtures import stdlib_calendar_texts

# The fixtures whose calendar carries an answer, with what it is; and the replies other projects
# wrote (tests/fixtures/replies/SOURCES.md), their event invited too.
REAL = {
    name: (stdlib_calendar_texts((FIXTURES / name).read_bytes())[0], expected)
    for name, expected in sorted(EXPECTED.items())
    if expected["answers"] and name != "forged-reply.eml"
}
REAL |= {
    path: (
        (FIXTURES / path).read_text()
        if path.endswith(".ics")
        else stdlib_calendar_texts((FIXTURES / path).read_bytes())[0],
        {
            "from_address": case.attendee,
            "answers": [{"uid": case.event["uid"], "attendee": case.attendee, "partstat": case.partstat}],
        },
    )
    for path, case in sorted(CORPUS.items())
}
EDGE_DATES = [
    "00010101T000000",
    "00010101T000000Z",
    "99991231T235959",
    "99991231T235959Z",
    "00010101",
    "99991231",
    "20261301T250000",
]
FOLDER_TZIDS = ["Pacific", "America", "US", "Etc", "Europe", "/Pacific", "Etc/", "Pacific/", "Foo/Bar"]
DATE_PROPERTIES = ["DTSTART", "DTEND", "DTSTAMP", "RECURRENCE-ID"]
# Mutations after which the answer is still readable: it must still be there.
HARMLESS = {"tzid", "drop DTSTAMP", "drop ORGANIZER", "drop SEQUENCE", "drop DTSTART", "duplicate VEVENT"}


def _set_date(text: str, name: str, value: str, tzid: str | None) -> str:
    params = f";TZID={tzid}" if tzid else (";VALUE=DATE" if len(value) == 8 else "")
    line = f"{name}{params}:{value}"
    pattern = re.compile(rf"^{name}[;:].*$", re.MULTILINE)
    if pattern.search(text):
        return pattern.sub(lambda _: line, text, count=1)
    return text.replace("END:VEVENT", f"{line}\nEND:VEVENT", 1)


@st.composite
def mutations(draw):
    kind = draw(st.sampled_from(["edge date", "tzid", "drop", "duplicate VEVENT", "huge duration"]))
    if kind == "edge date":
        name, value = draw(st.sampled_from(DATE_PROPERTIES)), draw(st.sampled_from(EDGE_DATES))
        tzid = draw(st.sampled_from([None, "Asia/Tokyo", "America/Los_Angeles", *FOLDER_TZIDS]))
        return f"edge {name}", lambda t: _set_date(t, name, value, tzid if not value.endswith("Z") else None)
    if kind == "tzid":
        name, tzid = (
            draw(st.sampled_from(DATE_PROPERTIES)),
            draw(st.sampled_from(FOLDER_TZIDS)),
        )
        return "tzid", lambda t: _set_date(t, name, "20261201T100000", tzid)
    if kind == "drop":
        name = draw(st.sampled_from(["DTSTAMP", "SEQUENCE", "ORGANIZER", "DTSTART", "UID", "ATTENDEE"]))
        drop = re.compile(rf"^{name}[;:].*\n?", re.MULTILINE)
        return f"drop {name}", lambda t: drop.sub("", t)
    if kind == "duplicate VEVENT":
        event = re.compile(r"BEGIN:VEVENT\n.*?END:VEVENT\n", re.DOTALL)
        return kind, lambda t: event.sub(lambda m: m.group(0) * 2, t, count=1)
    days = draw(st.sampled_from(["P9999D", "P3650000D", "-P3650000D"]))
    return kind, lambda t: _set_date(t, "DTSTART", "99990101T000000Z", None).replace(
        "END:VEVENT", f"DURATION:{days}\nEND:VEVENT", 1
    )


def _mail(sender: str, calendar: str) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, RSVP, "Re: Project kickoff"
    message.set_content("answered")
    message.add_alternative(calendar, subtype="calendar", params={"method": "REPLY"})
    return message.as_bytes()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(name=st.sampled_from(sorted(REAL)), mutation=mutations())
def test_no_mutated_real_reply_ends_failed_and_no_readable_answer_is_lost(account, caplog, name, mutation):
    inbox = Inbox.__new__(Inbox)
    inbox.account, inbox.s3 = account, _bucket(account)
    if account.event_item(FIXTURE_UID) is None:
        invite(account, attendees=FIXTURE_GUESTS, uid=FIXTURE_UID)
        invite(account, attendees=("dan@example.net",), uid=FIXTURE_UID, sequence=1)
        for case in {id(c.event): c for c in CORPUS.values()}.values():
            account.invoke("invite", invite_body(attendee=list(case.attendees), **case.event))
        account.drain("invite")
    label, mutate = mutation
    text, expected = REAL[name]
    # Unfolded, so that dropping a property drops all of it: a folded property's continuation line
    # left behind would join the line above (a dropped ORGANIZER's tail would lengthen the UID).
    calendar = mutate(text.replace("\r\n", "\n").replace("\n ", "").replace("\n\t", ""))
    raw = _mail(expected["from_address"], calendar)

    if label in HARMLESS:
        read = {(a.uid, a.attendee, a.partstat) for a in read_email(raw).answers}
        for answer in expected["answers"]:
            assert (answer["uid"], answer["attendee"], answer["partstat"]) in read, calendar

    assert inbox.deliver(raw, sender=expected["from_address"]) == {"batchItemFailures": []}
    line = outcomes(caplog)[-1]
    every = [line["outcome"]] + [a["outcome"] for a in line.get("answers", [])]
    assert "failed" not in every and "invalid" not in every, (label, line)
    if label in HARMLESS:
        assert line["outcome"] != "malformed_calendar", (label, line)


_BUCKETS: dict[int, object] = {}


def _bucket(account):
    """One inbound bucket per account, made on first use (hypothesis reuses the account)."""
    if id(account) not in _BUCKETS:
        _BUCKETS.clear()
        _BUCKETS[id(account)] = Inbox(account).s3
    return _BUCKETS[id(account)]
