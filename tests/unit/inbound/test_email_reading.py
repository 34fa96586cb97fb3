"""The MIME walk: wherever a client puts the calendar, however it is encoded, it is found once."""

from __future__ import annotations

import pytest

from lambdas.domain.inbound import email as inbound_email
from lambdas.domain.inbound.itip import read_email
from tests.unit.inbound.mails import calendar, message, multipart, part, reply


def partstats(raw: bytes) -> list[str | None]:
    return [a.partstat for a in read_email(raw).answers]


@pytest.mark.parametrize("cte", ["7bit", "8bit", "base64", "quoted-printable"])
@pytest.mark.parametrize("eol", ["\r\n", "\n"])
def test_every_transfer_encoding_and_line_end(cte, eol):
    assert partstats(reply(calendar(eol=eol), cte=cte)) == ["ACCEPTED"]


@pytest.mark.parametrize(
    ("content_type", "disposition"),
    [
        ("application/ics; name=invite.ics", "Content-Disposition: attachment; filename=invite.ics\r\n"),
        ("text/calendar; name=reply.ics", "Content-Disposition: attachment\r\n"),
        ('application/octet-stream; name="Reply.ICS"', ""),
        ("application/octet-stream", 'Content-Disposition: attachment; filename="meeting.ics"\r\n'),
        ("text/x-vcalendar", ""),
    ],
)
def test_calendar_attachments(content_type, disposition):
    raw = message(
        multipart(
            "mixed",
            "mix",
            part(b"See attached.\r\n", "text/plain"),
            part(calendar(), content_type, "base64", disposition),
        )
    )
    assert partstats(raw) == ["ACCEPTED"]


def test_an_octet_stream_that_is_not_named_ics_is_not_read():
    raw = message(
        multipart("mixed", "mix", part(calendar(), "application/octet-stream; name=data.bin", "base64"))
    )
    assert read_email(raw).answers == ()


def test_a_single_part_calendar_message():
    raw = message(part(calendar(), "text/calendar; method=REPLY; charset=utf-8", "base64"))
    assert partstats(raw) == ["ACCEPTED"]


def test_deeply_nested_multiparts():
    inner = part(calendar(), "text/calendar; method=REPLY", "quoted-printable")
    for depth in range(6):
        inner = multipart(
            "mixed" if depth % 2 else "alternative", f"level{depth}", part(b"x\r\n", "text/plain"), inner
        )
    assert partstats(message(inner)) == ["ACCEPTED"]


def test_nesting_beyond_the_bound_is_not_walked():
    inner = part(calendar(), "text/calendar; method=REPLY")
    for depth in range(inbound_email.MAX_DEPTH + 2):
        inner = multipart("mixed", f"level{depth}", inner)
    assert read_email(message(inner)).answers == ()


def test_the_same_calendar_inline_and_attached_is_one_answer():
    cal = calendar()
    raw = message(
        multipart(
            "mixed",
            "mix",
            multipart(
                "alternative", "alt", part(b"ok\r\n", "text/plain"), part(cal, "text/calendar; method=REPLY")
            ),
            part(cal.replace(b"\r\n", b"\n"), "application/ics; name=invite.ics", "base64"),
        )
    )
    assert partstats(raw) == ["ACCEPTED"]


def test_two_different_calendars_give_both_answers_in_order():
    later = calendar(params="PARTSTAT=DECLINED").replace(b"T120000Z", b"T130000Z")
    raw = message(
        multipart(
            "mixed",
            "mix",
            part(calendar(), "text/calendar; method=REPLY"),
            part(later, "application/ics", "base64"),
        )
    )
    assert partstats(raw) == ["ACCEPTED", "DECLINED"]


def test_an_attached_message_is_not_read():
    forwarded = message(part(calendar(), "text/calendar; method=REPLY"), sender="Ben <ben@example.org>")
    raw = message(
        multipart(
            "mixed",
            "mix",
            part(b"FYI\r\n", "text/plain"),
            b"Content-Type: message/rfc822\r\n\r\n" + forwarded,
        )
    )
    assert read_email(raw).answers == ()


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/calendar; method=REPLY; charset=ISO-8859-1", "José".encode("latin-1")),
        ('text/calendar; method=REPLY; charset="windows-1252"', "José".encode("cp1252")),
        ("text/calendar; method=REPLY", "José".encode()),  # no charset: UTF-8
        ("text/calendar; method=REPLY", "José".encode("latin-1")),  # no charset, not UTF-8
        ("text/calendar; method=REPLY; charset=x-no-such-charset", "José".encode()),
        ("text/calendar; method=REPLY; charset=utf-16", "José".encode("utf-16")),
    ],
)
def test_charsets(content_type, body):
    cn = b"CN=" + body if not content_type.endswith("utf-16") else None
    if cn is None:
        cal = calendar(params="PARTSTAT=ACCEPTED;CN=José").decode("utf-8").encode("utf-16")
    else:
        cal = calendar(params="PARTSTAT=ACCEPTED;CN=X").replace(b"CN=X", cn)
    (answer,) = read_email(reply(cal, content_type=content_type, cte="base64")).answers
    assert answer.attendee_name == "José"


def test_bad_bytes_in_a_declared_charset_do_not_crash():
    cal = calendar(params="PARTSTAT=ACCEPTED;CN=X").replace(b"CN=X", b"CN=Jos\xe9\xff")
    (answer,) = read_email(
        reply(cal, content_type="text/calendar; method=REPLY; charset=utf-8", cte="8bit")
    ).answers
    assert answer.attendee_name.startswith("Jos")
    assert answer.partstat == "ACCEPTED"


def test_a_fold_inside_a_utf8_character():
    cal = calendar(params="PARTSTAT=ACCEPTED;CN=José Ñúñez")
    cut = cal.index("Ñ".encode()) + 1  # between the two octets of Ñ
    folded = cal[:cut] + b"\r\n " + cal[cut:]
    (answer,) = read_email(reply(folded, cte="base64")).answers
    assert answer.attendee_name == "José Ñúñez"


def test_headers_folded_and_parameters_quoted_or_not():
    raw = (
        b"From: Ana Lima\r\n <ana@example.org>\r\nSubject: =?utf-8?q?Accepted=3A_Kickoff?=\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: multipart/alternative;\r\n\tboundary=alt\r\n\r\n--alt\r\n"
        b'Content-Type: text/calendar;\r\n method="REPLY";\r\n\tcharset="UTF-8"\r\n\r\n'
        + calendar()
        + b"--alt--\r\n"
    )
    email = read_email(raw)
    assert (email.from_address, email.subject, [a.partstat for a in email.answers]) == (
        "ana@example.org",
        "Accepted: Kickoff",
        ["ACCEPTED"],
    )


def test_a_message_cut_off_before_its_closing_boundary_is_still_read():
    raw = reply()
    assert partstats(raw[: raw.rindex(b"--alt--")]) == ["ACCEPTED"]


def test_a_boundary_that_is_a_prefix_of_another():
    inner = multipart(
        "alternative",
        "b-inner",
        part(b"x\r\n", "text/plain"),
        part(calendar(), "text/calendar; method=REPLY"),
    )
    raw = message(multipart("mixed", "b", part(b"preamble-ish\r\n", "text/plain"), inner))
    assert partstats(raw) == ["ACCEPTED"]


@pytest.mark.parametrize(
    ("sender", "expected"),
    [
        ("Ana Lima <ANA@Example.ORG>", "ana@example.org"),
        ("ana@example.org", "ana@example.org"),
        ('"Lima, Ana" <ana@example.org>', "ana@example.org"),
        ("=?iso-8859-1?q?Jos=E9?= <jose@example.org>", "jose@example.org"),
        ("Ana <ana@example.org>, Ben <ben@example.org>", ""),
        ("undisclosed-recipients:;", ""),
        ("not an address", ""),
        ("<>", ""),
    ],
)
def test_from_address(sender, expected):
    assert read_email(reply(sender=sender)).from_address == expected


def test_no_from_header():
    assert read_email(b"Subject: hi\r\n\r\nhello\r\n").from_address == ""


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ("Auto-Submitted: auto-replied\r\n", "auto-submitted"),
        ("Auto-Submitted: auto-generated; owner-email=x@example.org\r\n", "auto-submitted"),
        ("X-Auto-Response-Suppress: All\r\n", "x-auto-response-suppress"),
        ("X-Autoreply: yes\r\n", "x-autoreply"),
        ("X-Autorespond: Out of office\r\n", "x-autorespond"),
        ("Precedence: bulk\r\n", "precedence"),
        ("Precedence: JUNK\r\n", "precedence"),
        ("List-Id: <team.example.org>\r\n", "list"),
        ("Return-Path: <>\r\n", "null-return-path"),
    ],
)
def test_automatic_mail(headers, reason):
    email = read_email(reply(headers=headers))
    assert (email.automatic, email.automatic_reason) == (True, reason)
    assert email.answers  # an automatic mail's answers are still read: only never answer it


@pytest.mark.parametrize("sender", ["MAILER-DAEMON@mx.example.org", "Postmaster <postmaster@example.org>"])
def test_mail_from_a_mailer_daemon_is_automatic(sender):
    email = read_email(reply(sender=sender))
    assert (email.automatic, email.automatic_reason) == (True, "mailer-daemon")


@pytest.mark.parametrize(
    "headers",
    ["", "Auto-Submitted: no\r\n", "Precedence: first-class\r\n", "Return-Path: <ana@example.org>\r\n"],
)
def test_not_automatic(headers):
    assert read_email(reply(headers=headers)).automatic is False


def test_a_report_is_automatic():
    raw = message(multipart("report; report-type=delivery-status", "r", part(b"failed\r\n", "text/plain")))
    assert read_email(raw).automatic_reason == "report"


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\r\n\r\n",
        b"garbage without headers",
        b"\xff\xfe\x00" * 1000,
        b"Content-Type: multipart/mixed\r\n\r\nno boundary parameter\r\n",
        b'Content-Type: multipart/mixed; boundary=""\r\n\r\n--\r\n',
        b"Content-Type: text/calendar; method=REPLY\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!nob64!",
        b"From: =?utf-8?b?!!!?= <\x00@\xff>\r\nContent-Type: text/calendar\r\n\r\nBEGIN:VCALENDAR\r\n",
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n--b\r\n--b--\r\n",
    ],
)
def test_hostile_input_never_raises(raw):
    email = read_email(raw)
    assert email.answers == ()


def test_calendar_parts_are_capped(monkeypatch):
    cals = [
        calendar().replace(b"T120000Z", f"T12000{i}Z".encode())
        for i in range(inbound_email.MAX_CALENDAR_PARTS + 2)
    ]
    raw = message(multipart("mixed", "mix", *(part(c, "text/calendar; method=REPLY") for c in cals)))
    email = read_email(raw)
    assert len(email.answers) == inbound_email.MAX_CALENDAR_PARTS
    assert f"more than {inbound_email.MAX_CALENDAR_PARTS} calendar parts" in email.calendar_error


def test_an_oversized_calendar_part_is_not_read():
    filler = b"X-FILLER:" + b"y" * 64 + b"\r\n"
    big = calendar().replace(
        b"END:VEVENT", filler * (inbound_email.MAX_CALENDAR_BYTES // len(filler) + 1) + b"END:VEVENT"
    )
    raw = message(
        multipart(
            "mixed",
            "mix",
            part(big, "text/calendar; method=REPLY"),
            part(calendar(), "application/ics", "base64"),
        )
    )
    email = read_email(raw)
    assert "larger than" in email.calendar_error
    assert [a.partstat for a in email.answers] == ["ACCEPTED"]  # the next calendar part is still read


def test_the_parts_walked_are_capped(monkeypatch):
    monkeypatch.setattr(inbound_email, "MAX_PARTS", 3)
    parts = [part(b"x\r\n", "text/plain") for _ in range(5)]
    raw = message(multipart("mixed", "mix", *parts, part(calendar(), "text/calendar; method=REPLY")))
    email = read_email(raw)
    assert email.answers == ()
    assert "more than 3 MIME parts" in email.calendar_error
    monkeypatch.setattr(inbound_email, "MAX_PARTS", 10)
    assert partstats(raw) == ["ACCEPTED"]


def test_the_lines_read_are_capped(monkeypatch):
    raw = message(
        multipart(
            "mixed", "mix", part(b"\r\n" * 50, "text/plain"), part(calendar(), "text/calendar; method=REPLY")
        )
    )
    monkeypatch.setattr(inbound_email, "MAX_LINES", 40)
    email = read_email(raw)
    assert email.answers == ()
    assert "more than 40 lines" in email.calendar_error
    monkeypatch.setattr(inbound_email, "MAX_LINES", 200)
    assert partstats(raw) == ["ACCEPTED"]


def test_a_signed_message_is_walked_like_any_multipart():
    signed = (
        b'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256;\r\n'
        b' boundary="sig"\r\n\r\n--sig\r\n'
        + multipart(
            "alternative",
            "alt",
            part(b"ok\r\n", "text/plain"),
            part(calendar(), "text/calendar; method=REPLY"),
        )
        + b"--sig\r\n"
        + part(b"\x30\x82signature", "application/pkcs7-signature; name=smime.p7s", "base64")
        + b"\r\n--sig--\r\n"
    )
    assert partstats(message(signed)) == ["ACCEPTED"]
