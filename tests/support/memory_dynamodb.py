"""An in-memory DynamoDB client for long-running scenarios that moto makes too slow.

moto copies every table on each TransactWriteItems and serialises every response, so a thousand
writes to one growing item take minutes. This client evaluates the subset of the expression
language that ``lambdas/adapters`` writes (SET with ``list_append``/``if_not_exists``/``+``,
REMOVE, ADD; conditions with AND/OR/NOT, comparisons, ``attribute_exists``, ``attribute_not_exists``,
``size``, ``contains``, ``begins_with``; document paths with ``.`` and ``[n]``), refuses what would
pass 400 KB as DynamoDB does, and raises botocore's ``ClientError`` with DynamoDB's codes, reasons
and returned items. tests/unit/test_bounds.py runs one scenario through it and through moto and
compares the items, so it cannot silently drift from the emulator the other tests use.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from tests.support.item_size import ITEM_LIMIT, attribute_size

_serializer, _deserializer = TypeSerializer(), TypeDeserializer()
_TOKEN = re.compile(r"\s*(<>|<=|>=|[=<>(),.\[\]+-]|[#:]?[A-Za-z_][A-Za-z0-9_]*|\d+)")
_MISSING: Any = object()
Path = tuple[str | int, ...]


class MemoryDynamoDB:
    """One account's tables, keyed by ``(pk, sk)``; items held as deserialized values."""

    def __init__(self, key_names: tuple[str, str] = ("pk", "sk")):
        self.key_names = key_names
        self.tables: dict[str, dict[tuple, dict[str, Any]]] = {}
        self.calls = 0
        # Per attribute value (by identity: items are copied on write, so an unchanged attribute
        # keeps its object): its size and wire form, so a long scenario costs what changes.
        self._sizes: dict[int, tuple[Any, int]] = {}
        self._wire: dict[int, tuple[Any, dict]] = {}

    # ------------------------------------------------------------------------------- the API

    def get_item(self, TableName, Key, **_):
        self.calls += 1
        item = self._table(TableName).get(self._key(Key))
        return {"Item": self._serialize(item)} if item is not None else {}

    def transact_get_items(self, TransactItems):
        self.calls += 1
        responses = []
        for entry in TransactItems:
            item = self._table(entry["Get"]["TableName"]).get(self._key(entry["Get"]["Key"]))
            responses.append({"Item": self._serialize(item)} if item is not None else {})
        return {"Responses": responses}

    def delete_item(self, TableName, Key, **_):
        self.calls += 1
        self._table(TableName).pop(self._key(Key), None)
        return {}

    def update_item(self, **request):
        self.calls += 1
        key = self._key(request["Key"])
        table = self._table(request["TableName"])
        old = table.get(key)
        new, refused = self._apply(request, old)
        if refused:
            response: dict[str, Any] = {"Error": {"Code": "ConditionalCheckFailedException"}}
            if request.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and old is not None:
                response["Item"] = self._serialize(old)
            raise ClientError(response, "UpdateItem")
        table[key] = new
        return (
            {"Attributes": self._serialize(old)} if request.get("ReturnValues") == "ALL_OLD" and old else {}
        )

    def transact_write_items(self, TransactItems):
        self.calls += 1
        results, reasons = [], []
        for entry in TransactItems:
            (kind, request), reason = next(iter(entry.items())), {"Code": "None"}
            old = self._table(request["TableName"]).get(self._key(request["Key"]))
            new, refused = self._apply(request, old, check_only=kind == "ConditionCheck")
            if refused:
                reason = {"Code": "ConditionalCheckFailed"}
                if request.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and old is not None:
                    reason["Item"] = self._serialize(old)
            results.append((request, new, kind))
            reasons.append(reason)
        if any(r["Code"] != "None" for r in reasons):
            error = {"Error": {"Code": "TransactionCanceledException"}, "CancellationReasons": reasons}
            raise ClientError(error, "TransactWriteItems")
        for request, new, kind in results:
            if kind != "ConditionCheck":
                self._table(request["TableName"])[self._key(request["Key"])] = new
        return {}

    # ------------------------------------------------------------------------------ plumbing

    def _serialize(self, item: dict[str, Any]) -> dict[str, dict]:
        return {name: self._cached(self._wire, value, _serializer.serialize) for name, value in item.items()}

    def _size(self, item: dict[str, Any]) -> int:
        return sum(
            self._cached(self._sizes, value, lambda v, n=name: attribute_size(n, v))
            for name, value in item.items()
        )

    @staticmethod
    def _cached(cache: dict, value: Any, compute: Callable[[Any], Any]) -> Any:
        if isinstance(value, list | dict):
            hit = cache.get(id(value))
            if hit is not None and hit[0] is value:
                return hit[1]
            result = compute(value)
            if len(cache) > 10_000:  # old values: keep memory flat over a long scenario
                cache.clear()
            cache[id(value)] = (value, result)  # holds the value: its id is not reused meanwhile
            return result
        return compute(value)

    def _table(self, name: str) -> dict[tuple, dict[str, Any]]:
        return self.tables.setdefault(name, {})

    def _key(self, key: dict[str, dict]) -> tuple:
        plain = {name: _deserializer.deserialize(value) for name, value in key.items()}
        return tuple(plain[name] for name in self.key_names)

    def _apply(self, request, old, *, check_only=False) -> tuple[dict[str, Any] | None, bool]:
        names = request.get("ExpressionAttributeNames", {})
        values = {
            k: _deserializer.deserialize(v) for k, v in request.get("ExpressionAttributeValues", {}).items()
        }
        item = dict(old) if old is not None else None  # copy on write: see _set and _remove
        condition = request.get("ConditionExpression")
        if condition and not _Parser(condition, names, values).condition()(item or {}):
            return old, True
        if check_only:
            return old, False
        if item is None:
            item = {k: _deserializer.deserialize(v) for k, v in request["Key"].items()}
        if "UpdateExpression" in request:
            _Parser(request["UpdateExpression"], names, values).update()(item)
        if self._size(item) > ITEM_LIMIT:
            raise ClientError(
                {
                    "Error": {
                        "Code": "ValidationException",
                        "Message": "Item size has exceeded the maximum allowed size",
                    }
                },
                "UpdateItem",
            )
        return item, False


# ------------------------------------------------------------------------------- expressions


def _get(item: Any, path: Path) -> Any:
    for part in path:
        if isinstance(part, int):
            if not isinstance(item, list) or part >= len(item):
                return _MISSING
            item = item[part]
        else:
            if not isinstance(item, dict) or part not in item:
                return _MISSING
            item = item[part]
    return item


def _own(item: dict, path: Path) -> None:
    """Items are copied at their top level only: copy the attribute a nested change touches."""
    if len(path) > 1 and path[0] in item:
        item[path[0]] = copy.deepcopy(item[path[0]])


def _set(item: dict, path: Path, value: Any) -> None:
    _own(item, path)
    parent = _get(item, path[:-1])
    last = path[-1]
    if isinstance(last, int):
        if last >= len(parent):
            parent.append(value)
        else:
            parent[last] = value
    else:
        parent[last] = value


def _remove(item: dict, path: Path) -> None:
    _own(item, path)
    parent = _get(item, path[:-1])
    last = path[-1]
    if isinstance(last, int):
        if isinstance(parent, list) and last < len(parent):
            parent[last] = _MISSING  # indexes refer to the list before the update
    elif isinstance(parent, dict):
        parent.pop(last, None)


def _compare(op: str, a: Any, b: Any) -> bool:
    if a is _MISSING or b is _MISSING:
        return op == "<>" and not (a is _MISSING and b is _MISSING)
    if op in ("=", "<>"):
        return (a == b) == (op == "=")
    if type(a) is not type(b) and not (isinstance(a, Decimal | int) and isinstance(b, Decimal | int)):
        return False
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


class _Parser:
    def __init__(self, text: str, names: dict[str, str], values: dict[str, Any]):
        self.tokens = _TOKEN.findall(text)
        assert "".join(self.tokens) == re.sub(r"\s+", "", text), f"unsupported expression: {text}"
        self.names, self.values, self.at = names, values, 0

    def peek(self, offset: int = 0) -> str | None:
        index = self.at + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.tokens[self.at]
        if expected is not None and token.upper() != expected:
            raise ValueError(f"expected {expected}, found {token}")
        self.at += 1
        return token

    # paths and operands

    def path(self) -> Path:
        parts: list[str | int] = [self._name(self.take())]
        while self.peek() in (".", "["):
            if self.take() == ".":
                parts.append(self._name(self.take()))
            else:
                parts.append(int(self.take()))
                self.take("]")
        return tuple(parts)

    def _name(self, token: str) -> str:
        return self.names[token] if token.startswith("#") else token

    def operand(self) -> Callable[[dict], Any]:
        first = self._term()
        if self.peek() in ("+", "-"):
            sign, second = self.take(), self._term()
            return lambda item: first(item) + second(item) if sign == "+" else first(item) - second(item)
        return first

    def _term(self) -> Callable[[dict], Any]:
        token = self.peek()
        if token.startswith(":"):
            value = self.values[self.take()]  # deserialized for this request alone
            return lambda _item: value
        if self.peek(1) == "(":
            return self._function()
        path = self.path()
        return lambda item: _get(item, path)

    def _function(self) -> Callable[[dict], Any]:
        name = self.take().lower()
        self.take("(")
        if name in ("attribute_exists", "attribute_not_exists"):
            path = self.path()
            self.take(")")
            exists = name == "attribute_exists"
            return lambda item: (_get(item, path) is not _MISSING) == exists
        args = [self.operand()]
        while self.peek() == ",":
            self.take()
            args.append(self.operand())
        self.take(")")
        if name == "size":
            (arg,) = args
            return lambda item: _size(arg(item))
        if name == "contains":
            whole, part = args
            return lambda item: _contains(whole(item), part(item))
        if name == "begins_with":
            whole, prefix = args
            return lambda item: isinstance(whole(item), str) and whole(item).startswith(prefix(item))
        if name == "list_append":
            first, second = args
            return lambda item: [*first(item), *second(item)]
        if name == "if_not_exists":
            path_value, fallback = args
            return lambda item: fallback(item) if path_value(item) is _MISSING else path_value(item)
        raise ValueError(f"unsupported function {name}")

    # conditions

    def condition(self) -> Callable[[dict], bool]:
        result = self._disjunction()
        assert self.peek() is None, f"unparsed: {self.tokens[self.at :]}"
        return result

    def _disjunction(self):
        parts = [self._conjunction()]
        while (self.peek() or "").upper() == "OR":
            self.take()
            parts.append(self._conjunction())
        return lambda item: any(p(item) for p in parts)

    def _conjunction(self):
        parts = [self._negation()]
        while (self.peek() or "").upper() == "AND":
            self.take()
            parts.append(self._negation())
        return lambda item: all(p(item) for p in parts)

    def _negation(self):
        if (self.peek() or "").upper() == "NOT":
            self.take()
            inner = self._negation()
            return lambda item: not inner(item)
        if self.peek() == "(":
            self.take()
            inner = self._disjunction()
            self.take(")")
            return inner
        left = self.operand()
        if self.peek() in ("=", "<>", "<", "<=", ">", ">="):
            op, right = self.take(), self.operand()
            return lambda item: _compare(op, left(item), right(item))
        return lambda item: left(item) is True

    # updates

    def update(self) -> Callable[[dict], None]:
        actions: list[Callable[[dict], None]] = []
        removals: list[Path] = []
        while self.peek() is not None:
            clause = self.take().upper()
            while True:
                if clause == "SET":
                    path = self.path()
                    self.take("=")
                    value = self.operand()
                    actions.append(lambda item, p=path, v=value: (p, v(item)))
                elif clause == "REMOVE":
                    removals.append(self.path())
                elif clause == "ADD":
                    path = self.path()
                    value = self.operand()
                    actions.append(lambda item, p=path, v=value: (p, _add(_get(item, p), v(item))))
                else:
                    raise ValueError(f"unsupported clause {clause}")
                if self.peek() != ",":
                    break
                self.take()

        def apply(item: dict) -> None:
            changes = [action(item) for action in actions]  # every right side reads the item before
            for path, value in changes:
                _set(item, path, value)
            for path in removals:
                _remove(item, path)
            if any(isinstance(part, int) for path in removals for part in path):
                _compact(item)

        return apply


def _size(value: Any) -> Any:
    if value is _MISSING:
        return _MISSING
    return len(value) if isinstance(value, str | list | dict | set | bytes) else _MISSING


def _contains(whole: Any, part: Any) -> bool:
    if isinstance(whole, str) and isinstance(part, str):
        return part in whole
    return isinstance(whole, list | set) and part in whole


def _add(current: Any, delta: Any) -> Any:
    if current is _MISSING:
        return delta
    return current | delta if isinstance(current, set) else current + delta


def _compact(value: Any) -> None:
    """Drop the list elements REMOVE marked (their indexes were those of the list before)."""
    if isinstance(value, dict):
        for v in value.values():
            _compact(v)
    elif isinstance(value, list):
        value[:] = [v for v in value if v is not _MISSING]
        for v in value:
            _compact(v)
