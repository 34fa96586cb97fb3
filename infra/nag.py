"""cdk-nag (v3) wiring: the AwsSolutions pack on the whole app, and scoped acknowledgements."""

from __future__ import annotations

from aws_cdk import Acknowledgment, App, CfnResource, Validations
from cdk_nag import AwsSolutionsChecks

PACK = "AwsSolutions"


def add_checks(app: App) -> None:
    """Run AwsSolutions on every template after synthesis; unacknowledged findings fail it."""
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def acknowledge(resource: CfnResource, rule: str, reason: str) -> None:
    """Acknowledge one AwsSolutions rule (e.g. "L1") on exactly one CloudFormation resource."""
    Validations.of(resource).acknowledge(Acknowledgment(id=f"{PACK}::{PACK}-{rule}", reason=reason))
