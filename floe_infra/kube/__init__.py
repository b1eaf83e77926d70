"""Kubernetes pieces both tiers use: the cluster provider, labels, rollout digests and Helm release arguments.

The platform and pipeline stacks create objects in the same namespace through the same kind of
provider, with the same labels; what they share lives here, below both, so neither imports the other.
"""
