"""Adapters against recording fakes: the calls they make, not AWS itself."""

from __future__ import annotations

import pytest

from lambdas.adapters.queues import QueueError, Queues
from lambdas.domain.inbound.origin import ReceiptOrigin
from lambdas.runtime.config import DEFAULT_SUBJECT_PREFIX, ConfigurationError, Settings


class FakeSqs:
    def __init__(self, fail_ids=()):
        self.batches = []
        self.fail_ids = set(fail_ids)

    def send_message_batch(self, QueueUrl, Entries):
        self.batches.append([e["Id"] for e in Entries])
        failed = [{"Id": e["Id"]} for e in Entries if e["Id"] in self.fail_ids]
        return {"Successful": [], "Failed": failed}


def test_fan_out_of_a_thousand_uses_a_hundred_batches_of_ten():
    sqs = FakeSqs()
    assert Queues(sqs, "q", "dlq").enqueue([f"body{i}" for i in range(1000)]) == 1000
    assert len(sqs.batches) == 100
    assert all(len(batch) == 10 for batch in sqs.batches)


def test_partially_failed_entries_are_resent_and_then_raise():
    sqs = FakeSqs(fail_ids={"3"})
    with pytest.raises(QueueError):
        Queues(sqs, "q", "dlq").enqueue([f"body{i}" for i in range(5)])
    assert sqs.batches == [["0", "1", "2", "3", "4"], ["3"], ["3"]]


REQUIRED = {
    "REGION": "eu-west-1",
    "DYNAMODB_TABLE": "t",
    "SENDER": "s@example.com",
    "RSVP_EMAIL": "r@example.com",
    "SQS_URL": "q",
    "DLQ_URL": "d",
}


def test_settings_default_to_what_the_stack_deploys():
    settings = Settings.from_environ(REQUIRED)
    assert (settings.subject_prefix, settings.claim_lease_seconds, settings.max_workers) == (
        DEFAULT_SUBJECT_PREFIX,
        90,  # the function timeout (infra/tuning.py is built from the same constant)
        10,  # a worker per record of a full batch
    )


def test_missing_settings_are_all_named():
    with pytest.raises(ConfigurationError, match="SENDER, RSVP_EMAIL"):
        Settings.from_environ({k: v for k, v in REQUIRED.items() if k not in ("SENDER", "RSVP_EMAIL")})


def test_the_receipt_origin_is_all_three_variables_or_none():
    origin = {
        "INBOUND_TOPIC_ARN": "arn:aws:sns:eu-west-1:1:inbound",
        "INBOUND_BUCKET": "b",
        "INBOUND_KEY_PREFIX": "in/",
    }
    settings = Settings.from_environ({**REQUIRED, **origin})
    assert settings.required_receipt_origin() == ReceiptOrigin(
        "arn:aws:sns:eu-west-1:1:inbound", "b", "in/", REQUIRED["RSVP_EMAIL"].lower()
    )
    with pytest.raises(ConfigurationError, match="missing environment variables: INBOUND_BUCKET"):
        Settings.from_environ({**REQUIRED, **origin, "INBOUND_BUCKET": " "})
    # The functions that do not receive mail have none; the one that does says what it misses.
    unconfigured = Settings.from_environ(REQUIRED)
    assert unconfigured.receipt_origin is None
    with pytest.raises(ConfigurationError, match="INBOUND_TOPIC_ARN, INBOUND_BUCKET, INBOUND_KEY_PREFIX"):
        unconfigured.required_receipt_origin()


def test_bad_numbers_are_refused():
    with pytest.raises(ConfigurationError, match="CLAIM_LEASE_SECONDS"):
        Settings.from_environ({**REQUIRED, "CLAIM_LEASE_SECONDS": "soon"})


def test_importing_the_handlers_needs_no_environment_and_makes_no_aws_call():
    import subprocess
    import sys

    code = (
        "import botocore.endpoint as e\n"
        "e.Endpoint.make_request = lambda *a, **k: (_ for _ in ()).throw(SystemExit('AWS call at import'))\n"
        "import lambdas.send_invite.handler, lambdas.send_cancellation.handler\n"
    )
    result = subprocess.run([sys.executable, "-c", code], env={"PATH": ""}, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
