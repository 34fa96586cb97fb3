"""Where the time of a run goes, across every thread: a small sampling profiler.

cProfile sees one thread, and the work of a run is on many (the function's batch pool, the served
moto's request threads, the runtime's poller). ``StackSampler`` looks at every thread's stack every
few milliseconds and files each busy sample under the innermost frame that belongs to a package of
interest (moto's service, botocore, the email package, our own modules...); a thread blocked on a
lock, a socket or a sleep counts as waiting, not as busy. Good enough to say which part of the
system a slow run is spending its CPU in; not a replacement for a real profiler.
"""

from __future__ import annotations

import linecache
import sys
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Innermost frames that mean the thread is blocked, not computing.
WAITING = frozenset(
    {"wait", "acquire", "_wait_for_tstate_lock", "select", "poll", "readinto", "recv_into", "accept", "sleep"}
)
WAITING_MODULES = ("selectors.py", "socket.py", "socketserver.py", "ssl.py")
# A line that blocks in C (time.sleep, taking a lock): the frame is Python, the thread is waiting.
WAITING_LINES = ("sleep(", ".wait(", "acquire(", "_lock:", "_lock)", ".get(block=True)")


def _where(filename: str) -> str:
    """'moto.dynamodb', 'botocore', 'lambdas.send_invite', 'local.sources', 'email', or ''."""
    path = Path(filename)
    parts = path.parts
    if "site-packages" in parts:
        after = parts[parts.index("site-packages") + 1 :]
        if not after:
            return ""
        if after[0] == "moto":  # by service; moto's core and top-level modules by module
            if len(after) == 2:
                return f"moto.{Path(after[1]).stem}"
            return f"moto.core.{Path(after[2]).stem}" if after[1] == "core" else f"moto.{after[1]}"
        return after[0].removesuffix(".py")
    if path.is_relative_to(ROOT):
        relative = path.relative_to(ROOT).parts
        return ".".join(p.removesuffix(".py") for p in relative[:2])
    if "python3" in filename and len(parts) > 1:  # the standard library: its top module
        return parts[-2] if parts[-2] in {"email", "json", "http", "logging", "concurrent"} else path.stem
    return ""


@dataclass
class StackSampler:
    interval: float = 0.005
    busy: Counter = field(default_factory=Counter)  # package -> busy samples
    waiting: int = 0
    samples: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> StackSampler:
        self._thread = threading.Thread(target=self._run, name="stack-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = threading.get_ident()
        while not self._stop.wait(self.interval):
            for ident, frame in sys._current_frames().items():
                if ident == me:
                    continue
                self.samples += 1
                if self._waiting(frame):
                    self.waiting += 1
                    continue
                self.busy[self._owner(frame)] += 1

    @staticmethod
    def _waiting(frame) -> bool:
        code = frame.f_code
        if code.co_name in WAITING or code.co_filename.endswith(WAITING_MODULES):
            return True
        line = linecache.getline(code.co_filename, frame.f_lineno)
        return any(marker in line for marker in WAITING_LINES)

    @staticmethod
    def _owner(frame) -> str:
        while frame is not None:
            where = _where(frame.f_code.co_filename)
            if where:
                return where
            frame = frame.f_back
        return "other"

    def shares(self, top: int = 12) -> dict[str, float]:
        """The busy samples' shares by package, largest first (the rest summed as 'rest')."""
        total = sum(self.busy.values()) or 1
        ranked = self.busy.most_common()
        shares = {name: round(n / total, 3) for name, n in ranked[:top]}
        rest = sum(n for _, n in ranked[top:])
        if rest:
            shares["rest"] = round(rest / total, 3)
        return shares
