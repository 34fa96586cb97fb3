"""Mozilla's ical.js (the parser inside Thunderbird), run by Node on what we wrote."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

# Each VTIMEZONE is registered, so that a TZID resolves to the component that came with it and
# never to a zone ical.js might know by name.
_PRELUDE = """
const ICAL = require('ical.js');
const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
function calendar(ics) {
  const component = new ICAL.Component(ICAL.parse(ics));
  ICAL.TimezoneService.reset();
  for (const vtimezone of component.getAllSubcomponents('vtimezone')) {
    ICAL.TimezoneService.register(vtimezone);
  }
  return component;
}
"""


def run_node(arguments: list[str], payload: Any) -> Any:
    """Run Node (``-e <script>`` or a script file) from the repository, where ``require('ical.js')``
    resolves: the payload as JSON on stdin, JSON back from stdout."""
    node = shutil.which("node")
    assert node, "node is required for the ical.js oracle"
    result = subprocess.run(
        [node, *arguments],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def run_icaljs(body: str, payload: Any) -> Any:
    """Run ``body`` (JavaScript: reads ``input``, ends with ``return <JSON-able>``) under Node."""
    run = f"const output = (() => {{ {body} }})();\nprocess.stdout.write(JSON.stringify(output));"
    return run_node(["-e", f"{_PRELUDE}\n{run}"], payload)


def instants_of_local_times(vtimezones: dict[str, bytes], local_times: dict[str, list[str]]) -> dict:
    """For each zone, the UTC instant (seconds since the epoch) that ical.js gives each local wall
    time ("2026-03-29T03:00:00"), reading the VTIMEZONE we wrote.

    Local to UTC is the direction ical.js computes exactly (it finds the observance in effect at a
    local time); UTC to local reuses that lookup with the UTC time and is off by the change for
    the hours after one, so it is not a fair oracle."""
    payload = {tzid: {"ics": ics.decode(), "times": local_times[tzid]} for tzid, ics in vtimezones.items()}
    return run_icaljs(
        """
        const out = {};
        for (const [tzid, {ics, times}] of Object.entries(input)) {
          const zone = new ICAL.Timezone(new ICAL.Component(ICAL.parse(ics)));
          out[tzid] = times.map((text) => {
            const time = ICAL.Time.fromDateTimeString(text);
            time.zone = zone;
            return time.toUnixTime();
          });
        }
        return out;
        """,
        payload,
    )


def event_times(calendars: list[bytes]) -> list[dict]:
    """ical.js's reading of each calendar's VEVENT: DTSTART's and DTEND's TZID, local wall time and
    UTC instant (seconds since the epoch), the TZID resolved through the calendar's VTIMEZONE."""
    return run_icaljs(
        """
        return input.map((ics) => {
          const vevent = calendar(ics).getFirstSubcomponent('vevent');
          const times = {};
          for (const name of ['dtstart', 'dtend']) {
            const property = vevent.getFirstProperty(name);
            const time = property.getFirstValue();
            times[name] = {
              tzid: property.getParameter('tzid') || null,
              local: time.toString(),
              floating: time.zone === ICAL.Timezone.localTimezone,
              instant: time.toUnixTime(),
            };
          }
          return times;
        });
        """,
        [ics.decode() for ics in calendars],
    )


def series_starts(calendars: list[bytes], limit: int) -> list[list[int]]:
    """ical.js's expansion of each calendar's series: the UTC instants (seconds) of its first
    ``limit`` occurrences, overrides applied (RECURRENCE-ID) and EXDATEs left out."""
    return run_icaljs(
        """
        return input.calendars.map((ics) => {
          const vevents = calendar(ics).getAllSubcomponents('vevent');
          const master = new ICAL.Event(vevents.find((v) => !v.hasProperty('recurrence-id')));
          for (const vevent of vevents.filter((v) => v.hasProperty('recurrence-id'))) {
            master.relateException(new ICAL.Event(vevent));
          }
          const starts = [];
          const iterator = master.iterator();
          for (let next = iterator.next(); next && starts.length < input.limit; next = iterator.next()) {
            starts.push(master.getOccurrenceDetails(next).startDate.toUnixTime());
          }
          return starts;
        });
        """,
        {"calendars": [ics.decode() for ics in calendars], "limit": limit},
    )
