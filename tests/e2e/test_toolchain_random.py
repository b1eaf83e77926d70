"""The random plugin built here serves what the pulumi-random Python SDK sends (tools/go/pulumi-resource-random).

Its schema is generated at build time by the bridge's tfgen, not copied from pulumi-random: this
checks it, as the built plugin returns it to the CLI, against the SDK pinned in requirements.txt.
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
from pathlib import Path
from typing import Any

import pulumi
import pulumi_random
import pytest
from pulumi import _types  # the SDK's own name translation of input types

from floe_infra import versions
from tests.e2e.engine import Pulumi
from tests.e2e.world import toolchain_bin_dir

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    workdir, bin_dir = tmp_path_factory.mktemp("random-schema"), toolchain_bin_dir()
    plugin = str(bin_dir / "pulumi-resource-random")
    return Pulumi(bin_dir, workdir).run("package", "get-schema", plugin, cwd=workdir).json()


def sdk_resources() -> dict[str, type[pulumi.CustomResource]]:
    """The SDK's resource classes by type token, as it registers them for the engine."""
    source = Path(inspect.getfile(pulumi_random)).read_text()
    modules = json.loads(re.search(r'resource_modules="""(.*?)"""', source, re.DOTALL).group(1))
    return {token: getattr(importlib.import_module(m["fqn"]), name)
            for m in modules for token, name in m["classes"].items()}


def test_the_plugin_is_the_version_of_the_python_sdk(schema: dict[str, Any]):
    assert schema["name"] == "random"
    assert schema["version"] == versions.PULUMI_RANDOM_SDK == pulumi_random._utilities.get_version()


def test_every_resource_and_input_of_the_python_sdk_is_in_the_plugins_schema(schema: dict[str, Any]):
    resources = sdk_resources()
    assert "random:index/randomPassword:RandomPassword" in resources
    missing = sorted(set(resources) - set(schema["resources"]))
    assert missing == []
    for token, cls in resources.items():
        args = getattr(pulumi_random, f"{cls.__name__}Args")
        sent = set(_types.input_type_py_to_pulumi_names(args).values())
        served = set(schema["resources"][token].get("inputProperties", {}))
        assert sent - served == set(), token


def test_a_random_passwords_value_and_hash_are_secret_outputs(schema: dict[str, Any]):
    outputs = schema["resources"]["random:index/randomPassword:RandomPassword"]["properties"]
    assert outputs["result"].get("secret") is True
    assert outputs["bcryptHash"].get("secret") is True
