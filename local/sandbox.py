"""The process environment around emulated AWS: throw-away credentials, and each function's own.

One place decides what a local run, a test or a benchmark may see of the host's AWS settings
(nothing: a profile or real keys would reach a real account) and what a function invocation sees
(its own variables, its role's credentials among them; with ``only=True`` nothing else of the
host's, as on Lambda).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from unittest import mock

from moto.core import DEFAULT_ACCOUNT_ID

ACCOUNT = DEFAULT_ACCOUNT_ID  # moto's account for any access key that is not one of its special ones
REGION = "us-east-1"
# Throw-away keys, which local/moto_iam.py makes an administrator's once the runtime enforces IAM:
# whatever is not a function (the runtime, the tests, cisctl --local) signs with them.
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
# Kept from this process's environment during an isolated invocation (with the AWS_* settings).
HOST_VARIABLES = frozenset(
    {"PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ", "PYTHONPATH", "VIRTUAL_ENV", "SYSTEMROOT"}
)


def throwaway_aws(endpoint: str | None = None, region: str = REGION) -> dict[str, str]:
    """The AWS_* settings of an isolated process: moto's keys, no config files, no metadata service."""
    settings = {
        "AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    if endpoint:
        settings["AWS_ENDPOINT_URL"] = endpoint
    return settings


class IsolatedAws:
    """Replace every AWS_* variable of this process with :func:`throwaway_aws`, until ``exit``.

    A class as well as a context manager: the local runtime enters it in ``start`` and leaves it in
    ``stop``, which are not one block.
    """

    def __init__(self, endpoint: str | None = None, region: str = REGION):
        self._settings = throwaway_aws(endpoint, region)
        self._saved: dict[str, str] | None = None

    def enter(self) -> None:
        self._saved = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
        for name in self._saved:
            del os.environ[name]
        os.environ.update(self._settings)

    def exit(self) -> None:
        if self._saved is None:
            return
        for name in [k for k in os.environ if k.startswith("AWS_")]:
            del os.environ[name]
        os.environ.update(self._saved)
        self._saved = None

    def __enter__(self) -> IsolatedAws:
        self.enter()
        return self

    def __exit__(self, *exc_info) -> None:
        self.exit()


@contextlib.contextmanager
def function_environment(variables: Mapping[str, str], *, only: bool = False) -> Iterator[None]:
    """The process environment of one function for the duration of the block.

    ``only=True``: as on Lambda, the function sees its variables and nothing of the host's but what
    the process needs to run (HOST_VARIABLES) and the AWS_* settings pointing at the emulator.
    Callers that invoke from several threads enter it once, before the threads start: patching
    os.environ from concurrent threads would restore it out of order.
    """
    if not only and all(os.environ.get(name) == value for name, value in variables.items()):
        yield  # already set (by an enclosing block on another thread's behalf): nothing to patch
        return
    if only:
        host = {k: v for k, v in os.environ.items() if k in HOST_VARIABLES or k.startswith("AWS_")}
        with mock.patch.dict(os.environ, {**host, **variables}, clear=True):
            yield
    else:
        with mock.patch.dict(os.environ, dict(variables)):
            yield


@contextlib.contextmanager
def fresh_function_services() -> Iterator[None]:
    """The functions cache their boto3 clients per process: rebuild them around the block, for
    whatever endpoint and credentials the environment now holds."""
    from lambdas.runtime import services

    services.reset()
    try:
        yield
    finally:
        services.reset()
