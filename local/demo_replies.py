"""The replies part of ``make demo``: answers from real clients' emails, through SES receiving.

It runs when the synthesized stacks receive replies (a receipt rule set, the record reply
function). Each email is a fixture of tests/fixtures/replies/, shaped as the client sends it; it
arrives through the local runtime's emulation of SES receiving (stored in the bucket, notified on
the topic, delivered to the reply queue), and the record reply function's outcome line says what
became of it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from cisctl import ops
from infra.names import RECEIPT_RULE_NAME
from local import shapes
from local.assembly import ROOT
from local.resources import label
from local.samples import reply_mail
from local.sources.ses_receiving import as_sent

FIXTURES = ROOT / "tests" / "fixtures" / "replies"
LATER_ATTENDEES = [
    {"email": "carla@example.org", "name": "Carla Díaz"},
    {"email": "dan@example.net", "name": "Dan Müller"},
]


@dataclass(frozen=True)
class Reply:
    title: str
    fixture: str  # a file of FIXTURES, or what a built email is shaped like
    built: bytes = b""  # an email built here rather than a fixture

    @property
    def raw(self) -> bytes:
        if self.built:
            return self.built
        # The fixtures are stored as SES stored them: their inbound headers come off, SES adds its own.
        return as_sent((FIXTURES / self.fixture).read_bytes())


def built_reply(attendee: str, partstat: str, *, uid: str, rsvp: str, **client) -> bytes:
    """A REPLY to the weekly series, as a client sends it (sequence 1 was sent); Outlook's by default."""
    outlook = {"prodid": "-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN", "dtstamp": "20270320T090000Z"}
    client = {**outlook, **client}
    return reply_mail(attendee, partstat, uid=uid, sequence=1, rsvp=rsvp, summary="Weekly sync", **client)


def series_replies(uid: str, rsvp: str) -> tuple[Reply, ...]:
    """Answers to the weekly series, after one occurrence was moved (sequence 1 was sent)."""
    return (
        Reply(
            "Ben declines the moved occurrence only (Outlook's 'this event only': RECURRENCE-ID)",
            "built: a REPLY with RECURRENCE-ID",
            built_reply(
                "ben@example.org",
                "DECLINED",
                uid=uid,
                rsvp=rsvp,
                event_lines=("RECURRENCE-ID:20270330T073000Z",),
            ),
        ),
        Reply(
            "Chloé accepts the series through a Nextcloud server (From: its no-reply, Reply-To: Chloé)",
            "built: relayed as Nextcloud sends it",
            built_reply(  # as Nextcloud's IMipPlugin relays it
                "chloe@example.org",
                "ACCEPTED",
                uid=uid,
                rsvp=rsvp,
                sender="Nextcloud <no-reply@cloud.example.net>",
                headers={"Reply-To": "chloe@example.org"},
                prodid="-//Sabre//Sabre VObject 4.5.4//EN",
            ),
        ),
    )


REPLIES = (
    Reply("Ana accepts, from Gmail", "gmail-accepted.eml"),
    Reply("Ben declines, from Outlook", "outlook-declined.eml"),
    Reply("Carla accepts, from Apple Calendar (a saved .eml)", "apple-mail-accepted.eml"),
    Reply("Dan accepts, from Thunderbird", "thunderbird-accepted.eml"),
    Reply("Ana changes her mind: maybe (Gmail, a later DTSTAMP)", "gmail-tentative.eml"),
    Reply(
        "A decline in Ben's name from another address, Reply-To: Ben (relayed or forged)", "forged-reply.eml"
    ),
    Reply('A person writes back "running late" (no calendar)', "gmail-human-answer.eml"),
)


FORGED_TITLE = (
    "A forged notification on the reply queue: SES's shape, every verdict PASS, the inbound bucket,"
    " but not from the inbound topic"
)


def forged_notification(runtime) -> dict:
    """What any principal allowed to send to the reply queue could put there: a receipt notification
    as SES writes it, every verdict PASS, for the RSVP address, naming the inbound bucket and prefix,
    in an SNS envelope from another topic. The reply function dead-letters it with its reason
    before it reads anything from the bucket (lambdas/domain/inbound/origin.py)."""
    action = next(a["S3Action"] for rule in _rsvp_rules(runtime) for a in rule.actions if "S3Action" in a)
    prefix, at, forger = action.get("ObjectKeyPrefix", ""), datetime(2026, 11, 24, 12, tzinfo=UTC), "forged"
    mail = shapes.received_mail(forger, "ben@example.org", [rsvp_address(runtime)], at)
    verdicts = dict.fromkeys(shapes.VERDICTS, "PASS")
    notification = shapes.receipt_notification(
        mail, verdicts=verdicts, bucket=action["BucketName"], key=prefix + forger, prefix=prefix, at=at
    )
    topic = f"arn:aws:sns:{runtime.region}:{runtime.site.account}:not-the-inbound-topic"
    envelope = json.loads(shapes.sns_envelope(notification, topic_arn=topic))
    return {**envelope, "MessageId": forger, "Timestamp": shapes.iso(at)}  # the same report every run


def rsvp_address(runtime) -> str:
    """The address the stacks receive replies at (the receipt rule's recipient)."""
    recipients = [r for rule in _rsvp_rules(runtime) for r in rule.recipients]
    return recipients[0] if recipients else "rsvp@example.com"


def _rsvp_rules(runtime) -> list:
    """The RSVP address's receipt rule (with an event address the rule set has a second one)."""
    rules = runtime.inventory.receipt_rules
    return [rule for rule in rules if rule.name == RECEIPT_RULE_NAME] or rules


def receives_replies(runtime) -> bool:
    return bool(runtime.inventory.receipt_rules)


def outcome_lines(lines: list[dict]) -> list[str]:
    """What became of each answer in the record reply function's outcome lines."""
    described = []
    for line in lines:
        for answer in line.get("answers") or [line]:
            outcome = answer.get("outcome") or line.get("outcome")
            who = answer.get("attendee") or line.get("from") or "the notification"
            said = f" {answer['partstat']}" if answer.get("partstat") else ""
            method = answer.get("method")
            said += f" ({method})" if method and method != "REPLY" else ""
            errors = "; ".join(f"{e['field']}: {e['reason']}" for e in answer.get("errors") or ())
            reason = f": {answer.get('reason') or errors}" if answer.get("reason") or errors else ""
            described.append(f"{who}{said} -> {outcome}{reason}")
    return described


ANSWERS = (("ACCEPTED", "accepted"), ("DECLINED", "declined"), ("TENTATIVE", "maybe"))


def answer_lines(report: ops.EventReport) -> list[str]:
    """Who accepted, declined or said maybe, and who has not answered, from the table."""
    by_answer: dict[str, list[str]] = {}
    for item in report.attendees:
        by_answer.setdefault(str(item.partstat or "NEEDS-ACTION"), []).append(item.email)
    lines = []
    for partstat, word in (*ANSWERS, ("DELEGATED", "delegated"), ("NEEDS-ACTION", "no answer")):
        if by_answer.get(partstat):
            lines.append(f"  {word:<10} {', '.join(by_answer[partstat])}")
    event = report.event
    counts = [
        f"{event.replies_accepted} accepted",
        f"{event.replies_declined} declined",
        f"{event.replies_tentative} tentative",
    ]
    lines.append(f"  counted on the event: {', '.join(counts)}")
    return lines


def setup_lines(runtime) -> list[str]:
    """The inbound path as the runtime created it (nothing without one)."""
    queues = runtime.queues
    lines = [f"  bucket    {label(bucket.logical_id)}" for bucket in runtime.inventory.buckets.values()]
    for topic in runtime.inventory.topics.values():
        targets = [label(queues[arn].logical_id) for protocol, arn in topic.subscriptions if arn in queues]
        fed = f" -> {', '.join(targets)} (SNS envelope)" if targets else ""
        lines.append(f"  topic     {label(topic.logical_id)}{fed}")
    buckets = {name: label(b.logical_id) for name, b in runtime.inventory.buckets.items()}
    topics = {arn: label(t.logical_id) for arn, t in runtime.inventory.topics.items()}
    for rule in runtime.inventory.receipt_rules:
        for action in (a["S3Action"] for a in rule.actions if "S3Action" in a):
            bucket = buckets.get(action["BucketName"], action["BucketName"])
            where = f"{bucket} {action.get('ObjectKeyPrefix', '')}"
            notify = (
                f", notifies {topics.get(action['TopicArn'], action['TopicArn'])}"
                if action.get("TopicArn")
                else ""
            )
            lines.append(
                f"  receiving {', '.join(rule.recipients) or 'any recipient'}: rule {rule.name}"
                f" stores to {where.strip()}{notify}"
            )
    return lines
