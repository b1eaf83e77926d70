"""Catalog governance: a Polaris client, the grant model, and Pulumi dynamic resources."""
