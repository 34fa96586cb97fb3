"""Outlook's, Thunderbird's and Apple's organizer mails (tests/fixtures/organizer/SOURCES.md), end
to end through the local SES receiving: what each creates, moves, cancels or is refused, and what is
sent."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tests.integration.organizer_mail import (
    EventAddress,
    calendar_of,
    fixture,
    invite_by_stored_event,
    outcomes,
    sent_from,
)
from tests.unit.organizer.fixtures import OWA_SERIES

ATTENDEES = ["ann@example.net", "ben@example.net"]
THUNDERBIRD = "markus.brechtel@thengo.net"  # the organizer of calmailproc's test-05-1.eml
ICLOUD = "user01@example.com"  # the organizer iCloud names with EMAIL= (and mails From:)
# iCloud's routing address: the ORGANIZER's mailto: value and the Reply-To:, never the organizer.
ICLOUD_TOKEN = "2_KRXDIZCD4LFJYFCEZCGF4PBK6RPAATMRPTYKSQW4H2VQDJGWKMICXB@imip.me.com"
ICLOUD_REQUEST = "derived/icloud-request.eml"
ICLOUD_CANCEL = "derived/icloud-cancel.eml"
# Exchange's own mails (calmailproc): OWA creating and moving one event, Exchange Online creating
# and cancelling another.
OWA = "markus.brechtel@uk-koeln.de"
OWA_CREATE, OWA_MOVE = "calmailproc/test-07-1.eml", "calmailproc/test-07-5.eml"
OWA_CANCELLED_CREATE, OWA_CANCEL = "calmailproc/7c68e39/test-11-2.eml", "calmailproc/7c68e39/test-11-1.eml"
EXCHANGE_ONLINE = "sender@example.org"
EXCHANGE_ONLINE_CREATE, EXCHANGE_ONLINE_CANCEL = "calmailproc/test-11-2.eml", "calmailproc/test-11-1.eml"


@pytest.fixture
def events(account) -> EventAddress:
    return EventAddress(account)


def stored_events(account) -> list[dict]:
    items = account.dynamodb.scan(TableName=account.table)["Items"]
    return [i for i in items if i["sk"]["S"].startswith("event#")]


def only_uid(account) -> str:
    (item,) = stored_events(account)
    return item["pk"]["S"].removeprefix("event#")


def cancels_since(account, before: int, uid: str) -> list:
    """The cancellations sent once the cancel queue is drained, after the first ``before`` emails:
    one to each attendee, of ``uid``."""
    account.drain("cancel")
    cancels = account.sent()[before:]
    assert sorted(e.recipient for e in cancels) == ATTENDEES
    assert {(e.method, e.uid) for e in cancels} == {("CANCEL", uid)}
    return cancels


def test_thunderbird_creates_the_event_and_its_cancel_reaches_every_attendee(account, events, caplog):
    account.overrides["ALLOWED_ORGANIZERS"] = "thengo.net"
    assert events.mail(fixture("calmailproc/test-05-1.eml")) == {"batchItemFailures": []}

    assert outcomes(caplog)[-1]["outcome"] == "event_created"
    uid = only_uid(account)
    stored = account.event_item(uid)
    assert (stored.summary, stored.timezone, stored.sequence) == ("Test 5", "Europe/Berlin", 0)
    reply, note = account.sent()
    assert {reply.recipient, note.recipient} == {THUNDERBIRD}
    assert reply.method == "REPLY"
    invite_by_stored_event(account, uid, ATTENDEES)
    before = len(account.sent())

    # Thunderbird's CANCEL carries the REQUEST's SEQUENCE and DTSTAMP: it still cancels.
    assert events.mail(fixture("derived/thunderbird-cancel.eml")) == {"batchItemFailures": []}
    assert outcomes(caplog)[-1]["outcome"] == "event_cancelled"

    cancels = cancels_since(account, before, uid)
    assert all(e.sequence >= 1 for e in cancels)  # above the invitations' 0
    assert account.event_item(uid).is_cancelled


def test_an_outlook_event_moved_in_owa_reaches_every_attendee_once(account, events, caplog):
    account.overrides["ALLOWED_ORGANIZERS"] = "uk-koeln.de"
    assert events.mail(fixture(OWA_CREATE)) == {"batchItemFailures": []}

    assert outcomes(caplog)[-1]["outcome"] == "event_created"
    uid = only_uid(account)
    stored = account.event_item(uid)
    # OWA's zone, named "(UTC+01:00) Amsterdam, Berlin, …", is kept as Berlin's
    assert (stored.summary, stored.sequence, stored.timezone) == ("Test 7", 0, "Europe/Berlin")
    assert stored.organizer.email == OWA
    assert {e.recipient for e in account.sent()} == {OWA}
    invite_by_stored_event(account, uid, ATTENDEES)
    before = len(account.sent())

    assert events.mail(fixture(OWA_MOVE)) == {"batchItemFailures": []}
    line = outcomes(caplog)[-1]
    assert (line["outcome"], line["handedOver"]) == ("event_updated", True)
    account.drain("invite")

    sent = account.sent()[before:]
    updates = [e for e in sent if e.recipient in ATTENDEES]
    assert sorted(e.recipient for e in updates) == ATTENDEES  # one each
    moved_to = datetime(2025, 3, 18, 13, 0, tzinfo=UTC)  # 14:00 in Berlin, a day and an hour later
    for email in updates:
        assert (email.method, email.sequence, email.uid) == ("REQUEST", 1, uid)
        (vevent,) = calendar_of(email).walk("VEVENT")
        assert vevent.decoded("DTSTART") == moved_to
        assert vevent["DTSTART"].params["TZID"] == "Europe/Berlin"  # the attendees' copies recur there
    assert [e.method for e in sent if e.recipient == OWA] == ["REPLY"]
    assert len(sent) == len(ATTENDEES) + 1  # nobody else
    assert account.event_item(uid).details().start == moved_to

    # The creation again, after the move (a slow copy): older than what is stored, nothing sent.
    before = len(account.sent())
    events.mail(fixture(OWA_CREATE))
    assert outcomes(caplog)[-1]["outcome"] == "stale"
    assert account.sent()[before:] == [] and account.event_item(uid).details().start == moved_to


def test_an_outlook_event_cancelled_in_owa_reaches_every_attendee_once(account, events, caplog):
    account.overrides["ALLOWED_ORGANIZERS"] = "uk-koeln.de"
    assert events.mail(fixture(OWA_CANCELLED_CREATE)) == {"batchItemFailures": []}
    assert outcomes(caplog)[-1]["outcome"] == "event_created"
    uid = only_uid(account)
    invite_by_stored_event(account, uid, ATTENDEES)
    before = len(account.sent())

    # "Abgesagt: Test 11", SEQUENCE 1, STATUS:CANCELLED; a second copy of it changes nothing.
    assert events.mail(fixture(OWA_CANCEL)) == {"batchItemFailures": []}
    assert outcomes(caplog)[-1]["outcome"] == "event_cancelled"
    events.mail(fixture(OWA_CANCEL))
    assert outcomes(caplog)[-1]["outcome"] == "duplicate"

    assert {e.sequence for e in cancels_since(account, before, uid)} == {1}
    assert account.event_item(uid).is_cancelled


def test_one_occurrence_cancelled_in_owa_reaches_every_attendee_as_that_occurrence(account, events, caplog):
    """OWA's own CANCEL of one Thursday of a weekly series (test-03-2.eml), after the series (written
    by the test in OWA's shape: its REQUEST is not published)."""
    account.overrides["ALLOWED_ORGANIZERS"] = "uk-koeln.de"
    series = f"From: Markus Brechtel <{OWA}>\r\nSubject: Test 3\r\nMIME-Version: 1.0\r\n"
    series += 'Content-Type: text/calendar; charset="utf-8"; method=REQUEST\r\n\r\n' + OWA_SERIES
    assert events.mail(series.encode()) == {"batchItemFailures": []}
    uid = only_uid(account)
    invite_by_stored_event(account, uid, ATTENDEES)
    before = len(account.sent())

    assert events.mail(fixture("calmailproc/test-03-2.eml")) == {"batchItemFailures": []}
    assert outcomes(caplog)[-1]["outcome"] == "occurrences_cancelled"

    for email in cancels_since(account, before, uid):
        (vevent,) = calendar_of(email).walk("VEVENT")
        assert vevent.decoded("RECURRENCE-ID") == datetime(2025, 3, 27, 14, 0, tzinfo=UTC)  # 15:00 Berlin
    assert not account.event_item(uid).is_cancelled


def test_an_exchange_online_cancel_at_the_same_sequence_reaches_every_attendee(account, events, caplog):
    """Exchange Online's REQUEST and CANCEL both come without SEQUENCE: the CANCEL's later DTSTAMP
    makes it the newer version, and it cancels."""
    assert events.mail(fixture(EXCHANGE_ONLINE_CREATE)) == {"batchItemFailures": []}

    assert outcomes(caplog)[-1]["outcome"] == "event_created"
    uid = only_uid(account)
    stored = account.event_item(uid)
    assert (stored.summary, stored.timezone, stored.organizer.email) == (
        "Test 11",
        "Europe/Berlin",
        EXCHANGE_ONLINE,
    )
    invite_by_stored_event(account, uid, ATTENDEES)
    before = len(account.sent())

    assert events.mail(fixture(EXCHANGE_ONLINE_CANCEL)) == {"batchItemFailures": []}
    assert outcomes(caplog)[-1]["outcome"] == "event_cancelled"

    cancels = cancels_since(account, before, uid)
    assert all(e.sequence >= 1 for e in cancels)  # above the invitations' 0
    assert {str(calendar_of(e).walk("VEVENT")[0]["STATUS"]) for e in cancels} == {"CANCELLED"}
    assert account.event_item(uid).is_cancelled


def test_an_icloud_event_created_and_cancelled_in_calendarservers_envelope(account, events, caplog):
    """From: the organizer (EMAIL=), Reply-To: and ORGANIZER the routing token, as CalendarServer's
    outbound code writes them: the organizer is the From: address, and is answered there."""
    request = fixture(ICLOUD_REQUEST)
    assert f"Reply-To: {ICLOUD_TOKEN}".encode() in request
    assert events.mail(request) == {"batchItemFailures": []}

    assert outcomes(caplog)[-1]["outcome"] == "event_created"
    uid = only_uid(account)
    stored = account.event_item(uid)
    assert (stored.summary, stored.timezone, stored.organizer.email) == ("New Event", "US/Pacific", ICLOUD)
    reply, note = account.sent()
    assert {reply.recipient, note.recipient} == {ICLOUD}  # the verified From:, never the token
    (vevent,) = calendar_of(reply).walk("VEVENT")
    assert str(vevent["ORGANIZER"]) == f"mailto:{ICLOUD}"
    assert str(vevent["UID"]) == "1E71F9C8-AEDA-48EB-98D0-76E898F6BB5C"  # iCloud's own, to match it
    invite_by_stored_event(account, uid, ATTENDEES)
    before = len(account.sent())

    # SEQUENCE one up and no STATUS, as CalendarServer's generateCancel writes it: it cancels.
    assert events.mail(fixture(ICLOUD_CANCEL)) == {"batchItemFailures": []}
    assert outcomes(caplog)[-1]["outcome"] == "event_cancelled"
    cancels_since(account, before, uid)
    assert account.event_item(uid).is_cancelled


def test_an_icloud_all_day_event_is_created_for_the_organizer_email_names(account, events, caplog):
    account.overrides["ALLOWED_ORGANIZERS"] = "example.net"
    assert events.mail(fixture("derived/icloud-all-day.eml")) == {"batchItemFailures": []}

    assert outcomes(caplog)[-1]["outcome"] == "event_created"
    details = account.event_item(only_uid(account)).details()
    assert (details.start, details.end, details.location) == (
        date(2008, 8, 15),
        date(2008, 8, 16),
        "Building 4, Room 101",
    )
    assert {e.recipient for e in account.sent()} == {"user02@example.net"}


@pytest.mark.parametrize(
    ("allowed", "outcome", "reason"),
    [
        ("example.com", "organizer_not_allowed", "not_on_allow_list: noreply@email.apple.com"),
        (
            "example.com,email.apple.com",
            "another_organizer",
            f"from_mismatch: ORGANIZER {ICLOUD} is not the sender noreply@email.apple.com",
        ),
    ],
    ids=["apple not allowed", "apple allowed"],
)
def test_an_icloud_invitation_from_apples_no_reply_is_refused(
    account, events, caplog, allowed, outcome, reason
):
    """iCloud is reported to mail invitations From: noreply@email.apple.com (SOURCES.md): Apple
    vouches for that address, not for the organizer, so From: is not the ORGANIZER."""
    account.overrides["ALLOWED_ORGANIZERS"] = allowed
    events.mail(sent_from(fixture(ICLOUD_REQUEST), "User 01 <noreply@email.apple.com>"))

    line = outcomes(caplog)[-1]
    assert (line["outcome"], line["reason"]) == (outcome, reason)
    assert stored_events(account) == [] and account.sent() == []


def test_calendarservers_own_invitation_names_its_reply_token_and_is_refused(account, events, caplog):
    """The REQUEST Apple's CalendarServer mailed for an iCal 3.0 organizer: From: the server's
    mailbox, ORGANIZER that mailbox with a +token, the person only in Reply-To:. Nothing is stored
    or sent: the ORGANIZER is not the sender."""
    events.mail(fixture("apple-calendarserver/dsn_failure_with_ics.invitation.eml"))

    line = outcomes(caplog)[-1]
    assert line["outcome"] == "another_organizer"
    assert line["reason"] == (
        "from_mismatch: ORGANIZER xyzzy+8e16b897-d544-4217-88e9-a363d0846f6c@example.com"
        " is not the sender xyzzy@example.com"
    )
    assert stored_events(account) == [] and account.sent() == []
