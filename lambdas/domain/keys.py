"""Single-table key layout, shared by the functions and by the CDK table definition.

Event item:    pk = sk = "event#<uid>"
Attendee item: pk = "event#<uid>", sk = "attendee#<lower-cased email>"
Override item: pk = "event#<uid>", sk = "occurrence#<original start of the occurrence>"
Message item:  pk = sk = "message#<SES message id>" (where an email's delivery feedback belongs)
Occurrence answers item: pk = "event#<uid>", sk = "answers#<original start of the occurrence>"
               (the counts of the answers for one occurrence of a series)
"""

from collections.abc import Mapping
from typing import Any

PARTITION_KEY = "pk"
SORT_KEY = "sk"
EVENT_PREFIX = "event#"
ATTENDEE_PREFIX = "attendee#"
OCCURRENCE_PREFIX = "occurrence#"
MESSAGE_PREFIX = "message#"
OCCURRENCE_ANSWERS_PREFIX = "answers#"


def event_pk(uid: str) -> str:
    return f"{EVENT_PREFIX}{uid}"


def event_key(uid: str) -> dict[str, str]:
    pk = event_pk(uid)
    return {PARTITION_KEY: pk, SORT_KEY: pk}


def attendee_key(uid: str, email: str) -> dict[str, str]:
    # Addresses are matched case-insensitively so that "Bob@X" and "bob@x" are one attendee.
    return {PARTITION_KEY: event_pk(uid), SORT_KEY: f"{ATTENDEE_PREFIX}{email.lower()}"}


def email_in_key(stored: Mapping[str, Any]) -> str:
    """The lower-cased address an attendee item's sort key holds."""
    return str(stored.get(SORT_KEY, "")).removeprefix(ATTENDEE_PREFIX)


def occurrence_key(uid: str, occurrence: str) -> dict[str, str]:
    """``occurrence``: the occurrence's original start in contract form (ISO 8601, UTC or a date)."""
    return {PARTITION_KEY: event_pk(uid), SORT_KEY: f"{OCCURRENCE_PREFIX}{occurrence}"}


def message_key(ses_message_id: str) -> dict[str, str]:
    pk = f"{MESSAGE_PREFIX}{ses_message_id}"
    return {PARTITION_KEY: pk, SORT_KEY: pk}


def occurrence_answers_key(uid: str, occurrence: str) -> dict[str, str]:
    """The counts of one occurrence's answers; ``occurrence`` as in :func:`occurrence_key`. Its own
    prefix, so that the overrides' ``begins_with(sk, "occurrence#")`` query never meets it."""
    return {PARTITION_KEY: event_pk(uid), SORT_KEY: f"{OCCURRENCE_ANSWERS_PREFIX}{occurrence}"}
