"""Per-attendee occurrence state: one attendee removed from one occurrence never gets it
back, whatever the series' later updates; everyone else keeps it."""

from __future__ import annotations

from local.samples import reply_mail
from tests.integration.test_series import (
    GUESTS,
    UID,
    WEEKLY,
    emails,
    invite_series,
    occurrence_body,
    series_body,
    starts_of,
)
from tests.support.inbox import Inbox
from tests.support.oracles import check_imip

ANA, BEN = GUESTS


def remove_ana_from_the_second_occurrence(account) -> None:
    account.invoke(
        "cancel", {"event": {"uid": UID, "occurrence": "2037-10-13T09:00:00"}, "attendee": {"email": ANA}}
    )


def test_a_series_update_leaves_the_occurrence_out_for_the_removed_attendee_only(account):
    invite_series(account)
    remove_ana_from_the_second_occurrence(account)
    assert account.attendee_item(UID, ANA).excluded_occurrences == ("2037-10-13T07:00:00+00:00",)

    before = len(account.sent())
    account.invoke("invite", series_body(sequence=2, summary="Weekly sync v2"))
    account.drain("invite")

    updates = {email.recipient: email for email in emails(account, before)}
    assert starts_of(updates[ANA].raw, "REQUEST") == [s for s in WEEKLY if s != WEEKLY[1]]
    [master] = check_imip(updates[ANA].raw, "REQUEST").walk("VEVENT")
    assert master.decoded("EXDATE").dts[0].dt == WEEKLY[1]
    assert starts_of(updates[BEN].raw, "REQUEST") == WEEKLY


def test_a_change_of_that_occurrence_is_not_sent_to_the_removed_attendee(account):
    invite_series(account)
    remove_ana_from_the_second_occurrence(account)

    before = len(account.sent())
    account.invoke("invite", occurrence_body("2037-10-13T09:00:00", "2037-10-15T14:00:00", sequence=2))
    account.drain("invite")

    assert [email.recipient for email in emails(account, before)] == [BEN]
    # ...and a later series update carries Ben's moved occurrence, never Ana's.
    before = len(account.sent())
    account.invoke("invite", series_body(sequence=3))
    account.drain("invite")
    updates = {email.recipient: email for email in emails(account, before)}
    assert len(check_imip(updates[ANA].raw, "REQUEST").walk("VEVENT")) == 1
    assert len(check_imip(updates[BEN].raw, "REQUEST").walk("VEVENT")) == 2


def test_a_refresh_from_the_removed_attendee_leaves_the_occurrence_out(account):
    invite_series(account)
    remove_ana_from_the_second_occurrence(account)
    before = len(account.sent())
    sequence = account.attendee_item(UID, ANA).sequence
    Inbox(account).deliver(reply_mail(ANA, None, uid=UID, method="REFRESH", sequence=sequence))

    [resent] = emails(account, before)
    assert starts_of(resent.raw, "REQUEST") == [s for s in WEEKLY if s != WEEKLY[1]]
