"""AWS::SES::EmailIdentity, verified as SES does once its link is followed or its DNS records exist;
and the functions' senders that the template does not create, which the account verified beforehand."""

from __future__ import annotations

from dataclasses import dataclass

from moto.backends import get_backend

from local.resources.base import Anything, Creation, Site, after_deploy, creates
from local.template import Physical

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
