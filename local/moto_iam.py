"""moto's IAM enforcement in this process: an administrator, IAM's own action names, on and off.

With enforcement on, moto holds every request to the policies of the identity that signed it: the
functions sign with credentials assumed from their roles (local/resources/iam.py), everything else
(the runtime, the tests, ``bin/cisctl``) with the throw-away key of local/sandbox.py, which
``make_administrator`` makes the key of an administrator allowed everything. moto cannot be given
a key of one's choosing through its API, so the key is planted in its IAM backend: it works where
that backend is this process's (the served moto of local/server.py runs on a thread of it), not
for a moto served by another process (the benchmark's), where enforcement stays off.

``install`` makes moto authorise a request under the IAM actions AWS authorises it under, where
they differ from the operation's name, and fixes its signature check of a GET without a body
(SES v2 GetAccount): it signed moto's parsed headers as the body, so every GetAccount was refused.
"""

from __future__ import annotations

import json

from moto import settings
from moto.core.authorization import ActionAuthenticatorMixin

from local.patching import once
from local.sandbox import CREDENTIALS

ADMINISTRATOR = "local-administrator"
EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
# Operations IAM authorises under other actions than their own name (the Service Authorization
# Reference's "Actions" tables): the batch forms of SQS calls as the single call, HeadObject as
# GetObject, SES v2 SendEmail with raw MIME content (lambdas/adapters/mailer.py) as both SendEmail
# and SendRawEmail. tests/infra/code_calls.py reads the same tables for its static check.
AUTHORISED_AS = {
    "sqs:SendMessageBatch": ("sqs:SendMessage",),
    "sqs:DeleteMessageBatch": ("sqs:DeleteMessage",),
    "sqs:ChangeMessageVisibilityBatch": ("sqs:ChangeMessageVisibility",),
    "s3:HeadObject": ("s3:GetObject",),
    "ses:SendEmail": ("ses:SendEmail", "ses:SendRawEmail"),
}
# TransactWriteItems and TransactGetItems are no IAM actions (DynamoDB developer guide, "Using IAM
# with DynamoDB transactions"): each item is authorised as the single-item call it is.
TRANSACTIONS = ("dynamodb:TransactWriteItems", "dynamodb:TransactGetItems")
TRANSACTION_ITEMS = {
    "Update": "dynamodb:UpdateItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "Put": "dynamodb:PutItem",
    "Delete": "dynamodb:DeleteItem",
    "Get": "dynamodb:GetItem",
}


@once
def install() -> None:
    from moto.iam.access_control import IAMRequestBase

    check, build = IAMRequestBase.check_action_permitted, IAMRequestBase._create_aws_request

    def check_action_permitted(self, resource: str) -> None:
        for action in iam_actions(self._action, self._body):
            self._action = action  # what moto's AccessDenied names
            check(self, resource)

    def create_aws_request(self):
        request = build(self)
        if self._method == "GET" and not self._body:
            request.data = b""
        return request

    IAMRequestBase.check_action_permitted = check_action_permitted
    IAMRequestBase._create_aws_request = create_aws_request


def iam_actions(action: str, body: bytes | None) -> list[str]:
    if action in TRANSACTIONS:
        items = json.loads(body or b"{}").get("TransactItems", [])
        return sorted({TRANSACTION_ITEMS[kind] for item in items for kind in item})
    return list(AUTHORISED_AS.get(action, (action,)))


def make_administrator(site) -> bool:
    """Make the throw-away key an administrator's (False: moto's IAM is another process's)."""
    from moto.iam.models import iam_backends

    iam = site.client("iam")
    iam.create_user(UserName=ADMINISTRATOR)
    iam.put_user_policy(
        UserName=ADMINISTRATOR, PolicyName="everything", PolicyDocument=json.dumps(EVERYTHING)
    )
    with site.locked():
        backend = iam_backends[site.account]["aws"]
        if ADMINISTRATOR not in backend.users:
            return False
        key = backend.create_access_key(ADMINISTRATOR)
        del backend.access_keys[key.access_key_id]
        key.access_key_id = CREDENTIALS["aws_access_key_id"]
        key.secret_access_key = CREDENTIALS["aws_secret_access_key"]
        backend.access_keys[key.access_key_id] = key
    return True


class Enforcement:
    """moto's IAM enforcement, one setting for this process (the served moto and the patched-in
    one alike): ``on`` until ``off``, which restores what it was; ``suspend`` and ``resume`` keep
    it off for a while (between two tests, see local/server.py InProcessMoto)."""

    def __init__(self):
        self.wanted = False
        self._saved: float | None = None

    def on(self) -> None:
        self.wanted = True
        self.resume()

    def off(self) -> None:
        self.wanted = False
        self.suspend()

    def resume(self) -> None:
        if self.wanted and self._saved is None:
            self._saved = settings.INITIAL_NO_AUTH_ACTION_COUNT
            settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
            ActionAuthenticatorMixin.request_count = 0

    def suspend(self) -> None:
        if self._saved is not None:
            settings.INITIAL_NO_AUTH_ACTION_COUNT, self._saved = self._saved, None
