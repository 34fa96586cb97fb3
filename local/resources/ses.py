"""SES: AWS::SES::EmailIdentity, verified as SES does once its link is followed or its DNS records
exist, and the functions' senders that the template does not create, which the account verified
beforehand; AWS::SES::ReceiptRuleSet and AWS::SES::ReceiptRule, created on moto's SES (which checks
that the S3 action's bucket and topic exist). Receiving itself is local/sources/ses_receiving.py.
AWS::SES::ConfigurationSet and AWS::SES::ConfigurationSetEventDestination (SNS destinations):
created on moto's SES, and the destinations recorded, since moto publishes no events for a send;
local/sources/ses_feedback.py publishes them.

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
        created = backend.email_identities.get(identity)
        if created is not None:  # None: moto runs in another process (bench), which sends anyway
            created.verified_for_sending_status = True


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


# ----------------------------------------------------------------- sending: configuration sets

# CloudFormation's MatchingEventTypes (lower-case) -> the eventType of the records SES publishes.
EVENT_TYPES = {
    "send": "Send",
    "reject": "Reject",
    "bounce": "Bounce",
    "complaint": "Complaint",
    "delivery": "Delivery",
    "open": "Open",
    "click": "Click",
    "renderingFailure": "Rendering Failure",
    "deliveryDelay": "DeliveryDelay",
    "subscription": "Subscription",
}


@dataclass
class EventDestination:
    stack: str
    logical_id: str
    configuration_set: str
    name: str
    enabled: bool
    event_types: frozenset[str]  # as the records name them: Bounce, Delivery...
    topic_arn: str


@creates(
    "AWS::SES::ConfigurationSet",
    not_emulated=("DeliveryOptions", "TrackingOptions", "VdmOptions"),
)
def create_configuration_set(c: Creation) -> Physical:
    """Created on moto's SES under its template name; what it does to sends (reputation metrics,
    the suppression list) is not emulated: the feedback source publishes what a test or the demo
    says SES saw."""
    props = c.properties
    name = props.get("Name") or c.physical_name(64)
    request = {"ConfigurationSetName": name}
    for key in ("ReputationOptions", "SendingOptions", "SuppressionOptions"):
        if key in props:
            request[key] = _enabled_flags(props[key])
    c.client("sesv2").create_configuration_set(**request)
    c.inventory.configuration_sets.append(name)
    return Physical(ref=name)


def _enabled_flags(options: dict) -> dict:
    """CloudFormation may pass booleans as strings; the API wants booleans."""
    return {k: (v in (True, "true") if k.endswith("Enabled") else v) for k, v in options.items()}


@creates("AWS::SES::ConfigurationSetEventDestination")
def create_event_destination(c: Creation) -> Physical:
    props = c.properties
    destination = props["EventDestination"]
    others = set(destination) - {"Name", "Enabled", "MatchingEventTypes", "SnsDestination"}
    if others:
        raise TemplateError(f"event destinations {sorted(others)} are not emulated (only SnsDestination)")
    if "SnsDestination" not in destination:
        raise TemplateError("an event destination without SnsDestination is not emulated")
    unknown = set(destination.get("MatchingEventTypes", [])) - set(EVENT_TYPES)
    if unknown:
        raise TemplateError(f"unknown MatchingEventTypes {sorted(unknown)}")
    name = destination.get("Name") or c.physical_name(64)
    topic_arn = destination["SnsDestination"]["TopicARN"]
    enabled = destination.get("Enabled", False) in (True, "true")
    types = destination.get("MatchingEventTypes", [])
    c.client("ses").create_configuration_set_event_destination(  # moto checks the set exists
        ConfigurationSetName=props["ConfigurationSetName"],
        EventDestination={
            "Name": name,
            "Enabled": enabled,
            "MatchingEventTypes": types,
            "SNSDestination": {"TopicARN": topic_arn},
        },
    )
    c.inventory.event_destinations.append(
        EventDestination(
            stack=c.stack,
            logical_id=c.logical_id,
            configuration_set=props["ConfigurationSetName"],
            name=name,
            enabled=enabled,
            event_types=frozenset(EVENT_TYPES[t] for t in types),
            topic_arn=topic_arn,
        )
    )
    return Physical(ref=name)
