"""SES email receiving: the active receipt rule set's S3 action, stored object and SNS notification.

``receive_email(site, raw, recipient=..., verdicts=...)`` is what SES does when a message for
``recipient`` arrives over SMTP:

* it takes the rules of the *active* rule set, in order, that are enabled and whose recipients
  match (an address, a domain, or ``.domain`` for its subdomains; no recipients: everything);
  none matching is a rejection (``NotAccepted``), as SES answers 550 to the sending server;
* it prepends its inbound headers (Return-Path, Received, X-SES-Spam-Verdict,
  X-SES-Virus-Verdict, Received-SPF, Authentication-Results, X-SES-RECEIPT) to the message;
* for each S3 action it stores that at ``<ObjectKeyPrefix><message id>`` in the action's bucket
  and, with a ``TopicArn``, publishes the "Received" notification (``notificationType``,
  ``mail``, ``receipt`` with the verdicts and ``action: {type: "S3", ...}``) with the subject
  "Amazon SES Email Receipt Notification"; a Stop action ends the processing.

Delivery onward (the topic's SQS subscription, the queue's event source mapping) is moto's and
the runtime's, as for any publication. Verdicts are not computed: they are what the caller says
(``PASS`` for each by default), which is how a test or the demo plays a forged or infected mail.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.parser import HeaderParser
from email.utils import format_datetime, getaddresses, parseaddr
from urllib.parse import parse_qs

from local import shapes
from local.resources.base import Site
from local.shapes import VERDICTS

# The headers SES adds at the top of a received message (stripped again by ``as_sent``).
INBOUND_HEADERS = (
    "return-path",
    "received",
    "x-ses-spam-verdict",
    "x-ses-virus-verdict",
    "received-spf",
    "authentication-results",
    "x-ses-receipt",
    "x-ses-dkim-signature",
)
_HEADER_START = re.compile(rb"^([A-Za-z0-9-]+):")


class NotAccepted(RuntimeError):
    """No enabled rule of the active receipt rule set matches the recipient: SES rejects the mail."""


@dataclass(frozen=True)
class Receipt:
    message_id: str
    rule: str
    bucket: str
    key: str
    topic_arn: str | None
    notification: dict
    stored: bytes


def receive_email(
    site: Site, raw: bytes, *, recipient: str | None = None, verdicts: dict[str, str] | None = None
) -> list[Receipt]:
    """Receive ``raw`` (the message as the sender's server transmits it) for ``recipient``.

    ``recipient``: the envelope recipient (RCPT TO); by default the first recipient of the first
    enabled rule, which for our stack is the RSVP mailbox. ``verdicts``: status per check
    (spam, virus, spf, dkim, dmarc), ``PASS`` for any not given.
    """
    ses = site.client("ses")
    rules = [rule for rule in ses.describe_active_receipt_rule_set().get("Rules", []) if rule.get("Enabled")]
    if recipient is None:
        recipient = next((r for rule in rules for r in rule.get("Recipients", [])), None)
        if recipient is None:
            raise NotAccepted("no active receipt rule names a recipient; pass recipient=")
    statuses = {name: "PASS" for name in VERDICTS} | {
        k.lower(): v.upper() for k, v in (verdicts or {}).items()
    }
    unknown = set(statuses) - set(VERDICTS)
    if unknown:
        raise ValueError(f"unknown verdicts {sorted(unknown)}; known: {', '.join(VERDICTS)}")
    matching = [rule for rule in rules if _matches(rule.get("Recipients", []), recipient)]
    if not matching:
        raise NotAccepted(f"550 Mailbox unavailable: no active receipt rule accepts {recipient}")
    message_id = base64.b32encode(os.urandom(25)).decode().lower()  # SES's 40-character ids
    received_at = datetime.now(UTC)
    stored = _inbound_headers(raw, message_id, recipient, statuses, received_at, site.region) + raw
    mail = _mail(stored, message_id, recipient, received_at)
    receipts = []
    for rule in matching:
        for action in rule.get("Actions", []):
            if "StopAction" in action:
                return receipts
            s3_action = action["S3Action"]
            key = f"{s3_action.get('ObjectKeyPrefix', '')}{message_id}"
            site.client("s3").put_object(Bucket=s3_action["BucketName"], Key=key, Body=stored)
            topic = s3_action.get("TopicArn")
            notification = shapes.receipt_notification(
                mail,
                verdicts=statuses,
                bucket=s3_action["BucketName"],
                key=key,
                prefix=s3_action.get("ObjectKeyPrefix", ""),
                topic_arn=topic,
                at=received_at,
                processing_ms=max(1, int((datetime.now(UTC) - received_at).total_seconds() * 1000)),
                # SES sends the domain's policy only when DMARC fails
                dmarc_policy="reject" if statuses["dmarc"] == "FAIL" else None,
            )
            if topic:
                site.client("sns").publish(
                    TopicArn=topic, Subject=shapes.RECEIPT_SUBJECT, Message=json.dumps(notification)
                )
            receipts.append(
                Receipt(message_id, rule["Name"], s3_action["BucketName"], key, topic, notification, stored)
            )
    return receipts


def as_sent(raw: bytes) -> bytes:
    """The message without the inbound headers a receiving SES put at its top (a saved receipt)."""
    lines = raw.splitlines(keepends=True)
    index = 0
    while index < len(lines):
        match = _HEADER_START.match(lines[index])
        if not match or match.group(1).decode().lower() not in INBOUND_HEADERS:
            break
        index += 1
        while index < len(lines) and lines[index][:1] in (b" ", b"\t"):  # folded continuation
            index += 1
    return b"".join(lines[index:])


def _matches(recipients: list[str], address: str) -> bool:
    if not recipients:
        return True
    address = address.lower()
    domain = address.rpartition("@")[2]
    for entry in (r.lower() for r in recipients):
        if entry == address or (
            "@" not in entry and (entry == domain or (entry.startswith(".") and domain.endswith(entry)))
        ):
            return True
    return False


def _inbound_headers(
    raw: bytes, message_id: str, recipient: str, statuses: dict, received_at: datetime, region: str
) -> bytes:
    headers = _headers(raw, policy.default)
    source = parseaddr(str(headers.get("Return-Path") or headers.get("From") or ""))[1]
    from_domain = parseaddr(str(headers.get("From") or ""))[1].rpartition("@")[2] or "unknown"
    newline = "\r\n" if b"\r\n" in raw[:2000] else "\n"
    date = format_datetime(received_at).replace("-0000", "+0000")
    lines = [
        f"Return-Path: <{source}>",
        "Received: from localhost (localhost [127.0.0.1])",
        f" by inbound-smtp.{region}.amazonaws.com with SMTP id {message_id}",
        f" for {recipient};",
        f" {date} (UTC)",
        f"X-SES-Spam-Verdict: {statuses['spam']}",
        f"X-SES-Virus-Verdict: {statuses['virus']}",
        f"Received-SPF: {statuses['spf'].lower()} (spf={statuses['spf'].lower()}) client-ip=127.0.0.1;",
        "Authentication-Results: amazonses.com;",
        f" spf={statuses['spf'].lower()} smtp.mailfrom={source};",
        f" dkim={statuses['dkim'].lower()} header.i=@{from_domain};",
        f" dmarc={statuses['dmarc'].lower()} header.from={from_domain};",
        f"X-SES-RECEIPT: {base64.b64encode(f'local receipt {message_id}'.encode()).decode()}",
    ]
    return (newline.join(lines) + newline).encode()


def _mail(stored: bytes, message_id: str, recipient: str, received_at: datetime) -> dict:
    headers = _headers(stored, policy.compat32)
    source = parseaddr(str(headers.get("Return-Path", "")))[1]

    def addresses(name: str) -> list[str]:
        return [_unfold(entry) for value in headers.get_all(name) or [] for entry in _split_list(value)]

    common = {"returnPath": source, "from": addresses("From"), "to": addresses("To")}
    if headers.get("Cc"):
        common["cc"] = addresses("Cc")
    for key, name in (("date", "Date"), ("messageId", "Message-ID"), ("subject", "Subject")):
        if headers.get(name) is not None:
            common[key] = _unfold(headers[name])
    headers_list = [{"name": name, "value": _unfold(value)} for name, value in headers.items()]
    return shapes.received_mail(
        message_id, source, [recipient], received_at, common_headers=common, headers=headers_list
    )


def _headers(raw: bytes, header_policy: policy.Policy):
    """The message's headers as text. Mail may carry raw 8-bit (UTF-8) bytes in a header instead of
    RFC 2047 words; SES accepts it and gives such a header as decoded text, so decode leniently
    (a byte that is not UTF-8 becomes U+FFFD) rather than let the parser hand back ``Header``
    objects or surrogates that cannot be put in the JSON notification."""
    return HeaderParser(policy=header_policy).parsestr(raw.decode("utf-8", errors="replace"))


def _split_list(value: str) -> list[str]:
    """An address header's entries as written (display names kept), as commonHeaders lists them."""
    pairs = getaddresses([value])
    raw_parts = [
        part.strip() for part in re.split(r",(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)", value) if part.strip()
    ]
    return raw_parts if len(raw_parts) == len(pairs) else [value]


def _unfold(value: str) -> str:
    return re.sub(r"\r?\n[ \t]+", " ", str(value)).strip()


def receiving_route(receive: Callable[..., list[Receipt]]) -> Callable:
    """The WSGI answer to cisctl's ``receive`` (``cisctl.target.LOCAL_RECEIVE_PATH``): the body is
    the raw email as saved, the query names the recipient and the verdicts. So the CLI plays SES
    receiving through the runtime's endpoint, knowing nothing of this module."""

    def route(environ, start_response):
        query = parse_qs(environ.get("QUERY_STRING", ""))
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length)
        verdicts = dict(v.partition("=")[::2] for v in query.get("verdict", []))
        recipient = (query.get("recipient") or [None])[0]
        try:
            receipts = receive(as_sent(raw), recipient=recipient, verdicts=verdicts)
            status, body = "200 OK", {"receipts": [_summary(receipt) for receipt in receipts]}
        except NotAccepted as error:
            status, body = "422 Unprocessable Entity", {"error": str(error), "rejected": True}
        except ValueError as error:
            status, body = "400 Bad Request", {"error": str(error)}
        data = json.dumps(body).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]

    return route


def _summary(receipt: Receipt) -> dict:
    return {
        "recipient": receipt.notification["mail"]["destination"][0],
        "bucket": receipt.bucket,
        "key": receipt.key,
        "topic_arn": receipt.topic_arn,
    }
