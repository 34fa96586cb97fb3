"""`cisctl status` and unverified answers: shown apart, never counted."""

from __future__ import annotations

import json
import re

from local.samples import REGION, reply_mail
from tests.cli.test_cisctl import ANA, BEN, INVITE_FLAGS, UID, _invite_and_send, deployed, run

__all__ = ["deployed"]  # the fixture, used by name

RELAY = "no-reply@cloud.example.com"


def _receive(deployed, *raws: bytes) -> None:
    for raw in raws:
        assert deployed.invoke("reply", deployed.receive(raw)) == {"batchItemFailures": []}


def test_status_shows_an_unverified_answer_apart_and_leaves_it_out_of_the_counts(capsys, deployed):
    _invite_and_send(capsys, deployed, ANA, BEN)
    relayed = reply_mail(
        uid=UID, attendee=BEN, partstat="DECLINED", sender=f"Nextcloud <{RELAY}>", headers={"Reply-To": BEN}
    )
    _receive(deployed, reply_mail(uid=UID, attendee=ANA, partstat="ACCEPTED"), relayed)

    code, out, _ = run(capsys, "--region", REGION, "status", UID)

    assert code == 0
    lines = out.splitlines()
    assert "  Answers    1 accepted, 0 declined, 0 tentative (to sequence 0)" in lines
    start = lines.index("Unverified answers (not counted): 1")
    header, row = (re.split(r"\s{2,}", line.strip()) for line in lines[start + 1 : start + 3])
    assert header == ["EMAIL", "REPLY", "OCCURRENCE", "WHY", "RELAYED BY", "DTSTAMP"]
    assert row[:5] == [BEN, "DECLINED", "series", "relayed", RELAY]
    status = json.loads(run(capsys, "--region", REGION, "status", UID, "--json")[1])
    attendees = {a["email"]: a for a in status["attendees"]}
    assert attendees[BEN]["unverified"]["reason"] == "relayed"
    assert attendees[BEN]["partstat"] == "NEEDS-ACTION"


def test_status_shows_the_occurrences_answered_apart_from_the_series(capsys, deployed):
    flags = ["--rrule", "FREQ=WEEKLY;COUNT=4"]
    code = run(
        capsys, "--region", REGION, "invite", *INVITE_FLAGS, *flags, "--attendee", ANA, "--attendee", BEN
    )[0]
    assert code == 0
    deployed.drain("invite")
    # 2026-12-08 10:00 in Paris: the second occurrence.
    declined = reply_mail(
        uid=UID, attendee=ANA, partstat="DECLINED", event_lines=("RECURRENCE-ID:20261208T090000Z",)
    )
    _receive(
        deployed, reply_mail(uid=UID, attendee=ANA, partstat="ACCEPTED", dtstamp="20261124T110000Z"), declined
    )

    out = run(capsys, "--region", REGION, "status", UID)[1]

    lines = out.splitlines()
    assert "  Answers    1 accepted, 0 declined, 0 tentative (to sequence 0)" in lines
    start = lines.index("Answers per occurrence: 1")
    assert re.split(r"\s{2,}", lines[start + 2].strip()) == [
        "2026-12-08T09:00:00+00:00",
        "0 accepted, 1 declined, 0 tentative (to sequence 0)",
    ]
    start = lines.index("Occurrences answered differently from the series: 1")
    assert re.split(r"\s{2,}", lines[start + 2].strip()) == [
        "2026-12-08T09:00:00+00:00",
        ANA,
        "DECLINED",
        "ACCEPTED",
    ]
