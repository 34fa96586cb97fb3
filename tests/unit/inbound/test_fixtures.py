"""Every reply fixture is read with the answer a person reading it sees."""

from __future__ import annotations

from dataclasses import asdict

import pytest

from lambdas.domain.inbound.email import read_email
from tests.unit.inbound.expectations import EXPECTED
from tests.unit.inbound.ses import FIXTURES, fixture


def test_every_fixture_has_an_expectation():
    assert sorted(p.name for p in FIXTURES.glob("*.eml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_is_read_right(name):
    expected = EXPECTED[name]
    email = read_email(fixture(name))
    assert email.from_address == expected["from_address"]
    assert email.automatic is expected["automatic"]
    if expected["calendar_error"] is None:
        assert email.calendar_error is None
    else:
        assert expected["calendar_error"] in (email.calendar_error or "")
    assert [asdict(a) for a in email.answers] == expected["answers"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_read_from_a_stream_is_read_the_same(name):
    with (FIXTURES / name).open("rb") as stream:
        assert read_email(stream) == read_email(fixture(name))
