"""The synthesized stacks, created on a local moto server, with Lambda's event sources emulated.

``LocalRuntime`` reads every stack of the cloud assembly and, in an order where each resource
comes after those it refers to, hands each resource to the unit of its CloudFormation type
(local/resources: queues and queue policies, tables, SES identities, functions, event source
mappings...), which creates it through the service APIs. It does not use moto's CloudFormation for
that: it lacks ``AWS::SQS::QueuePolicy`` and ``AWS::SES::EmailIdentity``. Each stack's resolved
outputs are then published as a CloudFormation stack of the same name, so that tools find the
queues the way they do in a real account (``describe-stacks``).

``drain`` then lets every event source (local/sources: Lambda's SQS poller, with
ReportBatchItemFailures and the queues' redrive policies) deliver until nothing is waiting, and
``receive_email`` plays SES receiving (the receipt rule's S3 object and SNS notification, which
moto's SNS delivers to the subscribed queue), and ``publish_delivery_event`` what the configuration
set's event destination publishes when a sent email is delivered, bounces or is reported as spam.
"""

from __future__ import annotations

import contextlib
import functools
import json
import time
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError
from moto.backends import get_backend

from cisctl.target import LOCAL_RECEIVE_PATH
from local import moto_iam, resources, sources
from local.assembly import Assembly
from local.outbox import SentEmail, emails_after, forget_sent, sent_emails
from local.resources import Creation, Inventory, Site, label
from local.resources.dynamodb import Table
from local.resources.lambda_function import Function
from local.resources.ses import Identity
from local.resources.sqs import Queue
from local.sandbox import ACCOUNT, CREDENTIALS, REGION, IsolatedAws, fresh_function_services
from local.server import AttachedMoto, InProcessMoto, MotoServer, WsgiApp
from local.sources.ses_feedback import Published, publish_delivery_event
from local.sources.ses_receiving import Receipt, receive_email, receiving_route
from local.sources.sqs import Invocation, SqsEventSourceMapping
from local.template import Deployment, StackState, TemplateError, creation_order

__all__ = [
    "Function",
    "Identity",
    "Invocation",
    "LocalRuntime",
    "Queue",
    "RuntimeProblem",
    "SqsEventSourceMapping",
    "Table",
    "label",
]


class RuntimeProblem(RuntimeError):
    """The local runtime cannot follow the template, or the queues do not drain."""


class LocalRuntime:
    def __init__(
        self,
        assembly: Assembly,
        *,
        work_dir: Path,
        region: str = REGION,
        port: int = 0,
        log: Callable[[str], None] | None = None,
        front: Callable[[WsgiApp], WsgiApp] | None = None,
        moto: InProcessMoto | AttachedMoto | None = None,
    ):
        """``front``: a WSGI layer in front of moto, e.g. ``local.transport.LocalAws.front`` (the
        benchmark's round trip, counts and injected faults). ``moto``: instead of serving moto on
        ``port``, deploy into moto patched into this process (``InProcessMoto``: no endpoint for
        cisctl, but no HTTP round trip per call, what the tests use) or into one served by someone
        else (``AttachedMoto``)."""
        self.assembly = assembly
        self.region = region
        self.work_dir = Path(work_dir)
        self.log_dir = self.work_dir / "logs"
        self._log = log or (lambda _message: None)
        self.server = moto or MotoServer(port=port, front=front)
        self.deployment = Deployment(assembly, region, ACCOUNT)
        self.inventory = Inventory(log_dir=self.log_dir)
        self.site = Site(self.inventory, region, ACCOUNT, self.client, self.server.locked)
        self._sandbox: IsolatedAws | None = None
        self._services: contextlib.AbstractContextManager | None = None
        self._outbox_position = 0  # where new_emails reads on (moto's outbox is append-only)
        self._session: boto3.session.Session | None = None
        self._clients: dict[tuple[str, str], Any] = {}
        self._births: dict[str, Any] = {}  # table -> creation time, to tell whether it is still ours

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
            self._enforce_iam()
            for service in ("ses", "s3", "sns"):  # made now, outside any invocation (local/execution.py)
                self.client(service)
            self.server.routes[LOCAL_RECEIVE_PATH] = receiving_route(self.receive_email)
        except BaseException:
            self.stop()  # a template the runtime cannot follow leaves no server or environment behind
            raise
        return self

    def stop(self) -> None:
        self.server.iam.off()
        self.server.stop()
        if self._sandbox is not None:
            self._sandbox.exit()
            self._sandbox = None
        if self._services is not None:
            self._services.__exit__(None, None, None)
            self._services = None

    def _enforce_iam(self) -> None:
        """From now on each function is held to its role, and everyone else acts as an administrator
        (local/moto_iam.py): the resources were created before, as CloudFormation creates them."""
        if moto_iam.make_administrator(self.site):
            self.server.iam.on()
        else:
            self.site.note("IAM is not enforced: moto runs in another process (local/moto_iam.py)")

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
        for stack in self.assembly.stacks:
            state = self.deployment.stack(stack.name)
            for logical_id in creation_order(state):
                if state.included(logical_id):
                    self._create(state, logical_id)
        for step in resources.after_deploy_steps():
            step(self.site)
        for stack in self.assembly.stacks:
            self._publish_outputs(self.deployment.stack(stack.name))
        self._births = self._table_births()

    def _create(self, state: StackState, logical_id: str) -> None:
        definition = state.resources[logical_id]
        kind = definition.get("Type", "")
        creation = Creation(state, logical_id, kind, definition, self.site)
        try:
            state.physical[logical_id] = resources.create(creation)
        except TemplateError as error:
            raise RuntimeProblem(f"{state.name}/{logical_id} ({kind}): {error}") from error

    def _publish_outputs(self, state: StackState) -> None:
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
            self.client("cloudformation").create_stack(
                StackName=state.name, TemplateBody=json.dumps(template)
            )

    def is_intact(self) -> bool:
        """Its tables are the ones it created (a reset of the shared moto, e.g. by a served runtime
        in the same process, removes everything, its administrator too, and that runtime may create
        tables of the same names)."""
        return self._table_births() == self._births

    def _table_births(self) -> dict[str, Any]:
        dynamodb, births = self.client("dynamodb"), {}
        for table in self.tables:
            try:
                births[table.name] = dynamodb.describe_table(TableName=table.name)["Table"][
                    "CreationDateTime"
                ]
            except ClientError:  # gone, or its administrator is
                births[table.name] = None
        return births

    def empty(self) -> None:
        """Forget every item, message, stored object and sent email, keeping the deployed
        resources: a fresh account for the next test without deploying again."""
        dynamodb, s3 = self.client("dynamodb"), self.client("s3")
        for table in self.tables:
            names = [name for name, _ in table.keys]
            scan = {
                "TableName": table.name,
                "ProjectionExpression": ", ".join(f"#{i}" for i in range(len(names))),
            }
            scan["ExpressionAttributeNames"] = {f"#{i}": name for i, name in enumerate(names)}
            for page in dynamodb.get_paginator("scan").paginate(**scan):
                for start in range(0, len(page["Items"]), 25):
                    deletes = [{"DeleteRequest": {"Key": key}} for key in page["Items"][start : start + 25]]
                    dynamodb.batch_write_item(RequestItems={table.name: deletes})
        sqs = get_backend("sqs")[self.site.account][self.region]
        with self.server.locked():
            for queue in self.queues.values():
                sqs.get_queue(queue.name).last_purged_at = None  # a caller's own purge is not "in progress"
                sqs.purge_queue(queue.name)
                sqs.get_queue(queue.name).last_purged_at = None
        for bucket in [b["Name"] for b in s3.list_buckets().get("Buckets", [])]:
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
                if page.get("Contents"):
                    objects = [{"Key": o["Key"]} for o in page["Contents"]]
                    s3.delete_objects(Bucket=bucket, Delete={"Objects": objects})
            if bucket not in self.inventory.buckets:  # one a caller made
                s3.delete_bucket(Bucket=bucket)
        forget_sent(self.region, self.server.locked(), self.site.account)
        self._outbox_position = 0

    # ------------------------------------------------------------------------------ lookups

    @property
    def queues(self) -> dict[str, Queue]:
        return self.inventory.queues

    @property
    def tables(self) -> list[Table]:
        return self.inventory.tables

    @property
    def identities(self) -> list[Identity]:
        return self.inventory.identities

    @property
    def functions(self) -> list[Function]:
        return self.inventory.functions

    @property
    def mappings(self) -> list[SqsEventSourceMapping]:
        return [s for s in self.inventory.sources if isinstance(s, SqsEventSourceMapping)]

    @property
    def not_emulated(self) -> Counter:
        return self.inventory.not_emulated

    @property
    def notes(self) -> list[str]:
        return self.inventory.notes

    def queue(self, name_or_logical: str) -> Queue:
        for queue in self.queues.values():
            if name_or_logical in (queue.name, queue.logical_id, label(queue.logical_id), queue.url):
                return queue
        raise KeyError(name_or_logical)

    def mapping_for(self, handler: str) -> SqsEventSourceMapping:
        return next(m for m in self.mappings if m.function.handler == handler)

    def outputs(self) -> dict[str, str]:
        merged = {}
        for stack in self.assembly.stacks:
            for key, output in self.deployment.stack(stack.name).outputs().items():
                merged[key] = output["Value"]
        return merged

    # ------------------------------------------------------------------------- event sources

    def drain(self, *, max_invocations: int = 500, timeout: float = 60.0) -> list[Invocation]:
        """Deliver until no event source has anything waiting, in flight or delayed.

        Records handed back come back after their queue's visibility timeout, as in SQS; a queue
        still busy after ``timeout`` seconds is a RuntimeProblem."""
        invocations: list[Invocation] = []
        deadline = time.monotonic() + timeout
        while True:
            delivered = self.poll_once()
            invocations += delivered
            if len(invocations) > max_invocations:
                raise RuntimeProblem(f"the queues did not drain after {max_invocations} invocations")
            if delivered:
                continue
            if all(source.is_idle() for source in self._enabled_sources()):
                return invocations
            if time.monotonic() > deadline:
                raise RuntimeProblem(
                    f"messages stayed in flight or delayed for {timeout:g} s; the queues did not drain"
                    " (a record handed back comes back after its queue's visibility timeout)"
                )
            time.sleep(0.05)

    def poll_once(self) -> list[Invocation]:
        """At most one invocation per enabled event source."""
        return [invocation for source in self._enabled_sources() for invocation in source.poll_once()]

    def _enabled_sources(self) -> list[sources.EventSource]:
        return [source for source in self.inventory.sources if source.enabled]

    # --------------------------------------------------------------------------------- emails

    def receive_email(
        self, raw: bytes, *, recipient: str | None = None, verdicts: dict[str, str] | None = None
    ) -> list[Receipt]:
        """SES receiving: the active rule set stores the mail and notifies its topic (see
        local/sources/ses_receiving.py); ``drain`` then delivers the notification onward."""
        return receive_email(self.site, raw, recipient=recipient, verdicts=verdicts)

    def publish_delivery_event(self, ses_message_id: str, event_type: str, **details) -> Published:
        """SES event publishing for a sent email (see local/sources/ses_feedback.py), e.g.
        ``publish_delivery_event(email.ses_id, "Bounce", bounce_type="Permanent")``; ``drain``
        then delivers the record to the function the feedback queue feeds."""
        return publish_delivery_event(self.site, ses_message_id, event_type, **details)

    def sent_emails(self) -> list[SentEmail]:
        """Every email SES accepted, in order."""
        return sent_emails(self.region, self.server.locked())

    def new_emails(self) -> list[SentEmail]:
        """The emails sent since the previous call (only those are read)."""
        fresh, self._outbox_position = emails_after(self._outbox_position, self.region, self.server.locked())
        return fresh


@functools.cache
def _session(region: str) -> boto3.session.Session:
    """One session per process (loading the service models is slow), with throw-away keys.

    First made inside a started runtime, whose environment holds no AWS_PROFILE of the user's.
    """
    return boto3.session.Session(region_name=region, **CREDENTIALS)
