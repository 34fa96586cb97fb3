"""Calendar Invite Server Lambda functions.

Layout (dependencies point downwards only):

* ``send_invite`` / ``send_cancellation`` / ``record_reply`` / ``record_feedback`` - one package
  per Lambda function: a thin handler and its per-record workflow.
* ``runtime``  - per-container wiring: configuration, logging, the SQS batch loop, and the
  send-then-record delivery steps shared by the functions that send (the two sending functions,
  and record reply when it answers a ``REFRESH``).
* ``adapters`` - thin wrappers around DynamoDB, SES and SQS.
* ``domain``   - pure logic: the message contract, iCalendar/MIME rendering, table keys and the
  idempotency decisions. Nothing in ``domain`` touches AWS or the environment.

Importing any module here reads no environment variable and makes no AWS call.
"""
