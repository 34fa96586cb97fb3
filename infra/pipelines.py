"""The pipelines, as data: one row per function, each fed by its own SQS work queue.

The workers stack builds every worker, role grant, topic subscription and output by iterating
`PIPELINES`; infra/names.py derives the output tables from it; cisctl finds, lists and redrives
every queue by it; the infrastructure tests check each row against the synthesized template.
A fifth function is one more row here plus its handler package under lambdas/ (docs/architecture.md,
"Adding a function").

Plain data on purpose: cisctl imports this module, and importing it must not import the CDK. The
stack resolves the `TableAccess` and the symbolic `Grant`, `Feed` and `Setting` values to
constructs.

What every row gets without asking, because every pipeline needs it (`QueueWorker`): its work
queue and DLQ (redrive after `tuning.MAX_RECEIVE_COUNT` receives), the function with its own role
and log group, the event source mapping (batch item failures reported), sending invalid input to
its own DLQ, and the DLQ depth alarm, described by the row's `description`: a message in any DLQ
needs a human, so no row can opt out of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from lambdas.domain.keys import EVENT_PREFIX, MESSAGE_PREFIX


class Grant(Enum):
    """What a function's role may do beyond what every worker may and its `TableAccess`
    (infra/constructs/permissions.py)."""

    # SES sending as the sender, through its identities and the configuration set, paced at the
    # account's rate shared by every sending instance; without `sesMaxSendRate` configured, it
    # includes reading the account's sending quota (ses:GetAccount), which pacing then needs.
    SEND_EMAIL = "send email"
    # s3:GetObject on the raw mail SES receiving stored in the inbound bucket, under the key prefix
    # of the receipt rule that feeds the row (its `feed`), and nowhere else in the bucket.
    READ_INBOUND_MAIL = "read inbound mail"
    # SES sending as the event address (`eventEmail`), not as the sender: the answers to an
    # organizer's calendar come from the address it invited. Paced like SEND_EMAIL.
    SEND_AS_EVENT_ADDRESS = "send email as the event address"
    # sqs:SendMessage onto the invite and cancellation work queues: an organizer's change reaches
    # the attendees as the requests a producer would enqueue (docs/organizer.md, "Fan-out").
    ENQUEUE_SENDS = "enqueue invites and cancellations"


@dataclass(frozen=True)
class TableAccess:
    """What a function may do on the table: two statements, one to read and one to write.

    `reads` and `writes` are DynamoDB actions (TransactGetItems and TransactWriteItems are
    authorised per item, as GetItem, UpdateItem and ConditionCheckItem; the condition check
    belongs with the writes it guards). Each statement is held to the partitions named, by the
    prefix of their partition key (`dynamodb:LeadingKeys`, prefixes from lambdas/domain/keys.py):
    event items and the items under them are `event#<uid>`, message items `message#<SES id>`.
    tests/infra/test_role_covers_code.py checks the actions against what the code can call.
    """

    reads: tuple[str, ...]
    writes: tuple[str, ...]
    read_partitions: tuple[str, ...]
    write_partitions: tuple[str, ...]


# Both send functions read their event's items, claim and record attendees (a claim of an invite
# is checked against the event item in the same transaction) and record each email's message item.
SEND_TABLE_ACCESS = TableAccess(
    reads=("GetItem", "Query"),
    writes=("UpdateItem", "ConditionCheckItem"),
    read_partitions=(EVENT_PREFIX,),
    write_partitions=(EVENT_PREFIX, MESSAGE_PREFIX),
)


class Feed(Enum):
    """What puts messages on a pipeline's work queue."""

    # Producers send requests straight to the queue (an application, `cisctl invite`/`cancel`).
    PRODUCERS = "producers"
    # The SES configuration set's event destination topic, in its SNS envelope.
    DELIVERY_FEEDBACK = "delivery feedback topic"
    # The inbound topic SES receiving notifies, in its SNS envelope; it exists only with the
    # `receiveReplies` context switch on, so a pipeline it feeds exists only then too. Its function
    # is told the receipt origin (the topic's ARN, the bucket, the key prefix) and dead-letters any
    # notification naming another, unread (docs/replies.md, "The notification").
    INBOUND_MAIL = "inbound mail topic"
    # The topic of the event address's receipt rule (its own, so the origin check stays one topic,
    # one bucket prefix, one recipient); it exists only with `receiveReplies` on and an `eventEmail`.
    ORGANIZER_MAIL = "organizer mail topic"


class Setting(Enum):
    """A context value a function is told, when it is configured (docs/deployment.md)."""

    TRUSTED_RELAY_DOMAINS = "trustedRelayDomains"
    ALLOWED_ORGANIZERS = "allowedOrganizers"


# The context switch without which the inbound mail path, and the pipelines it feeds, do not exist.
RECEIVE_REPLIES_SWITCH = "receiveReplies"
# The context key without which the event address's receipt rule, and the pipeline it feeds, do not exist.
EVENT_EMAIL_KEY = "eventEmail"


@dataclass(frozen=True)
class Pipeline:
    """One function and the queue that feeds it.

    `kind` is how people and cisctl name it (`cisctl dlq --queue KIND`); `construct_id` is the
    worker's construct id in the workers stack, which its resources' logical IDs derive from (a
    new id replaces the queues); `label` starts its outputs' descriptions. `handler` is the
    Lambda handler path ("<module>.<function>") inside the function asset, a string so that
    synthesis never imports the function code. `table`: what its role may read and write in the
    table, and where. `fans_out`: the function splits a request into one message per attendee on
    its own work queue.
    """

    kind: str
    construct_id: str
    label: str
    description: str
    handler: str
    table: TableAccess
    grants: tuple[Grant, ...]
    fans_out: bool
    feed: Feed
    queue_output: str
    dlq_output: str
    settings: tuple[Setting, ...] = ()

    @property
    def sends_email(self) -> bool:
        return Grant.SEND_EMAIL in self.grants or Grant.SEND_AS_EVENT_ADDRESS in self.grants

    @property
    def puts_back(self) -> bool:
        """A function that sends email puts a send SES throttled back on its own work queue
        (docs/idempotency.md, "Throttling"), so it may send onto that queue."""
        return self.sends_email

    @property
    def needs_replies(self) -> bool:
        """Whether the pipeline exists only with `receiveReplies` on (it needs the inbound path)."""
        return self.feed in (Feed.INBOUND_MAIL, Feed.ORGANIZER_MAIL) or Grant.READ_INBOUND_MAIL in self.grants

    @property
    def needs_event_address(self) -> bool:
        """Whether the pipeline exists only with an event address configured (`eventEmail`)."""
        return self.feed is Feed.ORGANIZER_MAIL

    @property
    def outputs(self) -> tuple[str, str]:
        """The stack output keys of its work queue and its dead-letter queue."""
        return self.queue_output, self.dlq_output


PIPELINES: tuple[Pipeline, ...] = (
    # Both send functions claim attendees in the table, send through SES, and fan a request out
    # into one message per attendee on their own queue.
    Pipeline(
        kind="invite",
        construct_id="InviteWorker",
        label="Invite",
        description="Sends calendar invitations",
        handler="lambdas.send_invite.handler.lambda_handler",
        table=SEND_TABLE_ACCESS,
        grants=(Grant.SEND_EMAIL,),
        fans_out=True,
        feed=Feed.PRODUCERS,
        queue_output="InviteQueueUrl",
        dlq_output="InviteDlqUrl",
    ),
    Pipeline(
        kind="cancellation",
        construct_id="CancellationWorker",
        label="Cancellation",
        description="Sends calendar cancellations",
        handler="lambdas.send_cancellation.handler.lambda_handler",
        # Its transactions (uncounting a removed attendee's answer) check nothing apart.
        table=TableAccess(
            reads=("GetItem", "Query"),
            writes=("UpdateItem",),
            read_partitions=(EVENT_PREFIX,),
            write_partitions=(EVENT_PREFIX, MESSAGE_PREFIX),
        ),
        grants=(Grant.SEND_EMAIL,),
        fans_out=True,
        feed=Feed.PRODUCERS,
        queue_output="CancellationQueueUrl",
        dlq_output="CancellationDlqUrl",
    ),
    # It records answers in the table, re-sends the current invitation for a REFRESH through SES,
    # and reads the raw mail each notification points at; it never fans out.
    Pipeline(
        kind="reply",
        construct_id="ReplyWorker",
        label="Reply",
        description="Records attendees' replies",
        handler="lambdas.record_reply.handler.lambda_handler",
        # A REFRESH re-sent records its email's message item, as the send functions do.
        table=SEND_TABLE_ACCESS,
        grants=(Grant.SEND_EMAIL, Grant.READ_INBOUND_MAIL),
        fans_out=False,
        feed=Feed.INBOUND_MAIL,
        queue_output="ReplyQueueUrl",
        dlq_output="ReplyDlqUrl",
        # answers relayed by these count as verified (docs/replies.md)
        settings=(Setting.TRUSTED_RELAY_DOMAINS,),
    ),
    # It records what SES reports on each send in the table; it sends no email and never fans out.
    Pipeline(
        kind="feedback",
        construct_id="FeedbackWorker",
        label="Feedback",
        description="Records SES delivery feedback",
        handler="lambdas.record_feedback.handler.lambda_handler",
        # It finds the attendee by the message item and writes the attendee and event items only:
        # it cannot rewrite which attendee an email's feedback belongs to.
        table=TableAccess(
            reads=("GetItem",),
            writes=("UpdateItem",),
            read_partitions=(EVENT_PREFIX, MESSAGE_PREFIX),
            write_partitions=(EVENT_PREFIX,),
        ),
        grants=(),
        fans_out=False,
        feed=Feed.DELIVERY_FEEDBACK,
        queue_output="FeedbackQueueUrl",
        dlq_output="FeedbackDlqUrl",
    ),
    # Events run from the organizer's own calendar (docs/organizer.md): it reads what an organizer mails
    # the event address, stores the event, answers the organizer as the event address, and hands each
    # change to the send functions as the requests a producer would enqueue; it never fans out itself.
    Pipeline(
        kind="organizer",
        construct_id="OrganizerWorker",
        label="Organizer",
        description="Follows organizers' calendars",
        handler="lambdas.follow_organizer.handler.lambda_handler",
        # It reads the event, its attendees and its occurrences, and writes the event item and its
        # occurrences (one transaction, nothing to check apart); never a message item.
        table=TableAccess(
            reads=("GetItem", "Query"),
            writes=("UpdateItem",),
            read_partitions=(EVENT_PREFIX,),
            write_partitions=(EVENT_PREFIX,),
        ),
        grants=(Grant.SEND_AS_EVENT_ADDRESS, Grant.READ_INBOUND_MAIL, Grant.ENQUEUE_SENDS),
        fans_out=False,
        feed=Feed.ORGANIZER_MAIL,
        queue_output="OrganizerQueueUrl",
        dlq_output="OrganizerDlqUrl",
        settings=(Setting.ALLOWED_ORGANIZERS,),
    ),
)


PIPELINE_BY_KIND: dict[str, Pipeline] = {pipeline.kind: pipeline for pipeline in PIPELINES}


def deployed(*, receive_replies: bool, event_address: bool = False) -> tuple[Pipeline, ...]:
    """The pipelines a stack has, in declaration order: the inbound ones only when replies are
    received, the organizer's only when an event address is configured as well."""
    return tuple(
        pipeline
        for pipeline in PIPELINES
        if (receive_replies or not pipeline.needs_replies)
        and (event_address or not pipeline.needs_event_address)
    )
