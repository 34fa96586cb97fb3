"""Builds a Lambda handler from a per-record workflow; both functions are made the same way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lambdas.runtime import services as runtime
from lambdas.runtime.batch import RecordResult, process_batch
from lambdas.runtime.delivery import dead_letter
from lambdas.runtime.logs import json_logger

Workflow = Callable[[runtime.Services, dict[str, Any]], RecordResult]


def sqs_handler(service_name: str, workflow: Workflow) -> Callable[[dict[str, Any], Any], dict]:
    logger = json_logger(service_name)

    def lambda_handler(event: dict[str, Any], context: Any) -> dict:
        services = runtime.from_environment()  # first invocation only; cached for the container
        return process_batch(
            event,
            lambda record: workflow(services, record),
            dead_letter=lambda record, invalid: dead_letter(services, record, invalid),
            complete=services.store.complete,
            logger=logger,
            max_workers=services.settings.max_workers,
        )

    lambda_handler.logger = logger
    return lambda_handler
