"""The send functions' own steps: fan a request out onto their queue, and send-then-record for an
attendee this delivery claimed. Its completion (``send_expressions``) is what the batch's one
write records; loading this module loads those requests, at the send functions' cold start only
(docs/performance.md, "Cold start")."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from lambdas.adapters.send_expressions import Completion
from lambdas.domain.decisions import SendOutcome, attendee_status_after
from lambdas.domain.items import occurrence_text
from lambdas.runtime.batch import RecordResult
from lambdas.runtime.delivery import send_itip
from lambdas.runtime.services import Services

if TYPE_CHECKING:
    from lambdas.domain.calendar import ItipMessage


def fan_out(services: Services, bodies: list[dict[str, Any]]) -> int:
    """Enqueue single-attendee requests on the function's own queue."""
    return services.queues.enqueue([json.dumps(body) for body in bodies])


def send_claimed(services: Services, record_id: str, itip: ItipMessage, token: str) -> RecordResult:
    """Render and send for an attendee this delivery has claimed; the record is written per batch."""
    uid, email = itip.event.uid, itip.attendee.email
    fields = {"uid": uid, "attendee": email, "method": itip.method, "sequence": itip.sequence}
    message_id = send_itip(services, itip, release=lambda: services.store.release(uid, email, token))
    occurrence = "" if itip.event.occurrence is None else occurrence_text(itip.event.occurrence)
    completion = Completion(
        record_id=record_id,
        method=itip.method,
        uid=uid,
        email=email,
        name=itip.attendee.name,
        token=token,
        sequence=itip.sequence,
        message_id=message_id,
        sent_at=itip.dtstamp.isoformat(timespec="seconds"),
        attendee_status=attendee_status_after(itip.method, itip.status, one_occurrence=occurrence != ""),
        event=itip.event.as_dict(),
        occurrence=occurrence,
    )
    return RecordResult(
        SendOutcome.SENT, completion=completion, fields={**fields, "sesMessageId": message_id}
    )
