"""Lambda entry point for Send Event Invite: ``lambdas.send_invite.handler.lambda_handler``."""

# Every record renders an email, so the rendering loads with the handler, at init: the shared
# delivery code defers it only for the functions that seldom or never send (docs/performance.md).
import lambdas.domain.message  # noqa: F401
from lambdas.runtime.entrypoint import sqs_handler
from lambdas.send_invite.workflow import handle_invite

lambda_handler = sqs_handler("send-invite", handle_invite)
