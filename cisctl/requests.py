"""Request bodies in the message contract (docs/message-contract.md), from flags or from a JSON file.

Every body is checked with the functions' own parser before it is enqueued, so a mistake is
reported here, field by field, instead of landing in the dead-letter queue.
"""

from __future__ import annotations

import json
import sys
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from cisctl.target import CliError
from lambdas.domain.cancellation_contract import parse_cancellation
from lambdas.domain.contract import parse_invite
from lambdas.domain.validation import InvalidRequest

INVITE_REQUIRED = ("uid", "summary", "start", "end", "organizer", "attendee")
# The flags that describe the event: with none of them, --uid names a stored event to add attendees to.
EVENT_DETAILS = ("summary", "start", "end", "organizer", "timezone", "description", "location")
EVENT_DETAILS += ("rrule", "exdate", "occurrence")


def person(value: str, flag: str) -> dict[str, str]:
    """'Ana Lima <ana@example.org>' or 'ana@example.org' -> {"email": ..., "name": ...}."""
    name, address = parseaddr(value)
    if not address or "@" not in address or address.count("@") != 1:
        raise CliError(
            f"{flag} {value!r}: expected an address such as 'ana@example.org'"
            " or 'Ana Lima <ana@example.org>'",
            code=2,
        )
    return {"email": address, "name": name} if name else {"email": address}


def invite_from_flags(args) -> dict[str, Any]:
    if args.uid and not conflicting_flags(args, EVENT_DETAILS):
        return invite_by_uid(args)
    missing = [f"--{name}" for name in INVITE_REQUIRED if not getattr(args, name)]
    if missing:
        raise CliError(f"invite needs {', '.join(missing)} (or a request in --file)", code=2)
    event: dict[str, Any] = {
        "uid": args.uid,
        "sequence": 0 if args.sequence is None else args.sequence,
        "summary": args.summary,
        "start": args.start,
        "end": args.end,
        "organizer": person(args.organizer, "--organizer"),
    }
    for name in ("description", "location", "timezone", "rrule", "occurrence"):
        if getattr(args, name, None):
            event[name] = getattr(args, name)
    if getattr(args, "exdate", None):
        event["exdates"] = list(args.exdate)
    attendees = [person(value, "--attendee") for value in args.attendee]
    if len(attendees) == 1:
        return {"event": event, "attendee": attendees[0]}
    return {"event": event, "attendees": attendees}


def invite_by_uid(args) -> dict[str, Any]:
    """--uid without the event's details: add attendees to the stored event, which they get as
    stored, at its stored sequence (docs/message-contract.md, "Adding attendees by uid")."""
    if args.sequence is not None:
        raise CliError(
            "--sequence with --uid alone: attendees added by uid get the stored event at its stored"
            " sequence; to update the event, give its details (--summary, --start, --end, --organizer)",
            code=2,
        )
    if not args.attendee:
        raise CliError(
            "invite --uid alone adds attendees to the stored event: give --attendee (repeatable),"
            " or the event's details (--summary, --start, --end, --organizer) to invite a new event",
            code=2,
        )
    attendees = [person(value, "--attendee") for value in args.attendee]
    event = {"uid": args.uid}
    if len(attendees) == 1:
        return {"event": event, "attendee": attendees[0]}
    return {"event": event, "attendees": attendees}


def cancellations_from_flags(args) -> list[dict[str, Any]]:
    if not args.uid:
        raise CliError("cancel needs --uid (or a request in --file)", code=2)
    event: dict[str, Any] = {"uid": args.uid}
    if args.sequence is not None:
        event["sequence"] = args.sequence
    if getattr(args, "occurrence", None):
        event["occurrence"] = args.occurrence
    if not args.attendee:
        if args.scope == "attendee":
            raise CliError("--scope attendee needs --attendee", code=2)
        return [{"event": event}]
    if args.scope == "event":
        raise CliError(
            "--scope event cancels the whole event for everyone: leave out --attendee"
            " (to remove attendees from an event that goes on, leave out --scope)",
            code=2,
        )
    bodies = []
    for value in args.attendee:
        body: dict[str, Any] = {"event": event, "attendee": person(value, "--attendee")}
        if args.scope:
            body["scope"] = args.scope
        bodies.append(body)
    return bodies


def from_file(path: str) -> list[dict[str, Any]]:
    """A JSON object, or a list of them, from a file ('-' reads standard input)."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise CliError(f"--file {path}: {error.strerror or error}", code=2) from None
    except UnicodeDecodeError as error:
        raise CliError(
            f"--file {path}: not UTF-8 JSON (byte {error.object[error.start]:#04x} at offset {error.start});"
            " save the request as UTF-8",
            code=2,
        ) from None
    try:
        document = json.loads(text)
    except ValueError as error:
        raise CliError(f"--file {path}: not valid JSON ({error})", code=2) from None
    bodies = document if isinstance(document, list) else [document]
    if not bodies or not all(isinstance(body, dict) for body in bodies):
        raise CliError(f"--file {path}: expected a JSON object, or a list of objects", code=2)
    return bodies


def validate(kind: str, bodies: list[dict[str, Any]]) -> None:
    parse = parse_invite if kind == "invite" else parse_cancellation
    problems = []
    for index, body in enumerate(bodies):
        try:
            parse(json.dumps(body))
        except InvalidRequest as invalid:
            where = f"request {index + 1}: " if len(bodies) > 1 else ""
            problems += [f"  {where}{error.field}: {error.reason}" for error in invalid.errors]
    if problems:
        raise CliError(
            "the request breaks the message contract:\n"
            + "\n".join(problems)
            + "\n(--no-validate enqueues it anyway; the function will dead-letter it)",
            code=2,
        )


def conflicting_flags(args, names: tuple[str, ...]) -> list[str]:
    """The flags among ``names`` that were given (they all default to None or an empty list)."""
    return [f"--{name}" for name in names if getattr(args, name, None) not in (None, [])]
