"""Events run from the organizer's own calendar: the organizer invites the event address, and the
server follows the organizer's REQUESTs and CANCELs (issue 19, docs/organizer.md).

Pure: no AWS, no I/O beyond the stream it is given. ``reading`` turns the organizer's iTIP message
into the queue contract's event model, ``trust`` decides whether its sender may act, ``decisions``
what it changes against the stored event, and ``outcomes`` names how a record ends.
"""
