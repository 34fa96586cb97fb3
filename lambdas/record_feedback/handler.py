"""Lambda entry point for Record Feedback: ``lambdas.record_feedback.handler.lambda_handler``."""

from lambdas.record_feedback.workflow import handle_feedback
from lambdas.runtime.entrypoint import sqs_handler

# It sends nothing: each event is written as it is decided (one transaction), no batch-wide step.
lambda_handler = sqs_handler("record-feedback", handle_feedback, records_sends=False)
