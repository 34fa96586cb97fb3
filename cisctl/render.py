"""Plain-text views of an event and of the dead-letter queues (shared with the demo report)."""

from __future__ import annotations

import json

from cisctl.ops import DeadLetter, EventReport
from lambdas.domain.contract import Person
from lambdas.domain.items import AttendeeItem, EventItem
from lambdas.domain.message import describe_time
from lambdas.domain.organizer.decisions import CALENDAR_SOURCE, OrganizerRecord

BODY_PREVIEW = 120


def table(rows: list[list[str]], indent: str = "  ") -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        indent + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def event_lines(report: EventReport, *, show_times: bool = True) -> list[str]:
    event = report.event
    if event is None:
        lines = [f"Event {report.uid}: no event item (attendee items only)"]
    else:
        lines = [f"Event {report.uid}: {event.status or 'unknown'}"]
        fields = [
            ("Summary", event.summary),
            ("When", _when(event)),
            ("Repeats", event.rrule),
            ("Except", ", ".join(event.exdates)),
            ("Where", event.location),
            ("Organizer", _person(event.organizer)),
            ("Source", _source(report.organizer_record)),
            ("Sequence", _sequence(event)),
            (
                "Sent",
                f"{event.invites_sent} invites, {event.updates_sent} updates,"
                f" {event.cancellations_sent} cancellations",
            ),
            ("Answers", _answers(event)),
            ("Delivery", _delivery_counts(event)),
        ]
        if show_times:
            fields += [
                ("Created at", event.created_at),
                ("Updated at", event.updated_at),
                ("Cancelled at", event.cancelled_at),
            ]
        lines += [f"  {name:<10} {value}" for name, value in fields if value]
    if report.overrides:
        lines.append(f"Occurrences changed: {len(report.overrides)}")
        rows = [["OCCURRENCE", "NOW", "SEQUENCE"]]
        for item in report.overrides:
            now = "cancelled" if item.cancelled else f"{item.start} - {item.end} {item.summary}".rstrip()
            rows.append([item.occurrence, now, "" if item.sequence is None else str(item.sequence)])
        lines += table(rows)
    lines.append(f"Attendees: {len(report.attendees)}")
    if report.attendees:
        rows = [["EMAIL", "NAME", "STATUS", "SEQUENCE", "REPLY", "DELIVERY", "HISTORY"]]
        for item in report.attendees:
            rows.append(
                [
                    item.email,
                    item.name,
                    _attendee_status(item),
                    "" if item.sequence is None else str(item.sequence),
                    item.partstat or "",
                    delivery_text(item),
                    ", ".join(
                        f"{h.method} {h.sequence}" + (f" ({h.occurrence})" if h.occurrence else "")
                        for h in item.history
                    ),
                ]
            )
        lines += table(rows)
    lines += _occurrence_lines(report)
    lines += _unverified_lines(report.attendees)
    return lines


def _occurrence_lines(report: EventReport) -> list[str]:
    """The occurrences answered apart from the series: their counts, and each attendee whose answer
    for one occurrence differs from their answer for the series (docs/replies.md)."""
    lines: list[str] = []
    if report.occurrence_answers:
        lines.append(f"Answers per occurrence: {len(report.occurrence_answers)}")
        rows = [["OCCURRENCE", "ANSWERS"]]
        for item in report.occurrence_answers:
            counts = (item.replies_accepted, item.replies_declined, item.replies_tentative)
            text = _counts(counts, ("accepted", "declined", "tentative"))
            if item.replies_sequence is not None:
                text += f" (to sequence {item.replies_sequence})"
            rows.append([item.occurrence, text])
        lines += table(rows)
    differing = [
        (occurrence, item, reply)
        for item in report.attendees
        for occurrence, reply in sorted(item.occurrence_replies.items())
        if reply.partstat != item.partstat
    ]
    if differing:
        lines.append(f"Occurrences answered differently from the series: {len(differing)}")
        rows = [["OCCURRENCE", "EMAIL", "REPLY", "SERIES REPLY"]]
        for occurrence, item, reply in sorted(differing, key=lambda row: (row[0], row[1].email)):
            rows.append([occurrence, item.email, reply.partstat or "", item.partstat or "-"])
        lines += table(rows)
    return lines


def _unverified_lines(attendees: list[AttendeeItem]) -> list[str]:
    """Answers that may be the attendee's but are not proven (docs/replies.md, "Trust"): shown to
    the organizer, never in the counts."""
    kept = [item for item in attendees if item.unverified is not None]
    if not kept:
        return []
    lines = [f"Unverified answers (not counted): {len(kept)}"]
    rows = [["EMAIL", "REPLY", "OCCURRENCE", "WHY", "RELAYED BY", "DTSTAMP"]]
    for item in kept:
        answer = item.unverified
        rows.append(
            [
                item.email,
                answer.partstat or "",
                answer.occurrence or "series",
                answer.reason,
                answer.relayed_by or "-",
                answer.dtstamp,
            ]
        )
    return lines + table(rows)


def _when(event: EventItem) -> str:
    details = event.details()
    if details is None:
        return f"{event.start or '?'} - {event.end or '?'}"
    return describe_time(details.start, details.end, details.timezone)


def _person(person: Person | None) -> str:
    if person is None:
        return ""
    return f"{person.name} <{person.email}>" if person.name else person.email


def _source(record: OrganizerRecord | None) -> str:
    """Where the event came from; from a calendar, the organizer's UID and their last SEQUENCE
    (the attendees' copies carry the event's own Sequence, docs/organizer.md)."""
    if record is None or record.source != CALENDAR_SOURCE:
        return "the queue"
    sequence = "?" if record.organizer_sequence is None else record.organizer_sequence
    text = f"the organizer's calendar (UID {record.organizer_uid or '?'}, last SEQUENCE {sequence}"
    return text + (f", DTSTAMP {record.organizer_dtstamp})" if record.organizer_dtstamp else ")")


def _sequence(event: EventItem) -> str:
    text = "" if event.sequence is None else str(event.sequence)
    if event.cancelled_sequence is not None:
        text += f" (cancelled at sequence {event.cancelled_sequence})"
    return text


def _answers(event: EventItem) -> str:
    """Who currently holds each answer, and the version they answer (empty before any answer)."""
    counts = (event.replies_accepted, event.replies_declined, event.replies_tentative)
    shared = (event.shared_accepted, event.shared_declined, event.shared_tentative)
    if not any(counts + shared):
        return ""
    text = _counts(counts, ("accepted", "declined", "tentative"))
    if event.replies_sequence is not None:
        text += f" (to sequence {event.replies_sequence})"
    if any(shared):
        text += f"; from forwarded invitations: {_counts(shared, ('accepted', 'declined', 'tentative'))}"
    return text


def _delivery_counts(event: EventItem) -> str:
    counts = (event.delivered, event.bounced, event.complained)
    return _counts(counts, ("delivered", "bounced", "complained")) if any(counts) else ""


def _counts(counts: tuple[int, ...], names: tuple[str, ...]) -> str:
    return ", ".join(f"{count} {name}" for count, name in zip(counts, names, strict=True))


def delivery_text(item: AttendeeItem) -> str:
    """What SES last told about the attendee's email: ``bounced Permanent/General, suppressed``."""
    delivery = item.delivery
    text = delivery.state.value if delivery is not None and delivery.state is not None else "-"
    if delivery is not None and delivery.bounce_type is not None:
        text += f" {delivery.bounce_type.value}" + (
            f"/{delivery.bounce_subtype}" if delivery.bounce_subtype else ""
        )
    if item.suppressed is not None:
        text += ", suppressed"
    return text


def suppressed_lines(uid: str, attendees: list[AttendeeItem]) -> list[str]:
    if not attendees:
        return [f"Suppressed attendees of {uid}: none"]
    lines = [f"Suppressed attendees of {uid}: {len(attendees)} (nothing more is sent to them)"]
    rows = [["EMAIL", "REASON", "SINCE", "SES MESSAGE", "DETAIL"]]
    for item in attendees:
        suppression = item.suppressed
        reason = suppression.reason.value if suppression.reason is not None else "?"
        rows.append([item.email, reason, suppression.at, suppression.message_id, suppression.detail])
    return lines + table(rows)


def _attendee_status(item: AttendeeItem) -> str:
    status = item.status or ""
    if item.pending:
        status = f"{status} (sending {item.pending.method or ''})".strip()
    return status or "-"


def dead_letter_lines(
    kind: str, queue_url: str, letters: list[DeadLetter], *, show_ids: bool = True
) -> list[str]:
    name = queue_url.rstrip("/").rpartition("/")[2]
    count = f"{len(letters)} message{'s' if len(letters) != 1 else ''}"
    lines = [f"{kind} DLQ ({name}): {count}"]
    for index, letter in enumerate(letters, 1):
        if letter.reason is not None:
            lines.append(f"  {index}. reason: {letter.reason}")
        else:
            lines.append(f"  {index}. reason: none given; moved here by the redrive policy (maxReceiveCount)")
        if show_ids:
            origin = f", rejected message {letter.source_message_id}" if letter.source_message_id else ""
            sent = f", dead-lettered {letter.sent_at:%Y-%m-%d %H:%M:%SZ}" if letter.sent_at else ""
            lines.append(f"     id:     {letter.message_id}{origin}{sent}")
        if letter.summary:
            lines.append(f"     about:  {letter.summary}")
        lines.append(f"     body:   {_preview(letter.body)}")
    return lines


def _preview(body: str) -> str:
    try:
        text = json.dumps(json.loads(body), ensure_ascii=False)
    except ValueError:
        text = body
    return text if len(text) <= BODY_PREVIEW else text[: BODY_PREVIEW - 3] + "..."
