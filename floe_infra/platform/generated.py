"""Generated credentials: random values the platform creates for the services it deploys.

A `GeneratedPassword` draws its value from the operating system's CSPRNG (`secrets`) once, when it
is created, and keeps it in the stack's state as a secret; nothing changes it afterwards except a
replacement: a new `length` or `rotation` (or `pulumi up --replace <urn>`) generates a new value and
everything that reads it follows. floe-infra owns this small resource instead of depending on the
pulumi-random provider so that a platform deploys with one provider plugin fewer to mirror into
air-gapped networks (the generator is 20 lines of the standard library).
"""

from __future__ import annotations

import secrets
import string
from typing import TYPE_CHECKING, Any, ClassVar

import pulumi
import pulumi.dynamic as dynamic

ALPHABET = string.ascii_letters + string.digits
TYPE = "pulumi-python:dynamic/platform:GeneratedPassword"
# Inputs whose change generates a new value.
REPLACE_ON = ("length", "rotation")


class GeneratedPasswordProvider(dynamic.ResourceProvider):
    """Creates an alphanumeric value; a new length or rotation replaces it (a rotation)."""

    # Pickled into stack state under the stable path (floe_infra/providers.py), wherever this code lives.
    __module__ = "floe_infra.providers"

    # Bumped on purpose when what the provider does with unchanged inputs changes: an update, never a
    # new value.
    VERSION: ClassVar[int] = 1

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> dynamic.CheckResult:
        length = news.get("length")
        failures = []
        if not isinstance(length, int | float) or not 16 <= int(length) <= 256:
            failures.append(dynamic.CheckFailure("length", f"length must be 16 to 256 characters, not {length!r}"))
        return dynamic.CheckResult(news, failures)

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        value = "".join(secrets.choice(ALPHABET) for _ in range(int(props["length"])))
        outputs = {key: props.get(key) for key in (*REPLACE_ON, "provider_version")} | {"result": value}
        return dynamic.CreateResult(secrets.token_hex(8), outputs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        replaces = [key for key in REPLACE_ON if olds.get(key) != news.get(key)]
        changed = bool(replaces) or olds.get("provider_version") != news.get("provider_version")
        return dynamic.DiffResult(changes=changed, replaces=replaces, delete_before_replace=False)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        # Only the provider's version changed (anything else replaces): the value stays.
        return dynamic.UpdateResult({**olds, "provider_version": news.get("provider_version")})

    def read(self, id_: str, props: dict[str, Any]) -> dynamic.ReadResult:
        # The value exists only in state: there is nothing outside to drift.
        return dynamic.ReadResult(id_, props)


class GeneratedPassword(dynamic.Resource, module="platform", name="GeneratedPassword"):
    """A generated alphanumeric secret; `result` is secret in state and in every output."""

    if TYPE_CHECKING:
        # For type checkers only (see iceberg/resource.py): the SDK evaluates class annotations per registration.
        result: pulumi.Output[str]

    def __init__(self, name: str, *, length: int, rotation: int = 0,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(
            GeneratedPasswordProvider(), name,
            {"length": length, "rotation": rotation, "provider_version": GeneratedPasswordProvider.VERSION,
             "result": None},
            pulumi.ResourceOptions.merge(pulumi.ResourceOptions(additional_secret_outputs=["result"]), opts))
