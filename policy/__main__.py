"""The floe-guardrails policy pack: `pulumi preview --policy-pack policy`."""

from floe_policies import policies
from pulumi_policy import PolicyPack

PolicyPack(name="floe-guardrails", policies=policies())
