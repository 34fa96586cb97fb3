"""What the organizer is sent back, as the event address: the REPLY ACCEPTED for their calendar,
and on a new event the plain confirmation (lambdas.domain.organizer.answer). Each is owed by the
write that stored the change (lambdas/domain/organizer/pending.py) and claimed before it is sent,
keyed by the inbound mail's SES message id: a redelivery of that mail sends what is still owed,
and no two deliveries send the same answer (like a REFRESH: docs/replies.md)."""

from __future__ import annotations

import contextlib
from datetime import datetime

from lambdas.adapters.mailer import ses_permanent_refusal
from lambdas.domain.organizer.pending import CONFIRMATION, REPLY
from lambdas.domain.organizer.reading import OrganizerMessage
from lambdas.domain.validation import FieldError, InvalidRequest
from lambdas.runtime.services import Services

# The name the event address answers with (the organizer's calendar shows it in its guest list).
EVENT_ADDRESS_NAME = "Calendar Invite Server"
NAMES = {REPLY: "reply", CONFIRMATION: "confirmation"}


def answer_organizer(
    services: Services, uid: str, inbound: str, message: OrganizerMessage, owed: tuple[str, ...]
) -> list[str]:
    """Send each answer owed for the mail ``inbound`` that this delivery claims; which were sent."""
    store, lease = services.store, services.settings.claim_lease_seconds
    sent = []
    for attribute in owed:
        token, now = services.new_token(), services.clock()
        if not store.claim_organizer_answer(uid, attribute, inbound, token, now.timestamp(), lease):
            continue  # another delivery sends it, or sent it
        try:
            services.mailer.send(message.organizer.email, _render(services, attribute, message, uid, now))
        except Exception as error:
            # Given back, so a redelivery (a throttled send put back) need not wait for the lease.
            with contextlib.suppress(Exception):
                store.release_organizer_answer(uid, attribute, token)
            # SES refused it for good: the record goes to the DLQ with SES's reason (as runtime.sends).
            if reason := ses_permanent_refusal(error):
                field = FieldError("organizer", f"SES refused the {NAMES[attribute]}: {reason}")
                raise InvalidRequest([field]) from error
            raise
        store.organizer_answer_done(uid, attribute, token)
        sent.append(NAMES[attribute])
    return sent


def _render(services: Services, attribute: str, message: OrganizerMessage, uid: str, now: datetime) -> bytes:
    # Only a new event, or a new version of the whole event, is answered: the rendering is loaded
    # by the first answer, not by every mail's cold start (docs/performance.md, "Cold start").
    from lambdas.domain.message import Envelope, render_note, render_reply
    from lambdas.domain.organizer.answer import acceptance, confirmation

    settings = services.settings
    # From: the event address, an SES-verified identity (DKIM and DMARC pass); answers to it are
    # the organizer's function's again.
    envelope = Envelope(
        sender=settings.sender, reply_to=settings.sender, subject_prefix=settings.subject_prefix
    )
    organizer = message.organizer
    summary = message.event.summary if message.event is not None else message.uid
    if attribute == REPLY:
        ics = acceptance(message, settings.sender, now, EVENT_ADDRESS_NAME)
        text = f'{EVENT_ADDRESS_NAME} accepted "{summary}": your changes go to every attendee it invites.\n'
        subject = f"{settings.subject_prefix} Accepted: {summary}".strip()
        return render_reply(
            ics, envelope, to=organizer.email, to_name=organizer.name, subject=subject, text=text, when=now
        )
    held = confirmation(message, uid, settings.invite_queue_url or "<the invite queue URL>")
    subject = f"{settings.subject_prefix} {held.subject}".strip()
    return render_note(
        envelope, to=organizer.email, to_name=organizer.name, subject=subject, text=held.text, when=now
    )
