"""Lambda's JSON log format, emulated for the local runtime and the tests; the outcome collector.

The stack sets ``LoggingConfig.LogFormat=JSON``. The Lambda Python runtime then writes every
``logging`` record as one JSON object: timestamp, level, message, logger, requestId, and every
field the code passed with ``extra=``. The functions therefore only use the standard library's
``logging``; this module gives a local run the same lines.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

# Attributes every LogRecord has; anything else on a record came from ``extra``.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class LambdaJsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "message": record.getMessage(),
            "logger": record.name,
            "requestId": getattr(record, "aws_request_id", None),
        }
        entry.update((k, v) for k, v in vars(record).items() if k not in _STANDARD and k not in entry)
        if record.exc_info and record.exc_info[0] is not None:
            entry["errorType"] = record.exc_info[0].__name__
            entry["errorMessage"] = str(record.exc_info[1])
            entry["stackTrace"] = self.formatException(record.exc_info).splitlines()
        return json.dumps({k: v for k, v in entry.items() if v is not None}, default=str, ensure_ascii=False)


def json_lines(records: list[logging.LogRecord], logger_name: str) -> list[dict]:
    """The JSON objects Lambda would write for these records of one logger."""
    formatter = LambdaJsonFormatter()
    return [json.loads(formatter.format(r)) for r in records if r.name == logger_name]


class OutcomeLog(logging.Handler):
    """The functions' one structured log line per record, as their fields (what ``extra=`` passed).

    Attach it to the root logger (every function) or to named loggers; ``count`` is what the
    local runtime reports per invocation and the tests assert on.
    """

    def __init__(self):
        super().__init__()
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(dict(vars(record)))

    def outcome_lines(self) -> list[dict]:
        """The fields each outcome line carried (what ``extra=`` passed), in order."""
        return [
            {k: v for k, v in line.items() if k not in _STANDARD}
            for line in self.lines
            if line.get("outcome")
        ]

    def count(self) -> Counter:
        return Counter(str(line["outcome"]) for line in self.lines if line.get("outcome"))

    @contextlib.contextmanager
    def attached(self, logger_names: Iterable[str] = ("",)) -> Iterator[OutcomeLog]:
        loggers = [logging.getLogger(name or None) for name in logger_names]
        for logger in loggers:
            logger.addHandler(self)
        try:
            yield self
        finally:
            for logger in loggers:
                logger.removeHandler(self)
