"""moto's TransactWriteItems, with a rollback point of the items a transaction touches.

moto backs up the whole table, with ``copy.deepcopy``, for every item of a transaction, so that
it can roll back. Its cost grows with the table: a 21-item completion write of a 1,000-attendee
event copied the table 21 times, and the local runtime slowed from about 6 emails/s to 2, with
requests queueing behind the copies for longer than the functions' 10 s read timeout (botocore
then retried sends SES had already accepted: duplicate emails). The rollback point here is a
copy of each touched item as it was before the transaction (None: it did not exist), restored if
the transaction is refused: the same outcome, at a cost that grows with the transaction only.

moto runs under the server's request lock (local/server.py), so no other request sees the items
between a change and its rollback, as with DynamoDB's isolation.

moto also ignores ``ClientRequestToken``, which botocore fills in once per call and repeats on
each retry: DynamoDB applies a transaction only once per token (for 10 minutes), so a retry after
a read timeout is harmless there, while moto applied it again and refused its conditions, and the
completion write's fallback then counted the batch twice. The last ``REMEMBERED_TOKENS`` tokens of
successful transactions are answered again without applying anything.
"""

from __future__ import annotations

import copy
import threading
import types
from collections import OrderedDict
from typing import Any

from local.patching import once

REMEMBERED_TOKENS = 1000  # far more than the transactions of one 10-minute window of a local run

_in_transaction = threading.local()


@once
def install() -> None:
    """Patch moto's DynamoDB backend once per process."""
    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    real_deepcopy = copy.deepcopy

    def deepcopy(value, memo=None):
        # Inside a transaction moto copies whole tables only as its rollback point; ours is
        # kept per item below, so the "copy" is the table itself (its rollback a no-op).
        if getattr(_in_transaction, "active", False) and isinstance(value, Table):
            return value
        return real_deepcopy(value, memo)

    original = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items: list[dict[str, Any]]) -> None:
        saved = _save_touched_items(self, transact_items)
        _in_transaction.active = True
        try:
            return original(self, transact_items)
        except BaseException:
            _restore(saved)
            raise
        finally:
            _in_transaction.active = False

    models.copy = types.SimpleNamespace(deepcopy=deepcopy, copy=copy.copy)
    models.DynamoDBBackend.transact_write_items = transact_write_items
    _answer_a_repeated_token_once()


def _answer_a_repeated_token_once() -> None:
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.transact_write_items
    succeeded: OrderedDict[str, Any] = OrderedDict()  # token -> the answer it got

    def transact_write_items(self):
        token = self.body.get("ClientRequestToken")
        if token and token in succeeded:
            return succeeded[token]
        answer = original(self)
        if token:
            succeeded[token] = answer
            while len(succeeded) > REMEMBERED_TOKENS:
                succeeded.popitem(last=False)
        return answer

    DynamoHandler.transact_write_items = transact_write_items


def _save_touched_items(backend, transact_items: list[dict[str, Any]]) -> list[tuple]:
    from moto.dynamodb.models.dynamo_type import DynamoType

    saved = []
    for entry in transact_items:
        if len(entry) != 1:
            continue  # moto refuses it before changing anything
        op = next(iter(entry.values()))
        table = backend.tables.get(op.get("TableName"))
        key = op.get("Key") or op.get("Item")
        if table is None or not isinstance(key, dict) or table.hash_key_attr not in key:
            continue
        hash_value = DynamoType(key[table.hash_key_attr])
        range_value = None
        if table.range_key_attr is not None:
            if table.range_key_attr not in key:
                continue
            range_value = DynamoType(key[table.range_key_attr])
        if range_value is not None:
            current = table.items.get(hash_value, {}).get(range_value)
        else:
            current = table.items.get(hash_value)
        saved.append((table, hash_value, range_value, copy.deepcopy(current)))
    return saved


def _restore(saved: list[tuple]) -> None:
    for table, hash_value, range_value, item in reversed(saved):
        if range_value is not None:
            partition = table.items.setdefault(hash_value, {})
            if item is None:
                partition.pop(range_value, None)
            else:
                partition[range_value] = item
        elif item is None:
            table.items.pop(hash_value, None)
        else:
            table.items[hash_value] = item
