"""Read leniently, fail permanently: an answer is never lost to a parsing accident, and
mail that can never be read ends in a permanent outcome naming what is wrong, never ``failed``."""

from __future__ import annotations

import pytest

from local.samples import reply_mail
from tests.integration.test_record_reply import BOB, UID, counts, invite, last_outcome, outcomes
from tests.support.inbox import Inbox


@pytest.fixture
def inbox(account) -> Inbox:
    return Inbox(account)


@pytest.mark.parametrize("folder", ["Pacific", "America", "US", "Etc", "Europe"])
def test_a_tzid_naming_a_tzdata_folder_does_not_lose_the_answer(account, inbox, caplog, folder):
    invite(account)
    inbox.deliver(reply_mail(BOB, "ACCEPTED", event_lines=(f"DTSTART;TZID={folder}:20261201T100000",)))

    assert last_outcome(caplog)["outcome"] == "recorded"
    assert counts(account) == {"replies_accepted": 1}


def test_an_answer_without_dtstamp_is_ordered_by_its_date_header(account, inbox, caplog):
    invite(account)
    later = reply_mail(BOB, "DECLINED", dtstamp=None, headers={"Date": "Wed, 25 Nov 2026 09:00:00 +0100"})
    earlier = reply_mail(BOB, "ACCEPTED", dtstamp=None, headers={"Date": "Tue, 24 Nov 2026 09:00:00 +0000"})
    inbox.deliver(later)
    inbox.deliver(earlier)

    first, second = outcomes(caplog)[-2:]
    assert (first["outcome"], first["orderedBy"]) == ("recorded", "Date")
    assert second["outcome"] == "stale"
    item = account.attendee_item(UID, BOB)
    assert (item.partstat, item.reply_dtstamp) == ("DECLINED", "2026-11-25T08:00:00+00:00")
    assert counts(account) == {"replies_declined": 1}


def test_an_answer_without_dtstamp_or_date_is_ordered_by_its_receipt_and_redelivered_once(
    account, inbox, caplog
):
    invite(account)
    bare = reply_mail(BOB, "TENTATIVE", dtstamp=None)
    body = inbox.store(bare, message_id="in-1", timestamp="2026-11-24T15:00:05.000Z")
    account.invoke("reply", body)
    account.invoke("reply", body)  # SQS redelivers: the receipt time is the same, so is the answer

    first, again = outcomes(caplog)[-2:]
    assert (first["outcome"], first["orderedBy"]) == ("recorded", "received")
    assert again["outcome"] == "duplicate"
    assert account.attendee_item(UID, BOB).reply_dtstamp == "2026-11-24T15:00:05+00:00"
    assert counts(account) == {"replies_tentative": 1}


@pytest.mark.parametrize(
    ("method", "lines", "name"),
    [
        ("COUNTER", ("DTSTART:99991231T000000Z", "DURATION:P2D"), "DURATION"),
        ("REPLY", ("RECURRENCE-ID;TZID=Asia/Tokyo:00010101T000000",), "RECURRENCE-ID"),
    ],
)
def test_a_crafted_date_is_malformed_for_good_never_retried(account, inbox, caplog, method, lines, name):
    invite(account)
    response = inbox.deliver(reply_mail(BOB, "TENTATIVE", method=method, event_lines=lines))

    assert response == {"batchItemFailures": []}
    line = last_outcome(caplog)
    assert line["outcome"] == "malformed_calendar"
    assert f"out-of-range {name}" in line["reason"]
