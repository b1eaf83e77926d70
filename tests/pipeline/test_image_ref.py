"""`floe:image`: pinned by tag or digest, rendered as the chart joins it."""

from __future__ import annotations

import pytest

from floe_infra.errors import FloeError
from floe_infra.pipeline.code_location import ImageRef

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(("text", "repository", "tag"), [
    ("ghcr.io/acme/sales:1.4.0", "ghcr.io/acme/sales", "1.4.0"),
    ("registry.local:5000/team/pipe:2024-06-01_3", "registry.local:5000/team/pipe", "2024-06-01_3"),
    ("pipeline:dev", "pipeline", "dev"),
])
def test_tagged_references(text: str, repository: str, tag: str):
    image = ImageRef.parse(text)
    assert (image.repository, image.tag, image.digest) == (repository, tag, None)
    assert image.chart_values() == {"repository": repository, "tag": tag, "pullPolicy": "IfNotPresent"}


def test_a_digest_reference_renders_through_the_charts_repository_colon_tag_join():
    image = ImageRef.parse(f"ghcr.io/acme/sales@{DIGEST}")
    values = image.chart_values()
    assert f"{values['repository']}:{values['tag']}" == f"ghcr.io/acme/sales@{DIGEST}"


def test_latest_is_always_pulled():
    assert ImageRef.parse("acme/sales:latest").chart_values()["pullPolicy"] == "Always"


@pytest.mark.parametrize(("text", "message"), [
    ("ghcr.io/acme/sales", "needs an explicit tag or digest"),
    ("registry.local:5000/team/pipe", "needs an explicit tag or digest"),
    ("ghcr.io/Acme/sales:1", "is not an image reference"),
    ("ghcr.io/acme/sales@sha256:xyz", "malformed digest"),
    ("acme/sales:-bad", "needs an explicit tag or digest"),
    ("", "is not an image reference"),
])
def test_malformed_references_are_refused(text: str, message: str):
    with pytest.raises(FloeError, match=message):
        ImageRef.parse(text)
