"""One JSON object per log line, in the shape Powertools' Logger writes, with the standard library.

Keys: level, location, message, timestamp, service, then the record's ``extra`` fields, then
exception details and the X-Ray trace id when there are any. Importing Powertools for this cost
~50 ms of every cold start (its package imports metrics, tracing and typing_extensions), a third
of the handler's import time beyond boto3 and icalendar (docs/performance.md).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time

# Attributes every LogRecord has; anything else on a record came from ``extra``.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
LEVEL_VARIABLES = ("AWS_LAMBDA_LOG_LEVEL", "POWERTOOLS_LOG_LEVEL", "LOG_LEVEL")


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str):
        super().__init__()
        self.service = service

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        local = time.localtime(record.created)
        return (
            f"{time.strftime('%Y-%m-%d %H:%M:%S', local)},{int(record.msecs):03d}{time.strftime('%z', local)}"
        )

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "level": record.levelname,
            "location": f"{record.funcName}:{record.lineno}",
            "message": record.getMessage(),
            "timestamp": self.formatTime(record),
            "service": self.service,
        }
        entry.update((k, v) for k, v in vars(record).items() if k not in _STANDARD)
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception"] = self.formatException(record.exc_info)
            entry["exception_name"] = record.exc_info[0].__name__
        trace = os.environ.get("_X_AMZN_TRACE_ID", "")
        if trace:
            entry["xray_trace_id"] = trace.split(";", 1)[0].removeprefix("Root=")
        return json.dumps(entry, default=str, ensure_ascii=False, separators=(",", ":"))


def json_logger(service: str) -> logging.Logger:
    """The function's logger: JSON lines on stdout, level from the Lambda/Powertools variables."""
    logger = logging.getLogger(service)
    formatter = JsonFormatter(service)
    if not any(getattr(h, "formatter", None).__class__ is JsonFormatter for h in logger.handlers):
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(formatter)
        logger.addHandler(handler)
    level = next((os.environ[name] for name in LEVEL_VARIABLES if os.environ.get(name)), "INFO")
    logger.setLevel(level.upper() if level.upper() in logging.getLevelNamesMapping() else "INFO")
    logger.registered_formatter = formatter  # what the tests format captured records with
    return logger
