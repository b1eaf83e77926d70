"""The generated-password provider, called directly as the engine would call it."""

from __future__ import annotations

import string

import pytest

from floe_infra.platform.generated import GeneratedPasswordProvider

PROVIDER = GeneratedPasswordProvider()


def test_a_created_password_is_alphanumeric_of_the_asked_length_and_new_each_time():
    first = PROVIDER.create({"length": 40, "rotation": 0, "result": None})
    second = PROVIDER.create({"length": 40, "rotation": 0, "result": None})
    value = first.outs["result"]
    assert len(value) == 40
    assert set(value) <= set(string.ascii_letters + string.digits)
    assert value != second.outs["result"]
    assert first.id != second.id


def test_an_unchanged_password_has_no_diff():
    olds = PROVIDER.create({"length": 40, "rotation": 0, "result": None}).outs
    diff = PROVIDER.diff("id", olds, {"length": 40, "rotation": 0, "result": None})
    assert diff.changes is False
    assert diff.replaces == []


@pytest.mark.parametrize(("key", "value"), [("rotation", 1), ("length", 48)])
def test_a_new_rotation_or_length_replaces_the_password(key: str, value: int):
    olds = PROVIDER.create({"length": 40, "rotation": 0, "result": None}).outs
    diff = PROVIDER.diff("id", olds, {"length": 40, "rotation": 0, "result": None} | {key: value})
    assert diff.changes is True
    assert diff.replaces == [key]


@pytest.mark.parametrize("length", [8, 1000, "40"])
def test_a_length_outside_16_to_256_is_refused(length: object):
    result = PROVIDER.check({}, {"length": length, "rotation": 0})
    assert [f.property for f in result.failures] == ["length"]
