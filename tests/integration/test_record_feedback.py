"""Record Feedback against a mocked account: SES's events, SNS-wrapped, as the feedback queue gets them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from lambdas.adapters.expressions import to_attribute_values
from lambdas.domain.items import MESSAGE_EXPIRY_ATTRIBUTE
from lambdas.domain.keys import attendee_key, message_key
from lambdas.domain.vocabulary import BounceType, DeliveryState
from lambdas.record_feedback.handler import lambda_handler as feedback_handler
from lambdas.record_reply.handler import lambda_handler as reply_handler
from lambdas.send_cancellation.handler import lambda_handler as cancellation_handler
from lambdas.send_invite.handler import lambda_handler as invite_handler
from local import shapes
from local.lambda_logs import json_lines
from local.samples import invite_body, record, reply_mail
from local.shapes import sns_envelope
from tests.support.inbox import Inbox

UID = "evt-42@example.com"
BOB = "bob@example.org"
ANA = "ana@example.org"
NOW = datetime.now(UTC)
SENT = NOW - timedelta(hours=1)  # long enough ago that its message item is surely written


def at(minutes: int) -> datetime:
    return SENT + timedelta(minutes=minutes)


def invite(account, who=BOB, sequence=0) -> str:
    """Invite (or update) one attendee; returns the SES message id of the email sent."""
    assert account.invoke("invite", invite_body(uid=UID, attendee=who, sequence=sequence)) == {
        "batchItemFailures": []
    }
    return account.attendee_item(UID, who).message_id


def feedback(account, *records: dict, message_ids: list[str] | None = None) -> dict:
    ids = message_ids or [f"fb-{index}" for index in range(len(records))]
    bodies = [record(sns_envelope(r), i) for r, i in zip(records, ids, strict=True)]
    return account.invoke("feedback", records=bodies)


def outcomes(caplog, handler=feedback_handler) -> list[dict]:
    return [line for line in json_lines(caplog.records, handler.logger.name) if "outcome" in line]


def counts(account) -> tuple[int, int, int]:
    event = account.event_item(UID)
    return event.delivered, event.bounced, event.complained


# --------------------------------------------------------------------------------------- bounces


def test_a_permanent_bounce_is_recorded_counted_and_suppresses_the_address(account, caplog):
    message_id = invite(account)

    assert feedback(account, shapes.bounce(message_id, BOB, at(1), SENT)) == {"batchItemFailures": []}

    item = account.attendee_item(UID, BOB)
    assert item.delivery.state is DeliveryState.BOUNCED
    assert item.delivery.bounce_type is BounceType.PERMANENT
    assert item.delivery.bounce_subtype == "General"
    assert item.delivery.diagnostic == "smtp; 550 5.1.1 user unknown: 5.1.1"
    assert item.delivery.message_id == message_id
    assert item.delivery.at == at(1).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "000Z"
    assert item.suppressed.reason is DeliveryState.BOUNCED
    assert "Permanent/General" in item.suppressed.detail
    assert counts(account) == (0, 1, 0)
    [line] = outcomes(caplog)
    assert line["outcome"] == "feedback_recorded"
    assert (line["uid"], line["attendee"], line["state"]) == (UID, BOB, "bounced")
    assert line["suppressed"] is True and line["counted"] == "bounced"


def test_a_transient_bounce_is_recorded_but_the_next_update_is_still_sent(account):
    message_id = invite(account)
    feedback(account, shapes.bounce(message_id, BOB, at(1), SENT, "Transient", "MailboxFull"))

    item = account.attendee_item(UID, BOB)
    assert item.delivery.state is DeliveryState.BOUNCED
    assert item.delivery.bounce_type is BounceType.TRANSIENT
    assert item.suppressed is None
    assert counts(account) == (0, 1, 0)

    invite(account, sequence=1)
    assert len(account.sent()) == 2


def test_an_update_and_a_cancellation_to_a_hard_bounced_address_are_not_sent(account, caplog):
    message_id = invite(account)
    invite(account, who=ANA)
    feedback(account, shapes.bounce(message_id, BOB, at(1), SENT))

    update = account.invoke("invite", invite_body(uid=UID, attendee=BOB, sequence=1))
    cancel = account.invoke("cancel", {"event": {"uid": UID}, "attendee": {"email": BOB}})

    assert update == cancel == {"batchItemFailures": []}  # not retried
    assert [s.recipient for s in account.sent()] == [BOB, ANA]  # nothing more to Bob
    assert account.dead_letters("invite") == account.dead_letters("cancel") == []
    item = account.attendee_item(UID, BOB)
    assert item.sequence == 0 and item.pending is None  # the claim was refused: nothing held
    [refused_update] = [line for line in outcomes(caplog, invite_handler) if line.get("sequence") == 1]
    assert refused_update["outcome"] == "suppressed"
    assert refused_update["reason"].startswith("bounced: Permanent/General")
    assert refused_update["suppressedBy"] == message_id
    [refused_cancel] = outcomes(caplog, cancellation_handler)
    assert refused_cancel["outcome"] == "suppressed"


def test_a_whole_event_cancellation_reaches_everyone_but_the_suppressed(account, caplog):
    message_id = invite(account)
    invite(account, who=ANA)
    feedback(account, shapes.complaint(message_id, BOB, at(5), SENT))

    account.invoke("cancel", {"event": {"uid": UID}})
    account.drain("cancel")

    assert [(s.recipient, "CANCEL" in s.calendar_text()) for s in account.sent()][-1] == (ANA, True)
    assert len(account.sent()) == 3
    by_attendee = {line.get("attendee"): line["outcome"] for line in outcomes(caplog, cancellation_handler)}
    assert by_attendee[BOB] == "suppressed" and by_attendee[ANA] == "sent"


# -------------------------------------------------------------------- complaints, deliveries...


def test_a_delivery_then_a_complaint_count_once_each_and_the_complaint_suppresses(account):
    message_id = invite(account)
    feedback(account, shapes.delivery(message_id, BOB, at(1), SENT))
    item = account.attendee_item(UID, BOB)
    assert item.delivery.state is DeliveryState.DELIVERED
    assert item.delivery.diagnostic == "250 2.6.0 Message received"
    assert item.suppressed is None

    feedback(account, shapes.complaint(message_id, BOB, at(30), SENT))

    item = account.attendee_item(UID, BOB)
    assert item.delivery.state is DeliveryState.COMPLAINED
    assert item.delivery.diagnostic == "abuse"
    assert item.suppressed.reason is DeliveryState.COMPLAINED
    assert counts(account) == (1, 0, 1)


def test_a_delay_is_recorded_uncounted_and_does_not_suppress(account):
    message_id = invite(account)
    feedback(account, shapes.delivery_delay(message_id, BOB, at(1), SENT))

    item = account.attendee_item(UID, BOB)
    assert item.delivery.state is DeliveryState.DELAYED
    assert item.delivery.diagnostic == "MailboxFull: smtp; 452 4.2.2 Mailbox full"
    assert item.suppressed is None
    assert counts(account) == (0, 0, 0)
    invite(account, sequence=1)
    assert len(account.sent()) == 2


def test_a_reject_is_recorded_at_the_time_of_the_email(account):
    message_id = invite(account)
    feedback(account, shapes.reject(message_id, BOB, at(1), SENT))

    item = account.attendee_item(UID, BOB)
    assert item.delivery.state is DeliveryState.REJECTED
    assert item.delivery.diagnostic == "Bad content"
    assert item.delivery.at.startswith(SENT.strftime("%Y-%m-%dT%H:%M:%S"))
    assert item.suppressed is None
    assert counts(account) == (0, 0, 0)


def test_each_email_of_an_attendee_is_counted(account):
    first = invite(account)
    second = invite(account, sequence=1)
    feedback(account, shapes.delivery(first, BOB, at(1), SENT), shapes.delivery(second, BOB, at(2), SENT))

    assert counts(account) == (2, 0, 0)
    assert account.attendee_item(UID, BOB).delivery.message_id == second


def test_a_bare_record_without_its_sns_envelope_is_read_too(account):
    message_id = invite(account)
    body = json.dumps(shapes.delivery(message_id, BOB, at(1), SENT))
    assert account.invoke("feedback", records=[record(body)]) == {"batchItemFailures": []}
    assert counts(account) == (1, 0, 0)


# ------------------------------------------------------------------ redelivery and reordering


def test_a_redelivered_event_counts_once(account, caplog):
    message_id = invite(account)
    event = shapes.bounce(message_id, BOB, at(1), SENT)

    feedback(account, event)
    feedback(account, event)  # SQS at-least-once
    feedback(account, event, event, message_ids=["copy-1", "copy-2"])  # two copies in one batch

    assert counts(account) == (0, 1, 0)
    assert [line["outcome"] for line in outcomes(caplog)] == ["feedback_recorded"] + ["duplicate"] * 3
    assert account.attendee_item(UID, BOB).counted_feedback == (f"bounced#{message_id}",)


def test_an_older_event_never_overwrites_a_newer_one_but_its_email_still_counts(account, caplog):
    message_id = invite(account)
    feedback(account, shapes.complaint(message_id, BOB, at(30), SENT))
    feedback(account, shapes.delivery(message_id, BOB, at(1), SENT))  # arrives late
    feedback(account, shapes.delivery_delay(message_id, BOB, at(0), SENT))  # later still

    item = account.attendee_item(UID, BOB)
    assert item.delivery.state is DeliveryState.COMPLAINED
    assert counts(account) == (1, 0, 1)
    lines = outcomes(caplog)
    assert [line["outcome"] for line in lines] == ["feedback_recorded", "feedback_recorded", "stale"]
    assert lines[1]["stateUpdated"] is False and lines[1]["counted"] == "delivered"


def test_a_suppression_stays_when_a_newer_event_is_not_suppressing(account):
    message_id = invite(account)
    feedback(account, shapes.bounce(message_id, BOB, at(1), SENT))
    later = invite(account, who=BOB, sequence=0)  # a duplicate: nothing new is sent
    assert later == message_id
    feedback(account, shapes.delivery_delay(message_id, BOB, at(9), SENT))

    item = account.attendee_item(UID, BOB)
    assert item.delivery.state is DeliveryState.DELAYED  # the newest news
    assert item.suppressed.reason is DeliveryState.BOUNCED  # and still never sent to again


# --------------------------------------------------------------------- unknown and malformed


def test_feedback_on_an_unknown_message_is_logged_and_dropped(account, caplog):
    invite(account)
    response = feedback(account, shapes.bounce("not-ours-000000", BOB, at(1), SENT))

    assert response == {"batchItemFailures": []}  # never retried
    [line] = outcomes(caplog)
    assert (line["outcome"], line["sesMessageId"]) == ("unknown_message", "not-ours-000000")
    assert account.dead_letters("feedback") == []
    assert counts(account) == (0, 0, 0)


def test_feedback_on_an_expired_message_is_unknown_though_dynamodb_has_not_deleted_it_yet(account, caplog):
    message_id = invite(account)
    key = to_attribute_values(message_key(message_id))
    item = account.dynamodb.get_item(TableName=account.table, Key=key)["Item"]
    assert int(item[MESSAGE_EXPIRY_ATTRIBUTE]["N"]) > NOW.timestamp()  # written with its expiry
    account.dynamodb.update_item(  # its time has come; DynamoDB deletes lazily, so it is still there
        TableName=account.table,
        Key=to_attribute_values(message_key(message_id)),
        UpdateExpression="SET #expires = :past",
        ExpressionAttributeNames={"#expires": MESSAGE_EXPIRY_ATTRIBUTE},
        ExpressionAttributeValues=to_attribute_values({":past": int(NOW.timestamp()) - 1}),
    )

    response = feedback(account, shapes.delivery(message_id, BOB, at(1), SENT))

    assert response == {"batchItemFailures": []}  # dropped, not retried
    [line] = outcomes(caplog)
    assert line["outcome"] == "unknown_message"
    assert counts(account) == (0, 0, 0)
    assert account.attendee_item(UID, BOB).delivery is None


def test_feedback_on_an_email_sent_moments_ago_is_retried_until_its_record_can_exist(account, caplog):
    just_now = datetime.now(UTC)
    response = feedback(
        account, shapes.delivery("racing-000000", BOB, just_now, just_now), message_ids=["r1"]
    )

    assert response == {"batchItemFailures": [{"itemIdentifier": "r1"}]}
    [line] = outcomes(caplog)
    assert line["outcome"] == "not_yet_recorded"


def test_a_malformed_event_goes_to_the_dlq_naming_each_field(account, caplog):
    broken = {"eventType": "Bounce", "mail": {"timestamp": "yesterday"}}
    response = feedback(account, broken, message_ids=["bad-1"])
    account.invoke("feedback", records=[record("not json", "bad-2")])

    assert response == {"batchItemFailures": []}
    dead = {
        d["MessageAttributes"]["source_message_id"]["StringValue"]: d
        for d in account.dead_letters("feedback")
    }
    reason = dead["bad-1"]["MessageAttributes"]["reason"]["StringValue"]
    assert "mail.messageId" in reason and "bounce: is required" in reason
    assert "bounce.timestamp" in reason and "bounce.bounceType" in reason
    assert json.loads(json.loads(dead["bad-1"]["Body"])["Message"]) == broken  # unchanged
    assert "body: is not valid JSON" in dead["bad-2"]["MessageAttributes"]["reason"]["StringValue"]
    lines = {line["messageId"]: line for line in outcomes(caplog)}
    assert lines["bad-1"]["outcome"] == "invalid"
    assert "mail.messageId" in lines["bad-1"]["fields"]


def test_an_event_type_that_is_not_feedback_is_ignored(account, caplog):
    message_id = invite(account)
    send = {"eventType": "Send", "send": {}, "mail": shapes.mail(message_id, BOB, SENT)}
    assert feedback(account, send) == {"batchItemFailures": []}
    assert outcomes(caplog)[0]["outcome"] == "ignored"
    assert account.attendee_item(UID, BOB).delivery is None


def test_the_suppressed_attendees_of_an_event_are_listed(account):
    bounced, complained = invite(account), invite(account, who=ANA)
    invite(account, who="carol@example.org")
    feedback(account, shapes.bounce(bounced, BOB, at(1), SENT))
    feedback(account, shapes.complaint(complained, ANA, at(2), SENT))

    listed = {a.email: a.suppressed.reason for a in account.store.suppressed(UID)}
    assert listed == {ANA: DeliveryState.COMPLAINED, BOB: DeliveryState.BOUNCED}
    assert account.store.get_message(bounced).email == BOB


def test_a_recorded_delivery_without_a_time_is_replaced_not_retried_forever(account):
    message_id = invite(account)
    account.dynamodb.update_item(
        TableName=account.table,
        Key=to_attribute_values(attendee_key(UID, BOB)),
        UpdateExpression="SET delivery = :d",
        ExpressionAttributeValues=to_attribute_values({":d": {"state": "delivered"}}),
    )

    assert feedback(account, shapes.bounce(message_id, BOB, at(1), SENT)) == {"batchItemFailures": []}
    assert account.attendee_item(UID, BOB).delivery.state is DeliveryState.BOUNCED


# ------------------------------------------------------------------------- REFRESH answers


def test_a_refresh_answer_is_mapped_for_feedback_and_not_sent_once_suppressed(account, caplog):
    invite(account)
    inbox = Inbox(account)
    first = inbox.store(reply_mail(BOB, None, method="REFRESH"), message_id="refresh-1")
    assert account.invoke("reply", first) == {"batchItemFailures": []}
    answer = account.attendee_item(UID, BOB).history[-1]
    assert answer.refresh_of == "refresh-1"
    assert account.store.get_message(answer.message_id).email == BOB

    feedback(account, shapes.complaint(answer.message_id, BOB, at(5), SENT))
    sent_before = len(account.sent())
    second = inbox.store(reply_mail(BOB, None, method="REFRESH"), message_id="refresh-2")
    assert account.invoke("reply", second) == {"batchItemFailures": []}

    assert len(account.sent()) == sent_before  # nothing more to a complained address
    assert account.attendee_item(UID, BOB).suppressed.message_id == answer.message_id
    [line] = [
        entry for entry in outcomes(caplog, reply_handler) if entry.get("key", "").endswith("refresh-2")
    ]
    assert line["outcome"] == "suppressed" and line["reason"].startswith("complained")


def test_a_refresh_answer_whose_claim_was_taken_over_still_maps_its_email_for_feedback(account, caplog):
    from unittest import mock

    from lambdas.adapters.mailer import Mailer

    invite(account)
    inbox = Inbox(account)
    body = inbox.store(reply_mail(BOB, None, method="REFRESH"), message_id="refresh-1")
    send, resent = Mailer.send, []

    def send_then_lose_the_claim(mailer, recipient, raw):
        resent.append(send(mailer, recipient, raw))
        # This delivery's lease ran out while it sent: a redelivery took the claim over.
        account.dynamodb.update_item(
            TableName=account.table,
            Key=to_attribute_values(attendee_key(UID, BOB)),
            UpdateExpression="SET refresh_pending.#token = :other",
            ExpressionAttributeNames={"#token": "token"},
            ExpressionAttributeValues={":other": {"S": "the-redelivery"}},
        )
        return resent[-1]

    with mock.patch.object(Mailer, "send", send_then_lose_the_claim):
        assert account.invoke("reply", body) == {"batchItemFailures": []}
    [message_id] = resent
    assert account.attendee_item(UID, BOB).refreshed == ()  # recorded by the claim's new owner only

    assert feedback(account, shapes.bounce(message_id, BOB, at(1), SENT)) == {"batchItemFailures": []}

    assert account.attendee_item(UID, BOB).suppressed.message_id == message_id
    assert outcomes(caplog)[-1]["outcome"] == "feedback_recorded"
