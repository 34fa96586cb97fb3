"""Plain-text views of an event and of the dead-letter queues (shared with the demo report)."""

from __future__ import annotations

import json
from typing import Any

from cisctl.ops import DeadLetter, EventStatus
from lambdas.domain.contract import InvalidRequest, event_from_dict
from lambdas.domain.message import describe_time

BODY_PREVIEW = 120


def table(rows: list[list[str]], indent: str = "  ") -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        indent + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def event_lines(status: EventStatus, *, show_times: bool = True) -> list[str]:
    event = status.event
    if event is None:
        lines = [f"Event {status.uid}: no event item (attendee items only)"]
    else:
        lines = [f"Event {status.uid}: {event.get('status', 'unknown')}"]
        fields = [
            ("Summary", event.get("summary", "")),
            ("When", _when(event)),
            ("Where", event.get("location", "")),
            ("Organizer", _person(event.get("organizer"))),
            ("Sequence", _sequence(event)),
            (
                "Sent",
                f"{event.get('invites_sent', 0)} invites, {event.get('updates_sent', 0)} updates,"
                f" {event.get('cancellations_sent', 0)} cancellations",
            ),
        ]
        if show_times:
            fields += [(name.replace("_", " ").capitalize(), event.get(name, "")) for name in _TIMES]
        lines += [f"  {name:<10} {value}" for name, value in fields if value not in ("", None)]
    lines.append(f"Attendees: {len(status.attendees)}")
    if status.attendees:
        rows = [["EMAIL", "NAME", "STATUS", "SEQUENCE", "REPLY", "HISTORY"]]
        for item in status.attendees:
            rows.append(
                [
                    item.get("email", item.get("sk", "").partition("#")[2]),
                    item.get("name", ""),
                    _attendee_status(item),
                    str(item.get("sequence", "")),
                    item.get("partstat", ""),
                    ", ".join(f"{h.get('method')} {h.get('sequence')}" for h in item.get("history", [])),
                ]
            )
        lines += table(rows)
    return lines


_TIMES = ("created_at", "updated_at", "cancelled_at")


def _when(event: dict[str, Any]) -> str:
    try:
        details = event_from_dict(event)
    except (InvalidRequest, TypeError, ValueError):
        return f"{event.get('start', '?')} - {event.get('end', '?')}"
    return describe_time(details.start, details.end, details.timezone)


def _person(person: Any) -> str:
    if not isinstance(person, dict):
        return ""
    return f"{person['name']} <{person['email']}>" if person.get("name") else person.get("email", "")


def _sequence(event: dict[str, Any]) -> str:
    text = str(event.get("sequence", ""))
    if "cancelled_sequence" in event:
        text += f" (cancelled at sequence {event['cancelled_sequence']})"
    return text


def _attendee_status(item: dict[str, Any]) -> str:
    status = item.get("status", "")
    pending = item.get("pending")
    if pending:
        status = f"{status} (sending {pending.get('method', '')})".strip()
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
        lines.append(f"     body:   {_preview(letter.body)}")
    return lines


def _preview(body: str) -> str:
    try:
        text = json.dumps(json.loads(body), ensure_ascii=False)
    except ValueError:
        text = body
    return text if len(text) <= BODY_PREVIEW else text[: BODY_PREVIEW - 3] + "..."
