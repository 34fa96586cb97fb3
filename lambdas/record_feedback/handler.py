"""Lambda entry point for Record Feedback: ``lambdas.record_feedback.handler.lambda_handler``."""

# Every event is recorded with this request, so it loads with the handler, at init: the store,
# which every function shares, imports it only when the write runs (docs/performance.md).
import lambdas.adapters.feedback_expressions  # noqa: F401
from lambdas.record_feedback.workflow import handle_feedback
from lambdas.runtime.entrypoint import sqs_handler

# It sends nothing: each event is written as it is decided (one transaction), no batch-wide step.
lambda_handler = sqs_handler("record-feedback", handle_feedback, records_sends=False)
