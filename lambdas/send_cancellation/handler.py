"""Lambda entry point for Send Event Cancellation: ``lambdas.send_cancellation.handler.lambda_handler``."""

from lambdas.runtime.entrypoint import sqs_handler
from lambdas.send_cancellation.workflow import handle_cancellation

lambda_handler = sqs_handler("send-cancellation", handle_cancellation)
