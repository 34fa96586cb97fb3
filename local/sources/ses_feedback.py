"""SES event publishing: what the configuration set's event destination tells about a sent email.

moto accepts an email and delivers it nowhere, so nothing ever bounces, is delivered or reported
as spam. ``publish_delivery_event(site, ses_message_id, "Bounce", bounce_type="Permanent")`` plays
what SES does when the recipient's server answers: it finds the email moto accepted under that
message id, builds the event-publishing record in the shape SES documents (local/shapes.py:
``eventType``, ``mail`` with this ``messageId``, its ``destination``, its ``source`` and the
configuration set's tag, and the ``bounce``/``complaint``/``delivery``/... object), and publishes
it to the topic of every enabled SNS event destination of the configuration set that matches the
event type. moto's SNS then delivers it to the subscribed queue, and the runtime's SQS mapping to
the function, as for any publication.

The caller chooses when: only after the send's invocation returned, since the email's message
item is written in the send's completion step (an event before that is retried by the function,
as in AWS, which the demo does not want to show).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr

from local import shapes
from local.outbox import SentEmail, sent_emails
from local.resources.base import Site

# The remote server answers a little after SES accepted the email.
ANSWER_DELAY = timedelta(seconds=2)


class NoDestination(RuntimeError):
    """No enabled event destination of the configuration set publishes this event type."""


@dataclass(frozen=True)
class Published:
    event_type: str
    topic_arns: tuple[str, ...]
    record: dict


def publish_delivery_event(
    site: Site,
    ses_message_id: str,
    event_type: str,
    *,
    bounce_type: str = "Permanent",
    bounce_subtype: str = "General",
    configuration_set: str | None = None,
    at: datetime | None = None,
) -> Published:
    """Publish the ``event_type`` record (Delivery, Bounce, Complaint, DeliveryDelay, Reject) for the
    email moto accepted as ``ses_message_id``, through the configuration set's event destinations
    (``configuration_set``: by default the assembly's only one)."""
    if event_type not in shapes.BUILDERS:
        raise ValueError(f"unknown event type {event_type!r}; known: {', '.join(shapes.BUILDERS)}")
    email = _sent(site, ses_message_id)
    name = configuration_set or _only_configuration_set(site)
    topics = tuple(
        d.topic_arn
        for d in site.inventory.event_destinations
        if d.configuration_set == name and d.enabled and event_type in d.event_types
    )
    if not topics:
        raise NoDestination(f"configuration set {name!r} has no enabled destination for {event_type} events")
    sent = datetime.now(UTC)  # moto keeps no send time; the email was accepted moments ago
    sender = shapes.Sender(
        source=parseaddr(str(email.message["From"] or ""))[1],
        account=site.account,
        region=site.region,
        configuration_set=name,
        subject=email.subject,
    )
    build = shapes.BUILDERS[event_type]
    when = at or sent + ANSWER_DELAY
    if event_type == "Bounce":
        record = build(ses_message_id, email.recipient, when, sent, bounce_type, bounce_subtype, sender)
    else:
        record = build(ses_message_id, email.recipient, when, sent, sender=sender)
    for topic in topics:
        site.client("sns").publish(TopicArn=topic, Message=json.dumps(record))
    return Published(event_type, topics, record)


def _sent(site: Site, ses_message_id: str) -> SentEmail:
    for email in sent_emails(site.region, site.locked(), site.account):
        if email.ses_id == ses_message_id:
            return email
    raise KeyError(f"SES accepted no email with message id {ses_message_id!r}")


def _only_configuration_set(site: Site) -> str:
    names = site.inventory.configuration_sets
    if len(names) != 1:
        raise NoDestination(f"pass configuration_set=: the assembly creates {len(names)} configuration sets")
    return names[0]
