"""Delivery feedback's pure rules: reading SES's records, what each changes, suppression, the send path."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from lambdas.adapters.expressions import from_item
from lambdas.adapters.feedback_expressions import feedback_write
from lambdas.adapters.mailer import Mailer
from lambdas.domain.cancellation_decisions import classify_refused_cancellation
from lambdas.domain.decisions import SendOutcome, classify_refused_invite
from lambdas.domain.feedback import (
    FeedbackOutcome,
    FeedbackPlan,
    event_time,
    parse_feedback,
    plan_feedback,
    unknown_message_outcome,
    unneeded_outcome,
)
from lambdas.domain.items import AttendeeItem, Delivery, EventItem, MessageItem, Suppression
from lambdas.domain.keys import attendee_key, event_key, message_key
from lambdas.domain.rarer_answers import decide_refresh
from lambdas.domain.replies import Refusal, ReplyOutcome
from lambdas.domain.suppression import suppresses, suppression_fields
from lambdas.domain.validation import InvalidRequest
from lambdas.domain.vocabulary import AttendeeStatus, BounceType, DeliveryState
from lambdas.runtime.config import ENV_CONFIGURATION_SET, Settings
from lambdas.runtime.sends import ses_suppression_refusal
from local import shapes
from local.shapes import sns_envelope
from tests.unit.test_adapters import REQUIRED

UID, WHO, MID = "u1", "bob@example.org", "ses-1"
SENT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
LATER = SENT + timedelta(minutes=5)

NOW_TS, LEASE = 1_000_000.0, 60  # a refresh claim's clock and lease


def attendee(**fields) -> AttendeeItem:
    return AttendeeItem(uid=UID, email=WHO, status=AttendeeStatus.INVITED, sequence=0, **fields)


# ---------------------------------------------------------------------------------------- reading


def test_a_documented_bounce_is_read_from_its_sns_envelope():
    event = parse_feedback(sns_envelope(shapes.bounce(MID, WHO, LATER, SENT)))
    assert event.event_type == "Bounce" and event.ses_message_id == MID
    assert (event.state, event.bounce_type, event.bounce_subtype) == (
        DeliveryState.BOUNCED,
        BounceType.PERMANENT,
        "General",
    )
    assert event.diagnostic == "smtp; 550 5.1.1 user unknown: 5.1.1"
    assert event.at == "2026-12-01T10:05:00.000000Z" and event.sent_at == "2026-12-01T10:00:00.000000Z"
    assert event.suppresses


@pytest.mark.parametrize(
    ("record", "state", "diagnostic", "suppressing"),
    [
        (shapes.complaint(MID, WHO, LATER, SENT), DeliveryState.COMPLAINED, "abuse", True),
        (
            shapes.delivery(MID, WHO, LATER, SENT),
            DeliveryState.DELIVERED,
            "250 2.6.0 Message received",
            False,
        ),
        (
            shapes.delivery_delay(MID, WHO, LATER, SENT),
            DeliveryState.DELAYED,
            "MailboxFull: smtp; 452 4.2.2 Mailbox full",
            False,
        ),
        (shapes.reject(MID, WHO, LATER, SENT), DeliveryState.REJECTED, "Bad content", False),
        (
            shapes.bounce(MID, WHO, LATER, SENT, "Transient", "MailboxFull"),
            DeliveryState.BOUNCED,
            "smtp; 452 4.2.2 mailbox full: 4.2.2",
            False,
        ),
    ],
)
def test_each_documented_event_type_is_read_raw(record, state, diagnostic, suppressing):
    event = parse_feedback(json.dumps(record))
    assert (event.state, event.diagnostic, event.suppresses) == (state, diagnostic, suppressing)


def test_a_rendering_failure_in_either_spelling_is_a_rejection():
    for spelling in ("Rendering Failure", "RenderingFailure"):
        record = {
            "eventType": spelling,
            "failure": {"errorMessage": "Attribute 'name' is not present", "templateName": "t"},
            "mail": shapes.mail(MID, WHO, SENT),
        }
        event = parse_feedback(json.dumps(record))
        assert event.state is DeliveryState.REJECTED and event.at == event.sent_at


def test_events_that_are_not_feedback_are_read_without_a_state():
    for event_type in ("Send", "Open", "Click", "Subscription"):
        record = {"eventType": event_type, "mail": shapes.mail(MID, WHO, SENT)}
        assert parse_feedback(json.dumps(record)).state is None


def test_a_record_that_cannot_be_placed_or_ordered_names_every_bad_field():
    with pytest.raises(InvalidRequest) as raised:
        parse_feedback(json.dumps({"eventType": "Bounce", "bounce": {"bounceType": "Soft"}, "mail": {}}))
    assert raised.value.fields == ["mail.messageId", "bounce.timestamp", "bounce.bounceType"]
    with pytest.raises(InvalidRequest) as raised:
        parse_feedback(json.dumps({"eventType": "Bounced", "mail": shapes.mail(MID, WHO, SENT)}))
    assert raised.value.fields == ["eventType"]
    with pytest.raises(InvalidRequest) as raised:
        parse_feedback(json.dumps({"eventType": "Complaint", "mail": "x"}))
    assert raised.value.fields == ["mail", "mail.messageId", "complaint", "complaint.timestamp"]


def test_diagnostics_lose_their_control_characters_and_are_bounded():
    record = shapes.delivery(MID, WHO, LATER, SENT)
    record["delivery"]["smtpResponse"] = "250 ok\r\nInjected: yes" + "x" * 5000
    diagnostic = parse_feedback(json.dumps(record)).diagnostic
    assert "\r" not in diagnostic and "\n" not in diagnostic and len(diagnostic) == 1000


def test_times_are_fixed_width_utc_so_that_text_order_is_time_order():
    assert event_time("2017-08-05T00:41:02.669Z") == "2017-08-05T00:41:02.669000Z"
    assert event_time("2017-08-05T02:41:02+02:00") == "2017-08-05T00:41:02.000000Z"
    assert event_time("2017-08-05T00:41:02") == ""  # no zone: cannot be ordered
    assert event_time("yesterday") == event_time(None) == ""
    assert event_time("2017-08-05T00:41:02.669Z") < event_time("2017-08-05T00:41:10Z")


# ------------------------------------------------------------------------------------ the plan


def test_a_first_event_counts_records_and_may_suppress():
    event = parse_feedback(json.dumps(shapes.bounce(MID, WHO, LATER, SENT)))
    plan = plan_feedback(attendee(), event)
    assert (plan.counter, plan.count_key) == ("bounced", f"bounced#{MID}")
    assert plan.delivery == Delivery(
        state=DeliveryState.BOUNCED,
        at=event.at,
        message_id=MID,
        bounce_type=BounceType.PERMANENT,
        bounce_subtype="General",
        diagnostic=event.diagnostic,
    )
    assert plan.suppression.reason is DeliveryState.BOUNCED
    assert plan.suppression.detail.startswith("Permanent/General: smtp; 550")


def test_the_same_event_again_changes_nothing_and_is_a_duplicate():
    event = parse_feedback(json.dumps(shapes.bounce(MID, WHO, LATER, SENT)))
    first = plan_feedback(attendee(), event)
    after = attendee(
        delivery=first.delivery, suppressed=first.suppression, counted_feedback=(first.count_key,)
    )
    assert plan_feedback(after, event).changes_nothing
    assert unneeded_outcome(after, event) is FeedbackOutcome.DUPLICATE


def test_an_older_event_counts_its_email_but_leaves_the_newer_state():
    newer = Delivery(state=DeliveryState.COMPLAINED, at=event_time("2026-12-01T11:00:00Z"), message_id=MID)
    delivered = parse_feedback(json.dumps(shapes.delivery(MID, WHO, LATER, SENT)))
    plan = plan_feedback(attendee(delivery=newer), delivered)
    assert plan.counter == "delivered" and plan.delivery is None and plan.suppression is None

    delayed = parse_feedback(json.dumps(shapes.delivery_delay(MID, WHO, LATER, SENT)))
    older_and_uncounted = plan_feedback(attendee(delivery=newer), delayed)
    assert older_and_uncounted.changes_nothing
    assert unneeded_outcome(attendee(delivery=newer), delayed) is FeedbackOutcome.STALE


def test_the_first_suppression_stays_whatever_comes_after():
    kept = Suppression(reason=DeliveryState.BOUNCED, at="2026-12-01T10:01:00.000000Z", message_id="ses-0")
    complaint = parse_feedback(json.dumps(shapes.complaint(MID, WHO, LATER, SENT)))
    plan = plan_feedback(attendee(suppressed=kept), complaint)
    assert plan.suppression is None and plan.counter == "complained" and plan.delivery is not None


def test_only_a_permanent_bounce_or_a_complaint_suppresses():
    assert suppresses(DeliveryState.BOUNCED, BounceType.PERMANENT)
    assert suppresses(DeliveryState.COMPLAINED, None)
    assert not suppresses(DeliveryState.BOUNCED, BounceType.TRANSIENT)
    assert not suppresses(DeliveryState.BOUNCED, BounceType.UNDETERMINED)
    for state in (DeliveryState.DELAYED, DeliveryState.DELIVERED, DeliveryState.REJECTED, None):
        assert not suppresses(state, None)


def test_unknown_feedback_is_retried_only_while_its_email_may_still_be_being_recorded():
    event = parse_feedback(json.dumps(shapes.delivery(MID, WHO, LATER, SENT)))
    window = timedelta(minutes=3)
    assert (
        unknown_message_outcome(event, SENT + timedelta(minutes=1), window)
        is FeedbackOutcome.NOT_YET_RECORDED
    )
    assert (
        unknown_message_outcome(event, SENT + timedelta(minutes=4), window) is FeedbackOutcome.UNKNOWN_MESSAGE
    )
    assert FeedbackOutcome.NOT_YET_RECORDED.retry and not FeedbackOutcome.UNKNOWN_MESSAGE.retry


# --------------------------------------------------------------------------------- the claims


SUPPRESSED = Suppression(reason=DeliveryState.COMPLAINED, at="t", message_id="ses-0", detail="abuse")


def test_a_refused_claim_on_a_suppressed_attendee_is_suppressed_not_retried():
    item = attendee(suppressed=SUPPRESSED)
    assert classify_refused_invite(item, False, 1, 1000.0, 60) is SendOutcome.SUPPRESSED
    assert classify_refused_cancellation(item, 1000.0, 60) is SendOutcome.SUPPRESSED
    assert not SendOutcome.SUPPRESSED.retry
    assert suppression_fields(item) == {
        "reason": "complained: abuse",
        "suppressedAt": "t",
        "suppressedBy": "ses-0",
    }


def test_a_suppressed_attendee_s_own_redelivery_is_still_a_duplicate():
    assert (
        classify_refused_invite(attendee(suppressed=SUPPRESSED), False, 0, 1000.0, 60)
        is SendOutcome.DUPLICATE
    )
    cancelled = AttendeeItem(uid=UID, email=WHO, status=AttendeeStatus.CANCELLED, suppressed=SUPPRESSED)
    assert classify_refused_cancellation(cancelled, 1000.0, 60) is SendOutcome.DUPLICATE


# ----------------------------------------------------------------------------------- the write


def test_the_feedback_write_is_conditional_on_what_it_was_decided_from():
    plan = FeedbackPlan(
        counter="bounced",
        count_key="bounced#ses-1",
        delivery=Delivery(state=DeliveryState.BOUNCED, at="2026-12-01T10:05:00.000000Z", message_id="ses-1"),
        suppression=Suppression(reason=DeliveryState.BOUNCED, at="2026-12-01T10:05:00.000000Z"),
    )
    attendee_update, counter = (item["Update"] for item in feedback_write("t", UID, WHO, plan))

    assert from_item(attendee_update["Key"]) == attendee_key(UID, WHO)
    condition = attendee_update["ConditionExpression"]
    assert "attribute_exists(#pk)" in condition  # never creates an attendee
    assert "NOT contains(#counted_feedback, :count_key)" in condition
    assert "(attribute_not_exists(#delivery.#at) OR #delivery.#at < :at)" in condition
    assert "#suppressed = if_not_exists(#suppressed, :suppressed)" in attendee_update["UpdateExpression"]
    assert attendee_update["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD"
    stored = from_item(attendee_update["ExpressionAttributeValues"])
    assert stored[":delivery"] == {
        "state": "bounced",
        "at": "2026-12-01T10:05:00.000000Z",
        "message_id": "ses-1",
    }
    assert from_item(counter["Key"]) == event_key(UID)
    assert counter["UpdateExpression"] == "ADD #bounced :one"
    assert counter["ExpressionAttributeNames"] == {"#bounced": "bounced"}


def test_an_older_uncounted_write_has_no_event_update_and_no_time_condition():
    plan = FeedbackPlan(suppression=Suppression(reason=DeliveryState.COMPLAINED))
    [only] = feedback_write("t", UID, WHO, plan)
    assert only["Update"]["ConditionExpression"] == "attribute_exists(#pk)"


# ------------------------------------------------------------------------------ the send path


def sesv2():
    return boto3.client("sesv2", region_name="us-east-1")


def test_with_a_configuration_set_every_send_names_it():
    client = sesv2()
    with Stubber(client) as stub:  # the stubber checks the request against SES v2's API model
        expected = {
            "FromEmailAddress": "s@example.com",
            "Destination": {"ToAddresses": [WHO]},
            "Content": {"Raw": {"Data": b"raw"}},
            "ConfigurationSetName": "calendar-invites",
        }
        stub.add_response("send_email", {"MessageId": "m-1"}, expected)
        assert Mailer(client, "s@example.com", "calendar-invites").send(WHO, b"raw") == "m-1"
        stub.assert_no_pending_responses()


def test_without_one_the_send_carries_none():
    client = sesv2()
    with Stubber(client) as stub:
        expected = {
            "FromEmailAddress": "s@example.com",
            "Destination": {"ToAddresses": [WHO]},
            "Content": {"Raw": {"Data": b"raw"}},
        }
        stub.add_response("send_email", {"MessageId": "m-1"}, expected)
        Mailer(client, "s@example.com").send(WHO, b"raw")


def test_the_configuration_set_is_optional_configuration():
    assert Settings.from_environ(REQUIRED).configuration_set == ""
    settings = Settings.from_environ({**REQUIRED, ENV_CONFIGURATION_SET: " calendar-invites "})
    assert settings.configuration_set == "calendar-invites"


def test_only_a_refusal_for_a_suppressed_address_counts_as_ses_suppression():
    def refused(code, message):
        return ClientError({"Error": {"Code": code, "Message": message}}, "SendEmail")

    suppressed = refused("MessageRejected", "Address blacklisted.")
    assert ses_suppression_refusal(suppressed) == "Address blacklisted."
    assert ses_suppression_refusal(refused("MessageRejected", "The address is on the suppression list"))
    assert ses_suppression_refusal(refused("MessageRejected", "Email address is not verified.")) == ""
    assert ses_suppression_refusal(refused("Throttling", "suppressed for now")) == ""
    assert ses_suppression_refusal(ValueError("suppression")) == ""


# ------------------------------------------------------------------------------------ the model


def test_the_feedback_fields_read_back_leniently():
    item = AttendeeItem.read(
        {
            "delivery": {
                "state": "bounced",
                "at": "a",
                "bounce_type": "Permanent",
                "bounce_subtype": "General",
            },
            "suppressed": {"reason": "complained", "at": "b", "message_id": "ses-0"},
            "counted_feedback": ["bounced#ses-0", 7],
        },
        uid=UID,
        email=WHO,
    )
    assert item.delivery == Delivery(
        state=DeliveryState.BOUNCED, at="a", bounce_type=BounceType.PERMANENT, bounce_subtype="General"
    )
    assert item.suppressed == Suppression(reason=DeliveryState.COMPLAINED, at="b", message_id="ses-0")
    assert item.counted_feedback == ("bounced#ses-0",)
    odd = AttendeeItem.read({"delivery": {"state": "vanished"}, "suppressed": "yes"}, uid=UID, email=WHO)
    assert odd.delivery == Delivery() and odd.suppressed is None
    counts = EventItem.read({"delivered": 3, "bounced": 1, "complained": "x"}, uid=UID)
    assert (counts.delivered, counts.bounced, counts.complained) == (3, 1, 0)
    assert MessageItem.read({**message_key("m"), "uid": UID, "email": WHO}, message_id="m") == MessageItem(
        message_id="m", uid=UID, email=WHO
    )


def test_a_refresh_is_not_answered_to_a_suppressed_address():
    event = EventItem(uid=UID, sequence=0)
    assert decide_refresh(event, attendee(), "in-1", NOW_TS, LEASE) == 0
    refused = decide_refresh(event, attendee(suppressed=SUPPRESSED), "in-1", NOW_TS, LEASE)
    assert refused == Refusal(ReplyOutcome.SUPPRESSED, "complained: abuse")
