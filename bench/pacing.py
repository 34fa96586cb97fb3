"""How fast one sending instance sends a batch of 10 under its share of the SES rate.

    PYTHONPATH=. .venv/bin/python -m bench.pacing

Against moto on loopback with the 20 ms round trip of the other figures: a batch unpaced, then
paced at a few shares (SES_MAX_SEND_RATE / SES_SENDING_INSTANCES, as the stack sets them). A paced
batch must not beat its share (10 sends take at least 9 gaps of 1 / share: the bucket holds one
token) and should not fall far behind it. docs/performance.md, "Keeping to the SES rate".
"""

from __future__ import annotations

import statistics
import time
import uuid

from bench.aws import BATCH, RTT_SECONDS, _invite, local_aws
from lambdas.runtime import config

RUNS = 3
# (account rate, sending instances): unpaced; the defaults (14/s over 2 x 3 instances); one
# instance holding the whole default rate; a large production quota.
CASES = [(None, 1), (14.0, 6), (14.0, 1), (200.0, 6)]


def batch_seconds(account, rate: float | None, instances: int) -> float:
    from local.sandbox import fresh_function_services

    account.overrides[config.ENV_MAX_SEND_RATE] = ""  # unpaced, unless a rate is given
    if rate is not None:
        account.overrides[config.ENV_MAX_SEND_RATE] = str(rate)
        account.overrides[config.ENV_SENDING_INSTANCES] = str(instances)
    timings = []
    with fresh_function_services():  # a new instance: its bucket starts with one token
        account.invoke("invite", _invite(f"warm-{uuid.uuid4().hex}@example.com", "w@example.org"))
        for _ in range(RUNS):
            uid = f"pace-{uuid.uuid4().hex}@example.com"
            bodies = [_invite(uid, f"guest{i}@example.org") for i in range(BATCH)]
            start = time.perf_counter()
            response = account.invoke("invite", *bodies)
            timings.append(time.perf_counter() - start)
            assert response == {"batchItemFailures": []}, response
    return statistics.median(timings)


def main() -> None:
    with local_aws() as (server, account):
        server.configure(latency=RTT_SECONDS)
        print(f"batch of {BATCH} sends, median of {RUNS}, {RTT_SECONDS * 1000:.0f} ms round trip")
        print(f"{'rate':>6} {'instances':>9} {'share/s':>8} {'floor s':>8} {'batch s':>8} {'emails/s':>9}")
        for rate, instances in CASES:
            seconds = batch_seconds(account, rate, instances)
            share = None if rate is None else rate / instances
            floor = 0.0 if share is None else (BATCH - 1) / share
            print(
                f"{rate or '-':>6} {instances:>9} {share or 0:>8.2f} {floor:>8.2f} {seconds:>8.2f}"
                f" {BATCH / seconds:>9.2f}"
            )


if __name__ == "__main__":
    main()
