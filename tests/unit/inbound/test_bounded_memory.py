"""SES accepts 40 MB messages: reading one must not hold it in memory.

The bound is a behaviour: memory must not grow with the size of the parts that are not calendars.
The stdlib's own parser, for comparison, holds several times the message's size.
"""

from __future__ import annotations

import base64
import io
import os
import tracemalloc

from lambdas.domain.inbound import email as inbound_email
from lambdas.domain.inbound.itip import read_email
from tests.unit.inbound.mails import calendar, message, multipart, part
from tests.unit.inbound.ses import fixture

# Peak of memory allocated while reading, whatever the size of the non-calendar parts: the
# header blocks, one line buffer, the calendar parts (at most MAX_CALENDAR_PARTS x
# MAX_CALENDAR_BYTES, here a few KB) and icalendar's reading of them.
PEAK_BOUND = 2 * 1024 * 1024
MB = 1024 * 1024


def ten_megabyte_email() -> bytes:
    thunderbird = fixture("thunderbird-accepted.eml")  # the reply, with its own inline and attached calendar
    body_start = thunderbird.index(b"Content-Type: multipart/mixed")
    headers, reply_body = thunderbird[:body_start], thunderbird[body_start:]
    attachments = multipart(
        "mixed",
        "outer-attachments",
        part(os.urandom(4 * MB), "application/pdf; name=slides.pdf", "base64"),
        part((b"x" * 998 + b"\r\n") * 3000, "text/plain; charset=us-ascii"),  # 3 MB of long lines
        # 2 MB on one line, no line break at all: a reader that reads lines whole holds all of it.
        b"Content-Type: application/octet-stream; name=blob.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.b64encode(os.urandom(3 * MB // 2)),
        part(os.urandom(MB // 2), "image/png; name=photo.png", "base64"),
    )
    raw = headers + multipart("mixed", "top", reply_body, attachments)
    assert len(raw) > 10 * 1000 * 1000
    return raw


def peak_while(function, *args):
    tracemalloc.start()
    try:
        result = function(*args)
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_ten_megabyte_email_is_read_in_bounded_memory(tmp_path):
    path = tmp_path / "big.eml"
    path.write_bytes(ten_megabyte_email())
    with path.open("rb") as stream:
        email, peak = peak_while(read_email, stream)
    assert [(a.attendee, a.partstat, a.sequence) for a in email.answers] == [
        ("dan@example.net", "ACCEPTED", 1)
    ]
    assert email.calendar_error is None
    assert peak < PEAK_BOUND, f"peak {peak / MB:.1f} MiB"


def test_memory_does_not_grow_with_the_attachments():
    small = message(multipart("mixed", "m", part(calendar(), "text/calendar; method=REPLY")))
    large = message(
        multipart(
            "mixed",
            "m",
            part(calendar(), "text/calendar; method=REPLY"),
            part(os.urandom(8 * MB), "application/zip; name=a.zip", "base64"),
        )
    )
    _, small_peak = peak_while(read_email, small)
    email, large_peak = peak_while(read_email, large)
    assert email.answers
    # The 8 MB (11 MB encoded) attachment costs at most one line buffer more.
    assert large_peak - small_peak < inbound_email.MAX_LINE * 4


def test_the_largest_calendars_accepted_stay_within_their_own_bound(monkeypatch):
    # Scaled down (icalendar needs seconds for the real bounds); what is asserted is proportional.
    monkeypatch.setattr(inbound_email, "MAX_CALENDAR_BYTES", 32 * 1024)
    monkeypatch.setattr(inbound_email, "MAX_CALENDAR_TEXT", 64 * 1024)
    filler = b"X-FILLER:" + b"y" * 64 + b"\r\n"
    room = inbound_email.MAX_CALENDAR_BYTES - len(calendar()) - 1024
    big = calendar().replace(b"END:VEVENT", filler * (room // len(filler)) + b"END:VEVENT")
    cals = [big.replace(b"T120000Z", f"T12000{i}Z".encode()) for i in range(inbound_email.MAX_CALENDAR_PARTS)]
    raw = message(multipart("mixed", "m", *(part(c, "text/calendar; method=REPLY") for c in cals)))
    email, peak = peak_while(read_email, raw)
    assert len(email.answers) == 2  # two calendars fill MAX_CALENDAR_TEXT; the rest is not parsed
    assert "characters of calendars" in email.calendar_error
    # What is parsed is capped by MAX_CALENDAR_TEXT; icalendar holds a few times what it parses.
    assert peak < 16 * inbound_email.MAX_CALENDAR_TEXT, f"peak {peak / MB:.1f} MiB"


class CountingStream(io.RawIOBase):
    """Like botocore's StreamingBody: read(n) only, readline inherited from IOBase (byte by byte)."""

    def __init__(self, data: bytes):
        self._data = io.BytesIO(data)
        self.reads = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        self.reads += 1
        return self._data.read(size)


def test_a_stream_without_a_buffer_is_read_in_large_chunks():
    raw = ten_megabyte_email()
    stream = CountingStream(raw)
    email = read_email(stream)
    assert [(a.attendee, a.partstat) for a in email.answers] == [("dan@example.net", "ACCEPTED")]
    assert stream.reads < len(raw) // inbound_email.MAX_LINE * 2 + 10  # not one call per byte


def test_an_s3_streaming_body_reads_like_bytes():
    from botocore.response import StreamingBody  # what s3.get_object()["Body"] is

    raw = fixture("outlook-tentative.eml")
    assert read_email(StreamingBody(io.BytesIO(raw), len(raw))) == read_email(raw)
