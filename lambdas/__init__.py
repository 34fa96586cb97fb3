"""Calendar Invite Server Lambda functions.

Layout (dependencies point downwards only):

* ``send_invite`` / ``send_cancellation`` - thin Lambda handlers.
* ``runtime``  - per-container wiring: configuration, logging, the SQS batch loop and the
  per-record delivery workflow shared by both functions.
* ``adapters`` - thin wrappers around DynamoDB, SES and SQS.
* ``domain``   - pure logic: the message contract, iCalendar/MIME rendering, table keys and the
  idempotency decisions. Nothing in ``domain`` touches AWS or the environment.

Importing any module here reads no environment variable and makes no AWS call.
"""
