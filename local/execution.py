"""Lambda's function timeout: an invocation that runs past it is abandoned, and its late work refused.

On AWS, an invocation still running at its function's timeout is stopped ("Task timed out after
N seconds"): the event source mapping treats the batch as failed (nothing is deleted, the
messages come back once their visibility timeout expires), and the execution environment is
reset, so no code of that invocation sends or writes anything afterwards. The next invocation
starts cold.

Here the handler runs on a thread of its own and the poller waits for it until the function's
timeout. Past it, the invocation is abandoned: Python cannot kill a thread, so instead every AWS
client created during an invocation refuses to send anything once the environment it was created
in has been reset (botocore's ``before-send`` event, which also stops retries in progress), by
raising ``EnvironmentReset``, a BaseException no ``except Exception`` in the functions catches.
The functions' cached services and clients are then rebuilt, as after a cold start.

What is not emulated: an abandoned thread still runs its pure Python code (rendering, parsing)
until it next calls AWS, and a request already on the wire when the timeout fires completes.
One process hosts every function and invocations run one at a time, so a timeout resets the
clients of every function (the others merely start cold again); a client an abandoned thread
creates *after* the reset, while another invocation runs, would not be refused (the functions
create their clients before their thread pool starts, so this does not happen with them).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

_lock = threading.Lock()
_generation = 0  # bumped by every reset; a client of an older generation refuses to send
_invoking = False  # clients created meanwhile belong to the functions (the runtime's own do not)
_installed = False


class FunctionTimedOut(Exception):
    """The invocation ran past its function's timeout and was abandoned."""

    def __init__(self, seconds: float):
        super().__init__(f"Task timed out after {seconds:.2f} seconds")
        self.seconds = seconds


class EnvironmentReset(BaseException):
    """Raised in an abandoned invocation's threads when they call AWS: their environment is gone.

    A BaseException, like the SystemExit of a dying process: the functions' ``except Exception``
    (release the claim, dead-letter, log) must not run either."""


def install() -> None:
    """Tag every boto3/botocore client created during an invocation with its environment."""
    global _installed
    with _lock:
        if _installed:
            return
        import botocore.session

        original = botocore.session.Session.create_client

        def create_client(self, *args, **kwargs):
            client = original(self, *args, **kwargs)
            with _lock:
                generation = _generation if _invoking else None
            if generation is not None:
                client.meta.events.register("before-send", _refuse_after_reset(generation))
            return client

        botocore.session.Session.create_client = create_client
        _installed = True


def _refuse_after_reset(generation: int) -> Callable[..., None]:
    def refuse(**_kwargs) -> None:
        if generation != _generation:
            raise EnvironmentReset("this invocation was abandoned at its timeout; its environment is reset")

    return refuse


def reset_environments() -> None:
    """What Lambda does after a timeout: clients of earlier invocations refuse to send, and the
    functions build their services and clients again (a cold start)."""
    global _generation
    from lambdas.runtime import services

    with _lock:
        _generation += 1
    services.reset()


def call_with_timeout(call: Callable[[], Any], seconds: float, name: str = "invocation") -> Any:
    """``call()`` on a thread of its own; its result or exception, or FunctionTimedOut past ``seconds``.

    An interruption of the waiting thread (SIGTERM in ``python -m local serve``) abandons the
    invocation the same way, then propagates.
    """
    global _invoking
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as error:  # handed to the waiting thread, which decides what it means
            outcome["error"] = error

    worker = threading.Thread(target=run, name=name, daemon=True)
    with _lock:
        _invoking = True
    try:
        worker.start()
        worker.join(seconds)
    except BaseException:
        reset_environments()
        raise
    finally:
        with _lock:
            _invoking = False
    if worker.is_alive():
        reset_environments()
        raise FunctionTimedOut(seconds)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")
