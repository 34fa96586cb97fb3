"""Message contract v1: what is accepted, and that every rejection names its field."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest

from lambdas.domain.cancellation_contract import (
    EVENT_CANCELLATION_FAN_OUT,
    FAN_OUT_FIELD,
    event_cancellation_share,
    parse_cancellation,
)
from lambdas.domain.contract import MAX_ATTENDEES, InviteFanOut, InviteRequest, Person, parse_invite
from lambdas.domain.validation import InvalidRequest
from lambdas.domain.vocabulary import CancelIntent
from local.samples import invite_body


def rejected_fields(body) -> list[str]:
    with pytest.raises(InvalidRequest) as caught:
        parse_invite(body if isinstance(body, str | bytes) else json.dumps(body))
    return caught.value.fields


def with_event(**changes) -> dict:
    body = invite_body()
    for key, value in changes.items():
        if value is None:
            body["event"].pop(key)
        else:
            body["event"][key] = value
    return body


def test_the_documented_example_is_accepted():
    request = parse_invite(json.dumps(invite_body(timezone="America/New_York")))
    assert isinstance(request, InviteRequest)
    assert request.event.uid == "evt-42@example.com"
    assert request.event.sequence == 0
    assert request.event.start == datetime.fromisoformat("2026-12-01T15:00:00+00:00")
    assert request.attendee.email == "bob@example.org"


def test_optional_fields_default():
    body = with_event(sequence=None, description=None, location=None)
    body["event"]["organizer"].pop("name")
    body["attendee"].pop("name")
    request = parse_invite(json.dumps(body))
    assert (request.event.sequence, request.event.description, request.event.location) == (0, "", "")
    assert request.attendee.name == ""


def test_local_times_take_the_event_timezone():
    request = parse_invite(
        json.dumps(with_event(start="2026-07-01T10:00", end="2026-07-01T11:30", timezone="Europe/Berlin"))
    )
    assert request.event.start.utcoffset() == timedelta(hours=2)


def test_dates_make_an_all_day_event():
    request = parse_invite(json.dumps(with_event(start="2026-12-24", end="2026-12-26")))
    assert request.event.all_day
    assert request.event.start == date(2026, 12, 24)


def test_attendees_fan_out_and_duplicates_collapse():
    body = invite_body(attendee=["a@example.org", "A@example.org", "b@example.org"])
    request = parse_invite(json.dumps(body))
    assert isinstance(request, InviteFanOut)
    assert [p.email for p in request.attendees] == ["a@example.org", "b@example.org"]


def test_sns_envelope_is_unwrapped():
    envelope = {"Type": "Notification", "Message": json.dumps(invite_body())}
    assert isinstance(parse_invite(json.dumps(envelope)), InviteRequest)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("not json", "body"),
        ("[1, 2]", "body"),
        (b"\xff\xfe", "body"),
        (json.dumps({"Type": "Notification", "Message": "{"}), "Message"),
        ({"attendee": {"email": "bob@example.org"}}, "event"),
        (with_event(uid=None), "event.uid"),
        (with_event(uid=""), "event.uid"),
        (with_event(uid=" padded"), "event.uid"),
        (with_event(uid="x" * 256), "event.uid"),
        (with_event(uid=42), "event.uid"),
        (with_event(sequence=-1), "event.sequence"),
        (with_event(sequence=1.5), "event.sequence"),
        (with_event(sequence=True), "event.sequence"),
        (with_event(sequence="1"), "event.sequence"),
        (with_event(sequence=2**31), "event.sequence"),
        (with_event(summary=None), "event.summary"),
        (with_event(summary="   "), "event.summary"),
        (with_event(summary="x" * 256), "event.summary"),
        (with_event(description="x" * 8001), "event.description"),
        (with_event(location=["Room"]), "event.location"),
        (with_event(start=None), "event.start"),
        (with_event(start="tomorrow"), "event.start"),
        (with_event(end="2026-13-01T00:00:00Z"), "event.end"),
        (with_event(end="2026-12-01T14:00:00Z"), "event.end"),
        (with_event(end="2026-12-01T15:00:00Z"), "event.end"),
        (with_event(start="2026-12-01", end="2026-12-01T16:00:00Z"), "event.end"),
        (with_event(start="2026-12-01T15:00:00", end="2026-12-01T16:00:00"), "event.start"),
        (with_event(timezone="Mars/Olympus_Mons"), "event.timezone"),
        (with_event(timezone="../../etc/passwd"), "event.timezone"),
        (with_event(organizer=None), "event.organizer"),
        (with_event(organizer={"name": "No Address"}), "event.organizer.email"),
        (with_event(organizer={"email": "alice"}), "event.organizer.email"),
        ({**invite_body(), "attendee": {"email": "bob@@example.org"}}, "attendee.email"),
        ({**invite_body(), "attendee": {"email": "bob@example"}}, "attendee.email"),
        ({**invite_body(), "attendee": {"email": '"bob"@example.org'}}, "attendee.email"),
        ({**invite_body(), "attendee": {"email": "bob@example.org", "name": 7}}, "attendee.name"),
        ({"event": invite_body()["event"]}, "attendee"),
        ({**invite_body(), "attendees": []}, "attendees"),
        ({"event": invite_body()["event"], "attendees": "bob@example.org"}, "attendees"),
        ({"event": invite_body()["event"], "attendees": [{"email": "x"}]}, "attendees[0].email"),
    ],
)
def test_each_invalid_field_is_named(body, field):
    assert field in rejected_fields(body)


def test_too_many_attendees_is_rejected():
    body = invite_body(attendee=[f"g{i}@example.org" for i in range(MAX_ATTENDEES + 1)])
    assert rejected_fields(body) == ["attendees"]


def test_every_problem_is_reported_at_once():
    body = with_event(uid="", summary=None, end="2026-12-01T14:00:00Z")
    body["attendee"] = {"email": "nope"}
    assert rejected_fields(body) == ["event.uid", "event.summary", "event.end", "attendee.email"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("summary", "Planning\r\nBcc: victim@example.net"),
        ("summary", "Planning\nATTENDEE:mailto:evil@example.net"),
        ("summary", "bare\rcarriage return"),
        ("location", "Room\x00"),
        ("location", "Room\u2028Two"),
        ("uid", "evt\r\nX-INJECTED:1"),
        ("timezone", "UTC\r\nX: y"),
        ("description", "ok\x0bvertical tab"),
    ],
)
def test_injection_attempts_are_rejected(field, value):
    assert f"event.{field}" in rejected_fields(with_event(**{field: value}))


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("organizer.name", "Alice\r\nBcc: victim@example.net"),
        ("attendee.name", "Bob\nX-Evil: 1"),
        ("attendee.email", "bob@example.org\r\nBcc: victim@example.net"),
        ("attendee.email", "bob@example.org>, victim@example.net"),
    ],
)
def test_header_injection_through_people_is_rejected(where, value):
    body = invite_body()
    person, key = where.split(".")
    target = body["event"]["organizer"] if person == "organizer" else body["attendee"]
    target[key] = value
    assert where in [f.removeprefix("event.") for f in rejected_fields(body)]


def test_a_multiline_description_is_kept_with_normalised_newlines():
    request = parse_invite(json.dumps(with_event(description="line one\r\nline two\n\ttabbed")))
    assert request.event.description == "line one\nline two\n\ttabbed"


BOB = {"email": "bob@example.org"}


class TestCancellationContract:
    def test_only_the_uid_is_enough(self):
        request = parse_cancellation(json.dumps({"event": {"uid": "u1"}}))
        assert (request.uid, request.event, request.attendee, request.sequence) == ("u1", None, None, None)

    def test_full_details_are_validated_like_an_invite(self):
        body = invite_body()
        body["event"]["end"] = "2026-12-01T14:00:00Z"
        with pytest.raises(InvalidRequest) as caught:
            parse_cancellation(json.dumps(body))
        assert caught.value.fields == ["event.end"]

    def test_partial_details_name_what_is_missing(self):
        with pytest.raises(InvalidRequest) as caught:
            parse_cancellation(json.dumps({"event": {"uid": "u1", "summary": "Only a summary"}}))
        assert {"event.start", "event.end", "event.organizer"} <= set(caught.value.fields)

    def test_scope_attendee_needs_an_attendee(self):
        with pytest.raises(InvalidRequest) as caught:
            parse_cancellation(json.dumps({"event": {"uid": "u1"}, "scope": "attendee"}))
        assert caught.value.fields == ["scope"]

    def test_unknown_scope_is_rejected(self):
        with pytest.raises(InvalidRequest) as caught:
            parse_cancellation(json.dumps({"event": {"uid": "u1"}, "scope": "everyone"}))
        assert caught.value.fields == ["scope"]

    @pytest.mark.parametrize(
        ("extra", "intent", "from_fan_out"),
        [
            ({}, CancelIntent.CANCEL_EVENT, False),
            ({"scope": "event"}, CancelIntent.CANCEL_EVENT, False),
            ({"attendee": BOB}, CancelIntent.REMOVE_ATTENDEE, False),
            ({"attendee": BOB, "scope": "attendee"}, CancelIntent.REMOVE_ATTENDEE, False),
            # The form an earlier version fanned out; the workflow honours it for a cancelled event only.
            ({"attendee": BOB, "scope": "event"}, CancelIntent.NOTIFY_CANCELLED, False),
            (
                {"attendee": BOB, FAN_OUT_FIELD: EVENT_CANCELLATION_FAN_OUT},
                CancelIntent.NOTIFY_CANCELLED,
                True,
            ),
        ],
    )
    def test_what_each_form_asks_for(self, extra, intent, from_fan_out):
        request = parse_cancellation(json.dumps({"event": {"uid": "u1"}, **extra}))
        assert (request.intent, request.from_fan_out) == (intent, from_fan_out)

    def test_the_fan_out_body_is_what_the_parser_reads_as_the_function_s_own(self):
        body = event_cancellation_share(invite_body()["event"], Person("bob@example.org", "Bob"))
        request = parse_cancellation(json.dumps(body))
        assert (request.intent, request.from_fan_out, request.attendee.name) == (
            CancelIntent.NOTIFY_CANCELLED,
            True,
            "Bob",
        )

    @pytest.mark.parametrize(
        ("extra", "field"),
        [
            ({FAN_OUT_FIELD: "yes"}, FAN_OUT_FIELD),
            ({FAN_OUT_FIELD: EVENT_CANCELLATION_FAN_OUT}, "attendee"),
            ({"attendee": BOB, FAN_OUT_FIELD: EVENT_CANCELLATION_FAN_OUT, "scope": "attendee"}, "scope"),
            ({"scope": ["event"]}, "scope"),
        ],
    )
    def test_malformed_intents_are_rejected_naming_the_field(self, extra, field):
        with pytest.raises(InvalidRequest) as caught:
            parse_cancellation(json.dumps({"event": {"uid": "u1"}, **extra}))
        assert caught.value.fields == [field]

    def test_names_repeated_from_the_table_by_the_fan_out_may_predate_the_backslash_rule(self):
        event = {**invite_body()["event"], "organizer": {"email": "alice@example.com", "name": "A \\ B"}}
        share = event_cancellation_share(event, Person("bob@example.org", "Bob \\ Jr"))
        assert parse_cancellation(json.dumps(share)).event.organizer.name == "A \\ B"
        producer = {"event": event, "attendee": {"email": "bob@example.org"}}
        with pytest.raises(InvalidRequest) as caught:
            parse_cancellation(json.dumps(producer))
        assert caught.value.fields == ["event.organizer.name"]

    def test_missing_event_is_rejected(self):
        with pytest.raises(InvalidRequest) as caught:
            parse_cancellation(json.dumps({"attendee": {"email": "bob@example.org"}}))
        assert caught.value.fields == ["event"]


@pytest.mark.parametrize("field", ["summary", "organizer.name"])
def test_encoded_word_lookalikes_in_header_text_are_rejected(field):
    body = invite_body()
    if field == "summary":
        body["event"]["summary"] = "Plan =?utf-8?q?x?= review"
    else:
        body["event"]["organizer"]["name"] = "=?utf-8?b?QWxpY2U=?="
    assert f"event.{field}" in rejected_fields(body)


@pytest.mark.parametrize("name", ["\\", "Alice\\", "A\\;B"])
def test_backslashes_in_names_are_rejected_because_they_break_cn_parameters(name):
    body = invite_body()
    body["attendee"]["name"] = name
    assert "attendee.name" in rejected_fields(body)


class TestInviteByUid:
    """An attendee added by uid (issue 19): the details come from the stored event."""

    def test_only_the_uid_and_an_attendee_is_an_invite_by_uid(self):
        request = parse_invite(json.dumps({"event": {"uid": "u1"}, "attendee": {"email": "bob@example.org"}}))
        assert isinstance(request, InviteRequest)
        assert (request.uid, request.event, request.attendee) == ("u1", None, Person("bob@example.org", ""))

    def test_the_fan_out_form_by_uid(self):
        attendees = [{"email": "ana@example.org", "name": "Ana"}, {"email": "ANA@example.org"}, BOB]
        request = parse_invite(json.dumps({"event": {"uid": "u1"}, "attendees": attendees}))
        assert isinstance(request, InviteFanOut)
        assert (request.uid, request.event) == ("u1", None)
        assert [p.email for p in request.attendees] == ["ana@example.org", "bob@example.org"]

    def test_a_full_event_keeps_its_uid_on_the_request_too(self):
        request = parse_invite(json.dumps(invite_body()))
        assert request.uid == request.event.uid == "evt-42@example.com"

    def test_any_other_detail_makes_it_a_full_event_naming_what_is_missing(self):
        fields = rejected_fields({"event": {"uid": "u1", "summary": "Only a summary"}, "attendee": BOB})
        assert set(fields) == {"event.start", "event.end", "event.organizer"}

    def test_a_sequence_by_uid_is_refused_naming_it(self):
        with pytest.raises(InvalidRequest) as caught:
            parse_invite(json.dumps({"event": {"uid": "u1", "sequence": 3}, "attendee": BOB}))
        [error] = caught.value.errors
        assert error.field == "event.sequence"
        assert "stored sequence" in error.reason

    @pytest.mark.parametrize("uid", ["", " u1", "x" * 256, 42, None])
    def test_a_bad_uid_is_named(self, uid):
        assert rejected_fields({"event": {"uid": uid}, "attendee": BOB}) == ["event.uid"]

    def test_the_attendee_is_still_checked(self):
        body = {"event": {"uid": "u1"}, "attendee": {"email": "not an address"}}
        assert rejected_fields(body) == ["attendee.email"]

    def test_an_empty_event_is_not_an_invite_by_uid(self):
        fields = rejected_fields({"event": {}, "attendee": BOB})
        assert {"event.uid", "event.summary", "event.start"} <= set(fields)
