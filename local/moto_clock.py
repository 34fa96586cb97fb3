"""The served moto's SQS reads the clock the cheap way, and a test can move that clock forward.

moto's SQS asks ``unix_time_millis()`` twice per message whenever it looks at a queue (is it
visible, is it delayed), and it looks at the whole queue for every message sent (``send_message``
reads ``queue.attributes``, which counts the visible, delayed and in-flight messages). Each reading
builds and subtracts two naive datetimes: about 10 µs, which made fanning out 1,000 attendees take
over 20 s and every receive from that queue over a second. ``time.time()`` is the same number.

``advance`` moves SQS's clock (visibility timeouts, delays) ahead of the wall clock, so that the
resilience tests see a redelivery after a 542 s visibility timeout without waiting for it; ``now``
is that clock, for the functions' ``Services.clock``, so that their claims' leases expire with it.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from moto.backends import get_backend

from local.patching import once

_offset = 0.0  # seconds ahead of the wall clock
_lock = threading.Lock()


@once
def install() -> None:
    from moto.sqs import models

    slow_seconds, slow_millis = models.unix_time, models.unix_time_millis

    def unix_time(dt=None) -> float:
        return time.time() + _offset if dt is None else slow_seconds(dt)

    def unix_time_millis(dt=None) -> float:
        return (time.time() + _offset) * 1000.0 if dt is None else slow_millis(dt)

    models.unix_time, models.unix_time_millis = unix_time, unix_time_millis


def now() -> datetime:
    return datetime.fromtimestamp(time.time() + _offset, UTC)


def advance(seconds: float) -> None:
    global _offset
    with _lock:
        _offset += seconds


def rewind() -> None:
    """Back to the wall clock (after a test that advanced it)."""
    global _offset
    with _lock:
        _offset = 0.0


def ready_in(queue_name: str, account: str, region: str) -> list[float]:
    """For each message of the queue, the seconds until it is visible and not delayed (0: it is).
    Read from moto's backend: the SQS API tells how many messages wait, not when they are due."""
    queue = get_backend("sqs")[account][region].get_queue(queue_name)
    now = time.time() + _offset
    return [max(0.0, max(m.visible_at, m.delayed_until) / 1000.0 - now) for m in list(queue._messages)]
