"""Builds a Lambda handler from a per-record workflow; every function is made the same way."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from lambdas.runtime import services as runtime
from lambdas.runtime.batch import RecordResult, process_batch
from lambdas.runtime.delivery import dead_letter, put_back

Workflow = Callable[[runtime.Services, dict[str, Any]], RecordResult]


def sqs_handler(
    service_name: str, workflow: Workflow, *, records_sends: bool = True
) -> Callable[[dict[str, Any], Any], dict]:
    """``records_sends``: the workflow sends emails whose records are written once per batch
    (``Store.complete``); a function that sends nothing that way (record reply) has no such step."""
    # Plain standard-library logging: the stack sets Lambda's JSON log format, so the runtime
    # writes each record as a JSON object with its `extra` fields (outcome, uid, attendee,
    # messageId) and the request id. No logging library is imported, which keeps cold starts
    # short (docs/performance.md).
    logger = logging.getLogger(service_name)
    logger.setLevel(os.environ.get("AWS_LAMBDA_LOG_LEVEL") or logging.INFO)

    def lambda_handler(event: dict[str, Any], context: Any) -> dict:
        services = runtime.from_environment()  # first invocation only; cached for the container
        return process_batch(
            event,
            lambda record: workflow(services, record),
            dead_letter=lambda record, invalid: dead_letter(services, record, invalid),
            put_back=lambda record, throttled: put_back(services, record, throttled),
            complete=services.store.complete if records_sends else None,
            logger=logger,
            max_workers=services.settings.max_workers,
        )

    lambda_handler.logger = logger
    return lambda_handler
