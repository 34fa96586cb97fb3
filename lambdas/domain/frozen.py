"""``@frozen``: ``@dataclass(frozen=True)`` without its import-time cost, for cold starts.

``@dataclass(frozen=True)`` writes six methods for each class as source text and compiles them when
the module is imported (``__init__``, ``__repr__``, ``__eq__``, ``__hash__``, ``__setattr__``,
``__delattr__``). No bytecode cache keeps that work: with some fifty such classes it was most of our
modules' import time, in every function's cold start (docs/performance.md, "Cold start").

``@frozen`` lets the dataclass machinery read the fields (so ``dataclasses.fields``, ``replace``,
``asdict`` and ``field(...)`` work as usual) and gives every class the same six methods, written once
here, with the dataclass meaning: the initialiser takes the fields in order, by position or name,
with their defaults and default factories; assignment and deletion raise ``FrozenInstanceError``;
instances are equal when of the same class with equal compared fields, hash as those fields do,
and show as ``Name(field=value, ...)``. What it does not support (``__post_init__``, ``ClassVar``,
``InitVar``, ``kw_only``) it refuses when the class is defined.
"""

from __future__ import annotations

import inspect
import reprlib
from dataclasses import MISSING, Field, FrozenInstanceError, dataclass, fields
from operator import attrgetter
from typing import Any, TypeVar, dataclass_transform

T = TypeVar("T", bound=type)


@dataclass_transform(eq_default=True, frozen_default=True, field_specifiers=(Field,))
def frozen(cls: T) -> T:
    """``@dataclass(frozen=True)`` with the methods shared (see above)."""
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"@frozen {cls.__qualname__}: __post_init__ is not supported")
    # dataclass() documents an undocumented class with its signature, read by inspect.signature:
    # ~0.1 ms a class, and ~5 ms for the first, which compiles tokenize's patterns. Named instead.
    undocumented = not cls.__doc__
    if undocumented:
        cls.__doc__ = cls.__qualname__
    cls = _with_fields(cls)
    declared = fields(cls)
    if undocumented:
        cls.__doc__ = f"{cls.__qualname__}({', '.join(f.name for f in declared)})"
    if len(declared) != len(cls.__dataclass_fields__) or any(f.kw_only is True for f in declared):
        raise TypeError(f"@frozen {cls.__qualname__}: ClassVar, InitVar and kw_only are not supported")
    compared = tuple(f.name for f in declared if f.compare)
    hashed = tuple(f.name for f in declared if (f.compare if f.hash is None else f.hash))
    cls.__init__ = _initialiser(cls.__qualname__, declared)
    cls.__setattr__ = _refuse_assignment
    cls.__delattr__ = _refuse_deletion
    cls.__eq__ = _equality(_getter(compared))
    cls.__hash__ = _hashing(_getter(hashed))
    cls.__repr__ = _display(tuple(f.name for f in declared if f.repr))
    return cls


# dataclass() looks in every annotation that is a string (all of ours are: `from __future__ import
# annotations`) for ClassVar, InitVar and KW_ONLY, with a pattern and a lookup in the class's module:
# some 3 us a field, and the table's items have thirty. When no annotation names one of them, it is
# shown placeholders instead, and each field is given back its annotation afterwards.
_SPECIAL_ANNOTATIONS = ("ClassVar", "InitVar", "KW_ONLY")


def _with_fields(cls: T) -> T:
    """The class as dataclass() records its fields (``__dataclass_fields__``), no method written."""
    annotations = inspect.get_annotations(cls)
    plain = all(
        isinstance(a, str) and not any(special in a for special in _SPECIAL_ANNOTATIONS)
        for a in annotations.values()
    )
    if plain:
        cls.__annotations__ = dict.fromkeys(annotations, object)
    cls = dataclass(init=False, repr=False, eq=False)(cls)
    if plain:
        cls.__annotations__ = annotations
        for declared in cls.__dataclass_fields__.values():
            declared.type = annotations[declared.name]
    return cls


def _initialiser(name: str, declared: tuple[Field, ...]):
    """The dataclass ``__init__``: the init fields in order, by position or by name."""
    parameters = tuple(f.name for f in declared if f.init)
    accepted = frozenset(parameters)
    # What a field not given takes: its default, or a fresh value from its factory.
    defaults = {f.name: f.default for f in declared if f.default is not MISSING}
    factories = {f.name: f.default_factory for f in declared if f.default_factory is not MISSING}
    required = accepted - defaults.keys() - factories.keys()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if len(args) > len(parameters):
            raise TypeError(f"{name}() takes {len(parameters)} arguments but {len(args)} were given")
        given = dict(zip(parameters, args, strict=False))  # the first len(args) of them
        if kwargs:
            if unexpected := kwargs.keys() - accepted:
                raise TypeError(f"{name}() got unexpected keyword arguments {sorted(unexpected)}")
            if twice := kwargs.keys() & given.keys():
                raise TypeError(f"{name}() got multiple values for arguments {sorted(twice)}")
            given.update(kwargs)
        if missing := required - given.keys():
            raise TypeError(f"{name}() missing required arguments {sorted(missing)}")
        values = {**defaults, **given}
        for key, factory in factories.items():
            if key not in given:
                values[key] = factory()
        self.__dict__.update(values)  # what object.__setattr__ does for each, in one call

    return __init__


def _refuse_assignment(self, name: str, value: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _refuse_deletion(self, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


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
