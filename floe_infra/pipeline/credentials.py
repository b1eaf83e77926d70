"""The tenant's catalog credentials: opened from the contract with the tenant's key, written to its own Secret.

The platform publishes a tenant's catalog credentials only sealed to the tenant's public key, so a
pipeline stack is that tenant only if it holds the matching private key (`floe:tenantKey`, a secret
of its own stack config), whether or not it declares tables: without it the stack stops before
declaring anything. The opened credentials stay Pulumi secrets; the stack writes them into the
Secret `<tenant>-catalog-credentials` that its code location and run pods read (the platform's
RBAC lets the tenant's ServiceAccount read it, and no other tenant's).
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s
from pulumi.runtime.config import is_config_secret

from floe_infra.errors import FloeError
from floe_infra.pipeline.binding import PipelineBinding
from floe_infra.pipeline.labels import pipeline_meta
from floe_infra.polaris.sealing import unseal
from floe_infra.runtime_env import pyiceberg_env_key

TENANT_KEY = "floe:tenantKey"


class TenantKeyError(FloeError):
    """Raised when `floe:tenantKey` is not set, so the stack cannot prove it is its tenant."""


def open_tenant_credentials(binding: PipelineBinding, config: pulumi.Config) -> pulumi.Output[dict[str, str]]:
    """The tenant's catalog credentials (`client_id`, `client_secret`), opened with `floe:tenantKey`; a secret.

    Raises:
        FloeError: When the platform publishes no sealed credentials for the tenant, or the key is missing,
            not a secret, or not the tenant's (a `SealingError`): the stack is not this tenant.
    """
    sealed = binding.tenant.sealed_credentials
    if not sealed:
        raise FloeError(
            f"platform '{binding.contract.platform}' publishes no catalog credentials for tenant '{binding.name}', so "
            f"no pipeline stack can prove it is that tenant: the platform team sets "
            f"deployment.tenants.{binding.name}.public_key (from `floe-infra tenant keygen`) and runs `pulumi up` "
            "with catalog governance enabled")
    key = config.get("tenantKey")
    if key is None:
        raise TenantKeyError(f"{TENANT_KEY} is not set: a pipeline stack is tenant '{binding.name}' only with that "
                             f"tenant's private key. `pulumi config set --secret {TENANT_KEY} \"$(cat tenant.key)\"` "
                             "with the key from `floe-infra tenant keygen`")
    if not is_config_secret(TENANT_KEY):
        raise FloeError(f"{TENANT_KEY} is stored in plain text in the stack file: set it again with "
                        f"`pulumi config set --secret {TENANT_KEY} ...` and rotate it (it may have been committed)")
    return pulumi.Output.secret(unseal(key, sealed))


def credentials_secret_data(binding: PipelineBinding, credentials: dict[str, str]) -> dict[str, str]:
    """The Secret's keys: the environment variables floe-runtime and pyiceberg read."""
    pair = f"{credentials['client_id']}:{credentials['client_secret']}"
    return {"POLARIS_CLIENT_ID": credentials["client_id"], "POLARIS_CLIENT_SECRET": credentials["client_secret"],
            "POLARIS_CREDENTIAL": pair, pyiceberg_env_key("credential"): pair,
            "POLARIS_SCOPE": f"PRINCIPAL_ROLE:{binding.tenant.principal_role}"}


class TenantCredentials(pulumi.ComponentResource):
    """The Secret holding the tenant's catalog credentials, for its own pods."""

    secret: k8s.core.v1.Secret

    def __init__(self, name: str, binding: PipelineBinding, credentials: pulumi.Output[dict[str, str]],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floe:pipeline:TenantCredentials", name, None, opts)
        self.secret = k8s.core.v1.Secret(
            f"{name}-secret",
            metadata=pipeline_meta(binding, binding.tenant.credentials_secret, "catalog-credentials"),
            type="Opaque",
            string_data=pulumi.Output.secret(credentials.apply(lambda c: credentials_secret_data(binding, c))),
            opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({"secret": self.secret.metadata.name})
