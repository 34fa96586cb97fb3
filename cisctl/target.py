"""Where the commands go: a deployed stack, the local runtime, or any AWS-compatible endpoint.

The queues and the table are always found the same way, from CloudFormation stack outputs: the
deployed stacks publish them, and the local runtime publishes the synthesized stacks' outputs,
resolved to its local URLs, as stacks of the same names on its moto server.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import boto3
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError

from infra.names import (
    OUTPUT_TABLE_NAME,
    QUEUE_OUTPUTS,
    STATEFUL_STACK_NAME,
    STATELESS_STACK_NAME,
)
from infra.pipelines import EVENT_EMAIL_KEY, PIPELINES, RECEIVE_REPLIES_SWITCH

# infra/names.py and infra/pipelines.py hold plain data: importing them does not import the CDK.
DEFAULT_STACKS = (STATELESS_STACK_NAME, STATEFUL_STACK_NAME)

# queue kind -> (work queue output, dead-letter queue output), as the stack publishes them: one
# entry per row of infra/pipelines.py, in its order.
QUEUES = QUEUE_OUTPUTS
# Why a stack may lack a pipeline's queues (the others are in every deployment).


def _absent_because(pipeline) -> str:
    switched_off = f"the {RECEIVE_REPLIES_SWITCH} context switch off"
    if pipeline.needs_event_address:
        return f"it was deployed without an {EVENT_EMAIL_KEY} in its context (or with {switched_off})"
    return f"it was deployed with {switched_off}"


OPTIONAL_QUEUES = {
    pipeline.kind: _absent_because(pipeline)
    for pipeline in PIPELINES
    if pipeline.needs_replies or pipeline.needs_event_address
}

ROOT = Path(__file__).resolve().parent.parent
LOCAL_STATE_ENV = "CISCTL_LOCAL_STATE"
LOCAL_STATE = ROOT / ".local-runtime" / "state.json"
LOCAL_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


# The local runtime's SES receiving, as one HTTP call (served by ``make serve``):
# POST the raw email; ``recipient`` and ``verdict`` (CHECK=STATUS, repeated) in the query.
LOCAL_RECEIVE_PATH = "/_local/ses/receive"


class CliError(Exception):
    """A problem the user can fix; printed without a traceback. ``code`` is the exit status."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


def local_state_path() -> Path:
    return Path(os.environ.get(LOCAL_STATE_ENV) or LOCAL_STATE)


@dataclass
class Target:
    region: str
    stacks: tuple[str, ...] = DEFAULT_STACKS
    endpoint_url: str | None = None
    profile: str | None = None
    description: str = ""
    _outputs: dict[str, dict[str, str]] | None = field(default=None, repr=False)
    _clients: dict = field(default_factory=dict, repr=False)

    # ---------------------------------------------------------------------------------- building

    @classmethod
    def deployed(cls, *, region: str | None, profile: str | None, stacks: tuple[str, ...]) -> Target:
        region = region or os.environ.get("AWS_REGION")  # botocore itself reads only AWS_DEFAULT_REGION
        try:
            session = boto3.session.Session(profile_name=profile, region_name=region)
        except BotoCoreError as error:  # e.g. ProfileNotFound
            raise CliError(str(error)) from None
        if not session.region_name:
            raise CliError("no AWS region: pass --region, or set AWS_REGION / AWS_DEFAULT_REGION")
        return cls(
            region=session.region_name,
            stacks=stacks,
            profile=profile,
            description=f"region {session.region_name}" + (f" (profile {profile})" if profile else ""),
        )

    @classmethod
    def endpoint(cls, url: str, *, region: str | None, stacks: tuple[str, ...]) -> Target:
        if not re.match(r"^https?://[^/\s]+", url):
            raise CliError(f"--endpoint-url {url!r}: expected a URL such as http://127.0.0.1:5000", code=2)
        region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        return cls(region=region, stacks=stacks, endpoint_url=url, description=f"{url} ({region})")

    @classmethod
    def local(cls, *, region: str | None, stacks: tuple[str, ...] | None) -> Target:
        path = local_state_path()
        try:
            state = json.loads(path.read_text())
        except FileNotFoundError:
            raise CliError(
                "no local runtime is running (start one with `make serve`, or use `make demo`)"
            ) from None
        except ValueError:
            raise CliError(f"{path} is not valid JSON; restart `make serve`") from None
        target = cls.endpoint(state["endpoint"], region=region or state.get("region"), stacks=stacks or ())
        if not stacks:
            target.stacks = tuple(state.get("stacks") or DEFAULT_STACKS)
        target.description = f"the local runtime at {state['endpoint']}"
        return target

    # ----------------------------------------------------------------------------------- clients

    def client(self, service: str):
        if service not in self._clients:
            if "session" not in self._clients:  # one session: each loads the service models again
                credentials = LOCAL_CREDENTIALS if self.endpoint_url else {"profile_name": self.profile}
                self._clients["session"] = boto3.session.Session(region_name=self.region, **credentials)
            self._clients[service] = self._clients["session"].client(service, endpoint_url=self.endpoint_url)
        return self._clients[service]

    # ----------------------------------------------------------------------------------- outputs

    def outputs(self) -> dict[str, dict[str, str]]:
        """stack name -> {output key: value}, for the stacks that exist."""
        if self._outputs is None:
            found: dict[str, dict[str, str]] = {}
            cloudformation = self.client("cloudformation")
            for name in self.stacks:
                try:
                    stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
                except ClientError as error:
                    if "does not exist" in str(error):
                        continue
                    raise CliError(f"cannot read stack {name}: {error}") from None
                except NoCredentialsError:
                    raise CliError(
                        "no AWS credentials found: configure them (aws configure, AWS_PROFILE...),"
                        " or use --local for the local runtime"
                    ) from None
                except EndpointConnectionError:
                    raise CliError(f"cannot reach {self.description}: is it running?") from None
                found[name] = {o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs", [])}
            if not found:
                noun = "stack" if len(self.stacks) == 1 else "stacks"
                raise CliError(
                    f"{noun} {_names(self.stacks)} not found in {self.description}."
                    " Deploy with `make deploy`, name another stack with --stack,"
                    " or use --local for the local runtime."
                )
            self._outputs = found
        return self._outputs

    def _find(self, key: str) -> str | None:
        """The value of an output, matched tolerantly (exact, any case, or with a generated suffix)."""
        outputs = self.outputs()
        candidates = [(stack, k, v) for stack, values in outputs.items() for k, v in values.items()]
        for matches in (
            lambda k: k == key,
            lambda k: k.lower() == key.lower(),
            lambda k: _squash(k).startswith(_squash(key)) or _squash(k).endswith(_squash(key)),
        ):
            found = [(stack, k, v) for stack, k, v in candidates if matches(k)]
            if len(found) == 1:
                return found[0][2]
            if len(found) > 1:
                names = ", ".join(f"{stack}.{k}" for stack, k, _ in found)
                raise CliError(f"output {key} is ambiguous: {names}; choose the stack with --stack")
        return None

    def output(self, key: str) -> str:
        value = self._find(key)
        if value is not None:
            return value
        outputs = self.outputs()
        missing = [name for name in self.stacks if name not in outputs]
        listed = ", ".join(f"{stack}: {', '.join(sorted(v)) or 'none'}" for stack, v in outputs.items())
        message = f"no stack output named {key} (outputs of {listed})"
        if missing:
            message += f"; stack {_names(missing)} not found"
        raise CliError(message)

    def has_queues(self, kind: str) -> bool:
        """Whether the stacks publish both queues of a pipeline (the reply one is optional)."""
        return all(self._find(key) is not None for key in QUEUES[kind])

    def queue_url(self, kind: str) -> str:
        return self._queue(kind, 0)

    def dlq_url(self, kind: str) -> str:
        return self._queue(kind, 1)

    def _queue(self, kind: str, which: int) -> str:
        if kind in OPTIONAL_QUEUES and not self.has_queues(kind):
            raise CliError(
                f"the stack has no {kind} queue: {OPTIONAL_QUEUES[kind]} (no output {QUEUES[kind][which]})"
            )
        return self.output(QUEUES[kind][which])

    def table_name(self) -> str:
        return self.output(OUTPUT_TABLE_NAME)


def _squash(key: str) -> str:
    return re.sub(r"[^a-z0-9]", "", key.lower())


def _names(names) -> str:
    return ", ".join(repr(n) for n in names)
