"""Hypothesis strategies for hostile message bodies, and the CI profile."""

from __future__ import annotations

import json
import zoneinfo
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Deterministic in CI: the same examples on every run and machine, no example database.
FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=300,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

ANY_CHAR = st.characters(blacklist_categories=())  # surrogates, controls, everything
INJECTIONS = [
    "x\r\nBcc: victim@example.net",
    "x\nX-Injected: 1",
    "x\rSubject: spoofed",
    "Team\r\n\r\n--boundary\r\nContent-Type: text/html",
    "x\r\nATTENDEE:mailto:evil@example.net",
    "x\nEND:VEVENT\nBEGIN:VEVENT\nUID:evil",
    'Alice" <evil@example.net>, "Bob',
    "=?utf-8?q?=0D=0ABcc:_evil@example.net?=",
    "a;b,c:d\\e",
    "\u2028line\u2029para",
    "\x00\x1b\x7f\x85\x9f",
    "\ud800",
    "x\tTAB",
    " leading and trailing ",
    "😀 émoji, ünïcödé, 中文, עברית",
    "-- \r\n.\r\n",
]
LENGTHS = [0, 1, 64, 65, 128, 129, 254, 255, 256, 8000, 8001, 20000]

nasty_text = st.one_of(
    st.text(ANY_CHAR, max_size=30),
    st.sampled_from(INJECTIONS),
    st.builds(
        lambda c, n: c * n, st.sampled_from(["a", "é", "😀", " ", "\n", "x\r\n"]), st.sampled_from(LENGTHS)
    ),
)
json_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**63), st.floats(allow_nan=False), nasty_text
)
json_values = st.recursive(
    json_scalar,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
anything = st.one_of(json_values, nasty_text)

# Plausible values: valid most of the time, so that accepted input is rendered often, and made of
# every character the contract lets through (quotes, semicolons, colons, backslashes, "=?", emoji,
# right-to-left text, combining marks...).
zones = sorted(zoneinfo.available_timezones())
_printable = st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"))
plausible_text = st.one_of(
    st.text(_printable, min_size=1, max_size=60).filter(lambda t: t.strip() == t and t.strip()),
    st.sampled_from(["Quarterly planning", 'Say "hi"; a,b:c\\d', "=?utf-8?q?x?=", "😀 émoji 中文 עברית"]),
    st.builds(lambda c, n: c * n, st.sampled_from(["a", "é", "😀", "x y"]), st.sampled_from([64, 128, 255])),
)
plausible_description = st.one_of(
    plausible_text,
    st.text(
        st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")) | st.sampled_from("\n\t"), max_size=300
    ),
    st.just("line one\r\nline two\n\n\ttabbed =3D ==\n.\nFrom here"),
)
_local = st.text(st.sampled_from("abcXYZ019!#$%&'*+/=?^_`{|}~-"), min_size=1, max_size=20)
plausible_email = st.one_of(
    st.sampled_from(["bob@example.org", "Bob.O'Neil+tag@Sub.Example.COM", "x@y.io", "a.b@c.de"]),
    st.builds(
        "{}@{}.{}".format,
        _local.filter(lambda t: "." not in t),
        st.sampled_from(["ex-1", "b"]),
        st.just("org"),
    ),
)
_valid_times = st.builds(
    lambda start, minutes, offset: (
        (start.replace(tzinfo=offset) if offset else start).isoformat(),
        ((start.replace(tzinfo=offset) if offset else start) + timedelta(minutes=minutes)).isoformat(),
    ),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1)),
    st.integers(1, 60 * 24 * 3),
    st.one_of(
        st.none(),
        st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]),
    ),
)
plausible_time = st.one_of(
    _valid_times,
    st.sampled_from(
        [
            ("2026-12-01T15:00:00Z", "2026-12-01T16:00:00Z"),
            ("2026-12-24", "2026-12-25"),
            ("2026-12-24", "2027-01-02"),
            ("0001-01-01T00:00:00+14:00", "0001-01-02T00:00:00+14:00"),
            ("9999-12-31T22:00:00-12:00", "9999-12-31T23:00:00-12:00"),
            ("9999-12-30", "9999-12-31"),
            ("2026-03-29T02:30:00", "2026-03-29T03:30:00"),
            ("2026-10-25T02:30:00", "2026-10-25T02:45:00"),
        ]
    ),
    st.tuples(nasty_text, nasty_text),
)


@st.composite
def invite_documents(draw, *, plausible: bool = True) -> dict:
    """plausible=True: valid fields made of every character the contract allows, except at most
    one field (half of the time) that gets a hostile value. plausible=False: anything anywhere."""
    bad = draw(st.one_of(st.none(), st.sampled_from(PLAUSIBLE_FIELDS))) if plausible else None

    def value(name, valid):
        if not plausible:
            return draw(anything)
        return draw(nasty_text if name == bad else valid)

    start, end = draw(plausible_time if bad == "time" or not plausible else _valid_times)
    event = {
        "uid": value("uid", plausible_text),
        "sequence": draw(st.one_of(st.integers(-1, 2**31), json_scalar))
        if bad == "sequence"
        else draw(st.integers(0, 5)),
        "summary": value("summary", plausible_text),
        "start": start,
        "end": end,
        "organizer": {
            "email": value("organizer.email", plausible_email),
            "name": value("organizer.name", plausible_text | st.just("")),
        },
    }
    if draw(st.booleans()):
        event["description"] = value("description", plausible_description)
    if draw(st.booleans()):
        event["location"] = value("location", plausible_text)
    local = not any(mark in start[10:] for mark in ("Z", "+", "-"))
    if draw(st.booleans()) or local:
        event["timezone"] = value("timezone", st.sampled_from(zones))
    if draw(st.integers(0, 3)) == 0 or bad == "rrule":
        # Rules whose first occurrence is any start, so that plausible series are accepted.
        event["rrule"] = value("rrule", st.sampled_from(SYNCHRONISED_RULES))
    attendee = {"email": value("attendee.email", plausible_email)}
    if draw(st.booleans()):
        attendee["name"] = value("attendee.name", plausible_text)
    document = {"event": event, "attendee": attendee}
    if not plausible:
        # Any field may be replaced by anything at all, including a missing one.
        for path in draw(st.lists(st.sampled_from(FIELDS), max_size=3)):
            container = document
            for key in path[:-1]:
                container = container.setdefault(key, {}) if isinstance(container, dict) else {}
            if isinstance(container, dict):
                container[path[-1]] = draw(anything)
    return document


SYNCHRONISED_RULES = ["FREQ=DAILY;COUNT=3", "FREQ=WEEKLY;INTERVAL=2", "FREQ=YEARLY;COUNT=40", "freq=monthly"]
PLAUSIBLE_FIELDS = [
    "uid",
    "sequence",
    "summary",
    "time",
    "organizer.email",
    "organizer.name",
    "description",
    "location",
    "timezone",
    "rrule",
    "attendee.email",
    "attendee.name",
]
FIELDS = [
    ("event",),
    ("event", "uid"),
    ("event", "sequence"),
    ("event", "summary"),
    ("event", "description"),
    ("event", "location"),
    ("event", "start"),
    ("event", "end"),
    ("event", "timezone"),
    ("event", "rrule"),
    ("event", "exdates"),
    ("event", "occurrence"),
    ("event", "organizer"),
    ("event", "organizer", "email"),
    ("event", "organizer", "name"),
    ("attendee",),
    ("attendee", "email"),
    ("attendee", "name"),
    ("attendees",),
    ("scope",),
]


def body_of(document) -> str:
    return json.dumps(document, ensure_ascii=True)
