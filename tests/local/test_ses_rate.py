"""The sending functions of the real template read the SES rate from the local account (moto has no
GetAccount: local/ses_account.py answers it) and pace at their share of it."""

from __future__ import annotations

import json
import logging

from lambdas.runtime import config
from local import ses_account
from local.samples import invite_body

GUESTS = ["ana@example.org", "ben@example.org", "chloe@example.org"]


def test_a_fan_out_reads_the_local_accounts_rate_once_and_paces_at_its_share(
    app_assembly, start_runtime, caplog
):
    caplog.set_level(logging.INFO, logger="lambdas.runtime.services")
    runtime = start_runtime(app_assembly)
    invite = next(f for f in runtime.functions if f.handler.endswith("send_invite.handler.lambda_handler"))
    assert invite.environment[config.ENV_MAX_SEND_RATE] == config.READ_FROM_ACCOUNT
    instances = int(invite.environment[config.ENV_SENDING_INSTANCES])
    url = runtime.outputs()["InviteQueueUrl"]
    runtime.client("sqs").send_message(QueueUrl=url, MessageBody=json.dumps(invite_body(attendee=GUESTS)))

    invocations = runtime.drain()

    assert sorted(e.recipient for e in runtime.sent_emails()) == GUESTS
    assert sum(i.outcomes["throttled"] for i in invocations) == 0
    [paced] = [r for r in caplog.records if r.getMessage() == "pacing sends"]  # once per instance
    assert paced.accountRate == ses_account.MAX_SEND_RATE
    assert paced.instanceRate == ses_account.MAX_SEND_RATE / instances
