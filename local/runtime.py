"""The synthesized stacks, created on a local moto server, with Lambda's SQS poller emulated.

``LocalRuntime`` reads every stack of the cloud assembly and creates, through the service APIs,
what it describes: SQS queues (visibility timeout, retention, redrive policy to their DLQ) and their
queue policies, DynamoDB tables (key schema, indexes, TTL, point-in-time recovery) and SES identities,
verified as moto does. It does not use moto's CloudFormation for that: it lacks
``AWS::SQS::QueuePolicy`` and ``AWS::SES::EmailIdentity``. Each stack's resolved outputs are then
published as a CloudFormation stack of the same name, so that tools find the queues the way they do
in a real account (``describe-stacks``).

Lambda functions are not deployed anywhere: their handler path, environment (intrinsics resolved
to the local names and URLs), timeout and memory are read from the template, and each
``AWS::Lambda::EventSourceMapping`` on an SQS queue is emulated the way the Lambda poller behaves:

* it receives up to ``BatchSize`` messages and invokes the handler in this process, with the
  function's environment (its variables and Lambda's reserved ones, nothing else of the host's) set
  for the duration of the call;
* with ``FunctionResponseTypes: [ReportBatchItemFailures]``, it deletes the records not listed in
  ``batchItemFailures`` and leaves the listed ones for redelivery; an invalid list fails the whole
  batch. Without it, a normal return deletes the whole batch, failed records included;
* a handler that raises leaves the whole batch for redelivery;
* the queue's redrive policy (``maxReceiveCount``) moves a message received that many times to its
  DLQ, as SQS does (moto implements this on receive).

Two liberties keep a run short, and neither changes which messages end where: records left for
redelivery become visible again at once instead of after the queue's visibility timeout, and the
batching window is not waited for. Invocations run one at a time (each sets the process
environment), whatever ``MaximumConcurrency`` says; the records of a batch still run on the
function's own thread pool.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import json
import logging
import re
import time
import uuid
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from moto.backends import get_backend

from local.assembly import Assembly
from local.lambda_logs import LambdaJsonFormatter, OutcomeLog
from local.outbox import SentEmail, sent_emails
from local.sandbox import (
    ACCOUNT,
    CREDENTIALS,
    REGION,
    IsolatedAws,
    fresh_function_services,
    function_environment,
)
from local.server import MotoServer
from local.sources.sqs import DEFAULT_BATCH_SIZE, QueuePoller, invoke_batch
from local.template import Deployment, Physical, StackState, TemplateError, creation_order

DEFAULT_TIMEOUT = 3  # AWS::Lambda::Function defaults
DEFAULT_MEMORY = 128
# The environment variable the functions read their sender from (lambdas.runtime.config.ENV_SENDER).
SENDER_VARIABLE = "SENDER"
QUEUE_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "KmsDataKeyReusePeriodSeconds",
    "SqsManagedSseEnabled",
)
# Properties whose behaviour the runtime does not emulate: a template that sets them fails loudly
# rather than running on a resource that behaves otherwise.
NOT_EMULATED = {
    "AWS::SQS::Queue": ("FifoQueue",),
    "AWS::DynamoDB::Table": (
        "GlobalSecondaryIndexes",
        "LocalSecondaryIndexes",
        "StreamSpecification",
        "TimeToLiveSpecification",
    ),
}
_CDK_HASH = re.compile(r"[0-9A-F]{8}$")


class RuntimeProblem(RuntimeError):
    """The local runtime cannot follow the template, or the queues do not drain."""


# ------------------------------------------------------------------------------------------- model


@dataclass
class Queue:
    stack: str
    logical_id: str
    name: str
    url: str
    arn: str
    visibility_timeout: int
    dead_letter_arn: str | None = None
    max_receive_count: int | None = None


@dataclass
class Table:
    stack: str
    logical_id: str
    name: str
    keys: list[tuple[str, str]]  # (attribute, HASH|RANGE)


@dataclass
class Identity:
    stack: str | None  # None: not in the template, verified locally on the functions' behalf
    name: str


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

    @property
    def label(self) -> str:
        return label(self.logical_id)


@dataclass
class EventSourceMapping:
    stack: str
    logical_id: str
    function: Function
    queue: Queue
    batch_size: int
    batching_window: int
    report_batch_item_failures: bool
    maximum_concurrency: int | None
    enabled: bool = True


@dataclass
class Invocation:
    function: Function
    queue: Queue
    message_ids: list[str]
    failed: list[str]  # left on the queue for redelivery
    deleted: list[str]
    outcomes: Counter
    seconds: float
    response: Any = None
    error: str | None = None


def label(logical_id: str) -> str:
    """A CDK logical id without its hash suffix: InviteWorkerFunctionC70A1FA2 -> InviteWorkerFunction."""
    return _CDK_HASH.sub("", logical_id) or logical_id


# ----------------------------------------------------------------------------------------- runtime


class LocalRuntime:
    def __init__(
        self,
        assembly: Assembly,
        *,
        work_dir: Path,
        region: str = REGION,
        port: int = 0,
        log: Callable[[str], None] | None = None,
    ):
        self.assembly = assembly
        self.region = region
        self.work_dir = Path(work_dir)
        self.log_dir = self.work_dir / "logs"
        self._log = log or (lambda _message: None)
        self.server = MotoServer(port=port)
        self.deployment = Deployment(assembly, region, ACCOUNT)
        self.queues: dict[str, Queue] = {}  # by ARN
        self.tables: list[Table] = []
        self.identities: list[Identity] = []
        self.functions: list[Function] = []
        self.mappings: list[EventSourceMapping] = []
        self.not_emulated: Counter = Counter()  # resource type -> count
        self.notes: list[str] = []
        self._handlers: dict[str, Callable] = {}
        self._sandbox: IsolatedAws | None = None
        self._services: contextlib.AbstractContextManager | None = None
        self._emails_seen = 0
        self._session: boto3.session.Session | None = None
        self._clients: dict[tuple[str, str], Any] = {}

    # ---------------------------------------------------------------------------------- lifecycle

    def __enter__(self) -> LocalRuntime:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def start(self) -> LocalRuntime:
        self.server.start()
        try:
            self.server.reset()
            self._sandbox = IsolatedAws(self.endpoint, self.region)
            self._sandbox.enter()
            self._session = _session(self.region)
            self._clients = {}
            self._services = fresh_function_services()
            self._services.__enter__()
            if self.log_dir.exists():
                for old in self.log_dir.glob("*.log"):
                    old.unlink()
            self.log_dir.mkdir(parents=True, exist_ok=True)
            self.deploy()
        except BaseException:
            self.stop()  # a template the runtime cannot follow leaves no server or environment behind
            raise
        return self

    def stop(self) -> None:
        self.server.stop()
        if self._sandbox is not None:
            self._sandbox.exit()
            self._sandbox = None
        if self._services is not None:
            self._services.__exit__(None, None, None)
            self._services = None

    @property
    def endpoint(self) -> str:
        return self.server.url

    def client(self, service: str):
        """A client of this runtime's server (made once: creating boto3 clients is slow)."""
        key = (service, self.endpoint)
        if key not in self._clients:
            self._clients[key] = self._session.client(service, endpoint_url=self.endpoint)
        return self._clients[key]

    # ------------------------------------------------------------------------------------- deploy

    def deploy(self) -> None:
        clients = {name: self.client(name) for name in ("sqs", "dynamodb", "sesv2", "cloudformation")}
        for stack in self.assembly.stacks:
            state = self.deployment.stack(stack.name)
            for logical_id in creation_order(state):
                self._create(state, logical_id, clients)
        self._verify_senders(clients["sesv2"])
        for stack in self.assembly.stacks:
            self._publish_outputs(self.deployment.stack(stack.name), clients["cloudformation"])

    def _create(self, state: StackState, logical_id: str, clients: dict) -> None:
        definition = state.resources[logical_id]
        kind = definition.get("Type", "")
        if not state.included(logical_id):
            return
        creator = {
            "AWS::SQS::Queue": self._create_queue,
            "AWS::SQS::QueuePolicy": self._apply_queue_policy,
            "AWS::DynamoDB::Table": self._create_table,
            "AWS::SES::EmailIdentity": self._create_identity,
            "AWS::Lambda::Function": self._register_function,
            "AWS::Lambda::EventSourceMapping": self._register_mapping,
        }.get(kind)
        try:
            for name in NOT_EMULATED.get(kind, ()):
                if name in definition.get("Properties", {}):
                    raise TemplateError(f"{name} is not emulated by the local runtime")
            if creator is None:
                state.physical[logical_id] = self._placeholder(state, logical_id, kind)
                if kind != "AWS::CDK::Metadata":
                    self.not_emulated[kind] += 1
                return
            state.physical[logical_id] = creator(state, logical_id, definition.get("Properties", {}), clients)
        except TemplateError as error:
            raise RuntimeProblem(f"{state.name}/{logical_id} ({kind}): {error}") from error

    def _placeholder(self, state: StackState, logical_id: str, kind: str) -> Physical:
        """Roles, policies, alarms, log groups...: nothing local needs them, but others refer to them."""
        service = kind.split("::")[1].lower() if kind.count("::") >= 2 else "local"
        name = _physical_name(state.name, logical_id, 64)
        arn = f"arn:aws:{service}:{self.region}:{ACCOUNT}:{name}"
        return Physical(ref=name, attributes=_Anything(arn=arn, name=name))

    def _create_queue(self, state: StackState, logical_id: str, properties: dict, clients: dict) -> Physical:
        props = state.resolve(properties)
        name = props.get("QueueName") or _physical_name(state.name, logical_id, 80)
        attributes = {key: _attribute(props[key]) for key in QUEUE_ATTRIBUTES if key in props}
        for key in ("RedrivePolicy", "RedriveAllowPolicy"):
            if key in props:
                attributes[key] = json.dumps(props[key]) if isinstance(props[key], dict) else props[key]
        sqs = clients["sqs"]
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        redrive = props.get("RedrivePolicy") or {}
        if isinstance(redrive, str):
            redrive = json.loads(redrive)
        self.queues[arn] = Queue(
            stack=state.name,
            logical_id=logical_id,
            name=name,
            url=url,
            arn=arn,
            visibility_timeout=int(props.get("VisibilityTimeout", 30)),
            dead_letter_arn=redrive.get("deadLetterTargetArn"),
            max_receive_count=int(redrive["maxReceiveCount"]) if "maxReceiveCount" in redrive else None,
        )
        return Physical(ref=url, attributes={"Arn": arn, "QueueName": name, "QueueUrl": url})

    def _apply_queue_policy(self, state: StackState, logical_id: str, properties: dict, clients: dict):
        props = state.resolve(properties)
        document = json.dumps(props["PolicyDocument"])
        for url in props.get("Queues", []):
            clients["sqs"].set_queue_attributes(QueueUrl=url, Attributes={"Policy": document})
        return Physical(ref=_physical_name(state.name, logical_id, 64))

    def _create_table(self, state: StackState, logical_id: str, properties: dict, clients: dict) -> Physical:
        props = state.resolve(properties)
        name = props.get("TableName") or _physical_name(state.name, logical_id, 255)
        billing = props.get("BillingMode", "PROVISIONED")
        request: dict[str, Any] = {
            "TableName": name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": billing,
        }
        if billing == "PROVISIONED":
            request["ProvisionedThroughput"] = props.get("ProvisionedThroughput") or {
                "ReadCapacityUnits": 5,
                "WriteCapacityUnits": 5,
            }
        if "SSESpecification" in props:
            request["SSESpecification"] = {"Enabled": bool(props["SSESpecification"].get("SSEEnabled"))}
        if "DeletionProtectionEnabled" in props:
            request["DeletionProtectionEnabled"] = bool(props["DeletionProtectionEnabled"])
        dynamodb = clients["dynamodb"]
        table = dynamodb.create_table(**request)["TableDescription"]
        recovery = props.get("PointInTimeRecoverySpecification") or {}
        if recovery.get("PointInTimeRecoveryEnabled"):
            dynamodb.update_continuous_backups(
                TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
            )
        keys = [(k["AttributeName"], k["KeyType"]) for k in props["KeySchema"]]
        self.tables.append(Table(stack=state.name, logical_id=logical_id, name=name, keys=keys))
        return Physical(ref=name, attributes={"Arn": table["TableArn"]})

    def _create_identity(self, state: StackState, logical_id: str, properties: dict, clients: dict):
        props = state.resolve(properties)
        identity = props["EmailIdentity"]
        self._create_verified_identity(clients["sesv2"], identity)
        self.identities.append(Identity(stack=state.name, name=identity))
        return Physical(ref=identity, attributes=_Anything(arn=identity, name=identity))

    def _register_function(self, state: StackState, logical_id: str, properties: dict, clients: dict):
        # Only what running the handler needs is resolved (not Code, Role, Layers...).
        name = state.resolve(properties.get("FunctionName")) or _physical_name(state.name, logical_id, 64)
        arn = f"arn:aws:lambda:{self.region}:{ACCOUNT}:function:{name}"
        variables = state.resolve(properties.get("Environment", {}).get("Variables", {}))
        handler = state.resolve(properties.get("Handler"))
        if not handler:
            raise TemplateError("the function has no Handler (container images are not emulated)")
        function = Function(
            stack=state.name,
            logical_id=logical_id,
            name=name,
            arn=arn,
            handler=handler,
            timeout=int(state.resolve(properties.get("Timeout", DEFAULT_TIMEOUT))),
            memory=int(state.resolve(properties.get("MemorySize", DEFAULT_MEMORY))),
            environment={key: _environment_value(value) for key, value in variables.items()},
            log_file=self.log_dir / f"{label(logical_id)}.log",
        )
        self._handler(function)  # import it now: a wrong handler path fails before any message
        self.functions.append(function)
        return Physical(ref=name, attributes={"Arn": arn})

    def _register_mapping(self, state: StackState, logical_id: str, properties: dict, clients: dict):
        props = state.resolve(properties)
        reference = str(props.get("FunctionName", ""))
        function = next(
            (f for f in self.functions if reference in (f.name, f.arn) or reference.startswith(f.arn + ":")),
            None,
        )
        source = props.get("EventSourceArn", "")
        queue = self.queues.get(source)
        physical = Physical(ref=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{state.name}/{logical_id}")))
        if function is None or queue is None:
            self.notes.append(
                f"{state.name}/{logical_id}: only SQS queues and functions of this assembly are emulated"
                f" (function {reference!r}, source {source!r})"
            )
            return physical
        if props.get("FilterCriteria"):
            self.notes.append(
                f"{label(logical_id)}: FilterCriteria are not emulated (every message is delivered)"
            )
        scaling = props.get("ScalingConfig") or {}
        self.mappings.append(
            EventSourceMapping(
                stack=state.name,
                logical_id=logical_id,
                function=function,
                queue=queue,
                batch_size=int(props.get("BatchSize", DEFAULT_BATCH_SIZE)),
                batching_window=int(props.get("MaximumBatchingWindowInSeconds", 0)),
                report_batch_item_failures="ReportBatchItemFailures"
                in props.get("FunctionResponseTypes", []),
                maximum_concurrency=scaling.get("MaximumConcurrency"),
                enabled=props.get("Enabled", True) not in (False, "false"),
            )
        )
        return physical

    def _create_verified_identity(self, sesv2, identity: str) -> None:
        """Create the identity and complete its verification (the link or DNS records in real SES)."""
        sesv2.create_email_identity(EmailIdentity=identity)
        backend = get_backend("ses")[ACCOUNT][self.region]
        with self.server.locked():
            backend.email_identities[identity].verified_for_sending_status = True

    def _verify_senders(self, sesv2) -> None:
        """A sender the template does not create is one the account verified beforehand."""
        known = {identity.name.lower() for identity in self.identities}
        for function in self.functions:
            sender = function.environment.get(SENDER_VARIABLE, "")
            domain = sender.rpartition("@")[2].lower()
            if sender and sender.lower() not in known and domain not in known:
                self._create_verified_identity(sesv2, sender)
                known.add(sender.lower())
                self.identities.append(Identity(stack=None, name=sender))
                self.notes.append(f"{sender}: not an identity of the template, verified locally")

    def _publish_outputs(self, state: StackState, cloudformation) -> None:
        outputs = {}
        for key, output in state.outputs().items():
            value = output["Value"]
            entry = {"Value": ",".join(map(str, value)) if isinstance(value, list) else str(value)}
            if "Description" in output:
                entry["Description"] = output["Description"]
            if "ExportName" in output:
                entry["Export"] = {"Name": output["ExportName"]}
            outputs[key] = entry
        template = {
            "Description": f"Outputs of {state.name}, resolved by the local runtime",
            "Resources": {"LocalRuntime": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
            "Outputs": outputs,
        }
        with warnings.catch_warnings():  # "not supported by moto's CloudFormation": on purpose
            warnings.simplefilter("ignore")
            cloudformation.create_stack(StackName=state.name, TemplateBody=json.dumps(template))

    # ------------------------------------------------------------------------------ lookups

    def queue(self, name_or_logical: str) -> Queue:
        for queue in self.queues.values():
            if name_or_logical in (queue.name, queue.logical_id, label(queue.logical_id), queue.url):
                return queue
        raise KeyError(name_or_logical)

    def mapping_for(self, handler: str) -> EventSourceMapping:
        return next(m for m in self.mappings if m.function.handler == handler)

    def outputs(self) -> dict[str, str]:
        merged = {}
        for stack in self.assembly.stacks:
            for key, output in self.deployment.stack(stack.name).outputs().items():
                merged[key] = output["Value"]
        return merged

    # ------------------------------------------------------------------------- event sources

    def drain(self, *, max_invocations: int = 500, timeout: float = 60.0) -> list[Invocation]:
        """Deliver until no queue with an event source mapping holds a message."""
        invocations: list[Invocation] = []
        deadline = time.monotonic() + timeout
        while True:
            delivered = self.poll_once()
            invocations += delivered
            if len(invocations) > max_invocations:
                raise RuntimeProblem(f"the queues did not drain after {max_invocations} invocations")
            if delivered:
                continue
            if self._all_empty():
                return invocations
            if time.monotonic() > deadline:
                raise RuntimeProblem("messages stayed in flight or delayed; the queues did not drain")
            time.sleep(0.05)

    def poll_once(self) -> list[Invocation]:
        """One receive (and at most one invocation) per enabled event source mapping."""
        invocations = []
        for mapping in self.mappings:
            if not mapping.enabled:
                continue
            messages = self._receive(mapping)
            if messages:
                invocations.append(self._deliver(mapping, messages))
        return invocations

    def _all_empty(self) -> bool:
        return all(self._poller(m).is_empty() for m in self.mappings if m.enabled)

    def _poller(self, mapping: EventSourceMapping) -> QueuePoller:
        queue = mapping.queue
        return QueuePoller(
            self.client("sqs"), queue.url, arn=queue.arn, region=self.region, batch_size=mapping.batch_size
        )

    def _receive(self, mapping: EventSourceMapping) -> list[dict]:
        return self._poller(mapping).receive()

    def _deliver(self, mapping: EventSourceMapping, messages: list[dict]) -> Invocation:
        function, queue = mapping.function, mapping.queue
        poller = self._poller(mapping)
        handler = self._handler(function)
        context = _LambdaContext(function, self.region)
        collector = OutcomeLog()
        environment = self._lambda_environment(function)
        with (
            function_environment(environment, only=True),
            _function_logs(function.log_file),
            collector.attached(),
        ):
            outcome = invoke_batch(
                lambda event: handler(event, context),
                poller.records(messages),
                report_batch_item_failures=mapping.report_batch_item_failures,
            )
        deleted = poller.settle(messages, outcome.failed)
        if outcome.seconds > function.timeout:
            self.notes.append(
                f"{function.label}: an invocation took {outcome.seconds:.1f} s, over its {function.timeout} s"
            )
        return Invocation(
            function=function,
            queue=queue,
            message_ids=[m["MessageId"] for m in messages],
            failed=outcome.failed,
            deleted=deleted,
            outcomes=collector.count(),
            seconds=outcome.seconds,
            response=outcome.response,
            error=outcome.error,
        )

    def _handler(self, function: Function) -> Callable:
        if function.handler not in self._handlers:
            module_name, _, attribute = function.handler.rpartition(".")
            try:
                self._handlers[function.handler] = getattr(importlib.import_module(module_name), attribute)
            except (ImportError, AttributeError) as error:
                raise RuntimeProblem(
                    f"{function.label}: handler {function.handler!r} not found: {error}"
                ) from error
        return self._handlers[function.handler]

    def _lambda_environment(self, function: Function) -> dict[str, str]:
        """The function's variables and Lambda's reserved ones."""
        reserved = {
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "_HANDLER": function.handler,
            "LAMBDA_TASK_ROOT": str(Path(importlib.import_module("lambdas").__file__).parent.parent),
        }
        return {**function.environment, **reserved}

    # --------------------------------------------------------------------------------- emails

    def sent_emails(self) -> list[SentEmail]:
        """Every email SES accepted, in order."""
        return sent_emails(self.region, self.server.locked())

    def new_emails(self) -> list[SentEmail]:
        """The emails sent since the previous call."""
        emails = self.sent_emails()
        fresh, self._emails_seen = emails[self._emails_seen :], len(emails)
        return fresh


# ----------------------------------------------------------------------------------------- helpers


@functools.cache
def _session(region: str) -> boto3.session.Session:
    """One session per process (loading the service models is slow), with throw-away keys.

    First made inside a started runtime, whose environment holds no AWS_PROFILE of the user's.
    """
    return boto3.session.Session(region_name=region, **CREDENTIALS)


class _Anything(dict):
    """GetAtt on a resource that is not emulated: an ARN for Arn, a stand-in for anything else."""

    def __init__(self, arn: str, name: str):
        super().__init__(Arn=arn)
        self._name = name

    def __contains__(self, key) -> bool:
        return True

    def __missing__(self, key: str) -> str:
        return f"{self._name}.{key}"


def _physical_name(stack: str, logical_id: str, limit: int, suffix: str = "") -> str:
    """Deterministic stand-in for CloudFormation's generated names (<stack>-<logical id>-<random>)."""
    return f"{stack}-{logical_id}"[: limit - len(suffix)] + suffix


def _attribute(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _environment_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        raise TemplateError(f"environment value {value!r} did not resolve to a string")
    return str(value)


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


class _LambdaContext:
    """The parts of Lambda's context object that handlers commonly read."""

    def __init__(self, function: Function, region: str):
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
