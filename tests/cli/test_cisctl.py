"""python -m cisctl: flags, files and errors; the deployed path (moto) and the local runtime."""

from __future__ import annotations

import json
import warnings

import boto3
import pytest

from cisctl import ops
from cisctl.cli import main
from cisctl.target import CliError, Target
from infra import names
from tests.support.aws import REGION, TABLE, invite_body

UID = "kickoff-2026@example.com"
INVITE_FLAGS = [
    "--uid",
    UID,
    "--summary",
    "Project kickoff",
    "--start",
    "2026-12-01T10:00:00",
    "--end",
    "2026-12-01T11:00:00",
    "--timezone",
    "Europe/Paris",
    "--organizer",
    "Alice Martin <alice@example.com>",
]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# ------------------------------------------------------------------------------------ no AWS


@pytest.mark.parametrize("command", [[], ["invite"], ["cancel"], ["status"], ["dlq"]])
def test_help_for_every_command(capsys, command):
    code, out, _ = run(capsys, *command, "--help")
    assert code == 0
    assert out.startswith("usage: python -m cisctl")


def test_an_invite_from_flags_with_several_attendees_is_one_fan_out_request(capsys):
    code, out, _ = run(
        capsys,
        "invite",
        *INVITE_FLAGS,
        "--attendee",
        "Ana Lima <ana@example.org>",
        "--attendee",
        "ben@example.org",
        "--dry-run",
    )
    assert code == 0
    assert json.loads(out) == {
        "event": {
            "uid": UID,
            "sequence": 0,
            "summary": "Project kickoff",
            "start": "2026-12-01T10:00:00",
            "end": "2026-12-01T11:00:00",
            "organizer": {"email": "alice@example.com", "name": "Alice Martin"},
            "timezone": "Europe/Paris",
        },
        "attendees": [{"email": "ana@example.org", "name": "Ana Lima"}, {"email": "ben@example.org"}],
    }


def test_one_attendee_and_a_sequence_make_a_single_update(capsys):
    code, out, _ = run(
        capsys, "invite", *INVITE_FLAGS, "--attendee", "ana@example.org", "--sequence", "2", "--dry-run"
    )
    body = json.loads(out)
    assert code == 0
    assert body["attendee"] == {"email": "ana@example.org"}
    assert body["event"]["sequence"] == 2


def test_cancellations_from_flags(capsys):
    code, out, _ = run(capsys, "cancel", "--uid", UID, "--dry-run")
    assert (code, json.loads(out)) == (0, {"event": {"uid": UID}})
    code, out, _ = run(
        capsys, "cancel", "--uid", UID, "--attendee", "ana@example.org", "--scope", "attendee", "--dry-run"
    )
    assert json.loads(out) == {
        "event": {"uid": UID},
        "attendee": {"email": "ana@example.org"},
        "scope": "attendee",
    }


def test_requests_from_a_file_one_or_several(capsys, tmp_path):
    path = tmp_path / "requests.json"
    path.write_text(json.dumps([invite_body(), invite_body(attendee="carol@example.org")]))
    code, out, _ = run(capsys, "invite", "--file", str(path), "--dry-run")
    assert code == 0
    assert out.count('"attendee"') == 2


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["invite", "--uid", "x"], "invite needs --summary, --start, --end, --organizer, --attendee"),
        (["invite", *INVITE_FLAGS, "--attendee", "not an address"], "--attendee 'not an address': expected"),
        (
            ["invite", *INVITE_FLAGS, "--attendee", "a@example.org", "--file", "x.json"],
            "--file cannot be combined",
        ),
        (["cancel"], "cancel needs --uid"),
        (["cancel", "--uid", UID, "--scope", "attendee"], "--scope attendee needs --attendee"),
        (
            ["cancel", "--uid", UID, "--scope", "event", "--attendee", "a@example.org"],
            "--scope event cancels the whole event for everyone: leave out --attendee",
        ),
        (["invite", "--file", "/nonexistent/request.json"], "--file /nonexistent/request.json: No such file"),
        (
            ["--local", "--endpoint-url", "http://x", "status", "u"],
            "--local and --endpoint-url are exclusive",
        ),
        (["--endpoint-url", "nonsense", "status", "u"], "expected a URL"),
        (["dlq", "--id", "m1"], "--id selects messages to redrive; add --redrive"),
    ],
)
def test_bad_flags_are_explained(capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert message in err


@pytest.mark.parametrize(
    "argv",
    [["invite", "--sequence", "-1"], ["dlq", "--limit", "0"], ["dlq", "--queue", "nope"], ["frobnicate"], []],
)
def test_argparse_rejects_malformed_values(capsys, argv):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert "usage: python -m cisctl" in err


def test_a_request_that_breaks_the_contract_is_refused_field_by_field(capsys):
    argv = ["invite", *INVITE_FLAGS, "--end", "2026-12-01T09:00:00", "--attendee", "ana@example", "--dry-run"]
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert "event.end: must be after start" in err
    assert "attendee.email: is not a valid email address" in err
    assert "--no-validate" in err


def test_an_invalid_json_file_is_refused(capsys, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    code, _, err = run(capsys, "invite", "--file", str(path))
    assert code == 2
    assert "not valid JSON" in err


def test_no_local_runtime_running(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("CISCTL_LOCAL_STATE", str(tmp_path / "state.json"))
    code, _, err = run(capsys, "--local", "status", UID)
    assert code == 1
    assert "no local runtime is running (start one with `python -m local serve`" in err


def test_output_keys_are_matched_tolerantly():
    target = Target(region=REGION, stacks=("A", "B"))
    target._outputs = {
        "A": {"InviteQueueUrl": "exact", "invitedlqurl": "lower", "CancellationQueueUrlF00BA4": "suffixed"},
        "B": {},
    }
    assert target.queue_url("invite") == "exact"
    assert target.dlq_url("invite") == "lower"
    assert target.queue_url("cancellation") == "suffixed"
    with pytest.raises(CliError, match="no stack output named TableName"):
        target.table_name()


# ---------------------------------------------------------------------------- a deployed stack


@pytest.fixture
def deployed(account, monkeypatch):
    """The mocked account of tests/support/aws.py, with the stack outputs the CDK app publishes."""
    monkeypatch.setattr(ops, "PEEK_WAIT_SECONDS", 0)  # moto would wait out every empty long poll
    outputs = {
        names.OUTPUT_INVITE_QUEUE_URL: account.queues["invite"][0],
        names.OUTPUT_INVITE_DLQ_URL: account.queues["invite"][1],
        names.OUTPUT_CANCELLATION_QUEUE_URL: account.queues["cancel"][0],
        names.OUTPUT_CANCELLATION_DLQ_URL: account.queues["cancel"][1],
        names.OUTPUT_TABLE_NAME: TABLE,
    }
    template = {
        "Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        boto3.client("cloudformation", region_name=REGION).create_stack(
            StackName=names.STATELESS_STACK_NAME, TemplateBody=json.dumps(template)
        )
    return account


def test_a_missing_stack_is_a_clear_error(capsys, account):
    code, _, err = run(capsys, "--region", REGION, "status", UID)
    assert code == 1
    assert "stacks 'CalendarInviteWorkers', 'CalendarInviteData' not found in region us-east-1." in err
    code, _, err = run(capsys, "--region", REGION, "--stack", "Elsewhere", "dlq")
    assert "stack 'Elsewhere' not found" in err
    assert "make deploy" in err


def test_invite_status_and_dlq_against_a_deployed_stack(capsys, deployed):
    code, out, _ = run(
        capsys, "--region", REGION, "invite", *INVITE_FLAGS, "--attendee", "Ana Lima <ana@example.org>"
    )
    assert code == 0
    assert out.startswith(
        f"enqueued invite for {UID} (sequence 0) to ana@example.org on invite-queue (message "
    )
    deployed.drain("invite")
    assert [s.recipient for s in deployed.sent()] == ["ana@example.org"]

    code, out, _ = run(capsys, "--region", REGION, "status", UID)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"Event {UID}: CONFIRMED"
    assert "  When       Tue 01 Dec 2026 10:00 - 11:00 (Europe/Paris)" in lines
    assert "  Sent       1 invites, 0 updates, 0 cancellations" in lines
    assert lines[-1].split() == [
        "ana@example.org",
        "Ana",
        "Lima",
        "invited",
        "0",
        "NEEDS-ACTION",
        "REQUEST",
        "0",
    ]

    code, out, _ = run(capsys, "--region", REGION, "status", UID, "--json")
    assert json.loads(out)["event"]["invites_sent"] == 1
    code, _, err = run(capsys, "--region", REGION, "status", "nobody@example.com")
    assert (code, err.strip()) == (
        1,
        f"python -m cisctl: error: no event with uid 'nobody@example.com' in table {TABLE}",
    )


def test_dlq_lists_reasons_and_redrives_to_the_source_queue(capsys, deployed):
    bad = ["invite", *INVITE_FLAGS, "--end", "2026-12-01T09:00:00", "--attendee", "ana@example.org"]
    assert run(capsys, "--region", REGION, *bad, "--no-validate")[0] == 0
    deployed.drain("invite")

    code, out, _ = run(capsys, "--region", REGION, "dlq")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "invite DLQ (invite-dlq): 1 message"
    assert lines[1] == "  1. reason: event.end: must be after start"
    assert lines[2].startswith("     id:     ")
    assert lines[-1] == "cancellation DLQ (cancel-dlq): 0 messages"
    listed = json.loads(run(capsys, "--region", REGION, "dlq", "--json")[1])
    [letter] = listed["invite"]
    assert letter["errors"] == [{"field": "event.end", "reason": "must be after start"}]

    code, out, _ = run(capsys, "--region", REGION, "dlq", "--queue", "invite", "--redrive", "--id", "unknown")
    assert code == 1
    code, out, _ = run(
        capsys, "--region", REGION, "dlq", "--queue", "invite", "--redrive", "--id", letter["message_id"]
    )
    assert code == 0
    assert out.splitlines()[0] == "invite: moved 1 message back to invite-queue"
    assert deployed.dead_letters("invite") == []
    sqs = boto3.client("sqs", region_name=REGION)
    [moved] = sqs.receive_message(QueueUrl=deployed.queues["invite"][0], MessageAttributeNames=["All"])[
        "Messages"
    ]
    assert json.loads(moved["Body"])["event"]["end"] == "2026-12-01T09:00:00"
    assert "reason" not in moved.get("MessageAttributes", {})


# ----------------------------------------------------------------------------- the local runtime


def test_the_cli_drives_the_local_runtime(capsys, app_assembly, start_runtime, tmp_path, monkeypatch):
    runtime = start_runtime(app_assembly)
    state = tmp_path / "state.json"
    state.write_text(
        json.dumps({"endpoint": runtime.endpoint, "region": runtime.region, "stacks": app_assembly.names})
    )
    monkeypatch.setenv("CISCTL_LOCAL_STATE", str(state))

    attendees = ["--attendee", "ana@example.org", "--attendee", "ben@example.org"]
    assert run(capsys, "--local", "invite", *INVITE_FLAGS, *attendees)[0] == 0
    runtime.drain()
    assert (
        run(
            capsys, "cancel", "--local", "--uid", UID, "--attendee", "ben@example.org", "--scope", "attendee"
        )[0]
        == 0
    )
    runtime.drain()

    code, out, _ = run(capsys, "--local", "status", UID, "--json")
    assert code == 0
    status = json.loads(out)
    assert [(a["email"], a["status"]) for a in status["attendees"]] == [
        ("ana@example.org", "invited"),
        ("ben@example.org", "removed"),
    ]
    assert (status["event"]["invites_sent"], status["event"]["cancellations_sent"]) == (2, 1)
    assert sorted((e.recipient, e.method) for e in runtime.sent_emails()) == [
        ("ana@example.org", "REQUEST"),
        ("ben@example.org", "CANCEL"),
        ("ben@example.org", "REQUEST"),
    ]
    # The same, by endpoint URL and the default stack names.
    code, out, _ = run(capsys, "--endpoint-url", runtime.endpoint, "dlq")
    assert code == 0
    assert "invite DLQ (CalendarInviteWorkers-InviteWorkerDeadLetterQueue86D63832): 0 messages" in out
