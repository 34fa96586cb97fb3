"""The contract's largest request through the local runtime built from the app's template.

One fan-out invite of MAX_ATTENDEES attendees, enqueued the way cisctl does it, delivered with the
template's batch size, visibility timeout, function timeout and redrive policy: every attendee
gets exactly one email, nothing is dead-lettered, and the event counts every send once. (Its
duration is a figure of `make bench`, not an assertion here.)
"""

from __future__ import annotations

from collections import Counter

import pytest

from cisctl import ops
from cisctl.requests import validate
from cisctl.target import Target
from lambdas.domain.contract import MAX_ATTENDEES

UID = "all-hands-2027@example.com"
ATTENDEES = [f"guest{n:04d}@example.org" for n in range(MAX_ATTENDEES)]
REQUEST = {
    "event": {
        "uid": UID,
        "sequence": 0,
        "summary": "All hands",
        "start": "2027-01-15T16:00:00Z",
        "end": "2027-01-15T17:00:00Z",
        "organizer": {"email": "alice@example.com", "name": "Alice Martin"},
    },
    "attendees": [{"email": email} for email in ATTENDEES],
}


@pytest.mark.scale
def test_an_invite_to_the_contracts_maximum_reaches_every_attendee_exactly_once(start_runtime, app_assembly):
    runtime = start_runtime(app_assembly)
    target = Target.endpoint(runtime.endpoint, region=runtime.region, stacks=tuple(app_assembly.names))
    validate("invite", [REQUEST])
    ops.enqueue(target, "invite", [REQUEST])

    invocations = runtime.drain(max_invocations=2 * MAX_ATTENDEES, timeout=120)

    emails = runtime.sent_emails()
    assert Counter(e.recipient for e in emails) == Counter(ATTENDEES)  # each one, once
    assert len({e.message_id_header for e in emails}) == MAX_ATTENDEES  # no send was retried twice
    assert {(e.method, e.uid, e.sequence) for e in emails} == {("REQUEST", UID, 0)}
    assert [i for i in invocations if i.failed or i.error or i.timed_out] == []
    outcomes = sum((i.outcomes for i in invocations), Counter())
    assert outcomes == {"fanned_out": 1, "sent": MAX_ATTENDEES}
    assert ops.dead_letters(target, ["invite"]) == {"invite": []}
    report = ops.event_status(target, UID)
    assert report.event.invites_sent == MAX_ATTENDEES
    assert sorted(a.email for a in report.attendees) == ATTENDEES
    assert {a.status for a in report.attendees} == {"invited"}
