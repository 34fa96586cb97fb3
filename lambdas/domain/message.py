"""The iMIP email (RFC 6047) around an iTIP calendar object.

Layout, as Gmail sends it and as Outlook needs it::

    multipart/mixed
      multipart/alternative
        text/plain
        text/html
        text/calendar; method=REQUEST|CANCEL; charset=UTF-8
      application/ics; name=invite.ics (attachment)

An answer to an organizer's calendar (``render_reply``: the event address's REPLY, as Outlook and
Gmail answer an invitation) is ``multipart/alternative`` of text/plain and
``text/calendar; method=REPLY``; a note to the organizer (``render_note``) is text/plain alone.

Headers are built with ``EmailMessage`` under ``policy.SMTP`` and ``headerregistry.Address``: they
refuse CR/LF in any header and encode non-ASCII display names as RFC 2047 words, so no input can
add a header.
"""

from __future__ import annotations

import html
import secrets
from datetime import UTC, date, datetime, timedelta
from email import policy
from email.headerregistry import Address, HeaderRegistry
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from zoneinfo import ZoneInfo

from lambdas.domain.calendar import ItipMessage, build_calendar
from lambdas.domain.frozen import frozen
from lambdas.domain.vocabulary import Method

ATTACHMENT_NAME = "invite.ics"


class _HeaderClasses(HeaderRegistry):
    """``HeaderRegistry`` builds a new class each time a header is set or parsed (``type(...)``, some
    fifty times an email, a tenth of its rendering). The class depends only on the header's name, so
    each is built once and kept."""

    def __init__(self):
        super().__init__()
        self._built: dict[str, type] = {}

    def __getitem__(self, name: str) -> type:
        key = name.lower()
        built = self._built.get(key)
        if built is None:
            built = self._built[key] = super().__getitem__(name)
        return built


# policy.SMTP (CRLF line ends, CR and LF refused in headers) with each header class built once.
SMTP = policy.SMTP.clone(header_factory=_HeaderClasses())


@frozen
class Envelope:
    sender: str  # the SES-verified SENDER address
    reply_to: str  # RSVP_EMAIL
    subject_prefix: str


@frozen
class RenderedEmail:
    subject: str
    raw: bytes
    ics: bytes


def subject_for(itip: ItipMessage, prefix: str) -> str:
    if itip.method == Method.CANCEL:
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

    # From stays on the verified identity (DKIM/DMARC pass); the organizer shows as its name.
    message = _headed(
        envelope,
        sender_name=event.organizer.name,
        to=itip.attendee.email,
        to_name=itip.attendee.name,
        subject=subject,
        when=itip.dtstamp,
    )

    text, markup = _bodies(itip)
    # SES recommends 7-bit-safe parts; quoted-printable keeps the text readable in raw form.
    message.set_content(text, cte="quoted-printable")
    message.add_alternative(markup, subtype="html", cte="quoted-printable")
    # The method parameter must match the calendar's METHOD (RFC 6047 §2.4).
    calendar_cte = "7bit" if ics.isascii() else "base64"
    message.add_alternative(
        ics.decode("utf-8"), subtype="calendar", params={"method": itip.method}, cte=calendar_cte
    )
    message.make_mixed()
    message.add_attachment(ics, maintype="application", subtype="ics", filename=ATTACHMENT_NAME)
    for part in message.iter_parts():  # MIME-Version belongs on the message, not on its parts
        for sub in (part, *part.iter_parts()):
            del sub["MIME-Version"]
    _set_boundaries(message)
    return RenderedEmail(subject=subject, raw=message.as_bytes(policy=SMTP), ics=ics)


def render_reply(
    ics: bytes, envelope: Envelope, *, to: str, to_name: str, subject: str, text: str, when: datetime
) -> bytes:
    """An iTIP REPLY (``ics``, whose METHOD is REPLY) from the envelope's sender to ``to``."""
    if b"\r\nMETHOD:REPLY\r\n" not in ics:
        raise ValueError("the calendar of a REPLY must say METHOD:REPLY")
    message = _headed(envelope, sender_name="", to=to, to_name=to_name, subject=subject, when=when)
    message.set_content(text, cte="quoted-printable")
    calendar_cte = "7bit" if ics.isascii() else "base64"
    message.add_alternative(
        ics.decode("utf-8"), subtype="calendar", params={"method": "REPLY"}, cte=calendar_cte
    )
    for part in message.iter_parts():
        del part["MIME-Version"]
    _set_boundaries(message)
    return message.as_bytes(policy=SMTP)


def render_note(
    envelope: Envelope, *, to: str, to_name: str, subject: str, text: str, when: datetime
) -> bytes:
    """A plain-text mail from the envelope's sender to ``to``."""
    message = _headed(envelope, sender_name="", to=to, to_name=to_name, subject=subject, when=when)
    message.set_content(text, cte="quoted-printable")
    return message.as_bytes(policy=SMTP)


def _headed(
    envelope: Envelope, *, sender_name: str, to: str, to_name: str, subject: str, when: datetime
) -> EmailMessage:
    """A message with its headers, every one built by ``EmailMessage`` under ``policy.SMTP`` (which
    refuses CR and LF in a header) from ``Address`` objects: no value can add a header."""
    message = EmailMessage(policy=SMTP)
    message["From"] = Address(display_name=sender_name, addr_spec=envelope.sender)
    message["To"] = Address(display_name=to_name, addr_spec=to)
    message["Reply-To"] = Address(addr_spec=envelope.reply_to)
    message["Subject"] = subject
    message["Date"] = format_datetime(when.astimezone(UTC))
    message["Message-ID"] = make_msgid(domain=envelope.sender.rpartition("@")[2])
    message["MIME-Version"] = "1.0"
    return message


def _set_boundaries(message: EmailMessage) -> None:
    """Give each multipart its boundary, so that the generator does not look for one. It would compile
    a pattern for each multipart and search the whole text with it, a tenth of the rendering.
    Searching is not needed: a line starting with ``=_`` cannot occur in a quoted-printable or base64
    body (RFC 2045 §6.7), and the 7-bit calendar part cannot guess 128 random bits."""
    for part in message.walk():
        if part.is_multipart():
            part.set_boundary(f"=_{secrets.token_hex(16)}")


def _bodies(itip: ItipMessage) -> tuple[str, str]:
    event = itip.event
    organizer = event.organizer.name or event.organizer.email
    what = "This occurrence" if event.occurrence is not None else "This event"
    if itip.method == Method.CANCEL:
        headline = f"Cancelled: {event.summary}"
        intro = (
            f"{what} has been cancelled and removed from your calendar."
            if itip.status
            else f"You have been removed from {what.lower()}."
        )
    else:
        headline = f"{'Updated invitation' if itip.sequence > 0 else 'Invitation'}: {event.summary}"
        intro = f"{organizer} invites you. Use your calendar's buttons to reply."
    start, end = event.start, event.end
    if event.occurrence is not None and itip.method == Method.CANCEL:
        start, end = event.occurrence, event.occurrence + (event.end - event.start)
    rows = [("When", describe_time(start, end, event.timezone))]
    if event.rrule:
        rows.append(("Repeats", event.rrule))
    if event.occurrence is not None and itip.method == Method.REQUEST:
        original = (event.occurrence, event.occurrence + (event.end - event.start))
        rows.append(("Instead of", describe_time(*original, event.timezone)))
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
