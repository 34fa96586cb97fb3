"""bin/cisctl invite --uid (attendees added to the stored event) and status's source of an event."""

from __future__ import annotations

import dataclasses
import json

import pytest

from lambdas.adapters.expressions import to_attribute_values
from lambdas.domain.items import as_dict
from lambdas.domain.keys import event_key
from lambdas.domain.organizer.decisions import CALENDAR_SOURCE, OrganizerRecord
from local.samples import REGION
from tests.cli.test_cisctl import INVITE_FLAGS, UID, deployed, run
from tests.support.oracles import check_imip

CARLA = "Carla Diaz <carla@example.org>"
__all__ = ["deployed"]  # the deployed stack fixture, shared with test_cisctl


def test_uid_and_attendees_alone_make_an_invite_by_uid(capsys):
    code, out, _ = run(capsys, "invite", "--uid", UID, "--attendee", CARLA, "--dry-run")
    assert (code, json.loads(out)) == (
        0,
        {"event": {"uid": UID}, "attendee": {"email": "carla@example.org", "name": "Carla Diaz"}},
    )
    code, out, _ = run(
        capsys, "invite", "--uid", UID, "--attendee", CARLA, "--attendee", "dan@example.org", "--dry-run"
    )
    assert json.loads(out) == {
        "event": {"uid": UID},
        "attendees": [{"email": "carla@example.org", "name": "Carla Diaz"}, {"email": "dan@example.org"}],
    }


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--uid", UID], "invite --uid alone adds attendees to the stored event: give --attendee"),
        (
            ["--uid", UID, "--attendee", CARLA, "--sequence", "2"],
            "--sequence with --uid alone: attendees added by uid get the stored event at its stored sequence",
        ),
        # One detail makes it a full event again, and the missing ones are named.
        (["--uid", UID, "--location", "Room 9", "--attendee", CARLA], "invite needs --summary, --start"),
        (["--uid", UID, "--attendee", "not an address"], "--attendee 'not an address': expected"),
        (["--uid", " padded", "--attendee", CARLA], "event.uid: must not start or end with white space"),
    ],
)
def test_bad_invites_by_uid_are_explained_without_a_traceback(capsys, argv, message):
    code, out, err = run(capsys, "invite", *argv, "--dry-run")
    assert (code, out) == (2, "")
    assert message in err
    assert "Traceback" not in err


def test_invite_by_uid_against_a_deployed_stack_sends_the_stored_event(capsys, deployed):
    flags = [*INVITE_FLAGS, "--attendee", "ana@example.org", "--sequence", "1", "--location", "Room 9"]
    assert run(capsys, "--region", REGION, "invite", *flags)[0] == 0
    deployed.drain("invite")

    code, out, _ = run(capsys, "--region", REGION, "invite", "--uid", UID, "--attendee", CARLA)
    assert code == 0
    assert out.startswith(
        f"enqueued invite for {UID} (the stored event, at its stored sequence) to carla@example.org on "
    )
    deployed.drain("invite")
    [ana, carla] = deployed.sent()
    assert carla.recipient == "carla@example.org"
    vevent = check_imip(carla.raw, "REQUEST").walk("VEVENT")[0]
    assert (str(vevent["SUMMARY"]), str(vevent["LOCATION"]), vevent["SEQUENCE"]) == (
        "Project kickoff",
        "Room 9",
        1,
    )
    assert vevent.decoded("DTSTART") == check_imip(ana.raw, "REQUEST").walk("VEVENT")[0].decoded("DTSTART")

    code, out, _ = run(capsys, "--region", REGION, "status", UID)
    assert code == 0
    assert "  Source     the queue" in out.splitlines()
    assert json.loads(run(capsys, "--region", REGION, "status", UID, "--json")[1])["organizer_record"] == {
        "source": "",
        "organizer_uid": "",
        "organizer_sequence": None,
        "organizer_dtstamp": "",
        "organizer_sent_sequence": None,
    }


def test_invite_by_uid_of_an_unknown_event_is_dead_lettered_naming_the_uid(capsys, deployed):
    assert (
        run(capsys, "--region", REGION, "invite", "--uid", "nobody@example.com", "--attendee", CARLA)[0] == 0
    )
    deployed.drain("invite")
    code, out, _ = run(capsys, "--region", REGION, "dlq", "--queue", "invite")
    assert code == 0
    assert "reason: event.uid: no stored event has this uid: send the event's details first" in out
    assert deployed.sent() == []


def test_status_shows_an_event_from_the_organizer_s_calendar_with_their_uid_and_sequence(capsys, deployed):
    assert run(capsys, "--region", REGION, "invite", *INVITE_FLAGS, "--attendee", "ana@example.org")[0] == 0
    deployed.drain("invite")
    # What the organizer pipeline keeps on the event item (not wired yet): the domain's own names.
    record = OrganizerRecord(
        source=CALENDAR_SOURCE,
        organizer_uid="040000008200E00074C5B7101A82E008@outlook.com",
        organizer_sequence=3,
        organizer_dtstamp="2026-11-20T09:15:00+00:00",
    )
    attributes = as_dict(record)
    deployed.dynamodb.update_item(
        TableName=deployed.table,
        Key=to_attribute_values(event_key(UID)),
        UpdateExpression="SET " + ", ".join(f"#{name} = :{name}" for name in attributes),
        ExpressionAttributeNames={f"#{name}": name for name in attributes},
        ExpressionAttributeValues=to_attribute_values(
            {f":{name}": value for name, value in attributes.items()}
        ),
    )

    code, out, _ = run(capsys, "--region", REGION, "status", UID)
    assert code == 0
    assert (
        "  Source     the organizer's calendar (UID 040000008200E00074C5B7101A82E008@outlook.com,"
        " last SEQUENCE 3, DTSTAMP 2026-11-20T09:15:00+00:00)"
    ) in out.splitlines()
    assert "  Sequence   0" in out.splitlines()  # the attendees' own, apart from the organizer's
    shown = json.loads(run(capsys, "--region", REGION, "status", UID, "--json")[1])["organizer_record"]
    assert shown == dataclasses.asdict(record)
