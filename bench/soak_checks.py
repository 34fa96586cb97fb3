"""The soak's oracles, as pure functions of what it read: SES's outbox and the table's items.

Neither trusts the functions' own logs: the emails are those moto's SES accepted, the counts are
recounted from the attendee items the functions wrote.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from lambdas.domain.feedback import COUNTERS as FEEDBACK_COUNTERS
from lambdas.domain.items import AttendeeItem, EventItem
from lambdas.domain.replies import COUNTERS as ANSWER_COUNTERS

# The event item's counters a recount from its attendee items can check.
COUNTED = (
    "invites_sent",
    "updates_sent",
    "cancellations_sent",
    *FEEDBACK_COUNTERS.values(),
    *ANSWER_COUNTERS,
)

Key = tuple[str, str]  # (event uid, attendee address)


def version_of(method: str, sequence: int | None) -> str:
    """What one email is to its attendee: "REQUEST:<sequence>" or its method (CANCEL)."""
    return f"{method}:{sequence}" if method == "REQUEST" else method


def email_defects(
    expected: Mapping[Key, set[str]], emails: Mapping[Key, Counter]
) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """(missing, duplicated, not asked for): every expected version once, nothing else."""
    missing, duplicated, unexpected = [], [], []
    for key in sorted(set(expected) | set(emails)):
        wanted, got = expected.get(key, set()), emails.get(key, Counter())
        missing += [(key, v) for v in sorted(wanted) if got[v] == 0]
        duplicated += [(key, v, n) for v, n in sorted(got.items()) if n > 1]
        unexpected += [(key, v) for v in sorted(got) if v not in wanted]
    return missing, duplicated, unexpected


def emails_by_counter(emails: Mapping[Key, Counter]) -> Counter:
    """The emails SES accepted, by the event counter each should have added one to."""
    counted = Counter()
    for versions in emails.values():
        for version, n in versions.items():
            if version == "REQUEST:0":
                counted["invites_sent"] += n
            elif version.startswith("REQUEST:"):
                counted["updates_sent"] += n
            elif version == "CANCEL":
                counted["cancellations_sent"] += n
    return counted


def recount(event: EventItem, attendees: Iterable[AttendeeItem]) -> Counter:
    """The event's counters as its attendee items tell them: emails from their histories (a
    REQUEST answering a REFRESH is not an invitation), feedback from what each counted, answers
    from the attendees counted at the version the event's answer counts describe."""
    counted = Counter()
    for item in attendees:
        for entry in item.history:
            method = str(entry.method or "")
            if method == "REQUEST" and not entry.refresh_of:
                counted["invites_sent" if (entry.sequence or 0) == 0 else "updates_sent"] += 1
            elif method == "CANCEL":
                counted["cancellations_sent"] += 1
        for key in item.counted_feedback:
            counted[key.split("#", 1)[0]] += 1
        if item.counted_as and item.counted_sequence == event.replies_sequence:
            counted[item.counted_as] += 1
    return counted


def counter_mismatches(event: EventItem, attendees: Iterable[AttendeeItem]) -> list[str]:
    counted = recount(event, attendees)
    return [
        f"{event.uid} {name}: {getattr(event, name)} on the event, {counted[name]} recounted"
        for name in COUNTED
        if getattr(event, name) != counted[name]
    ]
