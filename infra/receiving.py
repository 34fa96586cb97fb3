"""Where SES receives email, and the refusal to deploy the inbound path anywhere else.

SES email receiving exists in fewer regions than sending. The list comes from the SES endpoints
page of the AWS General Reference ("Email receiving endpoints"); check it when adding a region.
The stacks are environment-agnostic, so the region is normally only known at deployment: the
template then carries a CloudFormation rule that stops the deployment, before any resource is
created, in a region without receiving. A stack synthesized for a known region fails at once.
"""

from __future__ import annotations

from aws_cdk import Aws, CfnRule, CfnRuleAssertion, Fn, Stack, Token

from infra.config import CTX_RECEIVE_REPLIES, ConfigError

RECEIVING_REGIONS = (
    "us-east-1",
    "us-east-2",
    "us-west-2",
    "ca-central-1",
    "eu-west-1",
    "eu-west-2",
    "eu-central-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-northeast-1",
)
REGION_RULE_ID = "SesReceivesEmailInThisRegion"


def unsupported_region_message(region: str) -> str:
    return (
        f"SES does not receive email in {region}, so attendees' replies cannot reach this stack. "
        f"Deploy in one of {', '.join(RECEIVING_REGIONS)}, or turn replies off with "
        f"`-c {CTX_RECEIVE_REPLIES}=false`. See docs/deployment.md."
    )


def require_receiving_region(stack: Stack) -> None:
    region = stack.region
    if not Token.is_unresolved(region):
        if region not in RECEIVING_REGIONS:
            raise ConfigError(unsupported_region_message(region))
        return
    CfnRule(
        stack,
        REGION_RULE_ID,
        assertions=[
            CfnRuleAssertion(
                assert_=Fn.condition_contains(list(RECEIVING_REGIONS), Aws.REGION),
                assert_description=unsupported_region_message("this region"),
            )
        ],
    )
