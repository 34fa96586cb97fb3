"""A recurring series through both sending functions on a mocked account: invite, move one occurrence,
cancel another, update the series, cancel it; every email read back by the oracles, and the
occurrences it describes expanded by recurring-ical-events and ical.js."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import recurring_ical_events

from lambdas.domain.vocabulary import AttendeeStatus, EventStatus
from local.samples import invite_body
from tests.support.icaljs import series_starts
from tests.support.oracles import check_imip

UID = "weekly-sync@example.com"
GUESTS = ["ana@example.org", "ben@example.org"]
PARIS = ZoneInfo("Europe/Paris")
RULE = "FREQ=WEEKLY;BYDAY=TU;COUNT=8"
FIRST = datetime(2037, 10, 6, 9, 0, tzinfo=PARIS)  # across the change to winter time and 2038
WEEKLY = [FIRST + timedelta(weeks=i) for i in range(8)]


def series_body(sequence=0, summary="Weekly sync", rrule=RULE, **changes):
    return invite_body(
        uid=UID,
        attendee=list(GUESTS),
        sequence=sequence,
        summary=summary,
        start="2037-10-06T09:00:00",
        end="2037-10-06T10:00:00",
        timezone="Europe/Paris",
        rrule=rrule,
        **changes,
    )


def occurrence_body(occurrence, start, sequence):
    body = invite_body(
        uid=UID,
        attendee=list(GUESTS),
        sequence=sequence,
        summary="Weekly sync (moved)",
        start=start,
        end=(datetime.fromisoformat(start) + timedelta(hours=1)).isoformat(),
        timezone="Europe/Paris",
        occurrence=occurrence,
    )
    return body


def emails(account, since=0):
    return account.sent()[since:]


def starts_of(raw: bytes, method: str) -> list[datetime]:
    calendar = check_imip(raw, method)
    window = (datetime(2020, 1, 1, tzinfo=UTC), datetime(2060, 1, 1, tzinfo=UTC))
    found = recurring_ical_events.of(calendar).between(*window)
    return sorted(e.decoded("DTSTART") for e in found)


def invite_series(account):
    account.invoke("invite", series_body())
    account.drain("invite")


def test_a_series_is_sent_once_per_attendee_and_expands_to_its_occurrences(account):
    invite_series(account)
    sent = emails(account)
    assert sorted(s.recipient for s in sent) == GUESTS
    for email in sent:
        calendar = check_imip(email.raw, "REQUEST")
        [vevent] = calendar.walk("VEVENT")
        assert vevent["RRULE"].to_ical() == b"FREQ=WEEKLY;COUNT=8;BYDAY=TU"
        assert [str(t["TZID"]) for t in calendar.walk("VTIMEZONE")] == ["Europe/Paris"]
        assert starts_of(email.raw, "REQUEST") == WEEKLY  # 09:00 Paris, summer and winter time
        assert "Repeats: FREQ=WEEKLY;COUNT=8;BYDAY=TU" in email.message.get_body(("plain",)).get_content()
    [ical_js] = series_starts([sent[0].calendar_text().encode()], 20)
    assert ical_js == [int(s.timestamp()) for s in WEEKLY]
    assert account.event_item(UID).rrule == "FREQ=WEEKLY;COUNT=8;BYDAY=TU"


def test_moving_one_occurrence_sends_that_occurrence_once_and_keeps_the_series(account):
    invite_series(account)
    before = len(account.sent())
    body = occurrence_body("2037-10-20T09:00:00", "2037-10-22T14:00:00", sequence=1)
    account.invoke("invite", body)
    account.drain("invite")
    account.invoke("invite", body)  # the producer's retry
    account.drain("invite")

    sent = emails(account, before)
    assert sorted(s.recipient for s in sent) == GUESTS  # once each
    for email in sent:
        [vevent] = check_imip(email.raw, "REQUEST").walk("VEVENT")
        assert "RRULE" not in vevent
        assert vevent.decoded("RECURRENCE-ID") == WEEKLY[2]
        assert vevent.decoded("DTSTART") == datetime(2037, 10, 22, 14, tzinfo=PARIS)
        assert vevent["SEQUENCE"] == 1
    event = account.event_item(UID)
    assert (event.start, event.summary, event.sequence) == ("2037-10-06T09:00:00+02:00", "Weekly sync", 0)
    [override] = account.store.overrides(UID)
    assert (override.sequence, override.cancelled, override.summary) == (1, False, "Weekly sync (moved)")


def test_cancelling_one_occurrence_for_everyone_then_updating_the_series(account):
    invite_series(account)
    account.invoke("invite", occurrence_body("2037-10-20T09:00:00", "2037-10-22T14:00:00", sequence=1))
    account.drain("invite")
    before = len(account.sent())
    cancel = {"event": {"uid": UID, "occurrence": "2037-11-03T09:00:00"}}
    account.invoke("cancel", cancel)
    account.drain("cancel")
    account.invoke("cancel", cancel)  # again: nothing more is sent
    account.drain("cancel")

    cancelled = emails(account, before)
    assert sorted(s.recipient for s in cancelled) == GUESTS
    for email in cancelled:
        [vevent] = check_imip(email.raw, "CANCEL").walk("VEVENT")
        assert vevent.decoded("RECURRENCE-ID") == WEEKLY[4] == vevent.decoded("DTSTART")
        assert str(vevent["STATUS"]) == "CANCELLED"
        assert "RRULE" not in vevent
        assert "This occurrence has been cancelled" in email.message.get_body(("plain",)).get_content()
    for guest in GUESTS:
        assert account.attendee_item(UID, guest).status is AttendeeStatus.INVITED  # the rest goes on

    before = len(account.sent())
    account.invoke("invite", series_body(sequence=2, summary="Weekly sync v2"))
    account.drain("invite")
    updates = emails(account, before)
    assert sorted(s.recipient for s in updates) == GUESTS
    expected = [s for s in WEEKLY if s != WEEKLY[4]]
    expected[2] = datetime(2037, 10, 22, 14, tzinfo=PARIS)
    for email in updates:
        master, override = check_imip(email.raw, "REQUEST").walk("VEVENT")
        assert master.decoded("EXDATE").dts[0].dt == WEEKLY[4]
        assert override.decoded("RECURRENCE-ID") == WEEKLY[2]
        assert starts_of(email.raw, "REQUEST") == sorted(expected)
    [ical_js] = series_starts([updates[0].calendar_text().encode()], 20)
    assert ical_js == [int(s.timestamp()) for s in expected]

    # An occurrence change older than that series update is stale.
    before = len(account.sent())
    account.invoke("invite", occurrence_body("2037-10-27T09:00:00", "2037-10-27T11:00:00", sequence=1))
    account.drain("invite")
    assert emails(account, before) == []


def test_one_attendee_leaves_one_occurrence_and_the_series_is_cancelled_last(account):
    invite_series(account)
    before = len(account.sent())
    account.invoke(
        "cancel",
        {"event": {"uid": UID, "occurrence": "2037-10-13T09:00:00"}, "attendee": {"email": GUESTS[0]}},
    )
    [left] = emails(account, before)
    assert left.recipient == GUESTS[0]
    [vevent] = check_imip(left.raw, "CANCEL").walk("VEVENT")
    assert vevent.decoded("RECURRENCE-ID") == WEEKLY[1]
    assert "STATUS" not in vevent

    before = len(account.sent())
    account.invoke("cancel", {"event": {"uid": UID}})
    account.drain("cancel")
    final = emails(account, before)
    assert sorted(s.recipient for s in final) == GUESTS
    for email in final:
        [master] = check_imip(email.raw, "CANCEL").walk("VEVENT")
        assert "RECURRENCE-ID" not in master
        assert str(master["STATUS"]) == "CANCELLED"
    assert account.event_item(UID).status is EventStatus.CANCELLED


def test_invalid_series_requests_go_to_the_dlq_with_the_field_named(account):
    account.invoke("invite", series_body(rrule="FREQ=HOURLY"))
    account.invoke("invite", occurrence_body("2037-10-20T09:00:00", "2037-10-22T14:00:00", sequence=1))
    account.drain("invite")
    reasons = sorted(
        json.loads(m["MessageAttributes"]["errors"]["StringValue"])[0]["field"]
        for m in account.dead_letters("invite")
    )
    assert reasons == ["event.occurrence", "event.occurrence", "event.rrule"]
    assert account.sent() == []


def test_uid_only_cancellation_of_an_occurrence_needs_a_series(account):
    account.invoke("invite", invite_body(uid=UID))
    account.invoke("cancel", {"event": {"uid": UID, "occurrence": "2026-12-01T15:00:00Z"}})
    [dead] = account.dead_letters("cancel")
    assert "event.occurrence: the event is not a series" in dead["MessageAttributes"]["reason"]["StringValue"]


def test_a_weekly_series_at_one_instant_written_in_utc_stays_weekly_in_utc(account):
    account.invoke("invite", invite_body(uid=UID, rrule="FREQ=DAILY;COUNT=3"))
    [email] = account.sent()
    assert starts_of(email.raw, "REQUEST") == [datetime(2026, 12, 1 + i, 15, tzinfo=UTC) for i in range(3)]


def test_a_refresh_sends_the_series_as_it_stands_with_its_changed_and_cancelled_occurrences(account):
    from local.samples import reply_mail
    from tests.support.inbox import Inbox

    invite_series(account)
    account.invoke("invite", occurrence_body("2037-10-20T09:00:00", "2037-10-22T14:00:00", sequence=1))
    account.drain("invite")
    account.invoke("cancel", {"event": {"uid": UID, "occurrence": "2037-11-03T09:00:00"}})
    account.drain("cancel")
    before = len(account.sent())

    refresh = reply_mail("ana@example.org", None, uid=UID, method="REFRESH", sequence=0)
    assert Inbox(account).deliver(refresh) == {"batchItemFailures": []}

    [resent] = emails(account, before)
    assert resent.recipient == "ana@example.org"
    master, override = check_imip(resent.raw, "REQUEST").walk("VEVENT")
    assert master.decoded("EXDATE").dts[0].dt == WEEKLY[4]
    assert override.decoded("RECURRENCE-ID") == WEEKLY[2]
    expected = [s for s in WEEKLY if s != WEEKLY[4]]
    expected[2] = datetime(2037, 10, 22, 14, tzinfo=PARIS)
    assert starts_of(resent.raw, "REQUEST") == sorted(expected)
