"""Raw emails built byte by byte for the reading tests, so every shape detail is under control."""

from __future__ import annotations

import base64
import quopri

UID = "kickoff-2026@example.com"


def calendar(
    *,
    method: str | None = "REPLY",
    attendee: str = "mailto:ana@example.org",
    params: str = "PARTSTAT=ACCEPTED;CN=Ana Lima",
    extra: str = "",
    events: int = 1,
    prodid: str = "-//Test//Reading tests//EN",
    eol: str = "\r\n",
) -> bytes:
    lines = ["BEGIN:VCALENDAR", f"PRODID:{prodid}", "VERSION:2.0"]
    if method is not None:
        lines.append(f"METHOD:{method}")
    for index in range(events):
        lines += [
            "BEGIN:VEVENT",
            f"UID:{UID}",
            f"DTSTAMP:20261124T12{index // 60 % 60:02d}{index % 60:02d}Z",
            "SEQUENCE:0",
            f"ATTENDEE;{params}:{attendee}" if params else f"ATTENDEE:{attendee}",
            *([extra] if extra else []),
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return (eol.join(lines) + eol).encode("utf-8")


def encode(body: bytes, cte: str) -> bytes:
    if cte == "base64":
        return base64.encodebytes(body).replace(b"\n", b"\r\n")
    if cte == "quoted-printable":
        return quopri.encodestring(body).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return body


def part(body: bytes, content_type: str, cte: str = "7bit", extra_headers: str = "") -> bytes:
    headers = f"Content-Type: {content_type}\r\nContent-Transfer-Encoding: {cte}\r\n{extra_headers}"
    return headers.encode("ascii") + b"\r\n" + encode(body, cte)


def multipart(subtype: str, boundary: str, *parts: bytes) -> bytes:
    out = f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n\r\n'.encode()
    for item in parts:
        out += b"--" + boundary.encode() + b"\r\n" + item
        if not item.endswith(b"\n"):
            out += b"\r\n"
    return out + b"--" + boundary.encode() + b"--\r\n"


def message(
    body_with_headers: bytes, *, sender: str = "Ana Lima <ana@example.org>", headers: str = ""
) -> bytes:
    top = (
        f"From: {sender}\r\nTo: rsvp@cis.example.com\r\nSubject: Accepted: Project kickoff\r\n"
        f"{headers}MIME-Version: 1.0\r\n"
    )
    return top.encode("utf-8") + body_with_headers


def reply(
    cal: bytes | None = None,
    *,
    content_type: str = "text/calendar; charset=UTF-8; method=REPLY",
    cte: str = "7bit",
    **kwargs,
) -> bytes:
    """The simplest reply: an alternative of a text part and the calendar."""
    cal = calendar() if cal is None else cal
    return message(
        multipart(
            "alternative", "alt", part(b"Ana accepted.\r\n", "text/plain"), part(cal, content_type, cte)
        ),
        **kwargs,
    )
