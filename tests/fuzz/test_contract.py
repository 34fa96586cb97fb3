"""Whatever arrives in an SQS body, the contract answers with a request or InvalidRequest."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from lambdas.domain.cancellation_contract import CancelRequest, parse_cancellation
from lambdas.domain.contract import InviteFanOut, InviteRequest, parse_invite
from lambdas.domain.validation import InvalidRequest
from tests.fuzz.strategies import FUZZ, anything, body_of, invite_documents, json_values, nasty_text

PARSERS = {"invite": parse_invite, "cancellation": parse_cancellation}
ACCEPTED = (InviteRequest, InviteFanOut, CancelRequest)


def outcome(parse, body):
    try:
        return parse(body)
    except InvalidRequest as invalid:
        assert invalid.errors, "an InvalidRequest names at least one field"
        assert all(e.field and e.reason for e in invalid.errors)
        return invalid


def parses_or_refuses(body) -> None:
    for parse in PARSERS.values():
        result = outcome(parse, body)
        assert isinstance(result, (*ACCEPTED, InvalidRequest))


@FUZZ
@given(json_values)
def test_arbitrary_json_documents(document):
    parses_or_refuses(json.dumps(document))


@FUZZ
@given(st.text(st.characters(blacklist_categories=())))
def test_arbitrary_strings_as_the_body(body):
    parses_or_refuses(body)


@FUZZ
@given(st.binary())
def test_arbitrary_bytes_as_the_body_including_invalid_utf8(body):
    parses_or_refuses(body)
    parses_or_refuses(bytearray(body))


@FUZZ
@given(anything)
def test_bodies_that_are_not_strings(body):
    parses_or_refuses(body)


@FUZZ
@given(invite_documents(plausible=False))
def test_any_value_in_any_field(document):
    parses_or_refuses(body_of(document))
    cancel = {**document, "scope": document.get("scope", "event")}
    parses_or_refuses(body_of(cancel))


@FUZZ
@given(invite_documents(plausible=False), st.sampled_from([None, "event", "attendee"]))
def test_cancellations_with_any_value_in_any_field(document, scope):
    if scope is not None:
        document["scope"] = scope
    parses_or_refuses(body_of(document))
    event = document.get("event")
    if isinstance(event, dict):  # the uid-only form
        parses_or_refuses(body_of({"event": {"uid": event.get("uid"), "sequence": event.get("sequence")}}))


@FUZZ
@given(invite_documents(plausible=False), st.lists(anything, max_size=5))
def test_fan_out_lists_of_anything(document, attendees):
    document.pop("attendee", None)
    document["attendees"] = attendees
    parses_or_refuses(body_of(document))


@FUZZ
@given(nasty_text)
def test_an_sns_envelope_around_anything(message):
    parses_or_refuses(json.dumps({"Type": "Notification", "Message": message}))
