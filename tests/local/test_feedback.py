"""SES event publishing on the real template: the configuration set and its event destination are
created, and an event published for a sent email reaches record feedback through SNS and SQS."""

from __future__ import annotations

import pytest

from cisctl import ops
from cisctl.target import Target
from infra import names
from lambdas.domain.vocabulary import BounceType, DeliveryState
from local.samples import invite_body
from local.sources.ses_feedback import NoDestination

UID = "evt-42@example.com"
FEEDBACK = "FeedbackWorkerFunction"
TRANSIENT = {"bounce_type": "Transient", "bounce_subtype": "MailboxFull"}
TEMPLATE_EVENT_TYPES = {"Bounce", "Complaint", "Delivery", "Reject", "DeliveryDelay", "Rendering Failure"}


@pytest.fixture
def runtime(app_assembly, start_runtime):
    return start_runtime(app_assembly)


def _target(runtime) -> Target:
    return Target.endpoint(runtime.endpoint, region=runtime.region, stacks=tuple(runtime.assembly.names))


def _invite(runtime, attendee: str):
    ops.enqueue(_target(runtime), "invite", [invite_body(uid=UID, attendee=attendee)])
    runtime.drain()
    [email] = [e for e in runtime.new_emails() if e.recipient == attendee]
    return email


def _attendee(runtime, email_address: str):
    report = ops.event_status(_target(runtime), UID)
    return report.event, next(a for a in report.attendees if a.email == email_address)


def test_the_configuration_set_and_its_event_destination_are_created_as_the_template_says(runtime):
    [name] = runtime.inventory.configuration_sets
    assert name == names.CONFIGURATION_SET_NAME
    created = runtime.client("sesv2").get_configuration_set(ConfigurationSetName=name)
    assert created["ConfigurationSetName"] == name
    assert created["ReputationOptions"]["ReputationMetricsEnabled"] is True
    assert set(created["SuppressionOptions"]["SuppressedReasons"]) == {"BOUNCE", "COMPLAINT"}
    [destination] = runtime.inventory.event_destinations
    assert (destination.configuration_set, destination.enabled) == (name, True)
    assert destination.event_types == TEMPLATE_EVENT_TYPES
    subscriptions = runtime.client("sns").list_subscriptions_by_topic(TopicArn=destination.topic_arn)
    [subscription] = subscriptions["Subscriptions"]
    assert (
        subscription["Endpoint"]
        == runtime.mapping_for("lambdas.record_feedback.handler.lambda_handler").queue.arn
    )
    # Every function that sends names it.
    naming = {f.label: f.environment.get("SES_CONFIGURATION_SET") for f in runtime.functions}
    assert naming["InviteWorkerFunction"] == naming["CancellationWorkerFunction"] == name


def test_a_hard_bounce_reaches_record_feedback_and_suppresses_the_attendee(runtime):
    email = _invite(runtime, "bounce@example.org")

    published = runtime.publish_delivery_event(email.ses_id, "Bounce", bounce_type="Permanent")
    invocations = runtime.drain()

    record = published.record
    assert record["eventType"] == "Bounce" and record["bounce"]["bounceType"] == "Permanent"
    assert record["mail"]["messageId"] == email.ses_id
    assert record["mail"]["destination"] == ["bounce@example.org"]
    assert record["mail"]["tags"]["ses:configuration-set"] == [names.CONFIGURATION_SET_NAME]
    assert [(i.function.label, dict(i.outcomes)) for i in invocations] == [
        (FEEDBACK, {"feedback_recorded": 1})
    ]
    event, attendee = _attendee(runtime, "bounce@example.org")
    assert attendee.delivery.state is DeliveryState.BOUNCED
    assert attendee.delivery.bounce_type is BounceType.PERMANENT
    assert attendee.delivery.message_id == email.ses_id
    assert attendee.suppressed is not None and attendee.suppressed.reason is DeliveryState.BOUNCED
    assert event.bounced >= 1


@pytest.mark.parametrize(
    ("event_type", "details", "state", "suppressed"),
    [
        ("Delivery", {}, DeliveryState.DELIVERED, False),
        ("Complaint", {}, DeliveryState.COMPLAINED, True),
        (
            "Bounce",
            {"bounce_type": "Transient", "bounce_subtype": "MailboxFull"},
            DeliveryState.BOUNCED,
            False,
        ),
        ("DeliveryDelay", {}, DeliveryState.DELAYED, False),
        ("Reject", {}, DeliveryState.REJECTED, False),
    ],
)
def test_each_event_type_is_recorded_as_its_delivery_state(runtime, event_type, details, state, suppressed):
    address = f"{event_type.lower()}-{details.get('bounce_type', 'x').lower()}@example.org"
    email = _invite(runtime, address)

    runtime.publish_delivery_event(email.ses_id, event_type, **details)
    runtime.drain()

    _, attendee = _attendee(runtime, address)
    assert attendee.delivery.state is state
    assert (attendee.suppressed is not None) is suppressed


def test_what_the_emulation_cannot_publish_is_refused(runtime):
    email = _invite(runtime, "refused@example.org")
    with pytest.raises(KeyError, match="no email with message id"):
        runtime.publish_delivery_event("not-sent-000000", "Delivery")
    with pytest.raises(ValueError, match="unknown event type"):
        runtime.publish_delivery_event(email.ses_id, "Open")
    with pytest.raises(NoDestination, match="no enabled destination"):
        runtime.publish_delivery_event(email.ses_id, "Delivery", configuration_set="elsewhere")
    assert runtime.drain() == []  # nothing reached the feedback queue
