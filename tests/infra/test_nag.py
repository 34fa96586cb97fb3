"""cdk-nag AwsSolutions (v3): no unacknowledged findings, and each acknowledgement is scoped."""

from __future__ import annotations

import tempfile
from pathlib import Path

from aws_cdk import App, CfnResource, Stack, Validations
from aws_cdk import aws_sqs as sqs

from infra import nag, names
from tests.infra.synth import read_assembly

MIN_REASON_LENGTH = 40


def test_aws_solutions_reports_no_findings(synth):
    assert synth.violations(nag.PACK) == []


def test_the_report_does_catch_findings():
    """Guards the test above: a non-compliant queue shows up in the same report we read."""
    outdir = Path(tempfile.mkdtemp(prefix="cdk-nag-probe-"))
    app = App(outdir=str(outdir), context={"@aws-cdk/core:failSynthOnValidationErrors": False})
    stack = Stack(app, "Probe")
    sqs.Queue(stack, "Plain")
    acknowledged = sqs.Queue(stack, "Acknowledged")
    nag.acknowledge(acknowledged.node.default_child, "SQS3", "probe: this queue needs no DLQ in this test")
    nag.add_checks(app)
    app.synth()
    _, report = read_assembly(outdir)
    found = {
        (violation["ruleName"], construct["constructPath"])
        for plugin in report["pluginReports"]
        if plugin["pluginName"] == nag.PACK
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
    }
    assert ("AwsSolutions-SQS3", "Probe/Plain/Resource") in found
    assert ("AwsSolutions-SQS3", "Probe/Acknowledged/Resource") not in found
    assert ("AwsSolutions-SQS4", "Probe/Acknowledged/Resource") in found


def test_acknowledgements_are_on_single_resources_with_specific_reasons(synth):
    acknowledgements = []
    for stack in (synth.stacks.stateful, synth.stacks.stateless):
        for construct in stack.node.find_all():
            for entry in construct.node.metadata:
                if entry.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                    acknowledgements.append((construct, entry.data))
    for construct, rules in acknowledgements:
        assert isinstance(construct, CfnResource), construct.node.path
        for rule, reason in rules.items():
            assert rule.startswith(f"{nag.PACK}::{nag.PACK}-"), rule
            assert len(reason) >= MIN_REASON_LENGTH, (rule, reason)
    # the runtime pin on each of the four functions; the inbound bucket's access logs; the reply
    # role's object-read wildcard, limited to the prefix SES writes under; and, when the SES rate
    # is read from the account, ses:GetAccount (no resource type) on each of the three senders
    bucket_id = synth.stacks.stateless.get_logical_id(
        synth.stacks.stateless.inbound.bucket.node.default_child
    )
    reads_quota = synth.stacks.config.ses_max_send_rate is None
    # with an event address, the organizer function too: its runtime pin, its object-read
    # wildcard under its own prefix, and its quota read
    organizer = bool(synth.stacks.config.event_email)
    prefixes = [names.INBOUND_OBJECT_KEY_PREFIX, *([names.ORGANIZER_OBJECT_KEY_PREFIX] if organizer else [])]
    assert sorted(rule for _, rules in acknowledgements for rule in rules) == sorted(
        [
            *["AwsSolutions::AwsSolutions-L1"] * (5 if organizer else 4),
            "AwsSolutions::AwsSolutions-S1",
            *[
                f"AwsSolutions::AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/{prefix}*]"
                for prefix in prefixes
            ],
            *["AwsSolutions::AwsSolutions-IAM5[Resource::*]"]
            * ((4 if organizer else 3) if reads_quota else 0),
        ]
    )
