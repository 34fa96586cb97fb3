"""Lambda entry point for Send Event Invite: ``lambdas.send_invite.handler.lambda_handler``."""

from lambdas.runtime.entrypoint import sqs_handler
from lambdas.send_invite.workflow import handle_invite

lambda_handler = sqs_handler("send-invite", handle_invite)
