import contextlib
import os
from collections.abc import Iterator

import pytest

from infra import bytecode
from local import assembly as assemblies
from local import samples
from local.driver import Driver, driven
from local.runtime import LocalRuntime
from local.sandbox import fresh_function_services, throwaway_aws
from local.server import InProcessMoto

# What synthesis and bundling do in the tests must not depend on what this machine compiles the
# asset's bytecode with (infra/bytecode.py: a CPython 3.13, or Pyodide's), nor wait for it;
# tests/infra/test_bundling.py covers that step, with Pyodide and with this interpreter standing in
# for an installed runtime's.
os.environ[bytecode.VARIABLE] = bytecode.DISABLED


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch):
    """No test may reach a real account, whatever the machine's environment holds."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    for name, value in throwaway_aws().items():
        monkeypatch.setenv(name, value)


@pytest.fixture(scope="session")
def app_assembly() -> assemblies.Assembly:
    """The real CDK app, synthesized without bundling (cached in .cache/, shared by the workers)."""
    return assemblies.locate(assemblies.ROOT, prefer_cdk_out=False)


class _Deployment:
    """The app's template deployed once per test process into moto patched into it (no HTTP round
    trips), and emptied between tests: deploying takes about 0.4 s, emptying a few milliseconds."""

    def __init__(self, assembly, work_dir):
        self.assembly, self.work_dir = assembly, work_dir
        self.runtime: LocalRuntime | None = None

    @contextlib.contextmanager
    def fresh(self) -> Iterator[LocalRuntime]:
        """The deployment, emptied; moto answers AWS calls only for the duration of the block."""
        if self.runtime is not None:
            with self.runtime.server.intercepting():
                if self.runtime.is_intact():
                    self.runtime.empty()
                else:  # gone with a reset of moto (a served runtime's in this process)
                    self.close()
        if self.runtime is None:
            self.runtime = LocalRuntime(self.assembly, work_dir=self.work_dir, moto=InProcessMoto()).start()
        with self.runtime.server.intercepting():
            yield self.runtime

    def close(self) -> None:
        if self.runtime is not None:
            self.runtime.stop()
            self.runtime = None


@pytest.fixture(scope="session")
def samples_assembly() -> assemblies.Assembly:
    """The CDK app synthesized with the samples' context (local/samples.py: its own RSVP address)."""
    return assemblies.locate(assemblies.ROOT, prefer_cdk_out=False, context=samples.CONTEXT)


@pytest.fixture(scope="session")
def _deployment(samples_assembly, tmp_path_factory):
    deployment = _Deployment(samples_assembly, tmp_path_factory.mktemp("app-runtime"))
    yield deployment
    deployment.close()


@pytest.fixture
def account(_deployment):
    """The app's functions, driven one at a time (local/driver.py) on the template-built runtime."""
    with _deployment.fresh() as runtime, fresh_function_services():
        yield Driver(runtime)


@pytest.fixture
def scratch_account(_deployment, tmp_path):
    """Deploy a scratch copy of the template (``scratch_account(assembly)``: its Driver) for one
    test, in place of the shared deployment: both would live in moto's one set of backends."""
    _deployment.close()
    with contextlib.ExitStack() as deployed:
        yield lambda assembly: deployed.enter_context(driven(assembly, tmp_path / "scratch"))


@pytest.fixture
def reads(monkeypatch) -> list[tuple[str, str]]:
    """Every stored email a function opens (S3 GetObject), as (bucket, key): what a test of
    "decided before the mail is read" asserts is empty."""
    from lambdas.adapters.mailbox import Mailbox

    opened: list[tuple[str, str]] = []
    original = Mailbox.open

    def spy(self, bucket, key, *args, **kwargs):
        opened.append((bucket, key))
        return original(self, bucket, key, *args, **kwargs)

    monkeypatch.setattr(Mailbox, "open", spy)
    return opened


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
