"""What a cold start imports: each handler loads the code every record needs, and the rest (series,
time zones, inbound parsing, email rendering, another function's requests and rules, an answer's
rarer paths) only on the path that uses it, or never (docs/performance.md, "Cold start"). Each
check runs in a fresh interpreter, so nothing another test imported counts. How long the imports
take is a figure of `make bench` (`python -m bench imports`), not a test."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

INBOUND = "lambdas.domain.inbound"
# The answers' reader: a calendar that came back, read into answers. Every reply is read with it.
ANSWER_READER = "lambdas.domain.inbound.itip"
REPLY_CODE = (
    "lambdas.domain.replies",
    "lambdas.domain.occurrence_answers",
    "lambdas.adapters.reply_expressions",
)
SERIES = ("lambdas.domain.series", "lambdas.domain.recurrence")
# A series as a REQUEST carries it (its stored overrides and exclusions), and send invite's path for
# a series or one occurrence: loaded by the first series handled.
SERIES_PATH = ("lambdas.domain.series_overrides", "lambdas.send_invite.series")
TIME_ZONES = "lambdas.domain.timezones"
RENDERING = ("lambdas.domain.message", "lambdas.domain.calendar")
FEEDBACK = "lambdas.domain.feedback"
# Each function's own requests: the store, which all four share, imports them when a write runs.
SEND_REQUESTS = "lambdas.adapters.send_expressions"
FEEDBACK_REQUESTS = "lambdas.adapters.feedback_expressions"
REPLY_REQUESTS = "lambdas.adapters.reply_expressions"
# What only the send functions run: the contract's parser and its readers, the send decisions, the
# send step.
SEND_CODE = (
    "lambdas.domain.contract",
    "lambdas.domain.readers",
    "lambdas.domain.decisions",
    "lambdas.runtime.sends",
    SEND_REQUESTS,
)
# What only a cancellation needs: its request, and its rules (who receives one, its SEQUENCE).
CANCELLATION_CODE = ("lambdas.domain.cancellation_contract", "lambdas.domain.cancellation_decisions")
# Record reply's rarer answers: one occurrence's, one kept apart (unverified, or a COUNTER's
# proposal), and a REFRESH (the one that sends an email).
RARE_ANSWERS = (
    "lambdas.domain.rarer_answers",
    "lambdas.domain.occurrence_answers",
    "lambdas.adapters.occurrence_expressions",
    "lambdas.record_reply.occurrence",
    "lambdas.record_reply.kept",
    "lambdas.adapters.kept_expressions",
    "lambdas.record_reply.refresh",
    "lambdas.adapters.refresh_expressions",
)
# Writes of rarer paths, built by modules the path loads: an answer for one occurrence, one kept
# apart, a REFRESH's claim and record, a removed attendee's answer taken out of the counts (send
# cancellation), and what follows a refused completion write (the send functions).
RARE_WRITES = (
    "lambdas.adapters.completion_fallbacks",
    "lambdas.adapters.occurrence_expressions",
    "lambdas.adapters.kept_expressions",
    "lambdas.adapters.refresh_expressions",
    "lambdas.adapters.uncount_expressions",
)


def loaded_after(script: str) -> dict[str, list[str]]:
    """Run ``script`` in a fresh interpreter; it calls ``checkpoint(name)`` to note which of our
    modules are loaded at that point."""
    prelude = (
        "import json, sys\n"
        "seen = {}\n"
        "def checkpoint(name):\n"
        "    seen[name] = sorted(m for m in sys.modules if m.split('.')[0] == 'lambdas')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", prelude + script + "\nprint(json.dumps(seen))"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.splitlines()[-1])


def handler_imports(function: str) -> set[str]:
    return set(loaded_after(f"import lambdas.{function}.handler\ncheckpoint('import')")["import"])


def loaded(modules: set[str], *names: str) -> list[str]:
    """Those of ``names`` (modules or packages) that are among ``modules``."""
    return sorted(m for m in modules for name in names if m == name or m.startswith(name + "."))


@pytest.mark.parametrize("function", ["send_invite", "send_cancellation"])
def test_the_send_functions_load_neither_the_inbound_reader_nor_the_reply_or_feedback_code(function):
    modules = handler_imports(function)
    assert f"lambdas.{function}.workflow" in modules  # the import did load the function
    # Every record renders, claims and is completed: loaded at init, not deferred to the first record.
    assert "lambdas.domain.message" in modules
    assert loaded(modules, *SEND_CODE) == sorted(SEND_CODE)
    assert loaded(modules, INBOUND, *REPLY_CODE, FEEDBACK, FEEDBACK_REQUESTS) == []
    cancellation_code = list(CANCELLATION_CODE) if function == "send_cancellation" else []
    assert loaded(modules, *CANCELLATION_CODE) == cancellation_code


@pytest.mark.parametrize("function", ["send_invite", "send_cancellation", "record_reply", "record_feedback"])
def test_no_handler_loads_the_series_code_the_time_zone_tables_or_a_rarer_path_s_writes_at_import(function):
    modules = handler_imports(function)
    assert "lambdas.domain.items" in modules
    assert loaded(modules, *SERIES, *SERIES_PATH, TIME_ZONES) == []
    assert loaded(modules, *RARE_WRITES) == []


def test_record_feedback_loads_no_email_rendering_no_inbound_reader_and_no_send_code():
    modules = handler_imports("record_feedback")
    assert FEEDBACK in modules
    assert FEEDBACK_REQUESTS in modules  # every event is written with it: loaded at init
    assert loaded(modules, *RENDERING, INBOUND, *REPLY_CODE, *SEND_CODE) == []


def test_record_reply_loads_the_inbound_reader_but_renders_only_to_answer_a_refresh():
    modules = handler_imports("record_reply")
    assert loaded(modules, INBOUND) != []
    assert ANSWER_READER in modules  # every reply is read with it: loaded at init, not by the first
    assert REPLY_REQUESTS in modules  # every answer recorded is written with it: loaded at init
    assert loaded(modules, *RENDERING) == []


def test_record_reply_loads_no_send_code_and_its_rarer_answers_only_when_one_comes():
    modules = handler_imports("record_reply")
    assert loaded(modules, *SEND_CODE, FEEDBACK, FEEDBACK_REQUESTS) == []
    assert loaded(modules, *RARE_ANSWERS) == []


_EVENT = {
    "uid": "cold@example.com",
    "summary": "Planning",
    "start": "2026-12-01T10:00:00Z",
    "end": "2026-12-01T11:00:00Z",
    "organizer": {"email": "organizer@example.com"},
}


def test_a_single_event_is_rendered_without_the_series_code_and_a_series_loads_it():
    local_times = {"start": "2026-12-01T10:00:00", "end": "2026-12-01T11:00:00"}
    zoned = {**_EVENT, **local_times, "timezone": "Europe/Paris"}
    series = {**zoned, "rrule": "FREQ=WEEKLY;COUNT=4"}
    script = f"""
from datetime import UTC, datetime
from lambdas.domain.calendar import ItipMessage
from lambdas.domain.contract import parse_invite
from lambdas.domain.message import Envelope, render_email
from lambdas.domain.vocabulary import EventStatus, Method

def render(event):
    request = parse_invite(json.dumps({{"event": event, "attendee": {{"email": "guest@example.org"}}}}))
    message = ItipMessage(
        method=Method.REQUEST, event=request.event, attendee=request.attendee, sequence=0,
        organizer_mailbox="rsvp@example.com", dtstamp=datetime(2026, 11, 1, tzinfo=UTC),
        status=EventStatus.CONFIRMED,
    )
    envelope = Envelope("invites@example.com", "rsvp@example.com", "")
    assert b"BEGIN:VCALENDAR" in render_email(message, envelope).raw

render({json.dumps(_EVENT)})
checkpoint("single UTC event")
render({json.dumps(zoned)})
checkpoint("single zoned event")
render({json.dumps(series)})
checkpoint("series")
"""
    seen = {name: set(modules) for name, modules in loaded_after(script).items()}
    assert loaded(seen["single UTC event"], *SERIES, TIME_ZONES) == []
    assert loaded(seen["single zoned event"], *SERIES) == []
    assert TIME_ZONES in seen["single zoned event"]
    assert loaded(seen["series"], *SERIES) == sorted(SERIES)


# The organizer function's code: its reading, decisions and writes (docs/organizer.md).
ORGANIZER_CODE = (
    "lambdas.domain.organizer",
    "lambdas.adapters.organizer_expressions",
    "lambdas.follow_organizer",
)


@pytest.mark.parametrize("function", ["send_invite", "send_cancellation", "record_reply", "record_feedback"])
def test_no_other_handler_loads_the_organizer_function_s_code(function):
    assert loaded(handler_imports(function), *ORGANIZER_CODE) == []


def test_the_organizer_function_loads_its_reading_at_import_and_no_answer_reader_or_rules():
    modules = handler_imports("follow_organizer")
    assert "lambdas.follow_organizer.workflow" in modules
    assert "lambdas.domain.organizer.reading" in modules  # every mail is read: loaded at init
    assert "lambdas.domain.inbound.email" in modules  # the same MIME walk as the answers'
    # An organizer's mail is no answer: neither the answers' reader nor their rules.
    excluded = (ANSWER_READER, "lambdas.domain.replies", REPLY_REQUESTS, FEEDBACK, FEEDBACK_REQUESTS)
    assert loaded(modules, *excluded) == []


# What the organizer function runs for some changes only: the answers' rendering (a new event, or a
# new version of the whole event), and the send functions' rules (a change handed over).
ANSWER_RENDERING = (*RENDERING, "lambdas.domain.organizer.answer")
HAND_OVER_CODE = ("lambdas.domain.cancellation_decisions", "lambdas.domain.decisions")


def test_the_organizer_function_renders_only_to_answer_and_loads_the_send_rules_only_to_hand_over():
    script = """
from datetime import UTC, datetime
from types import SimpleNamespace
import lambdas.follow_organizer.handler
from lambdas.domain.items import EventItem
from lambdas.domain.organizer.outcomes import OrganizerOutcome
from lambdas.domain.organizer.pending import REPLY, FanOut, OrganizerState
from lambdas.domain.organizer.decisions import OrganizerRecord
from lambdas.follow_organizer import answers, fan_out
from tests.unit.organizer.fixtures import message
checkpoint("import")

class Queue:
    def onto(self, url):
        return self
    def enqueue(self, bodies):
        return len(bodies)

created = message("comm-central/outlook-test-invite.eml")
stored = EventItem.read(created.event.as_dict(), uid="cal-x@example.com")
store = SimpleNamespace(attendees=lambda uid: [], overrides=lambda uid: [])
settings = SimpleNamespace(
    sender="events@example.com", subject_prefix="P", invite_queue_url="q", cancellation_queue_url="q"
)
services = SimpleNamespace(settings=settings, store=store, queues=Queue())
state = OrganizerState(event=stored, record=OrganizerRecord())
fan_out.hand_over(services, "cal-x@example.com", FanOut(OrganizerOutcome.UPDATED, 1), state)
checkpoint("handed over")
answers._render(services, REPLY, created, "cal-x@example.com", datetime(2026, 12, 3, tzinfo=UTC))
checkpoint("answered")
"""
    seen = {name: set(modules) for name, modules in loaded_after(script).items()}
    assert loaded(seen["import"], *ANSWER_RENDERING, *HAND_OVER_CODE) == []
    assert loaded(seen["handed over"], *HAND_OVER_CODE) == sorted(HAND_OVER_CODE)
    assert loaded(seen["handed over"], *ANSWER_RENDERING) == []
    assert loaded(seen["answered"], *ANSWER_RENDERING) == sorted(ANSWER_RENDERING)
