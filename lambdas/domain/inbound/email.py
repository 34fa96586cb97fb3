"""Find the calendar parts of a raw email, wherever each calendar client puts them, in bounded
memory; the answers in them are read by ``itip.read_email``, an organizer's message by
``lambdas.domain.organizer.reading``.

SES accepts messages up to 40 MB, and the stdlib parser keeps every part of a message in memory.
So the MIME tree is walked here as a stream: each part's header block is read (bounded) and given
to the stdlib parser (``policy.default``: RFC 2231 parameters, RFC 2047 words, folding), and only
the bodies of calendar parts are kept (each capped), then decoded by the stdlib parser too
(base64, quoted-printable, 7bit, 8bit). Every other body is skipped line by line as it streams by.

What is a calendar part, where clients put it, and what is ignored: docs/replies.md.
"""

from __future__ import annotations

import codecs
import io
import re
import typing
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime

from lambdas.domain.frozen import frozen
from lambdas.domain.validation import CONTROL

if typing.TYPE_CHECKING:
    from lambdas.domain.inbound.itip import CalendarAnswer

MAX_HEADER_BYTES = 256 * 1024  # the message's own header block (SES prepends a few KB of its own)
MAX_PART_HEADER_BYTES = 16 * 1024  # one MIME part's header block
MAX_LINE = 64 * 1024  # read at most this much at once, even from a body without line breaks
MAX_PARTS = 500  # MIME parts walked; the rest of a larger message is not read
MAX_LINES = 2_000_000  # 40 MB of base64 is 550 000 lines: more is an attack on our CPU time
MAX_DEPTH = 16  # nested multiparts; deeper ones are skipped whole
MAX_CALENDAR_PARTS = 4  # Gmail sends 2 (inline + attachment); more is not a reply
# One calendar part as transmitted (decoded it is no bigger), and all calendar text given to
# icalendar. Real replies are 1-10 KB; icalendar 7.3 spends 5-10 µs per character (1 MB: 5-10 s),
# so the bound is on CPU time as much as on memory.
MAX_CALENDAR_BYTES = 256 * 1024
MAX_CALENDAR_TEXT = 512 * 1024
MAX_SUBJECT = 998  # RFC 5322's line length

CALENDAR_TYPES = frozenset(
    {"text/calendar", "text/x-vcalendar", "application/ics", "application/x-ics", "application/calendar"}
)
_CALENDAR_FILENAME = re.compile(r"\.(ics|ical|ifb|vcs)$", re.IGNORECASE)
_AUTOMATIC_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})
_AUTOMATIC_SENDERS = frozenset({"mailer-daemon", "postmaster", "listserv", "majordomo"})
_PARSER = BytesParser(policy=policy.default)


@frozen
class InboundEmail:
    from_address: str  # lower-cased addr-spec of From:, "" when missing, ambiguous or unparseable
    subject: str
    automatic: bool  # auto-reply / out-of-office / bounce (DSN) / bulk: never answer it
    answers: tuple[CalendarAnswer, ...]  # filled by itip.read_email; empty without an iTIP calendar
    calendar_error: str | None  # a calendar part was there but (some of it) could not be read: why
    automatic_reason: str = ""  # what made it automatic, e.g. "auto-submitted", "report"
    # Relayed mail (trust.py): the mailboxes Reply-To: names and the Sender:, lower-cased.
    reply_to: tuple[str, ...] = ()
    sender_address: str = ""
    sent_at: datetime | None = None  # the Date: header in UTC, when there is a usable one


@frozen
class CalendarPart:
    """One distinct calendar part of a mail: its text (decoded, unfolded) and its MIME ``method=``."""

    text: str
    mime_method: str


def read_calendar_parts(source: bytes | typing.BinaryIO) -> tuple[InboundEmail, tuple[CalendarPart, ...]]:
    """The mail's headers (``answers`` left empty) and the text of each distinct calendar part, in
    the order they came. Never raises for bad content (the mail is untrusted input): a problem
    shows up as fewer parts and a ``calendar_error``. Memory stays bounded whatever the message's
    size."""
    walk = _Walk(_Lines(_buffered(source)))
    headers = walk.read_message()
    errors = list(walk.errors)
    parts: list[CalendarPart] = []
    parsed = 0
    for part in walk.calendars:
        text, mime_method = _decode(part)
        if text is None:
            errors.append("a calendar part could not be decoded")
            continue
        if any(text == kept.text for kept in parts):  # the inline copy and the attachment of one calendar
            continue
        parsed += len(text)
        if parsed > MAX_CALENDAR_TEXT:
            errors.append(f"more than {MAX_CALENDAR_TEXT} characters of calendars: the rest is not read")
            break
        parts.append(CalendarPart(text, mime_method))
    reason = _automatic_reason(headers)
    email = InboundEmail(
        from_address=_from_address(headers),
        subject=_header_text(headers, "subject", MAX_SUBJECT),
        automatic=bool(reason),
        automatic_reason=reason,
        answers=(),
        calendar_error=errors[0] if errors else None,
        reply_to=_addresses(headers, "reply-to"),
        sender_address=next(iter(_addresses(headers, "sender")), ""),
        sent_at=_date(headers),
    )
    return email, tuple(parts)


# --------------------------------------------------------------------------------- the MIME stream


def _buffered(source: bytes | typing.BinaryIO) -> typing.BinaryIO:
    """A stream whose readline is cheap. botocore's StreamingBody is a bare IOBase: its readline
    reads one byte per call (10 MB: ten million calls), so it gets a buffer of its own."""
    if isinstance(source, bytes | bytearray | memoryview):
        return io.BytesIO(source)
    if isinstance(source, io.BufferedIOBase) or hasattr(source, "peek"):
        return source
    return io.BufferedReader(_RawReader(source), buffer_size=MAX_LINE)


class _RawReader(io.RawIOBase):
    """Any object with read(n), as the raw stream under an io.BufferedReader."""

    def __init__(self, stream: typing.BinaryIO):
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class _Stop(Exception):
    """A walking bound was reached: the rest of the message is not read."""


class _Lines:
    """Lines of a binary stream, never more than MAX_LINE bytes at a time, each with whether it
    begins a line (only such a chunk can be a header, a blank line or a boundary)."""

    def __init__(self, stream: typing.BinaryIO):
        self._stream = stream
        self._at_line_start = True
        self._pushed: tuple[bytes, bool] | None = None
        self._count = 0

    def next(self) -> tuple[bytes, bool]:
        if self._pushed is not None:
            line, self._pushed = self._pushed, None
            return line
        self._count += 1
        if self._count > MAX_LINES:
            raise _Stop(f"more than {MAX_LINES} lines: the rest of the message is not read")
        chunk = self._stream.readline(MAX_LINE)
        starts_line = self._at_line_start
        self._at_line_start = chunk.endswith(b"\n")
        return chunk, starts_line

    def push_back(self, line: tuple[bytes, bool]) -> None:
        self._pushed = line


class _Walk:
    """One pass over the message: its headers, and the header block and body of each calendar part."""

    def __init__(self, lines: _Lines):
        self._lines = lines
        self.calendars: list[EmailMessage] = []
        self.errors: list[str] = []
        self._parts = 0

    def read_message(self) -> EmailMessage:
        headers, block = self._header_block(MAX_HEADER_BYTES)
        try:
            self._body(headers, block, boundaries=(), depth=0)
        except _Stop as stop:
            self.errors.append(str(stop))
        return headers

    def _header_block(self, limit: int, boundaries: tuple[bytes, ...] = ()) -> tuple[EmailMessage, bytes]:
        block = bytearray()
        while True:
            try:
                line, starts_line = self._lines.next()
            except _Stop:
                break
            if not line:
                break
            if starts_line and line in (b"\r\n", b"\n"):
                break
            if starts_line and boundaries and _boundary_match(line, boundaries) is not None:
                self._lines.push_back((line, starts_line))  # a part with neither headers nor body
                break
            if len(block) + len(line) <= limit:
                block += line
            # else: headers past the bound are dropped; the part's type comes first in practice
        try:
            return _PARSER.parsebytes(bytes(block) + b"\r\n", headersonly=True), bytes(block)
        except Exception:  # policy.default is lazy, but be safe with hostile headers
            return EmailMessage(policy=policy.default), b""

    def _body(self, headers: EmailMessage, block: bytes, boundaries: tuple[bytes, ...], depth: int) -> None:
        """Consume one part's body, up to (not including) the boundary line that ends it, or EOF."""
        content_type = _content_type(headers)
        if content_type.startswith("multipart/") and depth < MAX_DEPTH:
            boundary = _boundary(headers)
            if boundary:
                self._multipart(boundary, boundaries, depth)
                return
        keep = _is_calendar(headers, content_type)
        if keep and len(self.calendars) >= MAX_CALENDAR_PARTS:
            self.errors.append(f"more than {MAX_CALENDAR_PARTS} calendar parts: the rest is not read")
            keep = False
        body = bytearray()
        too_large = False
        for line in self._until_boundary(boundaries):
            if keep and not too_large:
                if len(body) + len(line) > MAX_CALENDAR_BYTES:
                    too_large = True
                    body = bytearray()  # let go at once: the memory bound is the point
                else:
                    body += line
        if too_large:
            self.errors.append(f"a calendar part is larger than {MAX_CALENDAR_BYTES} bytes: not read")
        elif keep:
            self.calendars.append(_leaf(block, _strip_last_line_break(body)))

    def _multipart(self, boundary: bytes, outer: tuple[bytes, ...], depth: int) -> None:
        """Consume a multipart body: preamble, parts, epilogue, up to an enclosing boundary or EOF."""
        boundaries = (boundary, *outer)
        while True:  # the preamble
            line, starts_line = self._lines.next()
            if not line:
                return
            if starts_line and (match := _boundary_match(line, boundaries)) is not None:
                if match != boundary:  # an enclosing boundary: this multipart ended early
                    self._lines.push_back((line, starts_line))
                    return
                if _is_close(line, boundary):
                    self._epilogue(outer)
                    return
                break
        while True:
            self._parts += 1
            if self._parts > MAX_PARTS:
                raise _Stop(f"more than {MAX_PARTS} MIME parts: the rest of the message is not read")
            headers, block = self._header_block(MAX_PART_HEADER_BYTES, boundaries)
            self._body(headers, block, boundaries, depth + 1)
            line, starts_line = self._lines.next()
            match = _boundary_match(line, boundaries) if line and starts_line else None
            if match is None:  # EOF (_body stops only at a boundary or at EOF)
                return
            if match != boundary:
                self._lines.push_back((line, starts_line))
                return
            if _is_close(line, boundary):
                self._epilogue(outer)
                return

    def _epilogue(self, outer: tuple[bytes, ...]) -> None:
        for _ in self._until_boundary(outer):
            pass

    def _until_boundary(self, boundaries: tuple[bytes, ...]) -> typing.Iterator[bytes]:
        """The lines of one body, up to a line that is one of these boundaries (left to be read
        next) or EOF."""
        while True:
            line, starts_line = self._lines.next()
            if not line:
                return
            if starts_line and boundaries and _boundary_match(line, boundaries) is not None:
                self._lines.push_back((line, starts_line))
                return
            yield line


def _boundary_match(line: bytes, boundaries: tuple[bytes, ...]) -> bytes | None:
    """The boundary this line delimits with, innermost first (RFC 2046 §5.1.1: "--" boundary, an
    optional closing "--", then only white space)."""
    if not line.startswith(b"--"):
        return None
    for boundary in boundaries:
        if line.startswith(b"--" + boundary):
            rest = line[len(boundary) + 2 :]
            if rest.startswith(b"--"):
                rest = rest[2:]
            if not rest.strip(b" \t\r\n"):
                return boundary
    return None


def _is_close(line: bytes, boundary: bytes) -> bool:
    return line.startswith(b"--" + boundary + b"--")


def _strip_last_line_break(body: bytearray) -> bytes:
    # The line break before a boundary belongs to the boundary (RFC 2046 §5.1.1).
    if body.endswith(b"\r\n"):
        return bytes(body[:-2])
    if body.endswith(b"\n"):
        return bytes(body[:-1])
    return bytes(body)


def _leaf(header_block: bytes, body: bytes) -> EmailMessage:
    """One calendar part as the stdlib parser reads it, so that it decodes the transfer encoding."""
    return _PARSER.parsebytes(header_block + b"\r\n" + body)


# ------------------------------------------------------------------------------------- the headers


def _content_type(headers: EmailMessage) -> str:
    try:
        return headers.get_content_type()
    except Exception:
        return "text/plain"


def _boundary(headers: EmailMessage) -> bytes | None:
    try:
        boundary = headers.get_boundary()
    except Exception:
        return None
    if not boundary or len(boundary) > 200:
        return None
    try:
        return boundary.encode("ascii")
    except UnicodeEncodeError:
        return None


def _is_calendar(headers: EmailMessage, content_type: str) -> bool:
    if content_type in CALENDAR_TYPES:
        return True
    if content_type.startswith(("multipart/", "message/")):
        return False  # an attached message is someone else's mail (a bounced invitation, a forward)
    try:
        filename = headers.get_filename() or headers.get_param("name") or ""
    except Exception:
        return False
    return isinstance(filename, str) and bool(_CALENDAR_FILENAME.search(filename.strip()))


def _decode(part: EmailMessage) -> tuple[str | None, str]:
    """The calendar text, whatever its transfer encoding and charset, and the MIME method= value."""
    try:
        data = part.get_payload(decode=True)
        method = part.get_param("method") or ""
        charset = part.get_content_charset() or ""
    except Exception:
        return None, ""
    if not isinstance(data, bytes):
        return None, ""
    return _text(data, charset), method if isinstance(method, str) else ""


def _text(data: bytes, charset: str) -> str:
    """Bytes in the declared charset; without a usable one, UTF-8 (RFC 5545's default), then
    Windows-1252 (the usual legacy charset, a superset of ISO-8859-1). Bad bytes never raise."""
    codec = _codec(charset)
    if codec is None or not codec.startswith(("utf-16", "utf-32")):
        data = _unfold(data)
    if codec is not None:
        return data.decode(codec, "replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def _codec(charset: str) -> str | None:
    if not charset:
        return None
    try:
        return codecs.lookup(charset).name
    except (LookupError, ValueError):
        return None


def _unfold(data: bytes) -> bytes:
    """Line ends made LF and folded lines joined, on the bytes: folding is defined on octets
    (RFC 5545 §3.1), and clients do fold in the middle of a UTF-8 character."""
    data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return data.replace(b"\n ", b"").replace(b"\n\t", b"")


def _from_address(headers: EmailMessage) -> str:
    addresses = _addresses(headers, "from", keep_unusable=True)
    # None, or several (RFC 5322 allows it): no single sender to trust; or one that is unusable.
    return addresses[0] if len(addresses) == 1 else ""


MAX_HEADER_ADDRESSES = 10


def _addresses(headers: EmailMessage, name: str, *, keep_unusable: bool = False) -> tuple[str, ...]:
    """The addr-specs of an address header, lower-cased; unusable ones left out, or kept as ""."""
    try:
        header = headers[name]
        found = [a.addr_spec for a in getattr(header, "addresses", ())] if header is not None else []
    except Exception:
        return ()
    usable = []
    for address in found[:MAX_HEADER_ADDRESSES]:
        if address and "@" in address and not CONTROL.search(address) and not address.startswith("<"):
            usable.append(address.strip().lower())
        elif keep_unusable:
            usable.append("")
    return tuple(usable)


def _date(headers: EmailMessage) -> datetime | None:
    """The Date: header in UTC (a date without a zone, -0000, is taken as UTC), or None."""
    try:
        value = parsedate_to_datetime(_header_text(headers, "date", 200))
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except Exception:  # absent, unparseable, or out of range: the receipt time orders it instead
        return None


def _header_text(headers: EmailMessage, name: str, max_len: int) -> str:
    try:
        value = headers[name]
    except Exception:
        return ""
    return CONTROL.sub(" ", str(value)).strip()[:max_len] if value is not None else ""


def _automatic_reason(headers: EmailMessage) -> str:
    """Why this mail must never be answered, or "" (RFC 3834 and the headers mail servers use)."""
    content_type = _content_type(headers)
    if content_type == "multipart/report" or content_type.startswith("message/"):
        return "report"  # a delivery status notification (bounce) or a read receipt
    auto_submitted = _header_text(headers, "auto-submitted", 100).lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return "auto-submitted"
    if headers.get("x-auto-response-suppress") is not None:
        return "x-auto-response-suppress"
    for name in ("x-autoreply", "x-autorespond", "x-autogenerated"):
        if headers.get(name) is not None:
            return name
    if _header_text(headers, "precedence", 100).lower() in _AUTOMATIC_PRECEDENCE:
        return "precedence"
    if headers.get("list-id") is not None:
        return "list"
    if _header_text(headers, "return-path", 400).replace(" ", "") == "<>":
        return "null-return-path"  # a bounce: the null reverse-path of RFC 5321 §4.5.5
    if _from_address(headers).split("@")[0] in _AUTOMATIC_SENDERS:
        return "mailer-daemon"  # RFC 3834 §2: never answer these mailboxes
    return ""
