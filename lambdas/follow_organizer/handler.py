"""Lambda entry point for Follow Organizer: ``lambdas.follow_organizer.handler.lambda_handler``."""

from lambdas.follow_organizer.workflow import handle_organizer_mail
from lambdas.runtime.entrypoint import sqs_handler

# A change is written as it is decided, one transaction each: no batch-wide record step.
lambda_handler = sqs_handler("follow-organizer", handle_organizer_mail, records_sends=False)
