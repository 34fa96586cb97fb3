"""Resources that hold state or take a human to set up: the table and the SES identity.

They change rarely, so they live apart from the functions: a deploy of new function code never
touches them, and `cdk destroy` of this stack leaves the table behind.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from infra.config import AppConfig
from infra.constructs.email_identity import SenderIdentity
from infra.constructs.table import InviteTable
from infra.guard import add_placeholder_guard
from infra.receiving import require_receiving_region


class StatefulStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: AppConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        add_placeholder_guard(self, config)
        if config.receive_replies:
            # Deployed first: a region without SES receiving is refused before the table exists.
            require_receiving_region(self)
        self.table = InviteTable(self, "InviteTable").table
        self.identity = (
            SenderIdentity(
                self, "SenderIdentity", identity=config.ses_identity, hosted_zone_id=config.hosted_zone_id
            )
            if config.create_ses_identity
            else None
        )
