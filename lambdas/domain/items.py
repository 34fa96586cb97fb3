"""The table's items as typed, immutable values, read leniently from what is stored.

What was valid when it was written stays readable: a missing attribute takes its default; an
attribute of another type than expected, or an enum value this version does not know, reads as
the default too (``None`` for the enums); attributes the model does not declare are ignored.
Reading never raises. The key attributes are not part of the model: ``lambdas/domain/keys.py``
is the one place that knows them, and the store passes the uid (and address) it read them from.

Adding a field is one line, its declaration: the annotation says how it is read (``str``,
``int``, ``float``, ``bool``, a ``StrEnum``, another dataclass such as ``Pending``, a
``tuple[X, ...]`` of those, a ``dict[str, X]`` map of them, or ``X | None``), and the default is
what a missing value reads as.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lambdas.domain.events import EventDetails, Person
from lambdas.domain.frozen import frozen
from lambdas.domain.vocabulary import (
    AttendeeStatus,
    BounceType,
    DeliveryState,
    EventStatus,
    Method,
    Origin,
    PartStat,
)

if TYPE_CHECKING:
    from lambdas.domain.series import Override  # built by OverrideItem.override, for series only

T = TypeVar("T")

# ----------------------------------------------------------------------------------- bounds
# Every attribute that grows as time goes by has one cap, here; the writes that grow it enforce it
# (the requests of lambdas/adapters/*_expressions.py), and docs/data-model.md ("Bounds") adds
# up the worst-case item size they allow. DynamoDB refuses any write that would take an item past
# 400 KB, so an item without bounds would, one day, refuse every send to its attendee.

# ``history``: the most recent entries. A send that finds it full first drops the oldest, down to
# HISTORY_KEEP (one extra write every HISTORY_CAP - HISTORY_KEEP sends, not one per send); an
# answer that finds it full is not logged there (its own attributes still record it).
HISTORY_CAP = 100
HISTORY_KEEP = 50
HISTORY_COMMENT_CAP = 200  # characters of an answer's COMMENT in its entry (reply_comment keeps 2000)
HISTORY_DELEGATES_CAP = 2  # DELEGATED-TO addresses in an entry (each cut to an address's 254)
# ``counted_feedback``: the most recent count keys. It only has to know an email while a copy of
# its feedback can still arrive: after MESSAGE_RETENTION its message item is gone (or read as gone)
# and no feedback on it counts. 200 keys are 100 emails' delivery and bounce or complaint, far more
# than an attendee is sent within the retention in any real series.
COUNTED_FEEDBACK_CAP = 200
# ``refreshed``: REFRESH requests answered per attendee, ever (each one sends an email).
REFRESHED_CAP = 5

# Message items expire: DynamoDB's TTL deletes them (lazily, within days) after MESSAGE_RETENTION,
# and readers treat one past its time as gone. SES publishes feedback within days of a send, a
# feedback record then lives at most 14 days in its queue and DLQ (infra/tuning.py, DLQ_RETENTION,
# counted from its first enqueue): 45 days covers both with a fortnight to spare.
MESSAGE_EXPIRY_ATTRIBUTE = "expires_at"  # epoch seconds, the table's TTL attribute
MESSAGE_RETENTION = timedelta(days=45)


def message_expiry(sent_at: str) -> int:
    """When a message item sent at ``sent_at`` (ISO 8601) expires, in epoch seconds."""
    sent = datetime.fromisoformat(sent_at)
    if sent.tzinfo is None:
        sent = sent.replace(tzinfo=UTC)
    return int((sent + MESSAGE_RETENTION).timestamp())


@frozen
class Pending:
    """A claim on an attendee: an email is being sent (see docs/idempotency.md)."""

    method: Method | None = None
    sequence: int | None = None  # REQUEST claims only
    token: str = ""
    since: float = 0.0  # epoch seconds


@frozen
class HistoryEntry:
    """One entry of an attendee's history: an email that left through SES, or an answer received
    (REPLY, COUNTER; ``message_id`` is then the inbound mail's SES message id)."""

    method: Method | None = None
    sequence: int | None = None
    at: str = ""  # ISO 8601 UTC
    message_id: str = ""
    occurrence: str = ""  # one occurrence of a series (its original start, ISO 8601 UTC)
    partstat: PartStat | None = None  # REPLY
    dtstamp: str = ""  # REPLY, COUNTER: the answer's DTSTAMP
    prodid: str = ""  # REPLY: the client's PRODID
    comment: str = ""  # REPLY, COUNTER
    delegated_to: tuple[str, ...] = ()  # REPLY with PARTSTAT=DELEGATED
    refresh_of: str = ""  # a REQUEST sent again for a REFRESH: the inbound mail's SES message id


@frozen
class Proposal:
    """What a COUNTER proposes (values as the attendee sent them, ISO 8601 for times)."""

    start: str = ""
    end: str = ""
    summary: str = ""
    location: str = ""


@frozen
class CounterProposal:
    """The attendee's latest COUNTER, kept for the organizer (docs/replies.md, "Recording")."""

    proposed: Proposal | None = None
    sequence: int | None = None
    dtstamp: str = ""
    comment: str = ""
    at: str = ""  # when it was recorded
    message_id: str = ""  # the inbound mail's SES message id


@frozen
class UnverifiedAnswer:
    """The latest answer that may be the attendee's but is not proven to be (relayed mail, DMARC
    FAIL under p=none: docs/replies.md, "Trust"). Shown to the organizer, never counted."""

    partstat: PartStat | None = None
    reason: str = ""  # trust.RELAYED, trust.DMARC_FAIL_POLICY_NONE
    relayed_by: str = ""  # the From: address of relayed mail
    occurrence: str = ""  # RECURRENCE-ID of an answer for one occurrence, "" for the series
    sequence: int | None = None
    dtstamp: str = ""
    comment: str = ""
    at: str = ""  # when it was recorded
    message_id: str = ""  # the inbound mail's SES message id


@frozen
class OccurrenceReply:
    """An attendee's answer for one occurrence of a series (a REPLY with RECURRENCE-ID); the
    series answer stays in the attendee's own attributes (docs/replies.md, "Answers per occurrence")."""

    partstat: PartStat | None = None
    sequence: int | None = None  # the version it answers, as reply_sequence
    dtstamp: str = ""
    at: str = ""
    message_id: str = ""  # the inbound mail's SES message id
    comment: str = ""
    counted_as: str = ""  # the occurrence's counter this answer adds one to
    counted_sequence: int | None = None


@frozen
class RefreshClaim:
    """A REFRESH being answered: the inbound mail it answers, like ``Pending`` for an invitation."""

    message_id: str = ""
    token: str = ""
    since: float = 0.0  # epoch seconds


@frozen
class Delivery:
    """What SES last told about the attendee's email: the newest feedback event (docs/feedback.md)."""

    state: DeliveryState | None = None
    at: str = ""  # the feedback event's own time, feedback.event_time's format: compared as text
    message_id: str = ""  # the SES message it is about
    bounce_type: BounceType | None = None
    bounce_subtype: str = ""  # SES's, e.g. General, NoEmail, MailboxFull, OnAccountSuppressionList
    diagnostic: str = ""  # the remote server's answer, the complaint type, the reject reason


@frozen
class Suppression:
    """The address hard-bounced or complained: nothing more is sent to it (docs/feedback.md)."""

    reason: DeliveryState | None = None  # BOUNCED (Permanent) or COMPLAINED
    at: str = ""
    message_id: str = ""
    detail: str = ""  # bounce type/subtype and diagnostic, or the complaint's feedback type


@frozen
class AttendeeItem:
    uid: str
    email: str  # as last sent; the key holds it lower-cased
    name: str = ""
    status: AttendeeStatus | None = None  # None: claimed, never recorded as sent
    partstat: PartStat | None = None
    sequence: int | None = None  # the highest sequence sent to this attendee
    sent_at: str = ""
    invited_at: str = ""
    cancelled_at: str = ""
    message_id: str = ""
    history: tuple[HistoryEntry, ...] = ()
    pending: Pending | None = None
    # The answer, written by record reply (docs/replies.md, "Recording"); None/"" before one.
    origin: Origin | None = None  # SHARED: answered a forwarded invitation; None: invited
    reply_sequence: int | None = None  # the version answered
    reply_dtstamp: str = ""
    replied_at: str = ""
    reply_prodid: str = ""
    reply_comment: str = ""
    reply_message_id: str = ""
    reply_version: int | None = None  # answers recorded: what each answer's write conditions on
    counted_as: str = ""  # the event counter this attendee adds one to
    counted_sequence: int | None = None  # the version at which it does
    counter: CounterProposal | None = None
    refresh_pending: RefreshClaim | None = None
    refreshed: tuple[str, ...] = ()  # the inbound mails whose REFRESH was answered
    delivery: Delivery | None = None  # the newest SES feedback on an email to this attendee
    suppressed: Suppression | None = None  # set once, by the first suppressing feedback
    counted_feedback: tuple[str, ...] = ()  # "<counter>#<ses message id>": each email counted once
    unverified: UnverifiedAnswer | None = None  # the latest unproven answer, kept apart from partstat
    # Answers for single occurrences of a series, by occurrence (its original start, as in the key).
    occurrence_replies: dict[str, OccurrenceReply] = dataclasses.field(default_factory=dict)
    # Occurrences this attendee alone was removed from: every later REQUEST carries them as EXDATEs.
    excluded_occurrences: tuple[str, ...] = ()

    @property
    def person(self) -> Person:
        return Person(email=self.email, name=self.name)

    @classmethod
    def read(cls, stored: Mapping[str, Any], *, uid: str, email: str) -> AttendeeItem:
        """``email`` (from the key) is used when the item has no address of its own."""
        return read(cls, stored, uid=uid, email=email)


@frozen
class EventItem:
    uid: str
    status: EventStatus | None = None
    sequence: int | None = None  # the sequence whose details are stored
    # The details, in contract form (EventDetails.as_dict): enough to cancel from the uid alone.
    summary: str = ""
    description: str = ""
    location: str = ""
    start: str = ""
    end: str = ""
    timezone: str = ""
    organizer: Person | None = None
    rrule: str = ""  # a series: its rule and the starts it leaves out (contract form)
    exdates: tuple[str, ...] = ()
    invites_sent: int = 0
    updates_sent: int = 0
    cancellations_sent: int = 0
    cancelled_sequence: int | None = None  # invites at or below it are stale
    delivered: int = 0  # emails of this event SES delivered (feedback)
    bounced: int = 0  # emails of this event that bounced, for good or not
    complained: int = 0  # emails of this event reported as spam
    created_at: str = ""
    updated_at: str = ""
    cancelled_at: str = ""
    # Answers (record reply): attendees whose current answer to version ``replies_sequence`` is it.
    replies_sequence: int | None = None
    replies_accepted: int = 0
    replies_declined: int = 0
    replies_tentative: int = 0
    shared_accepted: int = 0  # the same for answers to forwarded invitations
    shared_declined: int = 0
    shared_tentative: int = 0
    # An event run from the organizer's calendar (follow organizer): the attendees that calendar
    # invites itself. The server sends them nothing: one meeting, one copy in their calendar.
    organizer_attendees: tuple[str, ...] = ()

    @property
    def is_cancelled(self) -> bool:
        return self.status is EventStatus.CANCELLED

    def invited_by_organizer(self, email: str) -> bool:
        return email.casefold() in {address.casefold() for address in self.organizer_attendees}

    @classmethod
    def read(cls, stored: Mapping[str, Any], *, uid: str) -> EventItem:
        return read(cls, stored, uid=uid)

    def details(self) -> EventDetails | None:
        """The stored details as the emails need them, or None when too little was stored.

        Deliberately not the input validator: the details were valid under the rules of the day
        they were written (a name with a backslash, say), and must stay usable to cancel.
        """
        start, end = stored_time(self.start, self.timezone), stored_time(self.end, self.timezone)
        if not (self.summary and self.organizer and self.organizer.email) or start is None or end is None:
            return None
        if isinstance(start, datetime) != isinstance(end, datetime):
            return None
        exdates = tuple(t for t in (stored_time(x, self.timezone) for x in self.exdates) if t is not None)
        return EventDetails(
            rrule=self.rrule,
            exdates=exdates,
            uid=self.uid,
            sequence=self.sequence or 0,
            summary=self.summary,
            start=start,
            end=end,
            organizer=self.organizer,
            description=self.description,
            location=self.location,
            timezone=self.timezone if _zone(self.timezone) else "",
        )


@frozen
class OverrideItem:
    """One occurrence of a series, changed or cancelled (its own item: see keys.occurrence_key)."""

    uid: str
    occurrence: str  # the original start, ISO 8601 (UTC for a date-time)
    sequence: int | None = None  # the sequence it was changed or cancelled at
    start: str = ""
    end: str = ""
    summary: str = ""
    description: str = ""
    location: str = ""
    cancelled: bool = False

    @classmethod
    def read(cls, stored: Mapping[str, Any], *, uid: str, occurrence: str) -> OverrideItem:
        return read(cls, stored, uid=uid, occurrence=occurrence)

    def occurrence_time(self, timezone: str) -> date | datetime | None:
        return stored_time(self.occurrence, timezone)

    def override(self, timezone: str) -> Override | None:
        """The change as the calendar writes it, or None (cancelled, or too little stored)."""
        occurrence = self.occurrence_time(timezone)
        start, end = stored_time(self.start, timezone), stored_time(self.end, timezone)
        if self.cancelled or None in (occurrence, start, end) or self.sequence is None:
            return None
        summary, description, location = self.summary or None, self.description, self.location
        from lambdas.domain.series import Override

        return Override(occurrence, start, end, self.sequence, summary, description, location)


def occurrence_text(value: date | datetime) -> str:
    """The stored (and key) form of an occurrence's original start."""
    return value.astimezone(UTC).isoformat() if isinstance(value, datetime) else value.isoformat()


@frozen
class OccurrenceAnswersItem:
    """The counts of the answers for one occurrence of a series, like the event's ``replies_*``:
    invited attendees whose current answer for it, to version ``replies_sequence``, is that answer."""

    uid: str
    occurrence: str
    replies_sequence: int | None = None
    replies_accepted: int = 0
    replies_declined: int = 0
    replies_tentative: int = 0

    @classmethod
    def read(cls, stored: Mapping[str, Any], *, uid: str, occurrence: str) -> OccurrenceAnswersItem:
        return read(cls, stored, uid=uid, occurrence=occurrence)


@frozen
class MessageItem:
    """One sent email, by its SES message id: where its feedback belongs (docs/feedback.md)."""

    message_id: str
    uid: str = ""
    email: str = ""
    sent_at: str = ""
    expires_at: int = 0  # MESSAGE_EXPIRY_ATTRIBUTE, epoch seconds; 0: written before items expired

    @classmethod
    def read(cls, stored: Mapping[str, Any], *, message_id: str) -> MessageItem:
        return read(cls, stored, message_id=message_id)

    def expired(self, now: datetime) -> bool:
        """Past its time: DynamoDB deletes such an item lazily (within days), so it may still be
        read; it is then treated as gone, the same before and after the deletion."""
        expiry = self.expires_at or _legacy_expiry(self.sent_at)
        return 0 < expiry <= now.timestamp()


def _legacy_expiry(sent_at: str) -> int:
    """A message item written before items expired has no expiry: the same retention, from its send."""
    try:
        return message_expiry(sent_at) if sent_at else 0
    except ValueError:
        return 0


def as_dict(item: Any) -> dict[str, Any]:
    """A plain, JSON-ready view of an item (enums are strings, tuples lists)."""
    return dataclasses.asdict(item)


# ----------------------------------------------------------------------------------- reading


def read(cls: type[T], stored: Mapping[str, Any], **known: Any) -> T:
    """An instance of the dataclass ``cls`` from a stored mapping; ``known`` fills what is missing."""
    values = dict(known)
    for name, reader in _readers(cls):
        if name in stored:
            value = reader(stored[name])
            if value is not _UNREADABLE:
                values[name] = value
    return cls(**values)


class _Unreadable:
    pass


_UNREADABLE: Any = _Unreadable()
Reader = Callable[[Any], Any]


@cache
def _readers(cls: type) -> tuple[tuple[str, Reader], ...]:
    hints = typing.get_type_hints(cls)
    return tuple((f.name, _reader(hints[f.name])) for f in dataclasses.fields(cls) if f.init)


def _reader(hint: Any) -> Reader:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        (inner,) = [arg for arg in args if arg is not type(None)]
        return _reader(inner)  # None is the default of such fields, never read
    if origin is dict:  # str keys
        value = _reader(args[1])
        return lambda raw: (
            {str(k): v for k, v in ((k, value(v)) for k, v in raw.items()) if v is not _UNREADABLE}
            if isinstance(raw, Mapping)
            else _UNREADABLE
        )
    if origin is tuple:
        item = _reader(args[0])
        return lambda raw: (
            tuple(v for v in map(item, raw) if v is not _UNREADABLE) if isinstance(raw, list) else _UNREADABLE
        )
    if isinstance(hint, type) and issubclass(hint, StrEnum):
        return lambda raw: hint(raw) if raw in hint._value2member_map_ else _UNREADABLE
    if dataclasses.is_dataclass(hint):
        return lambda raw: _nested(hint, raw)
    if hint is float:
        return lambda raw: float(raw) if _is_number(raw) else _UNREADABLE
    if hint is int:
        return lambda raw: raw if _is_number(raw) and isinstance(raw, int) else _UNREADABLE
    return lambda raw: raw if isinstance(raw, hint) else _UNREADABLE


def _is_number(raw: Any) -> bool:
    return isinstance(raw, int | float) and not isinstance(raw, bool)


def _nested(cls: type, raw: Any) -> Any:
    if not isinstance(raw, Mapping):
        return _UNREADABLE
    try:
        return read(cls, raw)
    except TypeError:  # a required field (Person.email) is missing or unreadable
        return _UNREADABLE


_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


def stored_time(raw: str, timezone: str) -> date | datetime | None:
    try:
        if _DATE_ONLY.fullmatch(raw):
            return date.fromisoformat(raw)
        value = datetime.fromisoformat(raw)
    except ValueError:
        return None
    zone = _zone(timezone)
    if value.tzinfo is None:
        return value.replace(tzinfo=zone or UTC)
    # In the event's zone, so that a series stored with an offset recurs at its local time.
    return value.astimezone(zone) if zone else value


def _zone(name: str) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None
