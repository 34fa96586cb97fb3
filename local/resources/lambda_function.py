"""AWS::Lambda::Function (run in this process) and AWS::Lambda::EventSourceMapping.

Functions are not deployed anywhere: their handler path, environment (intrinsics resolved to the
local names and URLs), timeout and memory are read from the template, and an invocation calls the
handler in this process with the function's environment (its variables and Lambda's reserved
ones, among them the credentials of its role, nothing else of the host's), its log file (its log
group, in Lambda's JSON log format) and a context object. An event source mapping becomes the
event source of its source's service (local/sources), which the runtime polls.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from local import execution
from local.lambda_logs import LambdaJsonFormatter, OutcomeLog
from local.resources.base import Creation, creates, label, string
from local.sandbox import function_environment
from local.sources.base import mapping_source
from local.template import Physical, TemplateError

DEFAULT_TIMEOUT = 3  # AWS::Lambda::Function defaults
DEFAULT_MEMORY = 128


@dataclass
class Function:
    stack: str
    logical_id: str
    name: str
    arn: str
    handler: str
    timeout: int
    memory: int
    environment: dict[str, str]
    log_file: Path
    region: str
    entry: Callable = field(repr=False, default=None)  # the imported handler
    credentials: dict[str, str] = field(repr=False, default_factory=dict)  # its role's, as variables

    @property
    def label(self) -> str:
        return label(self.logical_id)

    def lambda_environment(self, overrides: Mapping[str, str] | None = None) -> dict[str, str]:
        """The function's variables (``overrides`` replacing some) and Lambda's reserved ones."""
        reserved = {
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_LAMBDA_FUNCTION_NAME": self.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.memory),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "_HANDLER": self.handler,
            "LAMBDA_TASK_ROOT": str(Path(importlib.import_module("lambdas").__file__).parent.parent),
            **self.credentials,
        }
        return {**self.environment, **(overrides or {}), **reserved}

    @contextlib.contextmanager
    def invocation(self) -> Iterator[tuple[Callable[[dict], object], OutcomeLog]]:
        """(call the handler with an event, the outcome lines it logged), in Lambda's conditions.

        The call raises ``execution.FunctionTimedOut`` when the handler runs past the function's
        timeout: it is abandoned, and its late AWS calls are refused (local/execution.py)."""
        execution.install()
        context = LambdaContext(self)
        outcomes = OutcomeLog()

        def call(event: dict) -> object:
            return execution.call_with_timeout(
                lambda: self.entry(event, context), self.timeout, name=f"{self.label}-invocation"
            )

        with (
            function_environment(self.lambda_environment(), only=True),
            _function_logs(self.log_file),
            outcomes.attached(),
        ):
            yield call, outcomes


@creates("AWS::Lambda::Function")
def register_function(c: Creation) -> Physical:
    # Only what running the handler needs is resolved (not Code, Layers...).
    raw = c.definition.get("Properties", {})
    name = c.resolve(raw.get("FunctionName")) or c.physical_name(64)
    arn = c.arn("lambda", f"function:{name}")
    variables = c.resolve(raw.get("Environment", {}).get("Variables", {}))
    handler = c.resolve(raw.get("Handler"))
    if not handler:
        raise TemplateError("the function has no Handler (container images are not emulated)")
    function = Function(
        stack=c.stack,
        logical_id=c.logical_id,
        name=name,
        arn=arn,
        handler=handler,
        timeout=int(c.resolve(raw.get("Timeout", DEFAULT_TIMEOUT))),
        memory=int(c.resolve(raw.get("MemorySize", DEFAULT_MEMORY))),
        environment={key: string(value) for key, value in variables.items()},
        log_file=c.inventory.log_dir / f"{label(c.logical_id)}.log",
        region=c.region,
    )
    function.entry = _import(function)  # now: a wrong handler path fails before any message
    function.credentials = _assume(c, c.resolve(raw["Role"]), name)
    c.inventory.functions.append(function)
    return Physical(ref=name, attributes={"Arn": arn})


@creates("AWS::Lambda::EventSourceMapping")
def register_mapping(c: Creation) -> Physical:
    props = c.properties
    physical = Physical(ref=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{c.stack}/{c.logical_id}")))
    reference = str(props.get("FunctionName", ""))
    function = c.inventory.function(reference)
    source_arn = str(props.get("EventSourceArn", ""))
    service = source_arn.split(":")[2] if source_arn.count(":") >= 5 else ""
    build = mapping_source(service)
    source = build(c, function) if function is not None and build is not None else None
    if source is None:
        c.note(
            f"{c.stack}/{c.logical_id}: only SQS queues and functions of this assembly are emulated"
            f" (function {reference!r}, source {source_arn!r})"
        )
        return physical
    c.inventory.sources.append(source)
    return physical


def _assume(c: Creation, role_arn: str, function_name: str) -> dict[str, str]:
    """Credentials of the function's role, in the variables Lambda sets. Lambda names the session
    after the function, so a refusal names it: "assumed-role/<role>/<function> is not authorized"."""
    found = c.client("sts").assume_role(RoleArn=role_arn, RoleSessionName=function_name)["Credentials"]
    return {
        "AWS_ACCESS_KEY_ID": found["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": found["SecretAccessKey"],
        "AWS_SESSION_TOKEN": found["SessionToken"],
    }


def _import(function: Function) -> Callable:
    module_name, _, attribute = function.handler.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        raise TemplateError(f"handler {function.handler!r} not found: {error}") from error


@contextlib.contextmanager
def _function_logs(path: Path) -> Iterator[None]:
    """The function's log records, stdout and stderr go to its log file (its log group), as Lambda
    writes them with the JSON log format the stack sets."""
    root = logging.getLogger()
    with open(path, "a", encoding="utf-8") as log_file:
        handler = logging.StreamHandler(log_file)
        handler.setFormatter(LambdaJsonFormatter())
        root.addHandler(handler)
        try:
            with contextlib.redirect_stdout(log_file), contextlib.redirect_stderr(log_file):
                yield
        finally:
            root.removeHandler(handler)


class LambdaContext:
    """The parts of Lambda's context object that handlers commonly read."""

    def __init__(self, function: Function):
        self.function_name = function.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = function.arn
        self.memory_limit_in_mb = function.memory
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function.name}"
        self.log_stream_name = f"local/{self.aws_request_id}"
        self._deadline = time.monotonic() + function.timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))
