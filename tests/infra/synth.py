"""Synthesis for the infrastructure tests.

The test app gets exactly the context `cdk synth` gives it: cdk.json's context (feature flags and
configuration defaults) plus the keys the CDK CLI adds. The one difference is
`aws:cdk:bundling-stacks: []`, CDK's own switch to skip bundling: the templates are identical
(the asset hash is computed from the sources, not from the bundle), only the `aws:asset:path`
metadata then points at the source directory. tests/infra/test_cli_synth.py runs the real
`cdk synth`, with bundling, and checks that its templates match the snapshot too.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT_DIR = Path(__file__).resolve().parent / "snapshots"

# What the CDK CLI (contextFromSettings) adds to the app's context for `cdk synth`.
CLI_CONTEXT: dict[str, Any] = {
    "aws:cdk:enable-path-metadata": True,
    "aws:cdk:enable-asset-metadata": True,
    "aws:cdk:version-reporting": True,
    "aws:cdk:bundling-stacks": ["**"],
    "@aws-cdk/core:failSynthOnValidationErrors": False,
}
SKIP_BUNDLING: dict[str, Any] = {"aws:cdk:bundling-stacks": []}

# A fully configured deployment: domain identity with a hosted zone, alarm mails, sandbox recipients.
CONFIGURED_CONTEXT: dict[str, Any] = {
    "sender": "invites@calendar.acme-events.io",
    "rsvpEmail": "rsvp@acme-events.io",
    "sesIdentity": "acme-events.io",
    "hostedZone": "Z0123456789ABCDEFGHIJ",
    "subjectPrefix": "Acme",
    "maxConcurrency": "5",
    "alarmEmail": "ops@acme-events.io",
    "sandboxRecipients": "alice@example.org, bob@acme-events.io",
    "sesMaxSendRate": "50",
    "trustedRelayDomains": "cloud.acme-events.io",
    "eventEmail": "events@acme-events.io",
    "allowedOrganizers": "organizers.acme-events.io, @partner.example, carol@example.net",
    "deploy": "true",
}

# Stacks are environment-agnostic (the templates use AWS::AccountId and AWS::Region), so nothing
# machine-specific can reach a template; pin the variables anyway in case a stack ever reads them.
PINNED_ENV = {"CDK_DEFAULT_ACCOUNT": "123456789012", "CDK_DEFAULT_REGION": "us-east-1"}

_ASSET_HASH = re.compile(r"[0-9a-f]{64}")


def cdk_json_context() -> dict[str, Any]:
    return json.loads((ROOT / "cdk.json").read_text())["context"]


def app_context(*overrides: dict[str, Any]) -> dict[str, Any]:
    context = {**cdk_json_context(), **CLI_CONTEXT}
    for override in overrides:
        context.update(override)
    return context


@dataclass
class Synthesized:
    outdir: Path
    stacks: Any  # infra.app.Stacks
    templates: dict[str, dict[str, Any]]
    report: dict[str, Any]

    def template(self, stack_name: str) -> dict[str, Any]:
        return self.templates[stack_name]

    def violations(self, plugin: str) -> list[dict[str, Any]]:
        return [
            violation
            for report in self.report.get("pluginReports", [])
            if report["pluginName"] == plugin
            for violation in report["violations"]
        ]


def read_assembly(outdir: Path) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    templates = {
        path.name.removesuffix(".template.json"): json.loads(path.read_text())
        for path in outdir.glob("*.template.json")
    }
    report_path = outdir / "validation-report.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else {}
    return templates, report


def synthesize(context: dict[str, Any]) -> Synthesized:
    from aws_cdk import App

    from infra.app import build

    for name, value in PINNED_ENV.items():
        os.environ[name] = value
    outdir = Path(tempfile.mkdtemp(prefix="cdk-test-"))
    app = App(context=context, outdir=str(outdir))
    stacks = build(app)
    app.synth()
    templates, report = read_assembly(outdir)
    return Synthesized(outdir=outdir, stacks=stacks, templates=templates, report=report)


def mask(template: Any) -> Any:
    """The template with asset hashes and asset paths replaced by placeholders."""

    def walk(node: Any, key: str | None = None) -> Any:
        if isinstance(node, dict):
            return {k: walk(v, k) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(item) for item in node]
        if isinstance(node, str):
            if key == "aws:asset:path":
                return "<asset path>"
            return _ASSET_HASH.sub("<asset hash>", node)
        return node

    return walk(template)
