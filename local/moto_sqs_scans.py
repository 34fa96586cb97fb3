"""moto's SQS without a walk of the whole queue for each message sent, received or deleted.

Three of moto's per-message steps read every message in the queue, so that their cost grows with
its depth. With the 10,000 invitations of a large event queued at once, receiving and deleting a
batch of 10 took ~0.4 s of CPU, and the time per attendee of `python -m bench growth` rose with
the size of the event, for moto's sake alone:

- Sending a message reads ``queue.attributes`` for its ``ContentBasedDeduplication``, and receiving
  one reads them for its ``MessageRetentionPeriod``. That dictionary holds the three approximate
  counts too, and each count asks every message whether it is visible or delayed (each asking
  reads the clock). Those two steps now see the counts as 0: they never read them.
  ``GetQueueAttributes`` and everything else still count, as moto does.
- Deleting a message asks each message of the queue whether it ever had the receipt handle, twice
  (to check, then to take it out), and each answer builds a list of that message's handles. Every
  handle moto hands out is now remembered with its message: a delete finds the message by it,
  checks that it is still in this queue (an identity scan, in C), and takes it out as moto does
  (its handles remembered as deleted, out of the in-flight set, the queue's list replaced rather
  than changed). Anything else (a handle already deleted, never handed out, or of a message no
  longer in this queue) goes through moto's own code, with its own answer.

moto runs under the server's request lock (local/server.py), so nothing reads the queue between a
check and the change it allows.
"""

from __future__ import annotations

import functools
import threading
import weakref

from local.patching import once

# The properties behind the approximate counts in ``Queue.attributes``.
COUNTS = (
    "approximate_number_of_messages",
    "approximate_number_of_messages_delayed",
    "approximate_number_of_messages_not_visible",
)

_uncounted = threading.local()


@once
def install() -> None:
    """Patch moto's SQS models once per process."""
    from moto.sqs import models

    for name in COUNTS:
        setattr(models.Queue, name, property(_zero_while_uncounted(getattr(models.Queue, name).fget)))
    for name in ("send_message", "is_message_valid_based_on_retention_period"):
        setattr(models.SQSBackend, name, _uncounted_during(getattr(models.SQSBackend, name)))
    _find_deleted_messages_by_handle(models)


def _zero_while_uncounted(count):
    @functools.wraps(count)
    def counted_unless_uncounted(queue) -> int:
        return 0 if getattr(_uncounted, "active", False) else count(queue)

    return counted_unless_uncounted


def _uncounted_during(method):
    """``method``, during which the queue's approximate counts read 0 (it never uses them)."""

    @functools.wraps(method)
    def uncounted(*args, **kwargs):
        outer = getattr(_uncounted, "active", False)
        _uncounted.active = True
        try:
            return method(*args, **kwargs)
        finally:
            _uncounted.active = outer

    return uncounted


def _find_deleted_messages_by_handle(models) -> None:
    holders: weakref.WeakValueDictionary[str, models.Message] = weakref.WeakValueDictionary()
    mark_received = models.Message.mark_received
    delete_message = models.Queue.delete_message

    def remembering_mark_received(self, visibility_timeout: int | None = None) -> None:
        mark_received(self, visibility_timeout)
        holders[self.receipt_handle] = self

    def finding_delete_message(self, receipt_handle: str) -> None:
        message = holders.get(receipt_handle)
        if receipt_handle in self.deleted_messages or message is None or message not in self._messages:
            return delete_message(self, receipt_handle)
        self.pending_messages.discard(message)
        self.deleted_messages.update(message.all_receipt_handles)
        remaining = self._messages.copy()
        remaining.remove(message)
        self._messages = remaining
        return None

    models.Message.mark_received = remembering_mark_received
    models.Queue.delete_message = finding_delete_message
