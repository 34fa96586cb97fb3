"""bin/cisctl: flags, files and errors; the deployed path (moto) and the local runtime."""

from __future__ import annotations

import json
import re
import warnings
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from cisctl import ops
from cisctl.cli import main
from cisctl.target import CliError, Target
from infra.pipelines import PIPELINES
from local import shapes
from local.samples import REGION, invite_body, record, reply_mail
from local.shapes import sns_envelope

UID = "kickoff-2026@example.com"
ANA, BEN, CHLOE, DAN = "ana@example.org", "ben@example.org", "chloe@example.org", "dan@example.org"
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


@pytest.mark.parametrize(
    "command", [[], ["invite"], ["cancel"], ["status"], ["suppressed"], ["dlq"], ["receive"]]
)
def test_help_for_every_command(capsys, command):
    code, out, _ = run(capsys, *command, "--help")
    assert code == 0
    assert out.startswith("usage: bin/cisctl")


def test_dlq_offers_the_queue_of_every_pipeline(capsys):
    _, out, _ = run(capsys, "dlq", "--help")
    offered = re.search(r"--queue \{([^}]*)\}", out).group(1).split(",")
    assert offered == [*(pipeline.kind for pipeline in PIPELINES), "cancel", "all"]


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
        (["invite", "--uid", "x", "--summary", "S"], "invite needs --start, --end, --organizer, --attendee"),
        (["invite", "--summary", "S"], "invite needs --uid, --start, --end, --organizer, --attendee"),
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
    assert "usage: bin/cisctl" in err


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


def test_a_file_not_in_utf8_is_refused_without_a_traceback(capsys, tmp_path):
    path = tmp_path / "latin1.json"
    path.write_bytes('{"event": {"summary": "Réunion"}}'.encode("latin-1"))
    code, _, err = run(capsys, "invite", "--file", str(path))
    assert code == 2
    assert err.strip().endswith(
        f"error: --file {path}: not UTF-8 JSON (byte 0xe9 at offset 24); save the request as UTF-8"
    )
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_no_local_runtime_running(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("CISCTL_LOCAL_STATE", str(tmp_path / "state.json"))
    code, _, err = run(capsys, "--local", "status", UID)
    assert code == 1
    assert "no local runtime is running (start one with `make serve`" in err


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
    """The app's template deployed by the local runtime, which publishes the stacks' outputs."""
    monkeypatch.setattr(ops, "PEEK_WAIT_SECONDS", 0)  # moto would wait out every empty long poll
    return account


def queue_names(deployed) -> dict[str, tuple[str, str]]:
    """function -> (work queue, DLQ) names, as the template names them."""
    return {f: (q.rsplit("/", 1)[1], d.rsplit("/", 1)[1]) for f, (q, d) in deployed.queues.items()}


def test_cancelling_one_occurrence_says_so_rather_than_the_whole_event(capsys, deployed):
    occurrence = "2026-12-08T10:00:00"
    code, out, _ = run(
        capsys, "--region", REGION, "cancel", "--uid", UID, "--sequence", "1", "--occurrence", occurrence
    )
    assert code == 0
    assert out.startswith(
        f"enqueued cancellation of the occurrence {occurrence} of {UID} (that occurrence only)"
        " for everyone invited to it on "
    )

    code, out, _ = run(capsys, "--region", REGION, "cancel", "--uid", UID, "--sequence", "1")
    assert code == 0
    assert out.startswith(f"enqueued cancellation of {UID} for everyone invited on ")


def test_a_missing_stack_is_a_clear_error(capsys, account):
    # The app is deployed in the emulated account's us-east-1, not in its eu-west-1.
    code, _, err = run(capsys, "--region", "eu-west-1", "status", UID)
    assert code == 1
    assert "stacks 'CalendarInviteWorkers', 'CalendarInviteData' not found in region eu-west-1." in err
    code, _, err = run(capsys, "--region", REGION, "--stack", "Elsewhere", "dlq")
    assert "stack 'Elsewhere' not found" in err
    assert "make deploy" in err


def test_invite_status_and_dlq_against_a_deployed_stack(capsys, deployed):
    code, out, _ = run(
        capsys, "--region", REGION, "invite", *INVITE_FLAGS, "--attendee", "Ana Lima <ana@example.org>"
    )
    assert code == 0
    queue = queue_names(deployed)["invite"][0]
    assert out.startswith(f"enqueued invite for {UID} (sequence 0) to ana@example.org on {queue} (message ")
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
        "-",  # no delivery feedback yet
        "REQUEST",
        "0",
    ]

    code, out, _ = run(capsys, "--region", REGION, "status", UID, "--json")
    assert json.loads(out)["event"]["invites_sent"] == 1
    code, _, err = run(capsys, "--region", REGION, "status", "nobody@example.com")
    assert (code, err.strip()) == (
        1,
        f"bin/cisctl: error: no event with uid 'nobody@example.com' in table {deployed.table}",
    )


def test_dlq_lists_reasons_and_redrives_to_the_source_queue(capsys, deployed):
    bad = ["invite", *INVITE_FLAGS, "--end", "2026-12-01T09:00:00", "--attendee", "ana@example.org"]
    assert run(capsys, "--region", REGION, *bad, "--no-validate")[0] == 0
    deployed.drain("invite")

    code, out, _ = run(capsys, "--region", REGION, "dlq")
    assert code == 0
    lines = out.splitlines()
    names = queue_names(deployed)
    assert lines[0] == f"invite DLQ ({names['invite'][1]}): 1 message"
    assert lines[1] == "  1. reason: event.end: must be after start"
    assert lines[2].startswith("     id:     ")
    for function, kind in (("cancel", "cancellation"), ("reply", "reply"), ("feedback", "feedback")):
        assert f"{kind} DLQ ({names[function][1]}): 0 messages" in lines[3:]
    listed = json.loads(run(capsys, "--region", REGION, "dlq", "--json")[1])
    [letter] = listed["invite"]
    assert letter["errors"] == [{"field": "event.end", "reason": "must be after start"}]

    code, out, _ = run(capsys, "--region", REGION, "dlq", "--queue", "invite", "--redrive", "--id", "unknown")
    assert code == 1
    code, out, _ = run(
        capsys, "--region", REGION, "dlq", "--queue", "invite", "--redrive", "--id", letter["message_id"]
    )
    assert code == 0
    assert out.splitlines()[0] == f"invite: moved 1 message back to {names['invite'][0]}"
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


# --------------------------------------------------------------------------------- receive


def test_receive_feeds_a_saved_email_to_the_local_runtimes_ses_receiving(
    capsys, fixture_assembly, start_runtime, tmp_path, monkeypatch
):
    from pathlib import Path

    from tests.local import fixture, handlers

    handlers.CALLS.clear()
    runtime = start_runtime(fixture.add_inbound(fixture_assembly.editable(), "tests.local.handlers.handler"))
    state = tmp_path / "state.json"
    state.write_text(
        json.dumps({"endpoint": runtime.endpoint, "region": runtime.region, "stacks": ["FixtureWorkers"]})
    )
    monkeypatch.setenv("CISCTL_LOCAL_STATE", str(state))
    saved = Path(__file__).parents[1] / "fixtures" / "replies" / "apple-mail-accepted.eml"

    code, out, _ = run(capsys, "--local", "receive", str(saved), "--verdict", "dmarc=fail")

    assert code == 0
    bucket = runtime.outputs()["InboundBucketName"]
    assert out.startswith(f"received for {fixture.RSVP}: stored s3://{bucket}/inbound/")
    assert runtime.outputs()["InboundTopicArn"] in out
    [invocation] = runtime.drain()
    assert invocation.queue is runtime.queue("ReplyQueue")
    notification = json.loads(json.loads(handlers.CALLS[0]["records"][0]["body"])["Message"])
    assert notification["receipt"]["dmarcVerdict"] == {"status": "FAIL"}
    key = notification["receipt"]["action"]["objectKey"]
    stored = runtime.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    assert stored.endswith(saved.read_bytes())

    code, out, err = run(capsys, "--local", "receive", str(saved), "--recipient", "nobody@elsewhere.example")
    assert (code, out) == (1, "") and "no active receipt rule accepts nobody@elsewhere.example" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["receive", "x.eml"], "receive plays SES receiving on the local runtime"),
        (
            ["--endpoint-url", "http://127.0.0.1:9", "receive", "x.eml", "--verdict", "dmarc"],
            "expected CHECK=STATUS",
        ),
        (
            ["--endpoint-url", "http://127.0.0.1:9", "receive", "/nonexistent/x.eml"],
            "cannot read /nonexistent/x.eml",
        ),
    ],
)
def test_receive_refuses_a_deployed_stack_and_bad_arguments(capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 2 and message in err


def test_a_series_an_occurrence_change_and_an_occurrence_cancellation_from_flags(capsys):
    rule = "FREQ=WEEKLY;BYDAY=TU;COUNT=8"
    code, out, _ = run(
        capsys, "invite", *INVITE_FLAGS, "--attendee", "ana@example.org", "--rrule", rule,
        "--exdate", "2026-12-08T10:00:00", "--dry-run",
    )  # fmt: skip
    event = json.loads(out)["event"]
    assert (code, event["rrule"], event["exdates"]) == (0, rule, ["2026-12-08T10:00:00"])
    code, out, _ = run(
        capsys, "invite", *INVITE_FLAGS, "--attendee", "ana@example.org", "--sequence", "1",
        "--occurrence", "2026-12-15T10:00:00", "--dry-run",
    )  # fmt: skip
    assert (code, json.loads(out)["event"]["occurrence"]) == (0, "2026-12-15T10:00:00")
    code, out, _ = run(capsys, "cancel", "--uid", UID, "--occurrence", "2026-12-22T10:00:00", "--dry-run")
    assert (code, json.loads(out)) == (0, {"event": {"uid": UID, "occurrence": "2026-12-22T10:00:00"}})


def test_status_shows_the_series_and_its_exceptions(capsys, deployed):
    rule = ["--rrule", "FREQ=WEEKLY;BYDAY=TU;COUNT=8"]
    assert (
        run(capsys, "--region", REGION, "invite", *INVITE_FLAGS, "--attendee", "ana@example.org", *rule)[0]
        == 0
    )
    deployed.drain("invite")
    moved = [
        "--occurrence",
        "2026-12-08T10:00:00",
        "--start",
        "2026-12-09T10:00:00",
        "--end",
        "2026-12-09T11:00:00",
    ]
    code, _, err = run(
        capsys,
        "--region",
        REGION,
        "invite",
        *INVITE_FLAGS,
        *moved,
        "--attendee",
        "ana@example.org",
        "--sequence",
        "1",
    )
    assert code == 0, err
    deployed.drain("invite")
    assert (
        run(capsys, "--region", REGION, "cancel", "--uid", UID, "--occurrence", "2026-12-15T10:00:00")[0] == 0
    )
    deployed.drain("cancel")

    code, out, _ = run(capsys, "--region", REGION, "status", UID)
    assert code == 0
    lines = out.splitlines()
    assert "  Repeats    FREQ=WEEKLY;COUNT=8;BYDAY=TU" in lines
    assert "Occurrences changed: 2" in lines
    assert any(
        line.split()[:2] == ["2026-12-08T09:00:00+00:00", "2026-12-09T10:00:00+01:00"] for line in lines
    )
    assert any(line.split()[:2] == ["2026-12-15T09:00:00+00:00", "cancelled"] for line in lines)
    assert "REQUEST 1 (2026-12-08T09:00:00+00:00), CANCEL 1 (2026-12-15T09:00:00+00:00)" in out
    overrides = json.loads(run(capsys, "--region", REGION, "status", UID, "--json")[1])["overrides"]
    assert [o["cancelled"] for o in overrides] == [False, True]


# ------------------------------------------------------------------------ answers and delivery


def _invite_and_send(capsys, deployed, *attendees: str) -> dict[str, str]:
    """Invite attendees on the deployed stack; their SES message ids."""
    flags = [flag for a in attendees for flag in ("--attendee", a)]
    assert run(capsys, "--region", REGION, "invite", *INVITE_FLAGS, *flags)[0] == 0
    deployed.drain("invite")
    return {sent.recipient: sent.ses_id for sent in deployed.sent()}


SENT = datetime.now(UTC) - timedelta(hours=1)  # long enough ago that its message item is surely written
LATER = SENT + timedelta(minutes=30)


def _feedback(deployed, ids: dict[str, str], *more: dict) -> None:
    """SES's feedback, SNS-wrapped: Ana's invitation delivered, Ben's hard-bounced, Chloé complained."""
    records = [
        shapes.delivery(ids[ANA], ANA, LATER, SENT),
        shapes.bounce(ids[BEN], BEN, LATER, SENT),
        shapes.complaint(ids[CHLOE], CHLOE, LATER, SENT),
        *more,
    ]
    bodies = [record(sns_envelope(r), f"fb-{i}") for i, r in enumerate(records)]
    assert deployed.invoke("feedback", records=bodies) == {"batchItemFailures": []}


def _reply(deployed, raw: bytes) -> None:
    assert deployed.invoke("reply", deployed.receive(raw)) == {"batchItemFailures": []}


def test_status_shows_answers_delivery_states_and_counts(capsys, deployed):
    ids = _invite_and_send(capsys, deployed, ANA, BEN, CHLOE, DAN, "eve@example.org")
    _feedback(
        deployed,
        ids,
        shapes.delivery_delay(ids[DAN], DAN, LATER, SENT),
        shapes.reject(ids["eve@example.org"], "eve@example.org", LATER, SENT),
    )
    _reply(deployed, reply_mail(uid=UID, attendee=ANA, partstat="ACCEPTED"))

    code, out, _ = run(capsys, "--region", REGION, "status", UID)

    assert code == 0
    lines = out.splitlines()
    assert "  Answers    1 accepted, 0 declined, 0 tentative (to sequence 0)" in lines
    assert "  Delivery   1 delivered, 1 bounced, 1 complained" in lines
    # Cells are separated by two spaces or more (the NAME column is empty here).
    rows = {
        line.split()[0]: re.split(r"\s{2,}", line.strip())
        for line in lines
        if line.startswith("  ") and "@example" in line
    }
    assert rows[ANA][-3:] == ["ACCEPTED", "delivered", "REQUEST 0, REPLY 0"]
    assert rows[BEN][-3:] == ["NEEDS-ACTION", "bounced Permanent/General, suppressed", "REQUEST 0"]
    assert rows[CHLOE][-2] == "complained, suppressed"
    assert rows[DAN][-2] == "delayed"
    assert rows["eve@example.org"][-2] == "rejected"
    status = json.loads(run(capsys, "--region", REGION, "status", UID, "--json")[1])
    assert (status["event"]["delivered"], status["event"]["bounced"], status["event"]["complained"]) == (
        1,
        1,
        1,
    )
    attendees = {a["email"]: a for a in status["attendees"]}
    assert attendees[BEN]["delivery"]["bounce_type"] == "Permanent"
    assert attendees[BEN]["suppressed"]["reason"] == "bounced"


def test_status_counts_answers_to_forwarded_invitations_apart(capsys, deployed):
    _invite_and_send(capsys, deployed, ANA)
    _reply(deployed, reply_mail(uid=UID, attendee="friend@example.net", partstat="DECLINED"))

    out = run(capsys, "--region", REGION, "status", UID)[1]

    assert (
        "  Answers    0 accepted, 0 declined, 0 tentative (to sequence 0);"
        " from forwarded invitations: 0 accepted, 1 declined, 0 tentative"
    ) in out.splitlines()


def test_suppressed_lists_the_bounced_and_complained_attendees(capsys, deployed):
    code, out, _ = run(capsys, "--region", REGION, "suppressed", UID)
    assert (code, out) == (0, f"Suppressed attendees of {UID}: none\n")
    ids = _invite_and_send(capsys, deployed, ANA, BEN, CHLOE)
    transient = shapes.bounce(ids[ANA], ANA, LATER + timedelta(minutes=1), SENT, "Transient", "MailboxFull")
    _feedback(deployed, ids, transient)

    code, out, _ = run(capsys, "--region", REGION, "suppressed", UID)

    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"Suppressed attendees of {UID}: 2 (nothing more is sent to them)"
    assert lines[1].split() == ["EMAIL", "REASON", "SINCE", "SES", "MESSAGE", "DETAIL"]
    assert lines[2].split()[:2] == [BEN, "bounced"] and ids[BEN] in lines[2]
    assert lines[3].split()[:2] == [CHLOE, "complained"] and ids[CHLOE] in lines[3]
    assert len(lines) == 4  # a transient bounce does not suppress
    listed = json.loads(run(capsys, "--region", REGION, "suppressed", UID, "--json")[1])
    assert [(a["email"], a["suppressed"]["reason"], a["suppressed"]["message_id"]) for a in listed] == [
        (BEN, "bounced", ids[BEN]),
        (CHLOE, "complained", ids[CHLOE]),
    ]
    assert all(a["suppressed"]["at"] and a["suppressed"]["detail"] for a in listed)


@pytest.mark.parametrize(
    ("kind", "event"),
    [
        # The reply function reads the raw mail SES stored; this object was never stored.
        ("reply", {"notificationType": "Received", "mail": {"source": ANA, "messageId": "ses-reply-1"},
                   "receipt": {"action": {"type": "S3", "bucketName": "none", "objectKey": "inbound/x"}}}),
        # A delivery event without the details its type promises.
        ("feedback", {"eventType": "Bounce", "mail": {"destination": [BEN], "messageId": "ses-sent-1"}}),
    ],
)  # fmt: skip
def test_dlq_lists_and_redrives_the_reply_and_feedback_queues(
    capsys, app_assembly, start_runtime, tmp_path, monkeypatch, kind, event
):
    runtime = start_runtime(app_assembly)
    state = tmp_path / "state.json"
    state.write_text(
        json.dumps({"endpoint": runtime.endpoint, "region": runtime.region, "stacks": app_assembly.names})
    )
    monkeypatch.setenv("CISCTL_LOCAL_STATE", str(state))
    target = Target.local(region=None, stacks=None)
    body = sns_envelope(event)
    sqs = runtime.client("sqs")
    sqs.send_message(QueueUrl=target.queue_url(kind), MessageBody=body)
    runtime.drain()

    code, out, _ = run(capsys, "--local", "dlq", "--queue", kind)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith(f"{kind} DLQ (") and lines[0].endswith("): 1 message")
    assert lines[1].startswith("  1. reason: ") and "none given" not in lines[1]
    mail = event["mail"]
    party = f"from {ANA}" if kind == "reply" else f"for {BEN}"
    assert f"     about:  SES {event.get('notificationType') or event['eventType']} {party}" in lines[3]
    assert mail["messageId"] in lines[3]
    [letter] = json.loads(run(capsys, "--local", "dlq", "--queue", kind, "--json")[1])[kind]
    assert letter["body"] == body

    code, out, _ = run(capsys, "--local", "dlq", "--queue", kind, "--redrive")
    assert code == 0
    assert out.splitlines()[0].startswith(f"{kind}: moved 1 message back to ")
    assert sqs.receive_message(QueueUrl=target.dlq_url(kind)).get("Messages", []) == []
    [moved] = sqs.receive_message(QueueUrl=target.queue_url(kind), MessageAttributeNames=["All"])["Messages"]
    assert moved["Body"] == body
    assert "reason" not in moved.get("MessageAttributes", {})


def test_dlq_all_skips_an_absent_reply_queue_and_naming_it_is_a_clear_error(capsys, deployed):
    """A stack deployed with receiveReplies off: its outputs, without the reply queue's."""
    outputs = {
        k: v for k, v in deployed.runtime.outputs().items() if not k.startswith(("Reply", "Organizer"))
    }
    template = {
        "Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    cloudformation = deployed.client("cloudformation")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cloudformation.create_stack(StackName="WithoutReplies", TemplateBody=json.dumps(template))
    try:
        _without_replies(capsys, queue_names(deployed))
    finally:
        cloudformation.delete_stack(StackName="WithoutReplies")


def _without_replies(capsys, names) -> None:
    stack = ("--region", REGION, "--stack", "WithoutReplies")
    code, out, err = run(capsys, *stack, "dlq", "--queue", "all")
    assert code == 0
    assert [line.partition(" DLQ")[0] for line in out.splitlines()] == ["invite", "cancellation", "feedback"]
    assert err == (
        "note: no reply queue: it was deployed with the receiveReplies context switch off\n"
        "note: no organizer queue: it was deployed without an eventEmail in its context"
        " (or with the receiveReplies context switch off)\n"
    )
    assert run(capsys, *stack, "dlq", "--redrive")[:2] == (
        0,
        f"invite: moved 0 messages back to {names['invite'][0]}\n"
        f"cancellation: moved 0 messages back to {names['cancel'][0]}\n"
        f"feedback: moved 0 messages back to {names['feedback'][0]}\n",
    )
    code, out, err = run(capsys, *stack, "dlq", "--queue", "reply")
    assert (code, out) == (1, "")
    assert "the stack has no reply queue: it was deployed with the receiveReplies context switch off" in err
