"""The registry of resource units, and what a unit is given to create its resource.

A unit is a function ``create(c: Creation) -> Physical`` registered for one or more CloudFormation
types with ``@creates("AWS::Service::Type")``. It creates the resource through the service APIs of
the local moto server (``c.client``), records what the runtime must know of it in ``c.inventory``
(queues, functions, event sources...), and returns what ``Ref`` and ``Fn::GetAtt`` answer. Types
without a unit get a stand-in (``placeholder``): alarms and log groups are not needed locally, but
other resources refer to them.

``@after_deploy`` registers a step run once every stack is created (the SES unit verifies the
functions' senders that the template does not create).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from local.template import Physical, StackState, TemplateError

if TYPE_CHECKING:
    from local.resources.lambda_function import Function
    from local.resources.sqs import Queue
    from local.sources.base import EventSource

_CDK_HASH = re.compile(r"[0-9A-F]{8}$")


def label(logical_id: str) -> str:
    """A CDK logical id without its hash suffix: InviteWorkerFunctionC70A1FA2 -> InviteWorkerFunction."""
    return _CDK_HASH.sub("", logical_id) or logical_id


@dataclass
class Inventory:
    """What the units created that the runtime and its callers look up (each list in creation order)."""

    log_dir: Path
    queues: dict[str, Queue] = field(default_factory=dict)  # by ARN
    tables: list = field(default_factory=list)
    identities: list = field(default_factory=list)
    functions: list[Function] = field(default_factory=list)
    sources: list[EventSource] = field(default_factory=list)  # what drain polls
    buckets: dict[str, Any] = field(default_factory=dict)  # by name
    topics: dict[str, Any] = field(default_factory=dict)  # by ARN
    receipt_rules: list = field(default_factory=list)
    configuration_sets: list[str] = field(default_factory=list)  # names
    event_destinations: list = field(default_factory=list)  # where each configuration set publishes
    not_emulated: Counter = field(default_factory=Counter)  # resource type -> count
    notes: list[str] = field(default_factory=list)

    def function(self, reference: str) -> Function | None:
        """The function a FunctionName property names: its name, its ARN, or a version/alias ARN."""
        return next(
            (f for f in self.functions if reference in (f.name, f.arn) or reference.startswith(f.arn + ":")),
            None,
        )


@dataclass
class Site:
    """The local account the units create in: its server's clients, and the inventory."""

    inventory: Inventory
    region: str
    account: str
    client: Callable[[str], Any]  # boto3 client of the local server, by service name
    locked: Callable  # the server's request lock, held to change moto's backends from this process

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account}:{resource}"

    def note(self, text: str) -> None:
        self.inventory.notes.append(text)


@dataclass
class Creation:
    """One resource of one stack, being created."""

    state: StackState
    logical_id: str
    kind: str
    definition: dict
    site: Site

    @property
    def stack(self) -> str:
        return self.state.name

    @property
    def inventory(self) -> Inventory:
        return self.site.inventory

    @property
    def region(self) -> str:
        return self.site.region

    def client(self, service: str):
        return self.site.client(service)

    @cached_property
    def properties(self) -> dict:
        """The resource's properties, every intrinsic resolved."""
        return self.state.resolve(self.definition.get("Properties", {}))

    def resolve(self, value: Any) -> Any:
        return self.state.resolve(value)

    def physical_name(self, limit: int, suffix: str = "") -> str:
        """Deterministic stand-in for CloudFormation's generated names (<stack>-<logical id>-<random>)."""
        return f"{self.stack}-{self.logical_id}"[: limit - len(suffix)] + suffix

    def arn(self, service: str, resource: str) -> str:
        return self.site.arn(service, resource)

    def note(self, text: str) -> None:
        self.site.note(text)


Unit = Callable[[Creation], Physical]
_UNITS: dict[str, Unit] = {}
_NOT_EMULATED: dict[str, tuple[str, ...]] = {}
_AFTER_DEPLOY: list[Callable[[Site], None]] = []


def creates(*kinds: str, not_emulated: tuple[str, ...] = ()) -> Callable[[Unit], Unit]:
    """Register a unit for these CloudFormation types.

    ``not_emulated``: properties whose behaviour the unit does not emulate; a template that sets
    one fails at start rather than running on a resource that behaves otherwise.
    """

    def register(unit: Unit) -> Unit:
        for kind in kinds:
            if kind in _UNITS:
                raise RuntimeError(f"two units for {kind}")
            _UNITS[kind] = unit
            _NOT_EMULATED[kind] = not_emulated
        return unit

    return register


def after_deploy(step: Callable[[Site], None]) -> Callable[[Site], None]:
    """Register a step run once, after every stack's resources are created."""
    _AFTER_DEPLOY.append(step)
    return step


def after_deploy_steps() -> list[Callable[[Site], None]]:
    return list(_AFTER_DEPLOY)


def registered() -> dict[str, Unit]:
    return dict(_UNITS)


def create(c: Creation) -> Physical:
    """Create one resource with the unit of its type, or a stand-in when it has none."""
    for name in _NOT_EMULATED.get(c.kind, ()):
        if name in c.definition.get("Properties", {}):
            raise TemplateError(f"{name} is not emulated by the local runtime")
    unit = _UNITS.get(c.kind)
    if unit is None:
        if c.kind != "AWS::CDK::Metadata":
            c.inventory.not_emulated[c.kind] += 1
        return placeholder(c)
    return unit(c)


def placeholder(c: Creation) -> Physical:
    """Alarms, log groups...: nothing local needs them, but others refer to them."""
    service = c.kind.split("::")[1].lower() if c.kind.count("::") >= 2 else "local"
    name = c.physical_name(64)
    return Physical(ref=name, attributes=Anything(arn=c.arn(service, name), name=name))


class Anything(dict):
    """GetAtt on a resource that is not emulated: an ARN for Arn, a stand-in for anything else."""

    def __init__(self, arn: str, name: str):
        super().__init__(Arn=arn)
        self._name = name

    def __contains__(self, key) -> bool:
        return True

    def __missing__(self, key: str) -> str:
        return f"{self._name}.{key}"


def string(value: Any) -> str:
    """A resolved value as CloudFormation passes it to a string-typed API field."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        raise TemplateError(f"value {value!r} did not resolve to a string")
    return str(value)
