"""Refuse to deploy with the placeholder sender, however the deployment is started.

`cdk synth` must work with the defaults, so the placeholder is not an error at synthesis. Instead:
- `make deploy` sets the `deploy` context flag and app.py fails before anything is built;
- the template itself carries a CloudFormation rule that is false while the sender is a
  placeholder, so `cdk deploy` run directly (or the template deployed by any other means) is
  rejected by CloudFormation before it creates or changes a single resource.
"""

from __future__ import annotations

from aws_cdk import Annotations, CfnRule, CfnRuleAssertion, Fn, Stack

from infra.config import AppConfig, placeholder_message

GUARD_RULE_ID = "SenderIsNotAPlaceholder"
WARNING_ID = "calendar-invite:placeholder-sender"


def add_placeholder_guard(stack: Stack, config: AppConfig) -> None:
    if not config.sender_is_placeholder:
        return
    message = placeholder_message(config.sender)
    Annotations.of(stack).add_warning_v2(WARNING_ID, f"{message} This template cannot be deployed.")
    sender_domain = config.sender.rpartition("@")[2].lower()
    CfnRule(
        stack,
        GUARD_RULE_ID,
        assertions=[
            CfnRuleAssertion(
                # Reads "the sender's domain is not one of the placeholder domains"; the rule is only
                # added when it is one, so the assertion is false and CloudFormation stops.
                assert_=Fn.condition_not(Fn.condition_contains([sender_domain], sender_domain)),
                assert_description=message,
            )
        ],
    )
