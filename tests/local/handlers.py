"""A stand-in Lambda handler whose answer each message chooses, to test the poller emulation.

Body {"answer": "ok"} succeeds, "fail" is reported in batchItemFailures, "raise" makes the whole
invocation raise, "bad-id" reports an itemIdentifier that is not in the batch.
"""

from __future__ import annotations

import json
import os

CALLS: list[dict] = []


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
