"""SES v2 GetAccount, which moto does not emulate: the local account's sending quota.

The sending functions read the account's rate from GetAccount when no `sesMaxSendRate` is
configured (the default), and pace themselves at a share of it. The local SES never throttles, so
the quota it reports is one that local speeds never reach: the pacing code runs, and does not
slow a local run down (docs/local-runtime.md). The served moto answers it in front of moto
(local/server.py); ``install`` teaches it to moto patched into the process (``mock_aws``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

PATH = "/v2/email/account"
MAX_SEND_RATE = 1_000_000.0  # emails per second: each sending instance's share spaces sends by µs
MAX_24_HOUR_SEND = 10_000_000.0


def is_get_account(environ: dict) -> bool:
    return environ.get("REQUEST_METHOD") == "GET" and environ.get("PATH_INFO") == PATH


def get_account(start_response: Callable) -> Iterable[bytes]:
    body = _account().encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def install() -> None:
    from moto.sesv2.responses import SESV2Response

    SESV2Response.get_account = lambda _response: _account()


def _account() -> str:
    return json.dumps(
        {
            "DedicatedIpAutoWarmupEnabled": False,
            "EnforcementStatus": "HEALTHY",
            "ProductionAccessEnabled": True,
            "SendingEnabled": True,
            "SendQuota": {
                "Max24HourSend": MAX_24_HOUR_SEND,
                "MaxSendRate": MAX_SEND_RATE,
                "SentLast24Hours": 0.0,
            },
        }
    )
