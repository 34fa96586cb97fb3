from __future__ import annotations

import pytest

from local import assembly as assemblies
from local.runtime import LocalRuntime
from tests.local import fixture


@pytest.fixture(scope="session")
def fixture_assembly(tmp_path_factory) -> assemblies.Assembly:
    """The hand-written two-stack assembly of tests/local/fixture.py."""
    return assemblies.load(fixture.write(tmp_path_factory.mktemp("fixture-assembly")))


@pytest.fixture
def start_runtime(tmp_path):
    """Start a LocalRuntime on an assembly; stopped (environment restored) after the test."""
    started: list[LocalRuntime] = []

    def start(assembly: assemblies.Assembly, work_dir=None) -> LocalRuntime:
        runtime = LocalRuntime(assembly, work_dir=work_dir or tmp_path / f"work-{len(started)}")
        started.append(runtime)
        return runtime.start()

    yield start
    for runtime in reversed(started):
        runtime.stop()
