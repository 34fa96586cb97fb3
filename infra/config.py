"""Deployment configuration, read from CDK context (cdk.json, or `-c key=value` on the command line).

Every key has a default so that `cdk synth` works with nothing set. The default sender is a
placeholder on a reserved domain; a deployment with it is refused (see `check_deployable`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from constructs import Node

from infra import tuning
from lambdas.runtime.config import DEFAULT_SUBJECT_PREFIX, PLACEHOLDER_SENDER

# Context keys (documented in docs/deployment.md).
CTX_SENDER = "sender"
CTX_RSVP_EMAIL = "rsvpEmail"
CTX_SES_IDENTITY = "sesIdentity"
CTX_HOSTED_ZONE = "hostedZone"
CTX_SUBJECT_PREFIX = "subjectPrefix"
CTX_MAX_CONCURRENCY = "maxConcurrency"
CTX_ALARM_EMAIL = "alarmEmail"
CTX_SANDBOX_RECIPIENTS = "sandboxRecipients"
CTX_CREATE_SES_IDENTITY = "createSesIdentity"
CTX_RECEIVE_REPLIES = "receiveReplies"
CTX_INBOUND_RETENTION_DAYS = "inboundRetentionDays"
CTX_SES_MAX_SEND_RATE = "sesMaxSendRate"
CTX_TRUSTED_RELAY_DOMAINS = "trustedRelayDomains"
CTX_EVENT_EMAIL = "eventEmail"
CTX_ALLOWED_ORGANIZERS = "allowedOrganizers"
# Set by `make deploy`: turns the placeholder-sender warning into an error before anything is built.
CTX_DEPLOY = "deploy"

DEFAULT_MAX_CONCURRENCY = tuning.MIN_MAX_CONCURRENCY
DEFAULT_INBOUND_RETENTION_DAYS = 30

# Defaults, also written out in cdk.json (a test keeps the two equal). Empty means "not set".
DEFAULTS: dict[str, object] = {
    CTX_SENDER: PLACEHOLDER_SENDER,
    CTX_RSVP_EMAIL: "",
    CTX_SES_IDENTITY: "",
    CTX_HOSTED_ZONE: "",
    CTX_SUBJECT_PREFIX: DEFAULT_SUBJECT_PREFIX,
    CTX_MAX_CONCURRENCY: DEFAULT_MAX_CONCURRENCY,
    CTX_ALARM_EMAIL: "",
    CTX_SANDBOX_RECIPIENTS: "",
    CTX_CREATE_SES_IDENTITY: True,
    CTX_RECEIVE_REPLIES: True,
    CTX_INBOUND_RETENTION_DAYS: DEFAULT_INBOUND_RETENTION_DAYS,
    CTX_SES_MAX_SEND_RATE: "",  # the account's, read from SES (GetAccount) by each sending instance
    CTX_TRUSTED_RELAY_DOMAINS: "",
    CTX_EVENT_EMAIL: "",  # no event address: no organizer path (docs/organizer.md)
    CTX_ALLOWED_ORGANIZERS: "",  # nobody
}

# RFC 2606 / RFC 6761 names that can never receive mail: a sender there is a placeholder.
_RESERVED_DOMAINS = ("example.com", "example.net", "example.org")
_RESERVED_TLDS = ("example", "invalid", "test", "localhost")

_EMAIL = re.compile(r"^[^@\s<>]+@([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+)$")
_DOMAIN = re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_HOSTED_ZONE_ID = re.compile(r"^Z[A-Z0-9]{1,31}$")


class ConfigError(ValueError):
    """The context holds a value the stacks cannot be built from."""


def is_placeholder_address(address: str) -> bool:
    domain = address.rpartition("@")[2].lower()
    return (
        domain in _RESERVED_DOMAINS
        or any(domain.endswith("." + reserved) for reserved in _RESERVED_DOMAINS)
        or domain.rpartition(".")[2] in _RESERVED_TLDS
    )


def _domain_of(address: str) -> str:
    return address.rpartition("@")[2].lower()


@dataclass(frozen=True)
class AppConfig:
    sender: str
    rsvp_email: str
    ses_identity: str
    subject_prefix: str
    max_concurrency: int
    hosted_zone_id: str | None = None
    alarm_email: str | None = None
    sandbox_recipients: tuple[str, ...] = field(default_factory=tuple)
    create_ses_identity: bool = True
    deploy: bool = False
    receive_replies: bool = True
    inbound_retention_days: int = DEFAULT_INBOUND_RETENTION_DAYS
    ses_max_send_rate: float | None = None  # None: the account's, from SES GetAccount
    # Mail domains whose relayed answers (From: the relay, Reply-To: the attendee) count as verified.
    trusted_relay_domains: tuple[str, ...] = field(default_factory=tuple)
    # The event address organizers invite from their calendars ("" : none, no organizer path), and
    # who may (addresses, or domains as `example.org` / `@example.org`; none: nobody).
    event_email: str = ""
    allowed_organizers: tuple[str, ...] = field(default_factory=tuple)

    @property
    def sender_is_placeholder(self) -> bool:
        return is_placeholder_address(self.sender)

    @property
    def identity_is_domain(self) -> bool:
        return "@" not in self.ses_identity

    @property
    def sending_identities(self) -> tuple[str, ...]:
        """SES identities whose ARNs the send permission names.

        The configured identity; the sender address and, for a sender in a subdomain of the
        identity domain, that subdomain (SES authorises against the most specific verified
        identity, and either may be verified besides this stack's); and, for accounts still in the
        SES sandbox, the verified recipient identities (SES checks those against the policy too).
        The `ses:FromAddress` condition keeps every one of them to sending as the sender.
        """
        names = [self.ses_identity, self.sender.lower()]
        if self.identity_is_domain:
            names.append(_domain_of(self.sender))
        names.extend(self.sandbox_recipients)
        return tuple(dict.fromkeys(names))

    @property
    def rsvp_is_placeholder(self) -> bool:
        return is_placeholder_address(self.rsvp_email)

    @property
    def rsvp_domain(self) -> str:
        return _domain_of(self.rsvp_email)

    def identity_covers(self, domain: str) -> bool:
        """Whether the SES identity this stack creates is ``domain`` or a parent of it."""
        return self.identity_is_domain and (
            domain == self.ses_identity or domain.endswith("." + self.ses_identity)
        )

    @property
    def identity_covers_rsvp_domain(self) -> bool:
        return self.identity_covers(self.rsvp_domain)

    @property
    def event_domain(self) -> str:
        return _domain_of(self.event_email)

    @property
    def event_sending_identities(self) -> tuple[str, ...]:
        """SES identities the event address may be sent from: the configured identity when it
        covers the address, the address and its domain (either may be verified besides this
        stack's). `ses:FromAddress` keeps each to the event address."""
        names = [self.event_email.lower(), self.event_domain]
        if self.identity_covers(self.event_domain):
            names.insert(0, self.ses_identity)
        names.extend(self.sandbox_recipients)
        return tuple(dict.fromkeys(names))

    @classmethod
    def from_node(cls, node: Node) -> AppConfig:
        """Read and validate the configuration from a construct's context."""

        def get(key: str) -> object:
            value = node.try_get_context(key)
            return DEFAULTS[key] if value is None else value

        sender = _text(get(CTX_SENDER))
        if not _EMAIL.match(sender):
            raise ConfigError(f"context '{CTX_SENDER}' must be an email address, got {sender!r}")

        rsvp_email = _text(get(CTX_RSVP_EMAIL)) or sender
        if not _EMAIL.match(rsvp_email):
            raise ConfigError(f"context '{CTX_RSVP_EMAIL}' must be an email address, got {rsvp_email!r}")

        ses_identity = (_text(get(CTX_SES_IDENTITY)) or sender).lower()
        if "@" in ses_identity:
            if not _EMAIL.match(ses_identity):
                raise ConfigError(f"context '{CTX_SES_IDENTITY}' is not an email address: {ses_identity!r}")
            if ses_identity != sender.lower():
                raise ConfigError(
                    f"context '{CTX_SES_IDENTITY}' is the address {ses_identity!r} but the sender is "
                    f"{sender!r}: SES only sends from a verified address or from an address in a "
                    "verified domain"
                )
        else:
            if not _DOMAIN.match(ses_identity):
                raise ConfigError(f"context '{CTX_SES_IDENTITY}' is not a domain name: {ses_identity!r}")
            sender_domain = _domain_of(sender)
            if sender_domain != ses_identity and not sender_domain.endswith("." + ses_identity):
                raise ConfigError(f"the sender {sender!r} is not in the SES identity domain {ses_identity!r}")

        hosted_zone = _text(get(CTX_HOSTED_ZONE)) or None
        if hosted_zone is not None:
            if "@" in ses_identity:
                raise ConfigError(
                    f"context '{CTX_HOSTED_ZONE}' only applies to a domain identity; "
                    f"'{CTX_SES_IDENTITY}' is the address {ses_identity!r}"
                )
            if not _HOSTED_ZONE_ID.match(hosted_zone):
                raise ConfigError(
                    f"context '{CTX_HOSTED_ZONE}' must be a Route 53 hosted zone ID such as "
                    f"Z0123456789ABCDEFGHIJ, got {hosted_zone!r}"
                )

        alarm_email = _text(get(CTX_ALARM_EMAIL)) or None
        if alarm_email is not None and not _EMAIL.match(alarm_email):
            raise ConfigError(f"context '{CTX_ALARM_EMAIL}' must be an email address, got {alarm_email!r}")

        raw_concurrency = get(CTX_MAX_CONCURRENCY)
        try:
            max_concurrency = int(str(raw_concurrency))
        except ValueError:
            raise ConfigError(
                f"context '{CTX_MAX_CONCURRENCY}' must be an integer, got {raw_concurrency!r}"
            ) from None
        if not tuning.MIN_MAX_CONCURRENCY <= max_concurrency <= tuning.MAX_MAX_CONCURRENCY:
            raise ConfigError(
                f"context '{CTX_MAX_CONCURRENCY}' must be between {tuning.MIN_MAX_CONCURRENCY} and "
                f"{tuning.MAX_MAX_CONCURRENCY} (the range Lambda accepts), got {max_concurrency}"
            )

        recipients = _list(get(CTX_SANDBOX_RECIPIENTS))
        for recipient in recipients:
            if not (_EMAIL.match(recipient) or _DOMAIN.match(recipient)):
                raise ConfigError(
                    f"context '{CTX_SANDBOX_RECIPIENTS}' holds {recipient!r}, "
                    "which is neither an email address nor a domain"
                )

        receive_replies = _flag(get(CTX_RECEIVE_REPLIES), CTX_RECEIVE_REPLIES)
        inbound_retention_days = _int(get(CTX_INBOUND_RETENTION_DAYS), CTX_INBOUND_RETENTION_DAYS)
        if inbound_retention_days < tuning.MIN_INBOUND_RETENTION_DAYS:
            raise ConfigError(
                f"context '{CTX_INBOUND_RETENTION_DAYS}' must be at least "
                f"{tuning.MIN_INBOUND_RETENTION_DAYS} days (the reply DLQ's retention: a message "
                "redriven from it must still find its email), got "
                f"{inbound_retention_days}"
            )

        ses_max_send_rate = _rate(get(CTX_SES_MAX_SEND_RATE), CTX_SES_MAX_SEND_RATE)
        relays = _list(get(CTX_TRUSTED_RELAY_DOMAINS))
        for relay in relays:
            if not _DOMAIN.match(relay):
                raise ConfigError(
                    f"context '{CTX_TRUSTED_RELAY_DOMAINS}' holds {relay!r}, which is not a domain"
                )

        event_email, allowed_organizers = _organizers(get, rsvp_email, receive_replies)
        return cls(
            sender=sender,
            rsvp_email=rsvp_email,
            ses_identity=ses_identity,
            subject_prefix=_text(get(CTX_SUBJECT_PREFIX)),
            max_concurrency=max_concurrency,
            hosted_zone_id=hosted_zone,
            alarm_email=alarm_email,
            sandbox_recipients=tuple(recipient.lower() for recipient in recipients),
            create_ses_identity=_flag(get(CTX_CREATE_SES_IDENTITY), CTX_CREATE_SES_IDENTITY),
            deploy=_flag(node.try_get_context(CTX_DEPLOY) or False, CTX_DEPLOY),
            receive_replies=receive_replies,
            inbound_retention_days=inbound_retention_days,
            ses_max_send_rate=ses_max_send_rate,
            trusted_relay_domains=tuple(relay.lower() for relay in relays),
            event_email=event_email,
            allowed_organizers=allowed_organizers,
        )

    def check_deployable(self) -> None:
        """Refuse a deployment that would send from a placeholder address."""
        if self.sender_is_placeholder:
            raise ConfigError(placeholder_message(self.sender))
        if self.receive_replies and self.rsvp_is_placeholder:
            raise ConfigError(rsvp_placeholder_message(self.rsvp_email))
        if self.event_email and is_placeholder_address(self.event_email):
            raise ConfigError(
                f"The event address {self.event_email!r} is a placeholder: organizers could never "
                f"reach it. Set '{CTX_EVENT_EMAIL}' to an address whose domain's MX record points at "
                "SES, or leave it empty. See docs/deployment.md."
            )


def _organizers(get, rsvp_email: str, receive_replies: bool) -> tuple[str, tuple[str, ...]]:
    """The event address and the allow-list, validated (docs/organizer.md, "Trust")."""
    event_email = _text(get(CTX_EVENT_EMAIL)).lower()
    entries = [entry.lower() for entry in _list(get(CTX_ALLOWED_ORGANIZERS))]
    if event_email:
        if not _EMAIL.match(event_email):
            raise ConfigError(f"context '{CTX_EVENT_EMAIL}' must be an email address, got {event_email!r}")
        if event_email == rsvp_email.lower():
            raise ConfigError(
                f"context '{CTX_EVENT_EMAIL}' is the RSVP address {rsvp_email!r}: attendees' answers and "
                "organizers' calendars need an address each (each has its own receipt rule)"
            )
        if not receive_replies:
            raise ConfigError(
                f"context '{CTX_EVENT_EMAIL}' needs SES receiving, which '{CTX_RECEIVE_REPLIES}' turns off: "
                f"turn it on, or leave '{CTX_EVENT_EMAIL}' empty"
            )
    elif entries:
        raise ConfigError(
            f"context '{CTX_ALLOWED_ORGANIZERS}' names who may mail the event address, and "
            f"'{CTX_EVENT_EMAIL}' is not set: set it, or leave '{CTX_ALLOWED_ORGANIZERS}' empty"
        )
    for entry in entries:
        bare = entry.removeprefix("@")
        if not (_EMAIL.match(entry) or _DOMAIN.match(bare)):
            raise ConfigError(
                f"context '{CTX_ALLOWED_ORGANIZERS}' holds {entry!r}, which is neither an email "
                "address nor a domain (example.org or @example.org)"
            )
    return event_email, tuple(dict.fromkeys(entries))


def placeholder_message(sender: str) -> str:
    return (
        f"The sender {sender!r} is a placeholder (its domain can never receive or send mail). "
        "Set your own address before deploying, e.g. "
        f"`make deploy CONTEXT='-c {CTX_SENDER}=invites@your-domain'`, or the '{CTX_SENDER}' key in "
        "cdk.json. See docs/deployment.md."
    )


def rsvp_placeholder_message(rsvp_email: str) -> str:
    return (
        f"The RSVP address {rsvp_email!r} is a placeholder, and '{CTX_RECEIVE_REPLIES}' is on: SES "
        "would be set up to receive attendees' replies for an address that can never get mail. Set "
        f"'{CTX_RSVP_EMAIL}' to an address whose domain's MX record you can point at SES, or turn "
        f"replies off with `-c {CTX_RECEIVE_REPLIES}=false`. See docs/deployment.md."
    )


def _text(value: object) -> str:
    return str(value).strip()


def _flag(value: object, key: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no", ""):
        return False
    raise ConfigError(f"context '{key}' must be true or false, got {value!r}")


def _int(value: object, key: str) -> int:
    if isinstance(value, bool):
        raise ConfigError(f"context '{key}' must be an integer, got {value!r}")
    try:
        return int(str(value).strip())
    except ValueError:
        raise ConfigError(f"context '{key}' must be an integer, got {value!r}") from None


def _rate(value: object, key: str) -> float | None:
    """A positive number of emails per second, or None for "not set"."""
    text = "" if value is None else str(value).strip()
    if not text:
        return None
    try:
        rate = float(text)
    except ValueError:
        rate = 0.0
    if isinstance(value, bool) or not 0 < rate < float("inf"):
        raise ConfigError(f"context '{key}' must be a positive number of emails per second, got {value!r}")
    return rate


def _list(value: object) -> list[str]:
    items = [str(item) for item in value] if isinstance(value, list | tuple) else str(value).split(",")
    return [item.strip() for item in items if item.strip()]
