"""The local runtime (local/, built from the synthesized template) behind the bench's transport layer.

What the growth figures (bench/growth.py) and the soak (bench/soak.py) drive: every request goes
through ``local.transport.LocalAws``'s layer in front of moto, which injects the round trip of the
other figures (``bench.aws.RTT_SECONDS``), counts every request by operation and, for the soak,
answers some with AWS's errors. The functions run in this process, as ``python -m local serve``
runs them; so does moto, whose stored items and emails are part of this process's memory.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bench.aws import EVENT_SOURCE_MAPPING_CALLS, RTT_SECONDS
from lambdas.domain.contract import MAX_ATTENDEES

# Memory is flat when the process grows by no more than what moto keeps for the work (every item
# and email, as the table and SES would): that data measured as JSON and raw MIME, times this for
# the Python objects moto holds it in (DynamoType per attribute, dicts, str copies).
STORED_OVERHEAD = 4.0

# What the runtime itself asks SQS while it polls (Lambda's poller, and whether a queue is idle).
RUNTIME_CALLS = EVENT_SOURCE_MAPPING_CALLS | {
    ("sqs", "GetQueueAttributes"),
    ("sqs", "ChangeMessageVisibilityBatch"),
}


@contextlib.contextmanager
def started(
    work_dir: Path, *, latency: float = RTT_SECONDS, short_visibility: bool = False
) -> Iterator[tuple[object, object]]:
    """(runtime, transport): a fresh LocalRuntime of this checkout's stacks, behind the layer.

    ``short_visibility``: records handed back return sooner (``shortened_visibility``)."""
    from local import assembly
    from local.runtime import LocalRuntime
    from local.transport import LocalAws

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    stacks = assembly.locate()
    if short_visibility:
        stacks = shortened_visibility(stacks)
    transport = LocalAws(latency=0.0)  # deploying at full speed: the round trip is for the work
    runtime = LocalRuntime(stacks, work_dir=work_dir, front=transport.front)
    with runtime:
        transport.latency = latency
        transport.reset_calls()  # what the deployment asked is not the work measured
        yield runtime, transport


# infra/tuning.py: each work queue's visibility timeout is this many times its function's timeout
# (plus the batching window). Not imported: infra.tuning imports aws-cdk-lib, ~100 MB of RSS.
VISIBILITY_TIMEOUT_FACTOR = 6


def shortened_visibility(stacks):
    """The stacks with every queue's visibility timeout divided by ``VISIBILITY_TIMEOUT_FACTOR``
    (rounded up): 542 s becomes 91 s, still longer than the function timeout and claim lease (90 s),
    so a record handed back comes back after its claim expired, as in AWS. The factor's margin is
    for Lambda's concurrent pollers and retries; the local runtime runs one invocation at a time.
    Function timeouts and leases are not shortened: the emulator is not faster than AWS, and a
    1,000-attendee fan-out must still fit its function's timeout."""
    edited = stacks.editable()
    for _stack, _logical_id, queue in edited.resources("AWS::SQS::Queue"):
        properties = queue.get("Properties", {})
        if isinstance(properties.get("VisibilityTimeout"), int):
            properties["VisibilityTimeout"] = math.ceil(
                properties["VisibilityTimeout"] / VISIBILITY_TIMEOUT_FACTOR
            )
    return edited


def target(runtime):
    from cisctl.target import Target

    return Target.endpoint(runtime.endpoint, region=runtime.region, stacks=tuple(runtime.assembly.names))


def requests(event: dict, attendees: list[str]) -> list[dict]:
    """One event's invitation in requests of the contract's maximum number of attendees."""
    people = [{"email": a, "name": a.split("@")[0].title()} for a in attendees]
    return [
        {"event": event, "attendees": people[i : i + MAX_ATTENDEES]}
        for i in range(0, len(people), MAX_ATTENDEES)
    ]


class TooSlow(RuntimeError):
    """The queues were still busy at the deadline."""


def drain(runtime, *, seconds: float) -> int:
    """Deliver until every queue is idle, for at most ``seconds``; the number of invocations."""
    deadline = time.monotonic() + seconds
    invocations = 0
    while time.monotonic() < deadline:
        delivered = runtime.poll_once()
        invocations += len(delivered)
        if not delivered:  # the runtime's own drain: waits for what is in flight or delayed
            remaining = max(1.0, deadline - time.monotonic())
            return invocations + len(runtime.drain(max_invocations=10**9, timeout=remaining))
    raise TooSlow(f"the queues were still busy after {seconds:.0f} s ({invocations} invocations)")


def dead_lettered(runtime) -> dict[str, int]:
    """Messages waiting in each dead-letter queue of the stacks, by queue label."""
    from local.resources import label

    sqs = runtime.client("sqs")
    targets = {q.dead_letter_arn for q in runtime.queues.values() if q.dead_letter_arn}
    counts = {}
    for arn in targets:
        queue = runtime.queues[arn]
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        attributes = sqs.get_queue_attributes(QueueUrl=queue.url, AttributeNames=names)["Attributes"]
        counts[label(queue.logical_id)] = sum(int(attributes.get(n, 0)) for n in names)
    return counts


def function_calls(counted: Counter, *, client_messages: int = 0) -> Counter:
    """The calls the functions made: without Lambda's poller, the runtime's idle checks, and the
    client's (cisctl finds the queues in the stacks' outputs and sends ``client_messages``)."""
    own = Counter({k: v for k, v in counted.items() if k not in RUNTIME_CALLS and k[0] != "cloudformation"})
    return own - Counter({("sqs", "SendMessage"): client_messages})


# ------------------------------------------------------------------------------------------ memory


def stored_bytes(runtime) -> int:
    """What moto holds for the run: the raw emails SES accepted and the table's items (as JSON)."""
    from moto.backends import get_backend

    total = sum(len(e.raw) for e in runtime.sent_emails())
    with runtime.server.locked():
        for table in get_backend("dynamodb")[runtime.site.account][runtime.region].tables.values():
            total += sum(len(json.dumps(item.to_json())) for item in table.all_items())
    return total


def rss_kb(field_name: str = "VmRSS") -> int:
    """This process's resident set (VmRSS) or its peak so far (VmHWM), in kB (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    return 0


@dataclass
class RssSampler:
    """VmRSS sampled every ``interval`` seconds on a thread, with a label for the phase."""

    interval: float = 0.5
    samples: list[tuple[float, str, int]] = field(default_factory=list)  # (seconds, phase, kB)
    phase: str = ""
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _started: float = 0.0

    def __enter__(self) -> RssSampler:
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def sample(self) -> None:
        self.samples.append((time.monotonic() - self._started, self.phase, rss_kb()))

    def peak_mb(self, phases: set[str] | None = None) -> float:
        chosen = [kb for _, phase, kb in self.samples if phases is None or phase in phases]
        return max(chosen, default=0) / 1024
