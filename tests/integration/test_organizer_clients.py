"""Thunderbird's and Apple's organizer mails (tests/fixtures/organizer/SOURCES.md), end to end
through the local SES receiving: what each creates, cancels or is refused, and what is sent."""

from __future__ import annotations

from datetime import date

import pytest

from tests.integration.organizer_mail import (
    EventAddress,
    calendar_of,
    fixture,
    invite_by_stored_event,
    outcomes,
    sent_from,
)

ATTENDEES = ["ann@example.net", "ben@example.net"]
THUNDERBIRD = "markus.brechtel@thengo.net"  # the organizer of calmailproc's test-05-1.eml
ICLOUD = "user01@example.com"  # the organizer iCloud names with EMAIL= (and mails From:)
# iCloud's routing address: the ORGANIZER's mailto: value and the Reply-To:, never the organizer.
ICLOUD_TOKEN = "2_KRXDIZCD4LFJYFCEZCGF4PBK6RPAATMRPTYKSQW4H2VQDJGWKMICXB@imip.me.com"
ICLOUD_REQUEST = "derived/icloud-request.eml"
ICLOUD_CANCEL = "derived/icloud-cancel.eml"


@pytest.fixture
def events(account) -> EventAddress:
    return EventAddress(account)


def stored_events(account) -> list[dict]:
    items = account.dynamodb.scan(TableName=account.table)["Items"]
    return [i for i in items if i["sk"]["S"].startswith("event#")]


def only_uid(account) -> str:
    (item,) = stored_events(account)
    return item["pk"]["S"].removeprefix("event#")


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
    account.drain("cancel")

    cancels = account.sent()[before:]
    assert sorted(e.recipient for e in cancels) == ATTENDEES
    assert {(e.method, e.uid) for e in cancels} == {("CANCEL", uid)}
    assert all(e.sequence >= 1 for e in cancels)  # above the invitations' 0
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
    account.drain("cancel")
    cancels = account.sent()[before:]
    assert sorted(e.recipient for e in cancels) == ATTENDEES
    assert {(e.method, e.uid) for e in cancels} == {("CANCEL", uid)}
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
