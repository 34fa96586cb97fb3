"""What every parser of outside input shares: the field errors it reports, and the control-character
patterns. The patterns live here once: they are what keeps header and iCalendar injection
impossible, in what we accept and in what we record. The readers of the message contract and the
recurrence rules are ``readers``, which only the send functions load (docs/performance.md, "Cold
start").
"""

from __future__ import annotations

import re

from lambdas.domain.frozen import frozen

# C0 controls, DEL, C1 controls and the Unicode line/paragraph separators (a character class, for
# patterns built on it).
CONTROL_CHARACTERS = r"[\x00-\x1f\x7f-\x9f\u2028\u2029]"
CONTROL = re.compile(CONTROL_CHARACTERS)
CONTROL_EXCEPT_NEWLINE_TAB = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


@frozen
class FieldError:
    field: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.reason}


class InvalidRequest(ValueError):
    """The request can never succeed: it is dead-lettered at once, never retried."""

    def __init__(self, errors: list[FieldError]):
        self.errors = errors
        super().__init__("; ".join(f"{e.field}: {e.reason}" for e in errors))

    @property
    def fields(self) -> list[str]:
        return [e.field for e in self.errors]
