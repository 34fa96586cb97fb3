"""A stand-in Lambda handler whose answer each message chooses, to test the poller emulation.

Body {"answer": "ok"} succeeds, "fail" is reported in batchItemFailures, "raise" makes the whole
invocation raise, "bad-id" reports an itemIdentifier that is not in the batch, "late" sleeps
``LATE_SLEEP`` seconds (past a short function timeout) and then tries to write to the DLQ with a
client it created in time, recording in LATE what became of that write, and "busy" keeps a pool
of threads calling SQS for BUSY_SECONDS (an invocation a stop must not wait for).
"""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor

import boto3

CALLS: list[dict] = []
LATE: list[str] = []  # "written", or the name of what refused the late write
LATE_SLEEP = 2.0
BUSY_SECONDS = 60.0


def handler(event, context):
    answers = [json.loads(record["body"]).get("answer", "ok") for record in event["Records"]]
    CALLS.append(
        {
            "records": event["Records"],
            "answers": answers,
            "function_name": context.function_name,
            "remaining_ms": context.get_remaining_time_in_millis(),
            "environment": {name: os.environ.get(name) for name in ("SQS_URL", "DYNAMODB_TABLE", "_HANDLER")},
        }
    )
    print("a line on stdout")  # goes to the function's log file, as to CloudWatch
    if "late" in answers:
        _write_late(boto3.client("sqs"), os.environ["DLQ_URL"])
    if "busy" in answers:
        _keep_busy(boto3.client("sqs"), os.environ["SQS_URL"])
    if "raise" in answers:
        raise RuntimeError("the handler crashed")
    failures = [
        {"itemIdentifier": record["messageId"]}
        for record, answer in zip(event["Records"], answers, strict=True)
        if answer == "fail"
    ]
    if "bad-id" in answers:
        failures.append({"itemIdentifier": "not-in-this-batch"})
    return {"batchItemFailures": failures}


def _write_late(sqs, dlq_url: str) -> None:
    time.sleep(LATE_SLEEP)
    try:
        sqs.send_message(QueueUrl=dlq_url, MessageBody=json.dumps({"answer": "written late"}))
    except BaseException as refused:  # what a killed process would never get to do; recorded
        LATE.append(type(refused).__name__)
        raise
    LATE.append("written")


def _keep_busy(sqs, queue_url: str) -> None:
    print("busy", flush=True)
    deadline = time.monotonic() + BUSY_SECONDS

    def work(_):
        while time.monotonic() < deadline:
            sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])
            time.sleep(0.05)

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(work, range(4)))
