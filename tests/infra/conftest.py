"""Synthesizes the CDK app once per test session (per xdist worker) and shares the result.

See tests/infra/synth.py for how the test app mirrors `cdk synth`.
"""

from __future__ import annotations

import pytest

from infra import names
from tests.infra.synth import CONFIGURED_CONTEXT, SKIP_BUNDLING, Synthesized, app_context, synthesize


@pytest.fixture(scope="session")
def default_synth() -> Synthesized:
    """The app as `cdk synth` builds it with nothing configured (placeholder sender)."""
    return synthesize(app_context(SKIP_BUNDLING))


@pytest.fixture(scope="session")
def configured_synth() -> Synthesized:
    """The app fully configured for a deployment (`deploy` flag set, real sender)."""
    return synthesize(app_context(CONFIGURED_CONTEXT, SKIP_BUNDLING))


@pytest.fixture(scope="session")
def without_replies() -> Synthesized:
    """The configured app with the `receiveReplies` switch off: no inbound path, no reply worker."""
    return synthesize(
        app_context(
            CONFIGURED_CONTEXT,
            SKIP_BUNDLING,
            {"receiveReplies": "false", "eventEmail": "", "allowedOrganizers": ""},
        )
    )


@pytest.fixture(params=["default_synth", "configured_synth"])
def synth(request) -> Synthesized:
    """Each test taking it runs once on each of the two apps above."""
    return request.getfixturevalue(request.param)


@pytest.fixture
def workers(synth):
    """The workers (stateless) stack's template of `synth`."""
    return synth.template(names.STATELESS_STACK_NAME)
