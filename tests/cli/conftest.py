# The local runtime's fixtures, for the tests that drive it with the CLI.
from tests.local.conftest import app_assembly, fixture_assembly, start_runtime

__all__ = ["app_assembly", "fixture_assembly", "start_runtime"]
