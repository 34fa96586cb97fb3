"""Refuse to deploy with the placeholder sender, however the deployment is started.

The same holds for a placeholder RSVP address while replies are received (`receiveReplies`):
SES would be set up to receive for an address no mail can reach.

`cdk synth` must work with the defaults, so the placeholder is not an error at synthesis. Instead:
- `make deploy` sets the `deploy` context flag and app.py fails before anything is built;
- the template itself carries a CloudFormation rule that is false while the sender is a
  placeholder, so `cdk deploy` run directly (or the template deployed by any other means) is
  rejected by CloudFormation before it creates or changes a single resource.
"""

from __future__ import annotations

from aws_cdk import Annotations, CfnRule, CfnRuleAssertion, Fn, Stack

from infra.config import AppConfig, placeholder_message, rsvp_placeholder_message

GUARD_RULE_ID = "SenderIsNotAPlaceholder"
WARNING_ID = "calendar-invite:placeholder-sender"
RSVP_GUARD_RULE_ID = "RsvpAddressIsNotAPlaceholder"
RSVP_WARNING_ID = "calendar-invite:placeholder-rsvp-address"


def add_placeholder_guard(stack: Stack, config: AppConfig) -> None:
    if config.sender_is_placeholder:
        _refuse(stack, GUARD_RULE_ID, WARNING_ID, config.sender, placeholder_message(config.sender))


def add_rsvp_placeholder_guard(stack: Stack, config: AppConfig) -> None:
    """For the stack that receives replies. A placeholder sender is refused already."""
    if config.rsvp_is_placeholder and not config.sender_is_placeholder:
        message = rsvp_placeholder_message(config.rsvp_email)
        _refuse(stack, RSVP_GUARD_RULE_ID, RSVP_WARNING_ID, config.rsvp_email, message)


def _refuse(stack: Stack, rule_id: str, warning_id: str, address: str, message: str) -> None:
    Annotations.of(stack).add_warning_v2(warning_id, f"{message} This template cannot be deployed.")
    domain = address.rpartition("@")[2].lower()
    CfnRule(
        stack,
        rule_id,
        assertions=[
            CfnRuleAssertion(
                # Reads "the address's domain is not one of the placeholder domains"; the rule is only
                # added when it is one, so the assertion is false and CloudFormation stops.
                assert_=Fn.condition_not(Fn.condition_contains([domain], domain)),
                assert_description=message,
            )
        ],
    )
