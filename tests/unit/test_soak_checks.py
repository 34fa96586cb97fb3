"""The soak's oracles (bench/soak_checks.py) catch what they are there to catch."""

from collections import Counter

from bench.soak_checks import counter_mismatches, email_defects, emails_by_counter, recount, version_of
from lambdas.domain.items import AttendeeItem, EventItem, HistoryEntry
from lambdas.domain.vocabulary import Method

UID = "soak@example.com"


def test_every_version_once_passes_and_each_defect_is_named():
    expected = {(UID, "a@x.org"): {"REQUEST:0", "CANCEL"}, (UID, "b@x.org"): {"REQUEST:0"}}
    clean = {
        (UID, "a@x.org"): Counter({"REQUEST:0": 1, "CANCEL": 1}),
        (UID, "b@x.org"): Counter({"REQUEST:0": 1}),
    }
    assert email_defects(expected, clean) == ([], [], [])

    emails = {
        (UID, "a@x.org"): Counter({"REQUEST:0": 2}),  # twice, and no CANCEL
        (UID, "c@x.org"): Counter({"REQUEST:0": 1}),  # never asked for
    }
    missing, duplicated, unexpected = email_defects(expected, emails)
    assert missing == [((UID, "a@x.org"), "CANCEL"), ((UID, "b@x.org"), "REQUEST:0")]
    assert duplicated == [((UID, "a@x.org"), "REQUEST:0", 2)]
    assert unexpected == [((UID, "c@x.org"), "REQUEST:0")]


def test_emails_count_under_the_counter_they_add_to():
    emails = {
        (UID, "a@x.org"): Counter({version_of("REQUEST", 0): 1, version_of("REQUEST", 1): 1}),
        (UID, "b@x.org"): Counter({version_of("REQUEST", 0): 1, version_of("CANCEL", 2): 1}),
    }
    assert emails_by_counter(emails) == Counter(
        {"invites_sent": 2, "updates_sent": 1, "cancellations_sent": 1}
    )


def _attendee(email, *entries, **fields):
    return AttendeeItem(uid=UID, email=email, history=tuple(entries), **fields)


def test_the_recount_reads_histories_feedback_and_answers_at_the_counted_version():
    invited, updated = (
        HistoryEntry(method=Method.REQUEST, sequence=0),
        HistoryEntry(method=Method.REQUEST, sequence=1),
    )
    refresh = HistoryEntry(method=Method.REQUEST, sequence=1, refresh_of="inbound-1")
    attendees = [
        _attendee(
            "a@x.org",
            invited,
            updated,
            counted_feedback=("delivered#m1",),
            counted_as="replies_accepted",
            counted_sequence=1,
        ),
        _attendee(
            "b@x.org",
            invited,
            refresh,
            counted_feedback=("bounced#m2",),
            counted_as="replies_declined",
            counted_sequence=0,
        ),  # an answer to an older version: not in the counts
        _attendee("c@x.org", invited, HistoryEntry(method=Method.CANCEL, sequence=2)),
    ]
    event = EventItem(
        uid=UID,
        replies_sequence=1,
        invites_sent=3,
        updates_sent=1,
        cancellations_sent=1,
        delivered=1,
        bounced=1,
        replies_accepted=1,
    )
    assert recount(event, attendees)["updates_sent"] == 1
    assert counter_mismatches(event, attendees) == []

    drifted = EventItem(
        uid=UID,
        replies_sequence=1,
        invites_sent=4,
        updates_sent=1,
        cancellations_sent=1,
        delivered=1,
        bounced=1,
        replies_accepted=1,
    )
    assert counter_mismatches(drifted, attendees) == [f"{UID} invites_sent: 4 on the event, 3 recounted"]
