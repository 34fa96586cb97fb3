"""CPU time to render one invite email (iCalendar plus MIME), on one core."""

from __future__ import annotations

import json
import statistics
import time
from datetime import UTC, datetime

from bench.figures import Figure, at_least

RATE_GOAL = 1500.0
REPEATS = 9
SECONDS_PER_REPEAT = 0.2


def _itip(changed_occurrences: int = 0, **overrides):
    from datetime import timedelta

    from lambdas.domain.calendar import ItipMessage
    from lambdas.domain.contract import parse_invite
    from lambdas.domain.series import Override
    from lambdas.domain.vocabulary import EventStatus, Method
    from local.samples import invite_body

    request = parse_invite(json.dumps(invite_body(**overrides)))
    occurrences = request.event.recurrence.occurrences(limit=20) if request.event.rrule else []
    moved = tuple(
        Override(o, o + timedelta(days=1), o + timedelta(days=1, hours=1), 1)
        for o in occurrences[1 : 1 + changed_occurrences]
    )
    return ItipMessage(
        method=Method.REQUEST,
        event=request.event,
        attendee=request.attendee,
        sequence=request.event.sequence,
        organizer_mailbox="rsvp@example.com",
        dtstamp=datetime.now(UTC),
        status=EventStatus.CONFIRMED,
        overrides=moved,
    )


def _rate(itip) -> tuple[float, float, int]:
    """(best, median) emails per CPU-second over REPEATS short trials, and the email's size.

    timeit's advice: on a shared machine the fastest trial is the one least disturbed by other
    processes (slower trials measure the neighbours, not the code); the median is kept too.
    """
    from lambdas.domain.message import Envelope, render_email

    envelope = Envelope(sender="invites@example.com", reply_to="rsvp@example.com", subject_prefix="Calendar")
    size = len(render_email(itip, envelope).raw)  # warm caches (VTIMEZONE) as a warm container has
    rates = []
    for _ in range(REPEATS):
        count, start = 0, time.process_time()
        while (elapsed := time.process_time() - start) < SECONDS_PER_REPEAT:
            for _ in range(20):
                render_email(itip, envelope)
            count += 20
        rates.append(count / elapsed)
    return max(rates), statistics.median(rates), size


def render() -> list[Figure]:
    cases = {
        "UTC times": {},
        "local times + VTIMEZONE": {
            "start": "2026-12-01T10:00:00",
            "end": "2026-12-01T11:00:00",
            "timezone": "Europe/Paris",
        },
        "weekly series with 3 changed occurrences": {
            "start": "2026-12-01T10:00:00",
            "end": "2026-12-01T11:00:00",
            "timezone": "Europe/Paris",
            "rrule": "FREQ=WEEKLY;BYDAY=TU;COUNT=20",
            "exdates": ["2026-12-22T10:00:00", "2026-12-29T10:00:00"],
            "changed_occurrences": 3,
        },
    }
    keys = ["render_per_second", "render_per_second_vtimezone", "render_per_second_series"]
    figures = []
    for (name, overrides), key in zip(cases.items(), keys, strict=True):
        overrides = dict(overrides)
        rate, median, size = _rate(_itip(overrides.pop("changed_occurrences", 0), **overrides))
        figures.append(
            Figure(
                key=key,
                label=f"Invite emails rendered per CPU-second, one core ({name})",
                value=rate,
                unit="/s",
                goal=f">= {RATE_GOAL:,.0f}",
                met=at_least(rate, RATE_GOAL),
                command="python -m bench render",
                detail={
                    "ms_per_email": round(1000 / rate, 3),
                    "median_rate_per_s": round(median),
                    "statistic": f"best of {REPEATS} trials of {SECONDS_PER_REPEAT} s CPU time",
                    "email_bytes": size,
                },
            )
        )
    return figures
