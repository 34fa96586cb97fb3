"""The served moto's SQS reads the clock the cheap way.

moto's SQS asks ``unix_time_millis()`` twice per message whenever it looks at a queue (is it
visible, is it delayed), and it looks at the whole queue for every message sent (``send_message``
reads ``queue.attributes``, which counts the visible, delayed and in-flight messages). Each reading
builds and subtracts two naive datetimes: about 10 µs, which made fanning out 1,000 attendees take
over 20 s and every receive from that queue over a second. ``time.time()`` is the same number.
"""

from __future__ import annotations

import threading
import time

_installed = False
_lock = threading.Lock()


def install() -> None:
    global _installed
    with _lock:
        if _installed:
            return
        from moto.sqs import models

        slow_seconds, slow_millis = models.unix_time, models.unix_time_millis

        def unix_time(dt=None) -> float:
            return time.time() if dt is None else slow_seconds(dt)

        def unix_time_millis(dt=None) -> float:
            return time.time() * 1000.0 if dt is None else slow_millis(dt)

        models.unix_time, models.unix_time_millis = unix_time, unix_time_millis
        _installed = True
