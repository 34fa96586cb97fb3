"""The delivery feedback part of ``make demo``: what SES tells after it accepted an invitation.

It runs when the synthesized stacks publish delivery feedback (a configuration set with an SNS
event destination, the record feedback function). moto delivers no mail, so the local runtime
publishes the configuration set's events itself (local/sources/ses_feedback.py), in the shape SES
documents, for the invitation each step names: one delivered, one hard bounce, one complaint. The
update that follows is then not sent to the bounced and the complained addresses (``suppressed``).
"""

from __future__ import annotations

from dataclasses import dataclass

from local.resources import label


@dataclass(frozen=True)
class Feedback:
    title: str
    recipient: str  # whose latest email of the event SES tells about
    event_type: str  # Delivery, Bounce, Complaint...
    bounce_type: str = ""  # Bounce only: Permanent, Transient

    @property
    def described(self) -> str:
        return f"{self.event_type} {self.bounce_type}".strip()


FEEDBACK = (
    Feedback("Ana's invitation is delivered", "ana@example.org", "Delivery"),
    Feedback("Chloé's address does not exist: a hard bounce", "chloe@example.org", "Bounce", "Permanent"),
    Feedback("Dan reports the invitation as spam: a complaint", "dan@example.net", "Complaint"),
)


def publishes_feedback(runtime) -> bool:
    return bool(runtime.inventory.event_destinations)


def publish(runtime, feedback: Feedback, uid: str) -> None:
    """The event for the latest email of event ``uid`` to the feedback's recipient."""
    sent = [e for e in runtime.sent_emails() if e.recipient == feedback.recipient and e.uid == uid]
    if not sent:
        raise LookupError(f"no email of {uid} was sent to {feedback.recipient}")
    details = {"bounce_type": feedback.bounce_type} if feedback.bounce_type else {}
    runtime.publish_delivery_event(sent[-1].ses_id, feedback.event_type, **details)


def setup_lines(runtime) -> list[str]:
    """The configuration set and where its events go (nothing without one)."""
    topics = {arn: label(t.logical_id) for arn, t in runtime.inventory.topics.items()}
    lines = []
    for destination in runtime.inventory.event_destinations:
        kinds = ", ".join(sorted(destination.event_types))
        topic = topics.get(destination.topic_arn, destination.topic_arn)
        lines.append(
            f"  sending   configuration set {destination.configuration_set}: {kinds} events to {topic}"
        )
    return lines
