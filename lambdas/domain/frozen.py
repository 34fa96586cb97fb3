"""``@frozen``: ``@dataclass(frozen=True)`` at a fraction of its import-time cost, for cold starts.

``@dataclass(frozen=True)`` writes six methods for each class as source text and compiles them when
the module is imported (``__init__``, ``__repr__``, ``__eq__``, ``__hash__``, ``__setattr__``,
``__delattr__``): no bytecode cache keeps that work, and with some fifty such classes it was most of
our modules' import time (docs/performance.md, "Cold start"). ``@frozen`` lets the dataclass machinery
write the three that depend on the class's fields (the initialiser and the frozen guards) and gives
every class the same three comparison and display methods, written once here, with the dataclass's
meaning: instances are equal when they are of the same class and their compared fields are equal,
hash as those fields do, and show as ``Name(field=value, ...)``.

Everything else is a dataclass's: ``dataclasses.fields``, ``replace``, ``asdict``, ``field(...)``
options, and ``FrozenInstanceError`` on assignment.
"""

from __future__ import annotations

import reprlib
from dataclasses import dataclass, fields
from operator import attrgetter
from typing import Any, TypeVar, dataclass_transform

T = TypeVar("T", bound=type)


@dataclass_transform(eq_default=True)
def frozen(cls: T) -> T:
    """``@dataclass(frozen=True)`` with the comparison and display methods shared (see above)."""
    cls = dataclass(frozen=True, eq=False, repr=False)(cls)
    compared = tuple(f.name for f in fields(cls) if f.compare)
    hashed = tuple(f.name for f in fields(cls) if (f.compare if f.hash is None else f.hash))
    shown = tuple(f.name for f in fields(cls) if f.repr)
    cls.__eq__ = _equality(_getter(compared))
    cls.__hash__ = _hashing(_getter(hashed))
    cls.__repr__ = _display(shown)
    return cls


def _getter(names: tuple[str, ...]):
    """The named attributes of an instance, as one tuple (as the dataclass methods compare them)."""
    if len(names) == 1:
        single = attrgetter(names[0])
        return lambda instance: (single(instance),)
    return attrgetter(*names) if names else (lambda instance: ())


def _equality(key):
    def __eq__(self, other: Any) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return key(self) == key(other)

    return __eq__


def _hashing(key):
    def __hash__(self) -> int:
        return hash(key(self))

    return __hash__


def _display(names: tuple[str, ...]):
    @reprlib.recursive_repr()
    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{self.__class__.__qualname__}({shown})"

    return __repr__
