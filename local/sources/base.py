"""What an event source is to the runtime, and the registry of event source mappings by service.

An event source delivers to a function on its own schedule (Lambda's pollers); the runtime only
asks each one, in turn, to deliver what is waiting (``poll_once``) and whether anything still is
(``is_idle``). ``@mapping_source("sqs")`` registers how an ``AWS::Lambda::EventSourceMapping``
whose ``EventSourceArn`` is of that service becomes an event source.

Deliveries that AWS makes between services without a function (SNS to an SQS subscription, SES
receiving to S3 and SNS, SES event publishing to a configuration set's SNS destination) are not
polled: moto or the module that emulates them (ses_receiving.py, ses_feedback.py) makes them when
the message is published.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from local.resources.base import Creation
    from local.resources.lambda_function import Function


class EventSource(Protocol):
    enabled: bool

    def poll_once(self) -> list[Any]:
        """Deliver what is waiting (at most one invocation); the invocations made."""

    def is_idle(self) -> bool:
        """Nothing waiting, in flight or delayed."""


MappingSource = Callable[["Creation", "Function"], EventSource | None]
_MAPPING_SOURCES: dict[str, MappingSource] = {}


def mapping_source(service: str) -> MappingSource | None:
    return _MAPPING_SOURCES.get(service)


def maps(service: str) -> Callable[[MappingSource], MappingSource]:
    """Register how an event source mapping on a resource of ``service`` (its ARN's) is emulated."""

    def register(build: MappingSource) -> MappingSource:
        _MAPPING_SOURCES[service] = build
        return build

    return register
