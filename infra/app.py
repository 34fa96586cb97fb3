"""Builds the whole CDK app; app.py (the CDK entry point) and the tests both call `build`."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import App

from infra import nag, names
from infra.config import AppConfig
from infra.stacks.stateful import StatefulStack
from infra.stacks.stateless import StatelessStack

DESCRIPTION = "Calendar Invite Server"


@dataclass(frozen=True)
class Stacks:
    config: AppConfig
    stateful: StatefulStack
    stateless: StatelessStack


def build(app: App) -> Stacks:
    """Add both stacks and the cdk-nag AwsSolutions checks to `app`.

    Raises ConfigError for invalid context, and for the placeholder sender when the `deploy`
    context flag is set.
    """
    config = AppConfig.from_node(app.node)
    if config.deploy:
        config.check_deployable()

    stateful = StatefulStack(
        app,
        names.STATEFUL_STACK_NAME,
        config=config,
        description=f"{DESCRIPTION}: DynamoDB table and SES identity (retained data)",
    )
    stateless = StatelessStack(
        app,
        names.STATELESS_STACK_NAME,
        config=config,
        table=stateful.table,
        description=f"{DESCRIPTION}: SQS queues, Lambda workers and alarms",
    )
    stateless.add_stack_dependency(stateful)
    # Findings fail the synthesis; acknowledgements sit next to the resources they concern.
    nag.add_checks(app)
    return Stacks(config=config, stateful=stateful, stateless=stateless)
