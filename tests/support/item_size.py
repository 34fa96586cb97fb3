"""DynamoDB's size of an item, as it counts it against the 400 KB limit.

The documented rules ("Item sizes and formats", DynamoDB developer guide): an attribute costs the
UTF-8 length of its name plus its value; a string its UTF-8 length, a number about one byte per two
significant digits plus one, a boolean or null one byte, and a list or map three bytes plus one byte
per element plus its elements (map keys count as names).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

ITEM_LIMIT = 400 * 1024


def item_size(item: dict[str, Any]) -> int:
    """Plain Python values (what ``expressions.from_item`` returns)."""
    return sum(attribute_size(name, value) for name, value in item.items())


def attribute_size(name: str, value: Any) -> int:
    return len(name.encode()) + _value_size(value)


def _value_size(value: Any) -> int:
    if isinstance(value, bool) or value is None:
        return 1
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, int | float | Decimal):
        digits = len(str(abs(Decimal(str(value)))).replace(".", "").strip("0")) or 1
        return (digits + 1) // 2 + 1
    if isinstance(value, bytes):
        return len(value)
    if isinstance(value, list | tuple | set | frozenset):
        return 3 + sum(1 + _value_size(v) for v in value)
    if isinstance(value, dict):
        return 3 + sum(1 + len(k.encode()) + _value_size(v) for k, v in value.items())
    raise TypeError(f"no DynamoDB size for {type(value).__name__}")
