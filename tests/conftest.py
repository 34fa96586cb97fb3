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
        account = Account()
        account.extra_env.update(_receipt_origin_of(account))
        yield account


def _receipt_origin_of(account: Account) -> dict[str, str]:
    """The receipt origin the stack tells the reply function, for the receiving that
    ``Account.receive_replies`` builds (its topic, bucket and prefix)."""
    from lambdas.runtime import config
    from local.account import INBOUND_BUCKET

    account_id = account.client("sts").get_caller_identity()["Account"]
    return {
        config.ENV_INBOUND_TOPIC_ARN: f"arn:aws:sns:{account.region}:{account_id}:calendar-invites-inbound",
        config.ENV_INBOUND_BUCKET: INBOUND_BUCKET,
        config.ENV_INBOUND_KEY_PREFIX: "inbound/",
    }


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


@pytest.fixture(autouse=True, scope="session")
def _share_botocore_models():
    """Each test builds fresh boto3 sessions (one per emulated account, per function's clients), and
    each session's loader decodes the same service models from JSON again: about a second per test.
    The models are read-only once loaded (a loader already hands the same objects to every client
    of its session), so one process-wide cache serves every session."""
    from botocore import loaders

    shared: dict = {}
    cached_methods = ("load_service_model", "load_data_with_path")
    originals = {name: getattr(loaders.Loader, name) for name in cached_methods}

    def cached(name):
        original = originals[name]

        def load(self, *args, **kwargs):
            key = (name, tuple(self.search_paths), args, tuple(sorted(kwargs.items())))
            if key not in shared:
                shared[key] = original(self, *args, **kwargs)
            return shared[key]

        return load

    for name in originals:
        setattr(loaders.Loader, name, cached(name))
    yield
    for name, original in originals.items():
        setattr(loaders.Loader, name, original)
