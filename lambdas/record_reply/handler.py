"""Lambda entry point for Record Reply: ``lambdas.record_reply.handler.lambda_handler``."""

from lambdas.record_reply.workflow import handle_received_mail
from lambdas.runtime.entrypoint import sqs_handler

# Answers are written as they are decided, one transaction each: no batch-wide record step.
lambda_handler = sqs_handler("record-reply", handle_received_mail, records_sends=False)
