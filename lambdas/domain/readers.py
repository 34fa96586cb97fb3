"""The readers of the message contract and the recurrence rules: text, time zones and times are read
the same wherever they are given, and every problem of one request is collected, so that a
producer sees all its mistakes at once. Only the send functions read requests: the others never
load this module (docs/performance.md, "Cold start").
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lambdas.domain.validation import CONTROL, CONTROL_EXCEPT_NEWLINE_TAB, FieldError, InvalidRequest

_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


class ErrorCollector:
    """Every problem of one request, so that a producer sees all its mistakes at once."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, name: str, reason: str) -> None:
        self.errors.append(FieldError(name, reason))

    def raise_if_any(self) -> None:
        if self.errors:
            raise InvalidRequest(self.errors)


def read_text(
    raw: Any,
    name: str,
    errors: ErrorCollector,
    max_len: int,
    *,
    required: bool = False,
    multiline: bool = False,
) -> str | None:
    if raw is None or raw == "":
        if required:
            errors.add(name, "is required")
            return None
        return ""
    if not isinstance(raw, str):
        errors.add(name, "must be a string")
        return None
    if multiline:
        raw = raw.replace("\r\n", "\n")
    forbidden = CONTROL_EXCEPT_NEWLINE_TAB if multiline else CONTROL
    if forbidden.search(raw):
        errors.add(name, "must not contain control characters" + ("" if multiline else " or line breaks"))
        return None
    if has_lone_surrogate(raw):
        errors.add(name, "is not valid Unicode")
        return None
    if len(raw) > max_len:
        errors.add(name, f"must be at most {max_len} characters")
        return None
    if required and not raw.strip():
        errors.add(name, "must not be blank")
        return None
    return raw


def header_text(value: str | None, name: str, errors: ErrorCollector) -> str | None:
    """Text that also goes into a mail header (Subject, or a display name).

    "=?" starts an RFC 2047 encoded word: the email package writes such text as it is, and every
    mail reader would then decode it into something else.
    """
    if value and "=?" in value:
        errors.add(name, "must not contain '=?' (mail readers would decode it as an encoded word)")
        return None
    return value


def has_lone_surrogate(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def read_timezone(raw: Any, name: str, errors: ErrorCollector) -> str | None:
    if raw is None or raw == "":
        return ""
    if not isinstance(raw, str) or CONTROL.search(raw) or len(raw) > 64:
        errors.add(name, "must be an IANA time zone name")
        return None
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        errors.add(name, f"unknown time zone {raw!r}")
        return None
    return raw


def read_when(raw: Any, name: str, errors: ErrorCollector) -> date | datetime | None:
    if raw is None or raw == "":
        errors.add(name, "is required")
        return None
    if not isinstance(raw, str) or len(raw) > 40:
        errors.add(name, "must be an ISO 8601 date or date-time string")
        return None
    try:
        if _DATE_ONLY.fullmatch(raw):
            return date.fromisoformat(raw)
        return datetime.fromisoformat(raw)
    except ValueError:
        errors.add(name, "must be an ISO 8601 date or date-time string")
        return None
