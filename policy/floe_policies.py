"""The CrossGuard validators: each guardrail of `floe_infra.guardrails` as a stack validation.

Kept apart from `__main__.py` (which builds the PolicyPack and serves it to the engine) so tests
call the validators directly.
"""

from __future__ import annotations

from collections.abc import Callable

from pulumi_policy import EnforcementLevel, ReportViolation, StackValidationArgs, StackValidationPolicy

from floe_infra.guardrails import RULES, Enforcement, GuardedResource, Rule, evaluate, infer_facts

LEVELS = {Enforcement.MANDATORY: EnforcementLevel.MANDATORY, Enforcement.ADVISORY: EnforcementLevel.ADVISORY,
          Enforcement.DISABLED: EnforcementLevel.DISABLED}


def guarded(args: StackValidationArgs) -> list[GuardedResource]:
    """The stack's resources as the guardrails see them."""
    return [GuardedResource(urn=r.urn, type=r.resource_type, name=r.name, props=r.props, protect=r.opts.protect)
            for r in args.resources]


def validator(rule: Rule) -> Callable[[StackValidationArgs, ReportViolation], None]:
    """A stack validation reporting `rule`'s violations (its enforcement is the engine's business)."""
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = guarded(args)
        # Enforcement levels come from the policy config; evaluate only this rule, always enabled here.
        overrides = {other.id: Enforcement.DISABLED for other in RULES if other.id != rule.id}
        overrides[rule.id] = Enforcement.MANDATORY
        for violation in evaluate(resources, infer_facts(resources), overrides):
            report_violation(violation.message, violation.urn or None)

    return validate


def policies() -> list[StackValidationPolicy]:
    """One policy per guardrail, at its default enforcement."""
    return [StackValidationPolicy(name=rule.id, description=rule.description, validate=validator(rule),
                                  enforcement_level=LEVELS[rule.default]) for rule in RULES]
