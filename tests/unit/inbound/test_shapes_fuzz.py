"""Hypothesis: however a client quotes, folds, orders, cases and encodes, the answer read is the same.

Also: arbitrary bytes never make read_email raise.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lambdas.domain.inbound.itip import read_email
from tests.fuzz.strategies import FUZZ
from tests.unit.inbound.mails import encode

NAMES = ["Ana Lima", "José Ñúñez", "Lima, Ana", "李小龍", 'Ana: the "boss"; really']


def fold_octets(line: bytes, cuts: list[int], whitespace: bytes, eol: bytes) -> bytes:
    """RFC 5545 folding at arbitrary octets (clients do cut inside UTF-8 characters)."""
    points = sorted({c % len(line) for c in cuts if c % len(line) > 0})
    pieces, start = [], 0
    for point in points:
        pieces.append(line[start:point])
        start = point
    pieces.append(line[start:])
    return (eol + whitespace).join(pieces)


def param_value(value: str, quoted: bool) -> str:
    return f'"{value}"' if quoted else value


@st.composite
def replies(draw):
    name = draw(st.sampled_from(NAMES))
    partstat = draw(st.sampled_from(["ACCEPTED", "DECLINED", "TENTATIVE"]))
    sequence = draw(st.integers(0, 2**31 - 1))
    eol = draw(st.sampled_from([b"\r\n", b"\n"]))
    mailto = draw(st.sampled_from(["mailto:", "MAILTO:", "Mailto:"]))
    address = draw(st.sampled_from(["ana@example.org", "ANA@EXAMPLE.ORG", "Ana@Example.org"]))
    # A CN with a separator must be quoted; quotes inside are not allowed at all (RFC 5545 §3.1).
    cn = name.replace('"', "'")
    cn_param = f'CN="{cn}"' if any(c in cn for c in ",:;") or draw(st.booleans()) else f"CN={cn}"
    params = [cn_param, f"PARTSTAT={partstat}", "ROLE=REQ-PARTICIPANT", "X-NUM-GUESTS=0"]
    params = draw(st.permutations(params))
    attendee = f"ATTENDEE;{';'.join(params)}:{mailto}{address}".encode()
    lines = [
        b"BEGIN:VCALENDAR",
        b"PRODID:-//Fuzz//EN",
        b"VERSION:2.0",
        b"METHOD:REPLY",
        b"BEGIN:VEVENT",
        b"UID:kickoff-2026@example.com",
        b"DTSTAMP:20261124T120000Z",
        f"SEQUENCE:{sequence}".encode(),
        fold_octets(
            attendee,
            draw(st.lists(st.integers(1, 400), max_size=6)),
            draw(st.sampled_from([b" ", b"\t"])),
            eol,
        ),
        b"END:VEVENT",
        b"END:VCALENDAR",
    ]
    cal = eol.join(lines) + eol
    cte = draw(st.sampled_from(["7bit", "8bit", "base64", "quoted-printable"]))
    charset = draw(st.sampled_from(["utf-8", "UTF-8", "Utf-8"]))
    mime_params = [
        f"method={param_value(draw(st.sampled_from(['REPLY', 'reply'])), draw(st.booleans()))}",
        f"charset={param_value(charset, draw(st.booleans()))}",
    ]
    if draw(st.booleans()):
        mime_params.append(f"name={param_value('invite.ics', draw(st.booleans()))}")
    mime_params = draw(st.permutations(mime_params))
    separator = draw(st.sampled_from(["; ", ";", ";\r\n\t", ";\r\n "]))
    content_type = draw(st.sampled_from(["text/calendar", "Text/Calendar", "application/ics"]))
    boundary = draw(st.sampled_from(["alt", "=_b 1", "----=_Part_0_1.2", "x" * 70]))
    header = f"Content-Type: {content_type}{separator}{separator.join(mime_params)}\r\n"
    header += f"Content-Transfer-Encoding: {cte}\r\n\r\n"
    raw = (
        b"From: Ana <ana@example.org>\r\nMIME-Version: 1.0\r\n"
        + f"Content-Type: multipart/alternative;{draw(st.sampled_from([' ', chr(13) + chr(10) + chr(9)]))}"
        f'boundary="{boundary}"\r\n\r\n'.encode()
        + f"--{boundary}\r\nContent-Type: text/plain\r\n\r\nok\r\n--{boundary}\r\n".encode()
        + header.encode()
        + encode(cal, cte)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return raw, {"attendee": "ana@example.org", "name": cn, "partstat": partstat, "sequence": sequence}


@FUZZ
@given(replies())
def test_every_quoting_and_folding_reads_the_same_answer(case):
    raw, expected = case
    email = read_email(raw)
    assert email.calendar_error is None
    (answer,) = email.answers
    assert answer.method == "REPLY"
    assert answer.uid == "kickoff-2026@example.com"
    assert (answer.attendee, answer.attendee_name, answer.partstat, answer.sequence) == (
        expected["attendee"],
        expected["name"],
        expected["partstat"],
        expected["sequence"],
    )


@FUZZ
@given(st.binary(max_size=4096), st.binary(max_size=512))
def test_arbitrary_bytes_never_raise(prefix, tail):
    # Arbitrary bytes alone, and arbitrary bytes inside a plausible calendar part.
    read_email(prefix)
    read_email(
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/calendar\r\n\r\n"
        b"BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\n" + tail + b"\r\nEND:VCALENDAR\r\n--b--\r\n"
    )
