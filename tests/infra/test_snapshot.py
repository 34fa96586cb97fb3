"""Snapshot of both templates, so that every infrastructure change shows up in review.

Asset hashes and asset paths are masked; everything else must match. The app is built with the
same context and feature flags as `cdk synth` (see tests/infra/synth.py), and
tests/infra/test_cli_synth.py checks the real `cdk synth` output against the same snapshot.

After an intended change, rewrite the snapshots and review the diff:

    UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/infra/test_snapshot.py
"""

from __future__ import annotations

import json
import os

import pytest

from infra import names
from tests.infra.synth import SNAPSHOT_DIR, mask

STACKS = [names.STATEFUL_STACK_NAME, names.STATELESS_STACK_NAME]
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"


def snapshot_path(stack_name):
    return SNAPSHOT_DIR / f"{stack_name}.json"


def assert_matches_snapshot(stack_name, template):
    path = snapshot_path(stack_name)
    masked = mask(template)
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(masked, indent=1) + "\n")
        return
    if not path.exists():
        pytest.fail(f"no snapshot at {path}; create it with UPDATE_SNAPSHOTS=1")
    expected = json.loads(path.read_text())
    assert masked == expected, (
        f"{stack_name} differs from {path.name}. If the change is intended, run "
        "`UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/infra/test_snapshot.py` and review the diff."
    )


@pytest.mark.parametrize("stack_name", STACKS)
def test_template_matches_snapshot(default_synth, stack_name):
    assert_matches_snapshot(stack_name, default_synth.template(stack_name))


def test_masking_keeps_everything_but_hashes_and_asset_paths():
    template = {
        "Code": {"S3Key": "a" * 64 + ".zip", "S3Bucket": "bucket"},
        "Metadata": {"aws:asset:path": "asset." + "b" * 64, "aws:cdk:path": "Stack/Function"},
        "Short": "abc123",
    }
    assert mask(template) == {
        "Code": {"S3Key": "<asset hash>.zip", "S3Bucket": "bucket"},
        "Metadata": {"aws:asset:path": "<asset path>", "aws:cdk:path": "Stack/Function"},
        "Short": "abc123",
    }
