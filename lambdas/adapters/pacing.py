"""A token bucket that paces one container's sends, shared by the threads of its batch.

Each caller reserves one token. When none is left, the caller is told how long until its own
token comes (reservations queue up: tokens may go below zero), and it either sleeps that long or,
past its budget, takes nothing and gives the record back to the queue for later. The bucket holds
at most one token, so a container never bursts: its sends are spaced ``1 / rate`` apart, and the
containers' rates add up to at most the account's (docs/performance.md, "Keeping to the SES rate").
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

BURST = 1.0  # tokens a full bucket holds: one send, never a burst of them


class TokenBucket:
    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if rate <= 0:
            raise ValueError(f"the rate must be positive, got {rate!r}")
        self.rate = rate
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = BURST
        self._updated = clock()
        self._held_until = float("-inf")

    def acquire(self, max_wait: float) -> float | None:
        """Take one token, sleeping for it if need be; the seconds slept.

        None, with no token taken, when the token would come more than ``max_wait`` seconds from
        now (see ``wait_time`` for how long that is)."""
        with self._lock:
            wait = self._wait_locked()
            if wait > max_wait:
                return None
            self._tokens -= 1
        if wait > 0:
            self._sleep(wait)
        return wait

    def wait_time(self) -> float:
        """Seconds until the next token could be taken (0: now)."""
        with self._lock:
            return self._wait_locked()

    def hold(self, seconds: float) -> None:
        """Give no token for ``seconds`` (SES said the daily quota is used up)."""
        with self._lock:
            self._held_until = max(self._held_until, self._clock() + seconds)

    def _wait_locked(self) -> float:
        now = self._clock()
        self._tokens = min(BURST, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        until_token = max(0.0, (1 - self._tokens) / self.rate)
        return max(until_token, self._held_until - now)
