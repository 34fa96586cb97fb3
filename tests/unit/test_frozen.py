"""@frozen behaves as @dataclass(frozen=True) does: the same class written both ways compares,
hashes, shows, copies and refuses assignment alike."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import ClassVar

import pytest

from lambdas.domain.frozen import frozen


@frozen
class Cheap:
    name: str
    tags: tuple[str, ...] = ()
    note: str = field(default="", compare=False)
    secret: str = field(default="", repr=False)


@dataclass(frozen=True)
class Standard:
    name: str
    tags: tuple[str, ...] = ()
    note: str = field(default="", compare=False)
    secret: str = field(default="", repr=False)


@frozen
class Single:
    value: int


def both(**values):
    return Cheap(**values), Standard(**values)


def test_equality_and_hash_follow_the_compared_fields():
    cheap, _ = both(name="a", tags=("x",), note="one")
    same, _ = both(name="a", tags=("x",), note="another note")  # note: compare=False
    other, _ = both(name="b", tags=("x",))
    assert cheap == same and hash(cheap) == hash(same)
    assert cheap != other
    assert {cheap, same, other} == {cheap, other}
    assert Single(1) == Single(1) and Single(1) != Single(2) and hash(Single(3)) == hash(Single(3))


def test_instances_of_another_class_are_never_equal_even_with_the_same_fields():
    cheap, standard = both(name="a")
    assert cheap != standard and standard != cheap
    assert cheap.__eq__(standard) is NotImplemented
    assert cheap != ("a", ())


def test_repr_is_the_dataclass_one():
    cheap, standard = both(name="a", tags=("x",), secret="hidden")
    assert repr(cheap) == repr(standard).replace("Standard(", "Cheap(")
    assert "hidden" not in repr(cheap)


def test_assignment_is_refused_and_replace_fields_asdict_work():
    cheap, _ = both(name="a")
    with pytest.raises(dataclasses.FrozenInstanceError):
        cheap.name = "b"
    with pytest.raises(dataclasses.FrozenInstanceError):
        del cheap.name
    changed = dataclasses.replace(cheap, name="b")
    assert changed == Cheap(name="b") and cheap.name == "a"
    assert dataclasses.is_dataclass(cheap)
    assert [f.name for f in dataclasses.fields(Cheap)] == ["name", "tags", "note", "secret"]
    assert dataclasses.asdict(cheap) == {"name": "a", "tags": (), "note": "", "secret": ""}


@frozen
class WithFactory:
    name: str
    items: list[str] = field(default_factory=list)
    derived: str = field(default="unset", init=False)


def test_the_initialiser_takes_fields_by_position_or_name_with_defaults_and_fresh_factories():
    assert Cheap("a", ("x",)) == Cheap(name="a", tags=("x",))
    first, second = WithFactory("a"), WithFactory("b")
    assert first.items == [] and first.items is not second.items
    assert first.derived == "unset"
    assert WithFactory("a", ["given"]).items == ["given"]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: Cheap(), "missing required arguments \\['name'\\]"),
        (lambda: Cheap("a", (), "", "", "extra"), "takes 4 arguments but 5 were given"),
        (lambda: Cheap("a", name="b"), "multiple values for arguments \\['name'\\]"),
        (lambda: Cheap(name="a", colour="red"), "unexpected keyword arguments \\['colour'\\]"),
        (lambda: WithFactory("a", derived="x"), "unexpected keyword arguments \\['derived'\\]"),
    ],
)
def test_the_initialiser_refuses_what_the_dataclass_one_refuses(call, message):
    with pytest.raises(TypeError, match=message):
        call()


def test_the_fields_and_annotations_are_the_ones_dataclass_records():
    described = [(f.name, f.type, f.default, f.compare, f.repr) for f in dataclasses.fields(Cheap)]
    assert described == [(f.name, f.type, f.default, f.compare, f.repr) for f in dataclasses.fields(Standard)]
    assert Cheap.__annotations__ == Standard.__annotations__
    assert [f.type for f in dataclasses.fields(Cheap)] == ["str", "tuple[str, ...]", "str", "str"]


def test_a_class_variable_is_refused_as_dataclass_tells_it():
    with pytest.raises(TypeError, match="ClassVar"):

        @frozen
        class Counted:
            name: str
            instances: ClassVar[int] = 0


def test_what_frozen_does_not_support_is_refused_when_the_class_is_defined():
    with pytest.raises(TypeError, match="__post_init__"):

        @frozen
        class Checked:
            name: str

            def __post_init__(self):
                pass

    with pytest.raises(TypeError, match="kw_only"):

        @frozen
        class KeywordOnly:
            name: str = field(kw_only=True)
