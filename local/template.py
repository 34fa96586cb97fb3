"""CloudFormation intrinsic functions, resolved against the resources the local runtime created.

Only what a synthesized CDK template uses is supported: ``Ref`` (resources, parameters and pseudo
parameters), ``Fn::GetAtt``, ``Fn::Join``, ``Fn::Sub``, ``Fn::If``, ``Fn::ImportValue`` (exports
of any stack of the assembly), ``Fn::GetStackOutput`` (CDK's "weak" cross-stack references),
``Fn::Equals``, ``Fn::Not`` and ``Condition``; each is tested in tests/local/test_template.py.
Anything else raises :class:`TemplateError` naming the function, so an unsupported template fails
loudly instead of running with a wrong value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from local.assembly import Assembly, StackTemplate

PARTITION = "aws"
URL_SUFFIX = "amazonaws.com"


class TemplateError(RuntimeError):
    """The template asks for something the local runtime cannot resolve."""


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()


@dataclass
class Physical:
    """What a created resource answers to ``Ref`` and ``Fn::GetAtt``."""

    ref: Any
    attributes: dict[str, Any] = field(default_factory=dict)


_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class Deployment:
    """Every stack of an assembly, resolved in one region and account."""

    def __init__(self, assembly: Assembly, region: str, account: str):
        self.region = region
        self.account = account
        self.stacks = {stack.name: StackState(stack, self) for stack in assembly.stacks}

    def stack(self, name: str) -> StackState:
        try:
            return self.stacks[name]
        except KeyError:
            raise TemplateError(f"no stack named {name!r} in the assembly") from None

    def export(self, name: str) -> Any:
        for stack in self.stacks.values():
            for output in stack.template.get("Outputs", {}).values():
                export = output.get("Export")
                if export and stack.resolve(export.get("Name")) == name:
                    return stack.resolve(output["Value"])
        raise TemplateError(f"Fn::ImportValue: no stack of the assembly exports {name!r}")


class StackState:
    def __init__(self, stack: StackTemplate, deployment: Deployment):
        self.stack = stack
        self.name = stack.name
        self.template = stack.template
        self.deployment = deployment
        self.physical: dict[str, Physical] = {}
        self.parameter_values: dict[str, Any] = {}
        self._conditions: dict[str, bool] = {}

    @property
    def resources(self) -> dict[str, dict]:
        return self.template.get("Resources", {})

    # --------------------------------------------------------------------------------- conditions

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            definitions = self.template.get("Conditions", {})
            if name not in definitions:
                raise TemplateError(f"{self.name}: unknown condition {name!r}")
            self._conditions[name] = bool(self.resolve(definitions[name]))
        return self._conditions[name]

    def included(self, logical_id: str) -> bool:
        """False for a resource whose Condition is false (CloudFormation does not create it)."""
        condition = self.resources[logical_id].get("Condition")
        return condition is None or self.condition(condition)

    # ----------------------------------------------------------------------------------- outputs

    def outputs(self) -> dict[str, dict[str, Any]]:
        """Resolved outputs: key -> {"Value", "Description"?, "ExportName"?}."""
        resolved = {}
        for key, output in self.template.get("Outputs", {}).items():
            if "Condition" in output and not self.condition(output["Condition"]):
                continue
            entry = {"Value": self.resolve(output["Value"])}
            if "Description" in output:
                entry["Description"] = self.resolve(output["Description"])
            if "Export" in output:
                entry["ExportName"] = self.resolve(output["Export"]["Name"])
            resolved[key] = entry
        return resolved

    # -------------------------------------------------------------------------------- intrinsics

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in (self.resolve(v) for v in value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key,) = value
            handler = _FUNCTIONS.get(key)
            if handler is not None:
                return handler(self, value[key])
            if key.startswith("Fn::"):
                raise TemplateError(f"{self.name}: {key} is not supported by the local runtime")
        return {k: v for k, v in ((k, self.resolve(v)) for k, v in value.items()) if v is not NO_VALUE}

    def ref(self, name: str) -> Any:
        pseudo = self._pseudo(name)
        if pseudo is not None:
            return pseudo
        if name in self.template.get("Parameters", {}):
            return self._parameter(name)
        if name in self.resources:
            return self._created(name).ref
        raise TemplateError(f"{self.name}: Ref to unknown name {name!r}")

    def get_att(self, logical_id: str, attribute: str) -> Any:
        physical = self._created(logical_id)
        if attribute not in physical.attributes:
            kind = self.resources[logical_id].get("Type")
            raise TemplateError(
                f"{self.name}: Fn::GetAtt {logical_id}.{attribute} ({kind}) is not known to the local runtime"
            )
        return physical.attributes[attribute]

    def _created(self, logical_id: str) -> Physical:
        if logical_id not in self.physical:
            raise TemplateError(f"{self.name}: {logical_id} is referenced before it was created")
        return self.physical[logical_id]

    def _pseudo(self, name: str) -> Any:
        deployment = self.deployment
        return {
            "AWS::Region": deployment.region,
            "AWS::AccountId": deployment.account,
            "AWS::Partition": PARTITION,
            "AWS::URLSuffix": URL_SUFFIX,
            "AWS::StackName": self.name,
            "AWS::StackId": (
                f"arn:{PARTITION}:cloudformation:{deployment.region}:{deployment.account}:stack/{self.name}/local"
            ),
            "AWS::NotificationARNs": [],
            "AWS::NoValue": NO_VALUE,
        }.get(name)

    def _parameter(self, name: str) -> Any:
        if name in self.parameter_values:
            return self.parameter_values[name]
        spec = self.template["Parameters"][name]
        if spec.get("Type", "").startswith("AWS::SSM::Parameter::Value"):
            raise TemplateError(
                f"{self.name}: parameter {name} is read from SSM, which the local runtime lacks"
            )
        if "Default" not in spec:
            raise TemplateError(f"{self.name}: parameter {name} has no default; the local runtime needs one")
        return spec["Default"]

    def references(self, value: Any) -> set[str]:
        """Logical ids of this stack's resources that ``value`` refers to (Ref, GetAtt, Sub)."""
        found: set[str] = set()
        self._collect(value, found)
        return found & set(self.resources)

    def _collect(self, value: Any, found: set[str]) -> None:
        if isinstance(value, list):
            for item in value:
                self._collect(item, found)
        elif isinstance(value, dict):
            if len(value) == 1:
                (key,) = value
                argument = value[key]
                if key == "Ref" and isinstance(argument, str):
                    found.add(argument)
                    return
                if key == "Fn::GetAtt":
                    found.add(_split_get_att(argument)[0])
                    return
                if key == "Fn::Sub":
                    text = argument if isinstance(argument, str) else argument[0]
                    found.update(name.split(".")[0] for name in _SUB_VARIABLE.findall(text))
            for item in value.values():
                self._collect(item, found)


def _split_get_att(argument: Any) -> tuple[str, str]:
    if isinstance(argument, str):
        logical_id, _, attribute = argument.partition(".")
        return logical_id, attribute
    return argument[0], argument[1]


# ------------------------------------------------------------------------------------- functions


def _ref(stack: StackState, name: Any) -> Any:
    return stack.ref(stack.resolve(name))


def _get_att(stack: StackState, argument: Any) -> Any:
    logical_id, attribute = _split_get_att(argument)
    return stack.get_att(logical_id, stack.resolve(attribute))


def _join(stack: StackState, argument: list) -> str:
    delimiter, values = argument
    parts = stack.resolve(values)
    return stack.resolve(delimiter).join(str(part) for part in parts)


def _sub(stack: StackState, argument: Any) -> str:
    if isinstance(argument, str):
        text, variables = argument, {}
    else:
        text, variables = argument[0], stack.resolve(argument[1])

    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"
        if name in variables:
            return str(variables[name])
        if "." in name:
            logical_id, attribute = name.split(".", 1)
            return str(stack.get_att(logical_id, attribute))
        return str(stack.ref(name))

    return _SUB_VARIABLE.sub(replace, text)


def _if(stack: StackState, argument: list) -> Any:
    condition, when_true, when_false = argument
    return stack.resolve(when_true if stack.condition(condition) else when_false)


def _import_value(stack: StackState, argument: Any) -> Any:
    return stack.deployment.export(stack.resolve(argument))


def _get_stack_output(stack: StackState, argument: dict) -> Any:
    spec = stack.resolve(argument)
    other = stack.deployment.stack(spec["StackName"])
    key = spec["OutputName"]
    outputs = other.template.get("Outputs", {})
    if key not in outputs:
        raise TemplateError(f"Fn::GetStackOutput: stack {other.name} has no output {key!r}")
    return other.resolve(outputs[key]["Value"])


def _equals(stack: StackState, argument: list) -> bool:
    left, right = (stack.resolve(a) for a in argument)
    return str(left) == str(right)


def _not(stack: StackState, argument: list) -> bool:
    return not _truth(stack, argument[0])


def _condition(stack: StackState, argument: str) -> bool:
    return stack.condition(argument)


def _truth(stack: StackState, value: Any) -> bool:
    resolved = stack.resolve(value)
    return resolved is True or str(resolved).lower() == "true"


_FUNCTIONS = {
    "Ref": _ref,
    "Fn::GetAtt": _get_att,
    "Fn::Join": _join,
    "Fn::Sub": _sub,
    "Fn::If": _if,
    "Fn::ImportValue": _import_value,
    "Fn::GetStackOutput": _get_stack_output,
    "Fn::Equals": _equals,
    "Fn::Not": _not,
    "Condition": _condition,
}


def creation_order(stack: StackState) -> list[str]:
    """Logical ids in an order where every resource comes after those it refers to or DependsOn."""
    resources = stack.resources
    pending = {
        logical_id: (stack.references(definition.get("Properties", {})) | set(_depends_on(definition)))
        - {logical_id}
        for logical_id, definition in resources.items()
    }
    ordered: list[str] = []
    done: set[str] = set()
    while pending:
        ready = [lid for lid, needs in pending.items() if needs <= done]
        if not ready:
            raise TemplateError(f"{stack.name}: circular references between {sorted(pending)}")
        for logical_id in ready:  # template order among the ready ones
            ordered.append(logical_id)
            done.add(logical_id)
            del pending[logical_id]
    return ordered


def _depends_on(definition: dict) -> list[str]:
    depends = definition.get("DependsOn", [])
    return [depends] if isinstance(depends, str) else list(depends)
