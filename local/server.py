"""A moto server on 127.0.0.1, on a free port, that handles one request at a time.

moto's in-memory backends are not thread-safe ("dictionary changed size during iteration"), and the
functions send a batch's requests from a thread pool. The server still accepts connections on many
threads (so no client waits on another's keep-alive socket), but the moto application behind it is
called under one lock. The real services are concurrent; what runs concurrently here is our code.
"""

from __future__ import annotations

import contextlib
import threading
import urllib.request
from collections.abc import Callable, Iterable, Iterator

from moto import mock_aws
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from local import moto_clock, moto_iam, moto_instances, moto_sqs_scans, moto_transactions, ses_account

HOST = "127.0.0.1"


class _QuietRequestHandler(MotoRequestHandler):
    def log_request(self, code="-", size="-") -> None:  # one line per request would drown the report
        pass


WsgiApp = Callable[[dict, Callable], Iterable[bytes]]


def _patch_moto() -> None:
    """moto answering as AWS does, at costs that do not grow with what it holds (once a process)."""
    moto_transactions.install()  # a transaction's cost must not grow with its table
    moto_instances.install()  # nor moto's memory with every object it ever made
    moto_clock.install()  # nor a send's cost with its queue
    moto_sqs_scans.install()  # nor a send's, a receive's or a delete's with the queue's depth
    moto_iam.install()  # IAM authorises as AWS does


class MotoServer:
    """moto's WSGI application, one request at a time, served on loopback.

    ``front`` optionally wraps the serialised application in a WSGI layer of the caller's (the
    tests' counting, delaying and failing transport does so); what it wraps is ``self.moto``.
    """

    def __init__(self, host: str = HOST, port: int = 0, front: Callable[[WsgiApp], WsgiApp] | None = None):
        _patch_moto()
        self.iam = moto_iam.Enforcement()
        self._host = host
        self._port = port
        self._lock = threading.Lock()
        self._application = DomainDispatcherApplication(create_backend_app)
        self._front = front
        # Paths this server answers itself, beside moto (the runtime's SES receiving), by PATH_INFO.
        self.routes: dict[str, WsgiApp] = {}
        self._server = None
        self._thread: threading.Thread | None = None

    def moto(self, environ, start_response) -> Iterable[bytes]:
        """The moto application under the lock; the body is read out before the lock is let go."""
        if ses_account.is_get_account(environ):  # not in moto
            return ses_account.get_account(start_response)
        route = self.routes.get(environ.get("PATH_INFO", ""))
        if route is not None:  # outside the lock: it calls moto through this server
            return route(environ, start_response)
        with self._lock:
            return list(self._application(environ, start_response))

    def start(self) -> MotoServer:
        app = self._front(self.moto) if self._front else self.moto
        self._server = make_server(
            self._host, self._port, app, threaded=True, request_handler=_QuietRequestHandler
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="moto-server", daemon=True
        )
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the server is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the request lock, to read moto's backends from this process consistently."""
        with self._lock:
            yield

    def reset(self) -> None:
        """Forget every resource and message: each run starts from an empty account."""
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")  # noqa: S310 - our server
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            response.read()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None


class InProcessMoto:
    """moto patched into this process (``mock_aws``) instead of served: the same account for the
    runtime's resources and functions, without a server's round trips (what the tests deploy into).
    Its clients take no endpoint (``url`` is None), and the tests' conftest serialises its requests.
    It leaves the process's AWS_* variables alone (moto's mock would set its own keys)."""

    url = None

    def __init__(self):
        _patch_moto()
        ses_account.install()
        self.iam = moto_iam.Enforcement()
        self.routes: dict[str, WsgiApp] = {}  # no HTTP: cisctl receive needs a served runtime
        self._mock = mock_aws(config={"core": {"mock_credentials": False}})
        self._lock = threading.RLock()

    def start(self) -> InProcessMoto:
        self._mock.start()
        return self

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        with self._lock:
            yield

    def reset(self) -> None:
        """Nothing to forget: each ``start`` begins with an empty account."""

    @contextlib.contextmanager
    def intercepting(self) -> Iterator[None]:
        """AWS calls reach this moto only inside the block (its resources stay between blocks), so
        code that runs between two tests is not answered by a deployment it does not know of, nor
        held to its IAM enforcement (moto's, for the whole process)."""
        from moto.core.models import botocore_stubber

        botocore_stubber.enabled = True
        self.iam.resume()
        try:
            yield
        finally:
            botocore_stubber.enabled = False
            self.iam.suspend()

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError):  # never started
            self._mock.stop()


class AttachedMoto:
    """A moto served by someone else (local.transport's ``LocalAws`` or ``RemoteAws``, with their
    counts, latency and faults): the runtime deploys there and leaves it running."""

    def __init__(self, url: str, lock: Callable[[], contextlib.AbstractContextManager] | None = None):
        self.url = url
        self.routes: dict[str, WsgiApp] = {}
        self.iam = moto_iam.Enforcement()  # switched in this process: see local/moto_iam.py
        self._lock = lock or contextlib.nullcontext

    def start(self) -> AttachedMoto:
        return self

    def locked(self) -> contextlib.AbstractContextManager:
        return self._lock()

    def reset(self) -> None:
        """The owner resets it (each test or benchmark run starts from an empty account)."""

    def stop(self) -> None:
        pass
