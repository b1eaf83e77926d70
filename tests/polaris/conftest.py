"""A running fake Polaris per test, and a client logged in as its root principal."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from floe_infra.polaris.client import PolarisClient, PolarisConnection
from tests.loopback import FAST
from tests.polaris.fake_polaris import FakePolaris


@pytest.fixture
def polaris() -> Iterator[FakePolaris]:
    fake = FakePolaris()
    fake.url = fake.start()  # type: ignore[attr-defined]
    yield fake
    fake.stop()
    assert fake.violations == [], "requests or responses the OpenAPI specs reject"


@pytest.fixture
def root(polaris: FakePolaris) -> PolarisConnection:
    return PolarisConnection(url=polaris.url, client_id="root", client_secret="root-secret-for-tests")  # type: ignore[attr-defined]


@pytest.fixture
def client(root: PolarisConnection) -> PolarisClient:
    return PolarisClient(root, policy=FAST)
