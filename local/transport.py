"""moto as an HTTP server on loopback, with a transport layer that counts, delays and fails requests.

The functions' boto3 clients reach it through ``AWS_ENDPOINT_URL``, so everything between them
and the emulator is real: request signing and serialisation, HTTP keep-alive, botocore's retry
handler and the parsing of error responses. The layer in front of moto:

* counts every HTTP request by (service, operation), retries included;
* sleeps ``latency`` seconds per request *outside* the emulator's lock, so concurrent requests
  overlap as they would on a real network;
* asks an optional ``faults`` policy whether to answer with an AWS error instead of passing the
  request on. Injected errors are answered *before* the request reaches moto: a throttled or
  failed request changes nothing, as with the real services;
* passes the rest to ``local.server.MotoServer``, which serialises moto (its in-memory backends
  are not thread-safe) and which the local runtime serves too;
* records the last successful answer to each operation, which a second, keep-alive endpoint
  (``replay_url``) serves after the injected latency without running moto. The benchmark times
  batches there, so that moto's own processing (serialised by the lock) does not pose as network
  time, and so that connections are reused as with AWS (Werkzeug closes every connection).

moto's backends are process-global, so a server started in-process shares them with
``moto.backends.get_backend`` (how ``local.outbox.sent_emails`` reads the SES outbox). The tests'
resilience suite and the benchmark use this layer; ``RemoteAws`` runs it in a child process.
"""

from __future__ import annotations

import collections
import functools
import json
import random
import socket
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from local.server import AttachedMoto, MotoServer, WsgiApp

Operation = tuple[str, str]  # (service, operation), e.g. ("dynamodb", "TransactWriteItems")

# SES v2 is a REST API: its operations are named by method and path.
_SESV2_ROUTES = {
    ("POST", "/v2/email/outbound-emails"): "SendEmail",
    ("POST", "/v2/email/identities"): "CreateEmailIdentity",
    ("GET", "/v2/email/account"): "GetAccount",
}


def operation_of(environ: dict) -> Operation:
    """The AWS service and operation of a request, from its signature scope and target or route."""
    scope = environ.get("HTTP_AUTHORIZATION", "").split("Credential=", 1)[-1].split(",", 1)[0].split("/")
    service = scope[3] if len(scope) > 3 else "?"
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return service, target.rsplit(".", 1)[-1]
    method, path = environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", "")
    if path.startswith("/v2/email/"):
        return "sesv2", _SESV2_ROUTES.get((method, path), f"{method} {path}")
    return service, f"{method} {path}"


@dataclass(frozen=True)
class Fault:
    """An AWS error response, in the wire format of the service's protocol."""

    status: int
    code: str
    message: str = "injected fault"

    def response(self, service: str) -> tuple[str, list[tuple[str, str]], bytes]:
        status = f"{self.status} Injected"
        if service == "dynamodb":  # awsJson1_0
            body = {"__type": f"com.amazonaws.dynamodb.v20120810#{self.code}", "message": self.message}
            headers = [("Content-Type", "application/x-amz-json-1.0")]
        else:  # restJson1 (SES v2) and awsJson (SQS): the code travels in x-amzn-ErrorType
            body = {"message": self.message}
            headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", self.code)]
        return status, headers, json.dumps(body).encode()


# What throttling and transient failure look like on the wire.
DYNAMODB_FAULTS = (
    Fault(400, "ProvisionedThroughputExceededException", "The level of configured provisioned throughput"),
    Fault(400, "ThrottlingException", "Rate of requests exceeds the allowed throughput."),
    Fault(500, "InternalServerError", "Internal server error"),
    Fault(503, "ServiceUnavailable", "Service unavailable"),
)
SES_FAULTS = (
    Fault(429, "TooManyRequestsException", "Too many requests."),
    Fault(400, "Throttling", "Maximum sending rate exceeded."),
    Fault(500, "InternalFailure", "Internal failure"),
    Fault(503, "ServiceUnavailable", "Service unavailable"),
)
FAULTS_BY_SERVICE = {"dynamodb": DYNAMODB_FAULTS, "ses": SES_FAULTS, "sesv2": SES_FAULTS}

# Called with the operation and botocore's invocation id (the same for every retry of one call).
FaultPolicy = Callable[[Operation, str], Fault | None]


@dataclass
class RandomFaults:
    """Fail requests to the given services with probability ``rate`` (seeded, thread-safe).

    ``per_call=False``: each HTTP attempt is drawn on its own, so botocore's retries usually
    absorb the fault. ``per_call=True``: the draw is per API call and every attempt of a failing
    call fails, so the error reaches the function.
    """

    rate: float
    seed: int = 0
    per_call: bool = False
    services: frozenset[str] = frozenset({"dynamodb", "sesv2"})
    injected: collections.Counter = field(default_factory=collections.Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _calls: dict = field(default_factory=dict)

    def __post_init__(self):
        self._random = random.Random(self.seed)  # noqa: S311 - seeded fault draws, not secrets

    def __call__(self, operation: Operation, call_id: str = "") -> Fault | None:
        service = operation[0]
        if service not in self.services:
            return None
        with self._lock:
            if self.per_call and call_id in self._calls:
                fault = self._calls[call_id]
            else:
                fault = None
                if self._random.random() < self.rate:
                    fault = self._random.choice(FAULTS_BY_SERVICE[service])
                if self.per_call and call_id:
                    self._calls[call_id] = fault
            if fault is not None:
                self.injected[(*operation, fault.code)] += 1
        return fault


class LocalAws:
    """A moto server on 127.0.0.1 behind the counting, delaying and failing transport layer."""

    def __init__(self, latency: float = 0.0, faults: FaultPolicy | None = None):
        self.latency = latency
        self.faults = faults
        self.calls: collections.Counter[Operation] = collections.Counter()
        self.observers: list[Callable[[Operation, dict, int, bytes], None]] = []
        # The last success moto gave for each operation, for the replay endpoint.
        self._recorded: dict[Operation, tuple[str, list, bytes]] = {}
        self._count_lock = threading.Lock()
        # The same serialised moto server as the local runtime's, with this layer in front.
        self._server = MotoServer(front=self.front)
        self._replay = None
        self._replay_thread: threading.Thread | None = None

    def front(self, moto: WsgiApp) -> WsgiApp:
        """This layer in front of a serialised moto application: what ``MotoServer(front=...)`` and
        ``LocalRuntime(front=...)`` take, so that the local runtime can run behind it too."""
        return functools.partial(self._handle, moto)

    @property
    def endpoint_url(self) -> str:
        return self._server.url

    def attach(self) -> AttachedMoto:
        """This server, for a local runtime to deploy into (``LocalRuntime(moto=...)``)."""
        return AttachedMoto(self.endpoint_url, self._server.locked)

    @property
    def replay_url(self) -> str:
        """An endpoint that answers each operation with moto's last success for it, after the
        injected latency, without running moto, over keep-alive connections like AWS's."""
        host, port = self._replay.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> LocalAws:
        self._server.start()
        self._replay = _ReplayServer(self)
        self._replay_thread = threading.Thread(target=self._replay.serve_forever, daemon=True)
        self._replay_thread.start()
        return self

    def stop(self) -> None:
        self._server.stop()
        if self._replay is not None:
            self._replay.shutdown()
            self._replay.server_close()
            self._replay_thread.join()
            self._replay = self._replay_thread = None

    def __enter__(self) -> LocalAws:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def reset(self) -> None:
        """Empty every moto backend and forget the counts (between tests and benchmark runs)."""
        self._server.reset()
        self.reset_calls()

    def reset_calls(self) -> None:
        with self._count_lock:
            self.calls.clear()

    def snapshot(self) -> collections.Counter[Operation]:
        with self._count_lock:
            return collections.Counter(self.calls)

    # ------------------------------------------------------------------------------------ WSGI

    def _handle(self, moto, environ: dict, start_response) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith(CONTROL_PATH):
            return self._control(environ, start_response)
        operation = operation_of(environ)
        internal = environ.get("PATH_INFO", "").startswith("/moto-api/")
        if not internal:
            with self._count_lock:
                self.calls[operation] += 1
        if self.latency and not internal:
            time.sleep(self.latency)  # outside the lock: concurrent requests wait side by side
        call_id = environ.get("HTTP_AMZ_SDK_INVOCATION_ID", "")
        fault = None if internal or self.faults is None else self.faults(operation, call_id)
        if fault is not None:
            _drain(environ)
            status, headers, body = fault.response(operation[0])
            start_response(status, [*headers, ("Content-Length", str(len(body)))])
            return [body]
        captured: dict = {}

        def capture(status, headers, exc_info=None):
            captured.update(status=status, headers=headers)

        if self.observers:
            environ["wsgi.input"], request_body = _buffer(environ)
        body = b"".join(moto(environ, capture))
        status_code = int(captured["status"].split(" ", 1)[0])
        if 200 <= status_code < 300 and not internal:
            self._recorded[operation] = (captured["status"], captured["headers"], body)
        if self.observers:
            try:
                request = json.loads(request_body or b"{}")
            except ValueError:
                request = {}
            for observe in self.observers:
                observe(operation, request, status_code, body)
        start_response(captured["status"], captured["headers"])
        return [body]

    def _control(self, environ: dict, start_response) -> Iterable[bytes]:
        """The control API of a server in another process: counts, reset, latency."""
        action = environ["PATH_INFO"][len(CONTROL_PATH) :]
        if action == "calls":
            payload = [[service, op, n] for (service, op), n in sorted(self.snapshot().items())]
        elif action == "reset-calls":
            self.reset_calls()
            payload = {}
        elif action == "configure":
            options = json.loads(_buffer(environ)[1])
            self.latency = float(options.get("latency", self.latency))
            payload = {}
        else:
            start_response("404 Not Found", [("Content-Type", "application/json")])
            return [b"{}"]
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(payload).encode()]


class _ReplayServer:
    """``LocalAws.replay_url``: HTTP/1.1 keep-alive, one recorded answer per operation."""

    def __new__(cls, owner: LocalAws):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                environ = {
                    "HTTP_AUTHORIZATION": self.headers.get("Authorization", ""),
                    "HTTP_X_AMZ_TARGET": self.headers.get("X-Amz-Target", ""),
                    "REQUEST_METHOD": "POST",
                    "PATH_INFO": self.path.split("?", 1)[0],
                }
                operation = operation_of(environ)
                with owner._count_lock:
                    owner.calls[operation] += 1
                if owner.latency:
                    time.sleep(owner.latency)
                recorded = owner._recorded.get(operation)
                if recorded is None:
                    status, headers, body = "500 Not recorded", [], b"{}"
                else:
                    status, headers, body = recorded
                self.send_response(int(status.split(" ", 1)[0]))
                for name, value in headers:
                    if name.lower() not in {"content-length", "connection", "server", "date"}:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                # Headers and body in one segment: two small writes would meet Nagle's algorithm
                # and the client's delayed ACK (+40 ms a request on Linux).
                self._headers_buffer.append(b"\r\n" + body)
                self.flush_headers()

            def setup(self):
                super().setup()
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        return server


CONTROL_PATH = "/_local/"


class RemoteAws:
    """A LocalAws in a child process, so the emulator's CPU never competes with the code measured."""

    def __init__(self, latency: float = 0.0):
        import subprocess
        import sys
        from pathlib import Path

        root = Path(__file__).resolve().parents[1]  # the repository, where `local` imports from
        self._process = subprocess.Popen(  # noqa: S603 - this interpreter, this module
            [sys.executable, "-m", "local.transport", str(latency)],
            cwd=root,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.endpoint_url = self._process.stdout.readline().strip()
        self.replay_url = self._process.stdout.readline().strip()
        if not (self.endpoint_url.startswith("http://") and self.replay_url.startswith("http://")):
            self._process.kill()
            raise RuntimeError("the local AWS server did not start")

    def _post(self, action: str, payload: dict | None = None):
        return json.loads(_post(f"{self.endpoint_url}{CONTROL_PATH}{action}", payload or {}))

    def snapshot(self) -> collections.Counter[Operation]:
        return collections.Counter({(service, op): n for service, op, n in self._post("calls")})

    def reset_calls(self) -> None:
        self._post("reset-calls")

    def configure(self, *, latency: float) -> None:
        """Set the injected round trip (both endpoints)."""
        self._post("configure", {"latency": latency})

    def reset(self) -> None:
        _post(f"{self.endpoint_url}/moto-api/reset")
        self.reset_calls()

    def stop(self) -> None:
        self._process.stdin.close()  # the child serves until its stdin closes
        try:
            self._process.wait(timeout=10)
        except Exception:
            self._process.kill()
            raise

    def __enter__(self) -> RemoteAws:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def _post(url: str, payload: dict | None = None) -> bytes:
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError(f"not a loopback URL: {url}")
    data = json.dumps(payload or {}).encode()
    request = urllib.request.Request(url, data=data, method="POST")  # noqa: S310 - checked above
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - checked above
        return response.read()


def _content_length(environ: dict) -> int:
    try:
        return int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _drain(environ: dict) -> None:
    environ["wsgi.input"].read(_content_length(environ))


def _buffer(environ: dict):
    import io

    body = environ["wsgi.input"].read(_content_length(environ))
    return io.BytesIO(body), body


def main(argv: list[str]) -> None:
    """``python -m local.transport [LATENCY]``: print the endpoint, serve until stdin closes."""
    import logging
    import os
    import sys

    from local.sandbox import CREDENTIALS

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", CREDENTIALS["aws_access_key_id"])
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", CREDENTIALS["aws_secret_access_key"])
    with LocalAws(latency=float(argv[0]) if argv else 0.0) as server:
        print(server.endpoint_url, server.replay_url, sep="\n", flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
