"""docs/cost.md prices what the stacks create: what it counts and assumes is read from the templates."""

from __future__ import annotations

from pathlib import Path

from infra import names
from tests.infra.helpers import resources

ROOT = Path(__file__).resolve().parents[2]
COST = (ROOT / "docs" / "cost.md").read_text(encoding="utf-8")


def _all(synth, resource_type: str) -> dict:
    found = {}
    for stack in (names.STATEFUL_STACK_NAME, names.STATELESS_STACK_NAME):
        found |= resources(synth.template(stack), resource_type)
    return found


def test_the_keys_priced_at_rest_are_the_templates(default_synth, configured_synth):
    keys = _all(default_synth, "AWS::KMS::Key")
    assert f"| KMS keys | {len(keys)} keys × $1 | **${len(keys):.2f}** |" in COST
    configured = _all(configured_synth, "AWS::KMS::Key")
    event_address = [key for key in configured if "EventAddress" in key]
    assert len(event_address) == 1  # the configured app has an event address (its own topic)
    assert f"With `alarmEmail`, {len(configured) - 1} (the alarm topic)" in COST
    assert "With `eventEmail`, 1 more (the event address's topic)" in COST
    # the rotation line prices a rotation of every key
    assert all(key["Properties"].get("EnableKeyRotation") is True for key in keys.values())


def test_the_alarms_priced_at_rest_are_the_templates(default_synth):
    alarms = _all(default_synth, "AWS::CloudWatch::Alarm")
    assert f"| CloudWatch alarms | {len(alarms)} × $0.10 | **${len(alarms) * 0.10:.2f}** |" in COST


def test_the_idle_polling_is_priced_for_each_polled_queue(default_synth):
    mappings = _all(default_synth, "AWS::Lambda::EventSourceMapping")
    assert f"per queue; × {len(mappings)} queues" in COST


def test_the_lambda_price_is_for_the_functions_as_deployed(default_synth):
    for function in _all(default_synth, "AWS::Lambda::Function").values():
        assert function["Properties"]["Architectures"] == ["arm64"]
        assert function["Properties"]["MemorySize"] == 256
    assert "at 256 MB" in COST
    assert "(arm64)" in COST
