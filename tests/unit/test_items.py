"""The typed table model: what was valid when written stays readable."""

import json
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from lambdas.domain.contract import Person, parse_invite
from lambdas.domain.items import AttendeeItem, EventItem, HistoryEntry, Pending, as_dict
from lambdas.domain.keys import event_key
from lambdas.domain.vocabulary import AttendeeStatus, EventStatus, Method, PartStat
from local.samples import invite_body

UID = "evt-1@example.com"


def stored_event(**changes) -> dict:
    """An event item as the invite function writes it (contract form of the details)."""
    details = parse_invite(json.dumps(invite_body(uid=UID))).event.as_dict()
    return {**event_key(UID), **details, "status": "CONFIRMED", **changes}


def test_an_attendee_item_reads_every_field_it_was_written_with():
    item = AttendeeItem.read(
        {
            "email": "Bob@Example.org",
            "name": "Bob",
            "status": "invited",
            "partstat": "NEEDS-ACTION",
            "sequence": 1,
            "sent_at": "2026-12-01T10:00:00+00:00",
            "message_id": "ses-1",
            "history": [
                {"method": "REQUEST", "sequence": 0, "at": "a", "message_id": "ses-0"},
                {"method": "REQUEST", "sequence": 1, "at": "b", "message_id": "ses-1"},
            ],
            "pending": {"method": "CANCEL", "token": "t", "since": 12.5},
        },
        uid=UID,
        email="bob@example.org",
    )
    assert item.email == "Bob@Example.org"  # its own spelling wins over the key's
    assert (item.status, item.partstat, item.sequence) == (AttendeeStatus.INVITED, PartStat.NEEDS_ACTION, 1)
    assert item.history[1] == HistoryEntry(method=Method.REQUEST, sequence=1, at="b", message_id="ses-1")
    assert item.pending == Pending(method=Method.CANCEL, sequence=None, token="t", since=12.5)
    assert item.person == Person("Bob@Example.org", "Bob")


def test_missing_unknown_and_mistyped_attributes_read_as_defaults():
    item = AttendeeItem.read(
        {
            "status": "tentatively-invited",  # a word this version does not know
            "sequence": "3",  # not a number
            "history": [{"method": "PUBLISH"}, "garbage"],
            "pending": "soon",
            "a_field_from_the_future": {"x": 1},
        },
        uid=UID,
        email="bob@example.org",
    )
    assert item == AttendeeItem(uid=UID, email="bob@example.org", history=(HistoryEntry(),))
    assert item.status is None and item.sequence is None and item.pending is None


def test_a_claim_without_a_send_reads_as_an_attendee_without_status():
    item = AttendeeItem.read(
        {"email": "c@example.org", "pending": {"method": "REQUEST", "sequence": 0, "token": "t", "since": 1}},
        uid=UID,
        email="c@example.org",
    )
    assert item.status is None
    assert item.pending.sequence == 0


def test_an_event_item_reads_its_details_status_and_counters():
    item = EventItem.read(
        stored_event(sequence=2, invites_sent=3, cancelled_sequence=1, status="CANCELLED"), uid=UID
    )
    assert item.is_cancelled and item.status is EventStatus.CANCELLED
    assert (item.sequence, item.invites_sent, item.updates_sent, item.cancelled_sequence) == (2, 3, 0, 1)
    assert item.organizer == Person("alice@example.com", "Alice Example")
    details = item.details()
    assert details.uid == UID and details.sequence == 2
    assert details.start == datetime(2026, 12, 1, 15, tzinfo=UTC)
    assert details.as_dict() == {
        **parse_invite(json.dumps(invite_body(uid=UID))).event.as_dict(),
        "sequence": 2,
    }


def test_details_stored_under_older_looser_rules_are_still_usable():
    item = EventItem.read(
        stored_event(organizer={"email": "alice@example.com", "name": "Alice \\ Ops"}), uid=UID
    )
    assert item.details().organizer.name == "Alice \\ Ops"


def test_an_event_item_holding_only_the_cancellation_has_no_details():
    item = EventItem.read({"status": "CANCELLED", "cancelled_sequence": 0, "cancellations_sent": 2}, uid=UID)
    assert item.is_cancelled and item.details() is None
    assert EventItem.read(stored_event(organizer={"name": "no address"}), uid=UID).details() is None
    assert EventItem.read(stored_event(start="next tuesday"), uid=UID).details() is None
    assert EventItem.read(stored_event(start="2026-12-01"), uid=UID).details() is None  # date and date-time


def test_stored_times_keep_their_zone_all_day_dates_and_a_zone_that_no_longer_exists():
    zoned = EventItem.read(
        stored_event(start="2026-12-01T10:00:00", end="2026-12-01T11:00:00", timezone="Europe/Paris"), uid=UID
    ).details()
    assert zoned.start == datetime(2026, 12, 1, 10, tzinfo=ZoneInfo("Europe/Paris"))
    all_day = EventItem.read(stored_event(start="2026-12-24", end="2026-12-25"), uid=UID).details()
    assert (all_day.start, all_day.all_day) == (date(2026, 12, 24), True)
    gone = EventItem.read(stored_event(timezone="Mars/Olympus_Mons"), uid=UID).details()
    assert gone.timezone == "" and gone.start == datetime(2026, 12, 1, 15, tzinfo=UTC)


def test_items_print_as_plain_json():
    item = AttendeeItem(
        uid=UID,
        email="b@example.org",
        status=AttendeeStatus.REMOVED,
        history=(HistoryEntry(method=Method.CANCEL, sequence=1),),
    )
    document = json.loads(json.dumps(as_dict(item)))
    assert document["status"] == "removed"
    [entry] = document["history"]
    assert {k: entry[k] for k in ("method", "sequence", "at", "message_id")} == {
        "method": "CANCEL",
        "sequence": 1,
        "at": "",
        "message_id": "",
    }
    assert entry["delegated_to"] == [] and entry["partstat"] is None  # an answer's fields, as JSON


def test_a_map_of_dataclasses_reads_leniently():
    from lambdas.domain.items import AttendeeItem

    stored = {
        "occurrence_replies": {
            "2026-12-08T09:00:00+00:00": {
                "partstat": "DECLINED",
                "sequence": 1,
                "counted_as": "replies_declined",
            },
            "broken": "not a map",
            "unknown": {"partstat": "MAYBE-LATER"},
        }
    }
    item = AttendeeItem.read(stored, uid="u", email="bob@example.org")
    assert set(item.occurrence_replies) == {"2026-12-08T09:00:00+00:00", "unknown"}
    assert item.occurrence_replies["2026-12-08T09:00:00+00:00"].sequence == 1
    assert item.occurrence_replies["unknown"].partstat is None
    assert AttendeeItem.read({"occurrence_replies": ["a list"]}, uid="u", email="b").occurrence_replies == {}
