"""The iMIP email (RFC 6047) around an iTIP calendar object.

Layout, as Gmail sends it and as Outlook needs it::

    multipart/mixed
      multipart/alternative
        text/plain
        text/html
        text/calendar; method=REQUEST|CANCEL; charset=UTF-8
      application/ics; name=invite.ics (attachment)

Every header value is fixed, a dot-atom address, or encoded here (RFC 2047 encoded-words, or a
quoted string), and the contract has refused CR, LF and every other control character in every
field, so no input can add a header or a MIME part.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.header import Header
from email.utils import format_datetime, make_msgid
from zoneinfo import ZoneInfo

from lambdas.domain.calendar import CANCEL, ItipMessage, build_calendar

ATTACHMENT_NAME = "invite.ics"


@dataclass(frozen=True)
class Envelope:
    sender: str  # the SES-verified SENDER address
    reply_to: str  # RSVP_EMAIL
    subject_prefix: str


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    raw: bytes
    ics: bytes


def subject_for(itip: ItipMessage, prefix: str) -> str:
    if itip.method == CANCEL:
        kind = "Event Cancelled"
    elif itip.sequence > 0:  # RFC 5546: a REQUEST with a higher SEQUENCE is an update
        kind = "Event Updated"
    else:
        kind = "Event Invite"
    return f"{prefix} {kind}: {itip.event.summary}"


def render_email(itip: ItipMessage, envelope: Envelope) -> RenderedEmail:
    ics = build_calendar(itip)
    event = itip.event
    subject = subject_for(itip, envelope.subject_prefix)
    text, markup = _bodies(itip)

    # SES recommends 7-bit-safe parts; quoted-printable keeps the text readable in raw form.
    calendar_cte = "7bit" if ics.isascii() else "base64"
    alternative = _nested(
        "alternative",
        [
            _part('text/plain; charset="utf-8"', "quoted-printable", _quoted_printable(text)),
            _part('text/html; charset="utf-8"', "quoted-printable", _quoted_printable(markup)),
            # The method parameter must match the calendar's METHOD (RFC 6047 §2.4).
            _part(
                f'text/calendar; charset="utf-8"; method="{itip.method}"',
                calendar_cte,
                ics if calendar_cte == "7bit" else _base64(ics),
            ),
        ],
    )
    attachment = _part(
        f'application/ics; name="{ATTACHMENT_NAME}"',
        "base64",
        _base64(ics),
        disposition=f'attachment; filename="{ATTACHMENT_NAME}"',
    )
    content_type, body = _multipart("mixed", [alternative, attachment])
    headers = (
        # From stays on the verified identity (DKIM/DMARC pass); the organizer shows as its name.
        ("From", _mailbox(event.organizer.name, envelope.sender)),
        ("To", _mailbox(itip.attendee.name, itip.attendee.email)),
        ("Reply-To", _mailbox("", envelope.reply_to)),
        ("Subject", _unstructured("Subject", subject)),
        ("Date", format_datetime(itip.dtstamp.astimezone(UTC))),
        ("Message-ID", make_msgid(domain=envelope.sender.rpartition("@")[2])),
        ("MIME-Version", "1.0"),
        ("Content-Type", content_type),
    )
    for name, value in headers:
        # Defence in depth: only folding ("CRLF space") may break a header line.
        if "\r" in value.replace("\r\n ", "") or "\n" in value.replace("\r\n ", ""):
            raise ValueError(f"line break in the {name} header")
    head = "".join(f"{name}: {value}\r\n" for name, value in headers).encode("ascii")
    return RenderedEmail(subject=subject, raw=head + b"\r\n" + body, ics=ics)


# ------------------------------------------------------------------------------------------- MIME
#
# Written out directly rather than through ``email.message.EmailMessage``: the email package's
# header parsing and refolding cost ~5 ms per message, ten times the rest of the rendering (see
# docs/performance.md). What makes it safe is unchanged: every header value is either fixed, an
# address the contract restricted to dot-atom ASCII, or encoded here (RFC 2047 encoded-words or a
# quoted string), and the contract already refused CR, LF and every other control character. The
# fuzz tests parse every rendered message and compare its header and property names.

_ATOM_PHRASE = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?: [A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_PLAIN_UNSTRUCTURED = re.compile(r"[\x21-\x7e]+(?: [\x21-\x7e]+)*")
_MAX_HEADER_LINE = 78


def _mailbox(display_name: str, address: str) -> str:
    """An RFC 5322 mailbox; ``address`` is dot-atom ASCII (the contract or the settings)."""
    if not display_name:
        return address
    if "=?" not in display_name and _ATOM_PHRASE.fullmatch(display_name):
        phrase = display_name
    elif display_name.isascii() and "=?" not in display_name:
        phrase = '"' + display_name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    else:
        phrase = Header(display_name, "utf-8", header_name="From").encode(linesep="\r\n")
    return f"{phrase} <{address}>"


def _unstructured(name: str, value: str) -> str:
    """Plain if it is short printable ASCII with single spaces; RFC 2047 encoded-words otherwise,
    which keep every character (spaces included) exactly, however the line is folded."""
    if (
        len(name) + 2 + len(value) <= _MAX_HEADER_LINE
        and "=?" not in value
        and _PLAIN_UNSTRUCTURED.fullmatch(value)
    ):
        return value
    return Header(value, "utf-8", header_name=name).encode(linesep="\r\n")


def _quoted_printable(text: str) -> bytes:
    data = text.replace("\n", "\r\n").encode("utf-8")
    return binascii.b2a_qp(data, quotetabs=False, istext=True, header=False)


def _base64(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def _part(content_type: str, encoding: str, body: bytes, disposition: str = "") -> tuple[str, bytes]:
    head = f"Content-Type: {content_type}\r\nContent-Transfer-Encoding: {encoding}\r\n"
    if disposition:
        head += f"Content-Disposition: {disposition}\r\n"
    return content_type, head.encode("ascii") + b"\r\n" + body


def _nested(subtype: str, parts: list[tuple[str, bytes]]) -> tuple[str, bytes]:
    """A multipart entity to use as a part of another multipart."""
    content_type, body = _multipart(subtype, parts)
    return content_type, f"Content-Type: {content_type}\r\n\r\n".encode("ascii") + body


def _multipart(subtype: str, parts: list[tuple[str, bytes]]) -> tuple[str, bytes]:
    """A multipart body; the boundary cannot occur in quoted-printable or base64 text ("=_" is
    neither), and is checked against the one 7bit part, the calendar."""
    while True:
        boundary = f"=_{secrets.token_hex(16)}"
        delimiter = b"--" + boundary.encode("ascii")
        if not any(delimiter in body for _, body in parts):
            break
    # The CRLF before each delimiter belongs to the delimiter (RFC 2046 §5.1.1), not to the part.
    body = b"".join(delimiter + b"\r\n" + part + b"\r\n" for _, part in parts)
    body += delimiter + b"--\r\n"
    return f'multipart/{subtype}; boundary="{boundary}"', body


def _bodies(itip: ItipMessage) -> tuple[str, str]:
    event = itip.event
    organizer = event.organizer.name or event.organizer.email
    if itip.method == CANCEL:
        headline = f"Cancelled: {event.summary}"
        intro = (
            "This event has been cancelled and removed from your calendar."
            if itip.status
            else "You have been removed from this event."
        )
    else:
        headline = f"{'Updated invitation' if itip.sequence > 0 else 'Invitation'}: {event.summary}"
        intro = f"{organizer} invites you. Use your calendar's buttons to reply."
    rows = [("When", describe_time(event.start, event.end, event.timezone))]
    if event.location:
        rows.append(("Where", event.location))
    rows.append(("Organizer", f"{organizer} <{event.organizer.email}>"))

    text = "\n".join([headline, "", intro, "", *(f"{k}: {v}" for k, v in rows)])
    if event.description:
        text += f"\n\n{event.description}"
    esc = html.escape
    table = "".join(f"<tr><th align='left'>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
    description = f"<p>{esc(event.description).replace(chr(10), '<br>')}</p>" if event.description else ""
    markup = (
        f"<!DOCTYPE html><html><body><h2>{esc(headline)}</h2><p>{esc(intro)}</p>"
        f"<table>{table}</table>{description}</body></html>"
    )
    return text + "\n", markup


def describe_time(start: date | datetime, end: date | datetime, timezone: str) -> str:
    if not isinstance(start, datetime):
        last_day = end - timedelta(days=1)  # DTEND of an all-day event is exclusive
        span = start.isoformat() if last_day <= start else f"{start.isoformat()} to {last_day.isoformat()}"
        return f"{span} (all day)"
    zone = ZoneInfo(timezone) if timezone else UTC
    label = timezone or "UTC"
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    end_format = "%H:%M" if local_start.date() == local_end.date() else "%a %d %b %Y %H:%M"
    return f"{local_start:%a %d %b %Y %H:%M} - {local_end.strftime(end_format)} ({label})"
