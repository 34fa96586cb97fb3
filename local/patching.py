"""Patches to moto, each applied once per process however many runtimes and tests start."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable


def once(patch: Callable[[], None]) -> Callable[[], None]:
    """``patch`` runs on the first call only; later and concurrent calls wait for it, then return.

    A second application would wrap moto's already-patched function in another layer."""
    lock = threading.Lock()
    applied = False

    @functools.wraps(patch)
    def apply() -> None:
        nonlocal applied
        with lock:
            if not applied:
                patch()
                applied = True

    return apply
