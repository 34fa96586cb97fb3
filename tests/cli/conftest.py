# The local runtime's fixtures, for the tests that drive it with the CLI.
from tests.local.conftest import fixture_assembly, start_runtime

__all__ = ["fixture_assembly", "start_runtime"]
