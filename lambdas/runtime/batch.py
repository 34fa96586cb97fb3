"""SQS batch processing with partial batch responses.

Follows the contract of Powertools' ``BatchProcessor`` (``{"batchItemFailures": [...]}``, requires
``ReportBatchItemFailures`` on the event source mapping) with two additions it does not offer:
records run concurrently on a bounded thread pool (the work is network-bound), and a batch-wide
step records every sent email in one write after the sends (see ``Store.complete``; a function
that records as it goes, like record reply, passes ``complete=None``). Importing
the Powertools batch package would also cost ~28 ms of cold start (asyncio and every event data
class), measured with ``python -X importtime``.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import field
from typing import TYPE_CHECKING, Any

from lambdas.adapters.mailer import SendThrottled
from lambdas.adapters.store import CompletionReport
from lambdas.domain.envelopes import decode_body
from lambdas.domain.frozen import frozen
from lambdas.domain.outcomes import Outcome, SharedOutcome
from lambdas.domain.validation import InvalidRequest

if TYPE_CHECKING:
    from lambdas.adapters.send_expressions import Completion


@frozen
class RecordResult:
    outcome: Outcome
    completion: Completion | None = None
    fields: dict[str, Any] = field(default_factory=dict)  # uid, attendee, sequence... for the log line


RecordHandler = Callable[[dict[str, Any]], RecordResult]
DeadLetter = Callable[[dict[str, Any], InvalidRequest], None]
Complete = Callable[[list["Completion"]], CompletionReport]
PutBack = Callable[[dict[str, Any], SendThrottled], int]  # -> the delay, in seconds


class AddressSuppressed(Exception):
    """SES refused to send to the address because it is suppressed: the record ends SUPPRESSED,
    neither retried nor dead-lettered as invalid (docs/feedback.md)."""

    def __init__(self, reason: str, fields: dict[str, Any] | None = None):
        super().__init__(reason)
        self.reason = reason
        self.fields = fields or {}


def process_batch(
    event: dict[str, Any],
    handle: RecordHandler,
    *,
    dead_letter: DeadLetter,
    put_back: PutBack,
    complete: Complete | None,
    logger,
    max_workers: int,
) -> dict[str, list[dict[str, str]]]:
    records = event.get("Records") or []
    if not records:
        return {"batchItemFailures": []}

    def run(record: dict[str, Any]) -> RecordResult:
        try:
            return handle(record)
        except InvalidRequest as invalid:
            fields = {**identify(record), **_errors(invalid)}
            try:
                dead_letter(record, invalid)
            except Exception as error:  # DLQ unreachable: retry; the redrive policy still catches it
                return RecordResult(
                    SharedOutcome.FAILED, fields={**fields, "error": f"dead-letter failed: {error!r}"}
                )
            return RecordResult(SharedOutcome.INVALID, fields=fields)
        except SendThrottled as throttled:
            # Not sent (SES accepted nothing): the record goes back on its queue with a delay and
            # counts as handled, so its receive count does not grow (docs/idempotency.md).
            fields = {**identify(record), "reason": throttled.reason, "dailyQuota": throttled.daily}
            try:
                delay = put_back(record, throttled)
            except Exception as error:  # not put back: SQS retries it, as any failure
                return RecordResult(
                    SharedOutcome.FAILED, fields={**fields, "error": f"not put back: {error!r}"}
                )
            return RecordResult(SharedOutcome.THROTTLED, fields={**fields, "delaySeconds": delay})
        except AddressSuppressed as suppressed:
            fields = {**identify(record), **suppressed.fields, "reason": suppressed.reason}
            return RecordResult(SharedOutcome.SUPPRESSED, fields=fields)
        except Exception as error:
            return RecordResult(SharedOutcome.FAILED, fields={**identify(record), "error": repr(error)})

    if len(records) == 1:
        results = [run(records[0])]
    else:
        with ThreadPoolExecutor(max_workers=min(max_workers, len(records))) as pool:
            results = list(pool.map(run, records))

    completions = [r.completion for r in results if r.completion is not None]
    try:
        report = complete(completions) if complete is not None else CompletionReport()
    except Exception as error:  # nothing recorded: every sent record is redelivered (docs/idempotency.md)
        logger.exception("recording failed", extra={"error": repr(error)})
        report = CompletionReport(unrecorded={c.record_id for c in completions})
    for event_key in report.uncounted_events:
        logger.error("counters not updated", extra={"event": event_key})

    failures = []
    for record, result in zip(records, results, strict=True):
        message_id = record.get("messageId", "")
        if result.completion is not None and message_id in report.unrecorded:
            result = RecordResult(
                SharedOutcome.FAILED, fields={**result.fields, "error": "sent but not recorded"}
            )
        _log(logger, result, message_id)
        if result.outcome.retry:
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}


def _errors(invalid: InvalidRequest) -> dict[str, Any]:
    return {"errors": [e.as_dict() for e in invalid.errors], "fields": invalid.fields}


def identify(record: dict[str, Any]) -> dict[str, str]:
    """Best-effort uid and attendee of a record that failed validation, for its log line."""
    try:
        document = decode_body(record.get("body"))
    except Exception:
        return {}
    found = {}
    event, attendee = document.get("event"), document.get("attendee")
    if isinstance(event, dict) and isinstance(event.get("uid"), str):
        found["uid"] = event["uid"][:255]
    if isinstance(attendee, dict) and isinstance(attendee.get("email"), str):
        found["attendee"] = attendee["email"][:254]
    return found


def _log(logger, result: RecordResult, message_id: str) -> None:
    extra = {"outcome": result.outcome.value, "messageId": message_id, **result.fields}
    logger.log(result.outcome.level, result.outcome.value, extra=extra)
