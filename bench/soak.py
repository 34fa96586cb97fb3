"""``make soak``: a bounded soak of the whole system through the local runtime, with its checks.

``python -m bench.soak [full|medium|short]`` (``make soak``, ``make soak SOAK=short``; CI runs
the short one, the medium one is a tenth of the full one). In order, through the local runtime
built from the synthesized template (bench/local_runtime.py), with the bench's round trip on every
AWS request and a share of the functions' DynamoDB and SES requests answered with AWS's
throttling and server errors (``local.transport.RandomFaults``, drawn per attempt):

1. one event of ``big`` attendees, invited in requests of the contract's maximum;
2. its update (SEQUENCE 1, moved by a day), to every attendee again;
3. its cancellation, by uid (the function fans it out);
4. ``more`` invitations to other events, half of them weekly series, half single events;
5. ``answers`` replies from those attendees, through the local SES receiving;
6. ``feedback`` delivery events on those invitations (delivered, bounced, complained), through
   the local SES event publishing.

Then it checks, and exits 1 if a check fails:

* every attendee has exactly one email per version (and nobody an email not asked for);
* no message is dead-lettered;
* every event item's counters equal a recount from its attendee items, and the invitations,
  updates and cancellations counted equal the emails SES accepted;
* memory is flat after warm-up: after the first phase, the process's RSS (sampled every half
  second) grows by no more than what moto newly stores (every item and email it holds, times
  ``STORED_OVERHEAD`` for Python's objects around them), plus ``RSS_SLACK_MB``.

Time is compressed where the system only waits: a record handed back comes back after 91 s
instead of 542 s (``bench.local_runtime.shortened_visibility``: still after its claim's lease),
and botocore's back-off after an injected fault is slept at ``BACKOFF_SCALE`` of its length (the
attempts are the real ones). Function timeouts and leases are the stacks' own.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.aws import RTT_SECONDS
from bench.local_runtime import (
    STORED_OVERHEAD,
    RssSampler,
    dead_lettered,
    drain,
    requests,
    rss_kb,
    started,
    stored_bytes,
    target,
)
from bench.soak_checks import COUNTED, counter_mismatches, email_defects, emails_by_counter, version_of

RESULTS = Path(__file__).resolve().parent / "soak-results.json"
FAULT_RATE = 0.2
# botocore's back-off after a fault is slept at this share of its length.
BACKOFF_SCALE = 0.1
RSS_SLACK_MB = 64.0
SERIES = {
    "start": "2027-01-05T10:00:00",
    "end": "2027-01-05T11:00:00",
    "timezone": "Europe/Paris",
    "rrule": "FREQ=WEEKLY;BYDAY=TU;COUNT=12",
}
ANSWERS = ("ACCEPTED", "DECLINED", "TENTATIVE")
FEEDBACK = (("Delivery", {}),) * 8 + (("Bounce", {"bounce_type": "Permanent"}), ("Complaint", {}))


@dataclass(frozen=True)
class Profile:
    big: int  # attendees of the one large event
    more: int  # invitations to other events
    per_event: int  # attendees of each of those events
    answers: int
    feedback: int
    seconds: float  # the soak gives up (and fails) after this long


PROFILES = {
    "full": Profile(big=10_000, more=5_000, per_event=100, answers=2_000, feedback=2_000, seconds=4 * 3600),
    # A tenth of the full soak: a quarter of an hour on a quiet machine.
    "medium": Profile(big=1_000, more=500, per_event=100, answers=200, feedback=200, seconds=3600),
    "short": Profile(big=150, more=100, per_event=50, answers=50, feedback=50, seconds=600),
}


@dataclass
class Phase:
    name: str
    seconds: float = 0.0
    invocations: int = 0
    emails: int = 0
    rss_end_mb: float = 0.0
    stored_end_mb: float = 0.0


@dataclass
class Soak:
    profile: Profile
    phases: list[Phase] = field(default_factory=list)
    # (uid, attendee) -> Counter of (method, sequence): every email SES accepted
    emails: dict[tuple[str, str], Counter] = field(default_factory=lambda: defaultdict(Counter))
    expected: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    invited: list[tuple[str, str, str]] = field(default_factory=list)  # (uid, attendee, SES id), phase 4
    failures: list[str] = field(default_factory=list)


def attendees(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{i:05d}@example.org" for i in range(count)]


def run(profile: Profile, log=print) -> tuple[Soak, dict]:
    from cisctl import ops
    from local.samples import invite_body
    from local.transport import RandomFaults

    soak = Soak(profile)
    deadline = time.monotonic() + profile.seconds
    faults = RandomFaults(rate=FAULT_RATE, seed=15)
    with (
        tempfile.TemporaryDirectory(prefix="bench-soak-") as work,
        started(Path(work), short_visibility=True) as (runtime, transport),
        _scaled_backoff(BACKOFF_SCALE),
        RssSampler() as sampler,
    ):
        where = target(runtime)
        transport.faults = faults

        def phase(name: str):
            return _phase(soak, runtime, sampler, name, deadline, log)

        big_uid = "soak-big@example.com"
        big = attendees("big", profile.big)
        event = invite_body(uid=big_uid)["event"]
        with phase("1. invite the large event"):
            ops.enqueue(where, "invite", requests(event, big))
            _expect(soak, big_uid, big, "REQUEST:0")
        with phase("2. update it (SEQUENCE 1)"):
            moved = {**event, "sequence": 1, "start": "2026-12-02T15:00:00Z", "end": "2026-12-02T16:00:00Z"}
            ops.enqueue(where, "invite", requests(moved, big))
            _expect(soak, big_uid, big, "REQUEST:1")
        with phase("3. cancel it"):
            ops.enqueue(where, "cancellation", [{"event": {"uid": big_uid}}])
            _expect(soak, big_uid, big, "CANCEL")
        events = []
        with phase("4. invitations to series and single events"):
            for number in range(max(1, profile.more // profile.per_event)):
                uid = f"soak-{'series' if number % 2 == 0 else 'single'}-{number}@example.com"
                people = attendees(f"e{number}-", profile.per_event)
                details = invite_body(uid=uid, **(SERIES if number % 2 == 0 else {}))["event"]
                ops.enqueue(where, "invite", requests(details, people))
                _expect(soak, uid, people, "REQUEST:0")
                events.append((uid, people))
        with phase("5. answers through SES receiving") as answered:
            answered.invocations = _answer(soak, runtime, events, deadline)
        with phase("6. delivery feedback through SES event publishing"):
            _feedback(soak, runtime)
        transport.faults = None  # the checks read the table as it is
        figures = _check(soak, runtime, where, sampler, [big_uid] + [uid for uid, _ in events])
        figures["faults_injected"] = {":".join(k): n for k, n in sorted(faults.injected.items())}
        figures["faults_injected_total"] = sum(faults.injected.values())
        figures["aws_requests"] = sum(transport.snapshot().values())
    return soak, figures


def _expect(soak: Soak, uid: str, people: list[str], version: str) -> None:
    for person in people:
        soak.expected[(uid, person)].add(version)


@contextlib.contextmanager
def _phase(soak: Soak, runtime, sampler, name: str, deadline: float, log) -> Iterator[Phase]:
    sampler.phase = name
    phase = Phase(name)
    started = time.monotonic()
    log(f"... {name}")
    yield phase
    phase.invocations += drain(runtime, seconds=max(1.0, deadline - time.monotonic()))
    phase.seconds = time.monotonic() - started
    for sent in runtime.new_emails():
        soak.emails[(sent.uid, sent.recipient.lower())][version_of(sent.method, sent.sequence)] += 1
        phase.emails += 1
        if name.startswith("4."):
            soak.invited.append((sent.uid, sent.recipient.lower(), sent.ses_id))
    phase.rss_end_mb = rss_kb() / 1024
    phase.stored_end_mb = stored_bytes(runtime) / 1e6
    soak.phases.append(phase)
    log(
        f"    {phase.seconds:.1f} s, {phase.invocations} invocations, {phase.emails} emails,"
        f" RSS {phase.rss_end_mb:.0f} MB"
    )


def _answer(soak: Soak, runtime, events: list[tuple[str, list[str]]], deadline: float) -> int:
    """``answers`` first answers, spread over the events, received in rounds of 100; the
    invocations that recorded them."""
    from local.samples import reply_mail

    people = [(uid, person) for uid, group in events for person in group]
    step = max(1, len(people) // max(1, soak.profile.answers))
    chosen = people[::step][: soak.profile.answers]
    invocations = 0
    for index, (uid, person) in enumerate(chosen):
        runtime.receive_email(reply_mail(person, ANSWERS[index % len(ANSWERS)], uid=uid))
        if index % 100 == 99:
            invocations += drain(runtime, seconds=max(1.0, deadline - time.monotonic()))
    return invocations


def _feedback(soak: Soak, runtime) -> None:
    step = max(1, len(soak.invited) // max(1, soak.profile.feedback))
    for index, (_uid, _person, ses_id) in enumerate(soak.invited[::step][: soak.profile.feedback]):
        event_type, details = FEEDBACK[index % len(FEEDBACK)]
        runtime.publish_delivery_event(ses_id, event_type, **details)


# ------------------------------------------------------------------------------------------ checks


def _check(soak: Soak, runtime, where, sampler, uids: list[str]) -> dict:
    missing, duplicated, unexpected = email_defects(soak.expected, soak.emails)
    _verdict(
        soak,
        "every attendee has exactly one email per version",
        not (missing or duplicated or unexpected),
        f"{len(missing)} missing, {len(duplicated)} duplicated, {len(unexpected)} not asked for"
        f" (e.g. {(missing + duplicated + unexpected)[:3]})",
    )

    dead = dead_lettered(runtime)
    _verdict(soak, "no message is dead-lettered", not any(dead.values()), json.dumps(dead))

    mismatches, totals = _recount(where, uids)
    accepted = emails_by_counter(soak.emails)
    for counter in ("invites_sent", "updates_sent", "cancellations_sent"):
        if totals[counter] != accepted[counter]:
            mismatches.append(
                f"{counter}: {totals[counter]} counted, {accepted[counter]} emails accepted by SES"
            )
    _verdict(
        soak,
        "the event counts equal a recount from the attendee items (and SES's outbox)",
        not mismatches,
        "; ".join(mismatches[:5]),
    )

    warm = soak.phases[0]
    after = [kb / 1024 for _, phase, kb in sampler.samples if phase != warm.name]
    grown = max(after, default=warm.rss_end_mb) - warm.rss_end_mb
    stored = soak.phases[-1].stored_end_mb - warm.stored_end_mb
    allowed = STORED_OVERHEAD * stored + RSS_SLACK_MB
    _verdict(
        soak,
        "memory is flat after warm-up",
        grown <= allowed,
        f"RSS grew {grown:.0f} MB after the first phase; moto stored {stored:.1f} MB more;"
        f" allowed {allowed:.0f} MB",
    )
    return {
        "emails": sum(sum(c.values()) for c in soak.emails.values()),
        "missing": len(missing),
        "duplicated": len(duplicated),
        "not_asked_for": len(unexpected),
        "dead_lettered": dead,
        "counters": dict(totals),
        "rss_after_warmup_mb": round(warm.rss_end_mb, 1),
        "rss_growth_after_warmup_mb": round(grown, 1),
        "stored_growth_after_warmup_mb": round(stored, 1),
        "peak_rss_mb": round(sampler.peak_mb(), 1),
    }


def _verdict(soak: Soak, check: str, passed: bool, detail: str) -> None:
    print(f"{'ok  ' if passed else 'FAIL'} {check}" + ("" if passed else f": {detail}"), flush=True)
    if not passed:
        soak.failures.append(f"{check}: {detail}")


def _recount(where, uids: list[str]) -> tuple[list[str], Counter]:
    """Each event item's counters against a recount from its attendee items; the counters' sums."""
    from cisctl import ops

    mismatches, totals = [], Counter()
    for uid in uids:
        report = ops.event_status(where, uid)
        if report.event is None:
            mismatches.append(f"{uid}: no event item")
            continue
        mismatches += counter_mismatches(report.event, report.attendees)
        totals.update({name: getattr(report.event, name) for name in COUNTED})
    return mismatches, totals


@contextlib.contextmanager
def _scaled_backoff(scale: float) -> Iterator[None]:
    """botocore's standard-mode back-off, slept at ``scale`` of its length."""
    from botocore.retries import standard

    original = standard.ExponentialBackoff.delay_amount
    standard.ExponentialBackoff.delay_amount = lambda self, context: scale * original(self, context)
    try:
        yield
    finally:
        standard.ExponentialBackoff.delay_amount = original


# ------------------------------------------------------------------------------------------ report


def report(soak: Soak, figures: dict, seconds: float) -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    lines = ["", f"Soak ({soak.profile}) in {seconds:.0f} s", ""]
    lines.append(
        f"{'phase':<52} {'seconds':>8} {'invocations':>11} {'emails':>7} {'RSS MB':>7} {'stored MB':>9}"
    )
    for p in soak.phases:
        lines.append(
            f"{p.name:<52} {p.seconds:>8.1f} {p.invocations:>11} {p.emails:>7}"
            f" {p.rss_end_mb:>7.0f} {p.stored_end_mb:>9.1f}"
        )
    lines += ["", json.dumps(figures, indent=2), "", f"machine: {os.cpu_count()} CPUs, load average {load}"]
    lines.append("checks: " + ("all passed" if not soak.failures else f"{len(soak.failures)} FAILED"))
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.splitlines()[0])
    parser.add_argument("profile", nargs="?", default="full", choices=sorted(PROFILES))
    args = parser.parse_args(argv)
    started = time.monotonic()
    soak, figures = run(PROFILES[args.profile], log=lambda m: print(m, file=sys.stderr, flush=True))
    seconds = time.monotonic() - started
    print(report(soak, figures, seconds))
    RESULTS.write_text(
        json.dumps(
            {
                "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "profile": args.profile,
                "machine": {
                    "python": platform.python_version(),
                    "cpus": os.cpu_count(),
                    "load_average": os.getloadavg(),
                },
                "seconds": round(seconds, 1),
                "phases": [vars(p) for p in soak.phases],
                "figures": figures,
                "failures": soak.failures,
                "rtt_ms": RTT_SECONDS * 1000,
                "fault_rate": FAULT_RATE,
                "backoff_scale": BACKOFF_SCALE,
            },
            indent=2,
        )
        + "\n"
    )
    return 1 if soak.failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
