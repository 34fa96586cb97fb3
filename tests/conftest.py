import os

import pytest
from moto import mock_aws

from local.account import Account
from local.sandbox import fresh_function_services, throwaway_aws


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch):
    """No test may reach a real account, whatever the machine's environment holds."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    for name, value in throwaway_aws().items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def account():
    with mock_aws(), fresh_function_services():
        yield Account()


@pytest.fixture(autouse=True, scope="session")
def _serialize_moto():
    """moto's in-memory backends are not thread-safe (real AWS services are).

    The functions process a batch's records on a thread pool; this lock serialises only the
    emulator's request handling, so our concurrency is still exercised end to end.
    """
    import threading

    from moto.core.botocore_stubber import BotocoreStubber

    lock = threading.RLock()
    original = BotocoreStubber.process_request

    def process_request(self, request):
        with lock:
            return original(self, request)

    BotocoreStubber.process_request = process_request
    yield
    BotocoreStubber.process_request = original
