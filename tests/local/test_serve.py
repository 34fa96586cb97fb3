"""`python -m local serve` in one process, `bin/cisctl --local` in others, as a user runs them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import boto3
import pytest

from local.assembly import ROOT
from local.sandbox import CREDENTIALS, REGION
from tests.local import fixture

UID = "serve-test@example.com"


def _wait_for(condition, what: str, process, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if process.poll() is not None:
            raise AssertionError(f"serve exited while waiting for {what}: {process.stdout.read()}")
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _cisctl(env, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cisctl", "--local", *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_serve_delivers_what_cisctl_enqueues_and_cleans_up_when_stopped(tmp_path):
    work, outbox = tmp_path / "work", tmp_path / "outbox"
    state = work / "state.json"
    env = {**os.environ, "CISCTL_LOCAL_STATE": str(state)}
    command = [sys.executable, "-m", "local", "serve", "--cdk-out", str(fixture.write(tmp_path / "assembly"))]
    command += ["--work-dir", str(work), "--outbox", str(outbox)]
    serve = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        _wait_for(state.exists, "state.json", serve)
        assert json.loads(state.read_text())["stacks"] == [fixture.DATA, fixture.WORKERS]

        invite = _cisctl(
            env,
            "invite",
            *("--uid", UID, "--summary", "Serve test", "--organizer", "alice@example.com"),
            *(
                "--start",
                "2026-12-01T10:00:00Z",
                "--end",
                "2026-12-01T11:00:00Z",
                "--attendee",
                "ana@example.org",
            ),
        )
        assert invite.returncode == 0, invite.stderr
        _wait_for(lambda: list(outbox.glob("*.eml")), "the email", serve)

        status = _cisctl(env, "status", UID, "--json")
        assert status.returncode == 0, status.stderr
        assert [a["status"] for a in json.loads(status.stdout)["attendees"]] == ["invited"]
    finally:
        serve.send_signal(signal.SIGTERM)
        output, _ = serve.communicate(timeout=30)

    assert serve.returncode == 0
    assert "email to ana@example.org: REQUEST SEQUENCE 0" in output
    assert [p.name for p in sorted(outbox.iterdir())] == [
        "01-ana@example.org-request.eml",
        "01-ana@example.org-request.ics",
    ]
    assert not state.exists()
    assert _cisctl(env, "status", UID).returncode == 1


def test_serve_stops_within_seconds_of_sigterm_even_while_an_invocation_runs(tmp_path):
    work, outbox = tmp_path / "work", tmp_path / "outbox"
    state = work / "state.json"
    assembly = fixture.write(tmp_path / "assembly")
    workers = assembly / f"{fixture.WORKERS}.template.json"
    template = json.loads(workers.read_text())
    template["Resources"]["InviteFunction5A2B3C4D"]["Properties"]["Handler"] = "tests.local.handlers.handler"
    workers.write_text(json.dumps(template))
    # PYTHONFAULTHANDLER: if it does hang, SIGABRT makes it print every thread's stack (below).
    env = {**os.environ, "CISCTL_LOCAL_STATE": str(state), "PYTHONFAULTHANDLER": "1"}
    command = [sys.executable, "-m", "local", "serve", "--cdk-out", str(assembly)]
    command += ["--work-dir", str(work), "--outbox", str(outbox)]
    serve = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        _wait_for(state.exists, "state.json", serve)
        endpoint = json.loads(state.read_text())["endpoint"]
        sqs = boto3.client("sqs", endpoint_url=endpoint, region_name=REGION, **CREDENTIALS)
        queue = sqs.get_queue_url(QueueName=f"{fixture.WORKERS}-InviteQueue1A2B3C4D")["QueueUrl"]
        sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"answer": "busy"}))
        log = work / "logs" / "InviteFunction.log"
        # its threads call SQS for a minute
        _wait_for(lambda: log.exists() and "busy" in log.read_text(), "the invocation", serve)
        serve.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        try:
            output, _ = serve.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            serve.send_signal(signal.SIGABRT)
            stacks, _ = serve.communicate(timeout=30)
            pytest.fail(f"serve still ran 30 s after SIGTERM; its threads:\n{stacks}")
        stopped_after = time.monotonic() - signalled
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.communicate()

    assert serve.returncode == 0
    assert "stopped" in output
    assert stopped_after < 10, f"serve ran on for {stopped_after:.1f} s after SIGTERM"
    assert not state.exists()


def _state_of_a_serve(work_dir, outbox, pid: int) -> None:
    work_dir.mkdir(parents=True, exist_ok=True)
    (work_dir / "state.json").write_text(json.dumps({"pid": pid, "outbox": str(outbox)}))


def test_demo_and_a_second_serve_refuse_to_take_the_outbox_of_a_running_serve(tmp_path, capsys):
    from local.__main__ import main

    work_dir, outbox = tmp_path / "work", tmp_path / "outbox"
    outbox.mkdir()
    (outbox / "1-ana-request.eml").write_text("sent by the running serve")
    serve = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        _state_of_a_serve(work_dir, outbox, serve.pid)
        for command in ("demo", "serve"):
            code = main([command, "--work-dir", str(work_dir), "--outbox", str(outbox)])
            assert code == 1
            err = capsys.readouterr().err
            assert f"`python -m local serve` (pid {serve.pid}" in err
            assert "--outbox DIR" in err
    finally:
        serve.kill()
        serve.wait()
    assert (outbox / "1-ana-request.eml").read_text() == "sent by the running serve"


def test_the_state_file_of_a_serve_that_is_gone_is_no_obstacle(tmp_path):
    from local.__main__ import _running_serve, build_parser

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    work_dir, outbox = tmp_path / "work", tmp_path / "outbox"
    _state_of_a_serve(work_dir, outbox, gone.pid)
    args = build_parser().parse_args(["demo", "--work-dir", str(work_dir), "--outbox", str(outbox)])
    assert _running_serve(args) is None
