"""The driver's SES receiving is the runtime's (local/sources/ses_receiving.py, the template's
receipt rule): what the reply function gets from it is what it gets from SES."""

from __future__ import annotations

import json

from local.samples import RSVP, invite_body, reply_mail


def test_an_email_received_for_rsvp_reaches_the_reply_function_in_the_sns_envelope(account):
    account.invoke("invite", invite_body(attendee="bob@example.org"))

    body = account.receive(reply_mail("bob@example.org", "ACCEPTED"), verdicts={"spam": "GRAY"})

    envelope = json.loads(body)
    assert (
        envelope["Type"] == "Notification" and envelope["Subject"] == "Amazon SES Email Receipt Notification"
    )
    notification = json.loads(envelope["Message"])
    assert notification["receipt"]["recipients"] == [RSVP]
    assert notification["receipt"]["spamVerdict"] == {"status": "GRAY"}
    assert account.invoke("reply", body) == {"batchItemFailures": []}
    assert account.attendee_item("evt-42@example.com", "bob@example.org").partstat == "ACCEPTED"
