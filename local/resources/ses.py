"""SES: AWS::SES::EmailIdentity, verified as SES does once its link is followed or its DNS records
exist, and the functions' senders that the template does not create, which the account verified
beforehand; AWS::SES::ReceiptRuleSet and AWS::SES::ReceiptRule, created on moto's SES (which checks
that the S3 action's bucket and topic exist). Receiving itself is local/sources/ses_receiving.py.

CloudFormation creates a rule set without activating it; activating it is the one-time step
docs/deployment.md describes. The local runtime takes that step for the assembly's rule set
when none is active (noted), so that mail can be received at once."""

from __future__ import annotations

from dataclasses import dataclass, field

from moto.backends import get_backend

from local.resources.base import Anything, Creation, Site, after_deploy, creates
from local.template import Physical, TemplateError

# Receipt rule actions the receiving emulation performs; a rule with any other fails at start.
RECEIPT_ACTIONS = ("S3Action", "StopAction")

# The environment variable the functions read their sender from (lambdas.runtime.config.ENV_SENDER).
SENDER_VARIABLE = "SENDER"


@dataclass
class Identity:
    stack: str | None  # None: not in the template, verified locally on the functions' behalf
    name: str


@creates("AWS::SES::EmailIdentity")
def create_identity(c: Creation) -> Physical:
    identity = c.properties["EmailIdentity"]
    verified_identity(c.site, identity)
    c.inventory.identities.append(Identity(stack=c.stack, name=identity))
    return Physical(ref=identity, attributes=Anything(arn=identity, name=identity))


def verified_identity(site: Site, identity: str) -> None:
    """Create the identity and complete its verification (the link or DNS records in real SES)."""
    site.client("sesv2").create_email_identity(EmailIdentity=identity)
    backend = get_backend("ses")[site.account][site.region]
    with site.locked():
        backend.email_identities[identity].verified_for_sending_status = True


@after_deploy
def verify_senders(site: Site) -> None:
    """A sender the template does not create is one the account verified beforehand."""
    inventory = site.inventory
    known = {identity.name.lower() for identity in inventory.identities}
    for function in inventory.functions:
        sender = function.environment.get(SENDER_VARIABLE, "")
        domain = sender.rpartition("@")[2].lower()
        if sender and sender.lower() not in known and domain not in known:
            verified_identity(site, sender)
            known.add(sender.lower())
            inventory.identities.append(Identity(stack=None, name=sender))
            site.note(f"{sender}: not an identity of the template, verified locally")


@dataclass
class ReceiptRule:
    stack: str
    logical_id: str
    rule_set: str
    name: str
    recipients: list[str]
    enabled: bool
    scan_enabled: bool
    actions: list[dict] = field(default_factory=list)


@creates("AWS::SES::ReceiptRuleSet")
def create_receipt_rule_set(c: Creation) -> Physical:
    name = c.properties.get("RuleSetName") or c.physical_name(64)
    c.client("ses").create_receipt_rule_set(RuleSetName=name)
    return Physical(ref=name)


@creates("AWS::SES::ReceiptRule")
def create_receipt_rule(c: Creation) -> Physical:
    props = c.properties
    rule = dict(props["Rule"])
    rule.setdefault("Name", c.physical_name(64))
    for action in rule.get("Actions", []):
        unknown = set(action) - set(RECEIPT_ACTIONS)
        if unknown:
            raise TemplateError(f"receipt rule actions {sorted(unknown)} are not emulated")
    request = {"RuleSetName": props["RuleSetName"], "Rule": rule}
    if props.get("After"):
        request["After"] = props["After"]
    c.client("ses").create_receipt_rule(**request)
    c.inventory.receipt_rules.append(
        ReceiptRule(
            stack=c.stack,
            logical_id=c.logical_id,
            rule_set=props["RuleSetName"],
            name=rule["Name"],
            recipients=list(rule.get("Recipients", [])),
            enabled=rule.get("Enabled", True) not in (False, "false"),
            scan_enabled=rule.get("ScanEnabled", False) in (True, "true"),
            actions=list(rule.get("Actions", [])),
        )
    )
    return Physical(ref=rule["Name"])


@after_deploy
def activate_receipt_rule_set(site: Site) -> None:
    """The one-time activation: the assembly's rule set, if none is active yet."""
    rule_sets = list(dict.fromkeys(rule.rule_set for rule in site.inventory.receipt_rules))
    if not rule_sets:
        return
    ses = site.client("ses")
    if ses.describe_active_receipt_rule_set().get("Metadata"):
        return
    ses.set_active_receipt_rule_set(RuleSetName=rule_sets[0])
    site.note(f"receipt rule set {rule_sets[0]} activated locally (the one-time step of a deployment)")
