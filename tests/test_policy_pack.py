"""The CrossGuard policy pack: its validators, called directly on stacks shaped as the engine sends them."""

from __future__ import annotations

import importlib.util
import json
from types import ModuleType

import pytest
import yaml
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    StackValidationArgs,
)

from floe_infra.guardrails import RULES, enforcement_overrides
from floe_infra.preview.runtime import ProgramRun
from tests.conftest import REPO
from tests.leaks import without_secret_wrappers
from tests.pipeline.conftest import demo_pipeline, platform_run

POLICY = REPO / "policy"


def load_policies() -> ModuleType:
    spec = importlib.util.spec_from_file_location("floe_policies", POLICY / "floe_policies.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


floe_policies = load_policies()


def policy_resource(type_: str, name: str, props: dict, protect: bool = False) -> PolicyResource:
    options = PolicyResourceOptions(protect=protect, ignore_changes=[], delete_before_replace=None, aliases=[],
                                    custom_timeouts=PolicyCustomTimeouts(0, 0, 0), additional_secret_outputs=[])
    return PolicyResource(resource_type=type_, props=props, urn=f"urn:pulumi:s::p::{type_}::{name}", name=name,
                          opts=options, provider=None, parent=None, dependencies=[], property_dependencies={})


def stack_args(run: ProgramRun) -> StackValidationArgs:
    # CrossGuard hands policies plain property values (secrets unwrapped): so do we.
    return StackValidationArgs([policy_resource(r.type, r.name, without_secret_wrappers(r.inputs), r.protect)
                                for r in run.resources])


def validate(policy_id: str, args: StackValidationArgs) -> list[tuple[str, str | None]]:
    [policy] = [p for p in floe_policies.policies() if p.name == policy_id]
    reported: list[tuple[str, str | None]] = []
    policy.validate(args, lambda message, urn=None: reported.append((message, urn)))
    return reported


def test_one_policy_per_guardrail_at_its_default_enforcement():
    policies = floe_policies.policies()
    assert [p.name for p in policies] == [r.id for r in RULES]
    assert all(p.enforcement_level is EnforcementLevel.MANDATORY for p in policies)


@pytest.mark.parametrize("stack", ["local", "dev", "prod"])
def test_the_demo_stacks_pass_every_policy(stack: str):
    for run in (platform_run(stack), demo_pipeline(stack)):
        args = stack_args(run)
        for rule in RULES:
            assert validate(rule.id, args) == [], (stack, rule.id)


def test_a_violation_is_reported_against_the_resource():
    release = policy_resource("kubernetes:helm.sh/v3:Release", "web", {
        "name": "web", "version": "1.0.0", "namespace": "floe",
        "values": {"image": {"repository": "a", "tag": "latest"}}})
    assert validate("no-latest-images", StackValidationArgs([release])) == [
        ("values.image pins no image tag (latest)", release.urn)]
    assert validate("chart-versions-pinned", StackValidationArgs([release])) == []


def test_a_pipeline_stack_creating_a_namespace_is_refused():
    args = stack_args(demo_pipeline("dev"))
    namespace = policy_resource("kubernetes:core/v1:Namespace", "extra", {"metadata": {"name": "extra"}})
    args = StackValidationArgs([*args.resources, namespace])
    assert validate("pipeline-namespaced", args) == [
        ("Namespace extra is cluster-scoped; pipeline stacks may not create it", namespace.urn)]


def test_the_pack_project_files_and_stack_configs_are_consistent():
    project = yaml.safe_load((POLICY / "PulumiPolicy.yaml").read_text())
    assert project["runtime"]["name"] == "python"
    assert "pulumi-policy==" in (POLICY / "requirements.txt").read_text()


    for config in sorted((POLICY / "config").glob("*.json")):
        enforcement_overrides(json.loads(config.read_text()))  # raises on an unknown rule or level
