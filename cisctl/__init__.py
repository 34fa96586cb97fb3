"""Command-line tool for users and operators of the Calendar Invite Server: ``bin/cisctl``.

It enqueues requests (``invite``, ``cancel``), shows what the table records for an event
(``status``), and lists and redrives the dead-letter queues (``dlq``), against the deployed stacks
(found by their CloudFormation outputs) or the local runtime (``--local``).
"""
