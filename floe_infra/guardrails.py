"""Guardrails: the rules every preview of a floe stack is checked against.

Plain functions over a neutral view of a stack's resources, so that the same rules run in the
CrossGuard policy pack (`policy/`, on real previews) and in the offline preview (mock runtime).
Each rule has a default enforcement (mandatory rules fail a preview, advisory ones warn) that a
stack can override with a policy config file (`policy/config/<stack>.json`, CrossGuard's format).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from floe_infra.config.credential_scan import credential_key, secret_value_kind
from floe_infra.quota import PLANNED_ANNOTATION, QUOTA_KEYS, quantity


class Enforcement(StrEnum):
    """What a violation does: fail the preview, warn, or nothing."""

    MANDATORY = "mandatory"
    ADVISORY = "advisory"
    DISABLED = "disabled"


class _Secret:
    """Marks a value known to be a Pulumi secret (the offline preview sees them; CrossGuard does not)."""

    def __repr__(self) -> str:
        return "[secret]"


SECRET = _Secret()


@dataclass(frozen=True)
class GuardedResource:
    """One resource as the rules see it."""

    urn: str
    type: str
    name: str
    props: Mapping[str, Any]
    protect: bool


@dataclass(frozen=True)
class StackFacts:
    """What the rules need to know about the stack.

    Attributes:
        kind: `platform` or `pipeline`.
        environment: `local`, `dev`, `staging` or `prod` (from the objects' `floe.dev/environment` label).
        namespace: The one namespace a pipeline stack may create objects in.
        outputs: Stack outputs that are not secrets (the offline preview knows them).
    """

    kind: str
    environment: str
    namespace: str | None = None
    outputs: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Violation:
    """A rule broken by one resource (or by the stack, when `urn` is empty)."""

    rule: str
    enforcement: Enforcement
    urn: str
    message: str


Finding = tuple[str, str]  # (urn or "", message)


@dataclass(frozen=True)
class Rule:
    """A guardrail."""

    id: str
    description: str
    default: Enforcement
    check: Callable[[Sequence[GuardedResource], StackFacts], Iterator[Finding]]


RELEASE = "kubernetes:helm.sh/v3:Release"
QUOTA = "kubernetes:core/v1:ResourceQuota"
CONFIGMAP = "kubernetes:core/v1:ConfigMap"
BUCKET = "aws:s3/bucket:Bucket"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
PUBLIC_ACCESS = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
WORKLOADS = {
    "kubernetes:apps/v1:Deployment": ("spec", "template", "spec"),
    "kubernetes:apps/v1:StatefulSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template", "spec"),
    "kubernetes:batch/v1:Job": ("spec", "template", "spec"),
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "kubernetes:core/v1:Pod": ("spec",),
}
# State that a deletion or replacement would lose. (Polaris catalogs and namespaces guard themselves:
# their delete refuses while they hold tables; Iceberg tables are never replaced, and dropped only when
# removed from floe.yaml on their own with drop_when_removed.)
STATEFUL = frozenset({
    "kubernetes:core/v1:Namespace", "kubernetes:apps/v1:StatefulSet", "kubernetes:core/v1:PersistentVolumeClaim",
    BUCKET,
})
CLUSTER_SCOPED = frozenset({
    "kubernetes:core/v1:Namespace", "kubernetes:core/v1:PersistentVolume", "kubernetes:core/v1:Node",
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
    "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition", "kubernetes:storage.k8s.io/v1:StorageClass",
    "kubernetes:scheduling.k8s.io/v1:PriorityClass",
    "kubernetes:admissionregistration.k8s.io/v1:MutatingWebhookConfiguration",
    "kubernetes:admissionregistration.k8s.io/v1:ValidatingWebhookConfiguration",
})
_REFERENCE_WORDS = frozenset({"existing", "from", "ref", "name", "names", "file", "key", "keys", "env", "path"})
_SEMVER = re.compile(r"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")
_WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_PATH_SEPARATORS = re.compile(r"[.\[\]]")


def _walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    yield path, value
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _walk(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]")


def _dig(value: Any, path: Sequence[str]) -> Any:
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _names_a_reference(key: str) -> bool:
    # `existingSecret`, `apiSecretFromSecret`, `secretKeyRef`, `postgresqlSecretName`: names, not values.
    return any(word.lower() in _REFERENCE_WORDS for word in _WORDS.findall(key))


def _describes_a_secret(ancestors: Sequence[str]) -> bool:
    # Inside `secret: {name: ..., password: password}` or `existingSecret: {...}`, values name a Secret
    # and its keys; they are not credentials.
    return any("secret" in (word.lower() for word in _WORDS.findall(a)) for a in ancestors)


def plaintext_secrets(value: Any, *, by_key: bool = True) -> Iterator[tuple[str, str]]:
    """(path, what) for every secret held in `value`: a secret value, a secret-looking string, or
    (with `by_key`) a credential-named key with a literal value."""
    for path, item in _walk(value):
        if item is SECRET:
            yield path, "a secret value"
        elif isinstance(item, str):
            kind = secret_value_kind(item)
            if kind:
                yield path, kind
            elif by_key and item and path:
                segments = [s for s in _PATH_SEPARATORS.split(path) if s and not s.isdigit()]
                if (segments and credential_key(segments[-1]) and not _names_a_reference(segments[-1])
                        and not _describes_a_secret(segments[:-1])):
                    yield path, "a literal value under a credential key"


def check_no_plaintext_secrets(resources: Sequence[GuardedResource], facts: StackFacts) -> Iterator[Finding]:
    """No secret in Helm values, ConfigMaps, labels, annotations or plain outputs (all stored and shown in
    plaintext). Labels, annotations and outputs name things (`floe.dev/secret-origin`, `credentials_secret`),
    so there only secret values and secret-looking strings count, not credential-like keys."""
    for r in resources:
        places: list[tuple[str, Any, bool]] = [
            ("metadata.labels", _dig(r.props, ("metadata", "labels")), False),
            ("metadata.annotations", _dig(r.props, ("metadata", "annotations")), False)]
        if r.type == RELEASE:
            places.append(("values", r.props.get("values"), True))
        if r.type == CONFIGMAP:
            places += [("data", r.props.get("data"), True), ("binaryData", r.props.get("binaryData"), True)]
        for where, value, by_key in places:
            for path, what in plaintext_secrets(value, by_key=by_key):
                yield r.urn, f"{where}.{path} holds {what}; reference a Secret instead"
    for key, value in (facts.outputs or {}).items():
        for path, what in plaintext_secrets(value, by_key=False):
            yield "", f"stack output {key}{'.' + path if path else ''} holds {what}; export it with Output.secret"


def check_buckets_secured(resources: Sequence[GuardedResource], facts: StackFacts) -> Iterator[Finding]:
    """Every S3 bucket is encrypted, versioned and blocks public access."""
    def targets(type_: str, ok: Callable[[Mapping[str, Any]], bool]) -> set[str]:
        return {str(r.props.get("bucket")) for r in resources if r.type == type_ and ok(r.props)}

    encrypted = targets(ENCRYPTION, lambda p: bool(p.get("rules")))
    versioned = targets(VERSIONING, lambda p: _dig(p, ("versioningConfiguration", "status")) == "Enabled")
    private = targets(PUBLIC_ACCESS, lambda p: all(p.get(k) is True for k in (
        "blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")))
    for r in resources:
        if r.type != BUCKET:
            continue
        # Companion resources name the bucket by id; the mock runtime and the engine both give it the name.
        names = {str(r.props.get("bucket")), f"{r.name}-id", str(r.props.get("id", ""))}
        for label, covered in (("server-side encryption", encrypted), ("versioning", versioned),
                               ("full public access block", private)):
            if not names & covered:
                yield r.urn, f"bucket {r.props.get('bucket')} has no {label}"


def check_stateful_protected(resources: Sequence[GuardedResource], facts: StackFacts) -> Iterator[Finding]:
    """Outside local, resources holding state are protected against deletion."""
    if facts.environment == "local":
        return
    for r in resources:
        if r.type in STATEFUL and not r.protect:
            yield r.urn, f"{r.type.rsplit(':', 1)[-1]} {r.name} holds state but is not protected (protect=True)"


def _containers(r: GuardedResource) -> Iterator[Mapping[str, Any]]:
    spec = _dig(r.props, WORKLOADS[r.type])
    if isinstance(spec, Mapping):
        for key in ("initContainers", "containers"):
            yield from (c for c in spec.get(key) or [] if isinstance(c, Mapping))


def _complete(resources: Any) -> bool:
    return (isinstance(resources, Mapping)
            and all(isinstance(resources.get(k), Mapping) and {"cpu", "memory"} <= set(resources[k])
                    for k in ("requests", "limits")))


def check_resources_set(resources: Sequence[GuardedResource], facts: StackFacts) -> Iterator[Finding]:
    """Every container has cpu and memory requests and limits (workloads, and `resources` blocks in Helm values)."""
    for r in resources:
        if r.type in WORKLOADS:
            for container in _containers(r):
                if not _complete(container.get("resources")):
                    yield r.urn, f"container {container.get('name')} lacks cpu/memory requests and limits"
        elif r.type == RELEASE:
            for path, value in _walk(r.props.get("values") or {}):
                if path.rsplit(".", 1)[-1] == "resources" and isinstance(value, Mapping) and not _complete(value):
                    yield r.urn, f"values.{path} lacks cpu/memory requests and limits"


def _image_problem(image: str) -> str | None:
    name = image.rsplit("/", 1)[-1]
    if "@" in name:
        return None
    tag = name.partition(":")[2]
    if not tag:
        return f"image {image} has no tag"
    return f"image {image} uses the mutable tag latest" if tag == "latest" else None


def _key_of(path: str) -> str:
    return re.split(r"[.\[]", path)[-1].lower()


def _values_image_problems(values: Any) -> Iterator[str]:
    """Images in Helm values, however a chart takes them: `{repository, tag}` blocks, `image: {tag: ...}`
    overrides (MinIO, Jaeger, Dagster), `image: repo:tag` strings and `...Tag: latest` keys."""
    flagged: set[str] = set()
    for path, value in _walk(values or {}):
        key = _key_of(path)
        if isinstance(value, Mapping) and "tag" in value and ("repository" in value or key.endswith("image")):
            tag = str(value.get("tag") or "")
            if tag in ("", "latest") and not value.get("digest"):
                flagged.add(f"{path}.tag")
                yield f"values.{path} pins no image tag ({tag or 'empty'})"
        elif isinstance(value, str) and key.endswith("tag") and value == "latest" and path not in flagged:
            yield f"values.{path} is the mutable tag latest"
        elif isinstance(value, str) and key.endswith("image") and ":" in value.rsplit("/", 1)[-1]:
            problem = _image_problem(value)
            if problem:
                yield f"values.{path}: {problem}"


def check_image_tags(resources: Sequence[GuardedResource], facts: StackFacts) -> Iterator[Finding]:
    """No image without a tag or with `latest`: workload containers, and every way Helm values set one."""
    for r in resources:
        if r.type in WORKLOADS:
            for container in _containers(r):
                problem = _image_problem(str(container.get("image", "")))
                if problem:
                    yield r.urn, problem
        elif r.type == RELEASE:
            for problem in _values_image_problems(r.props.get("values")):
                yield r.urn, problem


def check_chart_versions(resources: Sequence[GuardedResource], facts: StackFacts) -> Iterator[Finding]:
    """Every Helm release pins an exact chart version."""
    for r in resources:
        if r.type == RELEASE and not _SEMVER.match(str(r.props.get("version") or "")):
            yield r.urn, f"release {r.props.get('name')} pins no exact chart version ({r.props.get('version')!r})"


def check_pipeline_scope(resources: Sequence[GuardedResource], facts: StackFacts) -> Iterator[Finding]:
    """A pipeline stack creates nothing cluster-scoped and nothing outside the platform's namespace."""
    if facts.kind != "pipeline":
        return
    for r in resources:
        if not r.type.startswith("kubernetes:") or r.type.startswith("pulumi:providers:"):
            continue
        if r.type in CLUSTER_SCOPED:
            yield r.urn, f"{r.type.rsplit(':', 1)[-1]} {r.name} is cluster-scoped; pipeline stacks may not create it"
            continue
        namespace = r.props.get("namespace") if r.type == RELEASE else _dig(r.props, ("metadata", "namespace"))
        if facts.namespace is not None and namespace != facts.namespace:
            yield r.urn, f"{r.name} is in namespace {namespace!r}, outside the platform's {facts.namespace!r}"


def check_quota_fits(resources: Sequence[GuardedResource], facts: StackFacts) -> Iterator[Finding]:
    """The platform's namespace quota holds what the platform runs there, with room to roll one pod.

    The platform writes its plan onto the ResourceQuota (`floe_infra/platform/capacity.py`): services,
    one code server per tenant, Dagster's concurrent runs, one extra pod for a rollout and one Job.
    """
    for r in resources:
        if r.type != QUOTA:
            continue
        annotations = _dig(r.props, ("metadata", "annotations")) or {}
        hard = _dig(r.props, ("spec", "hard")) or {}
        for key in QUOTA_KEYS:
            planned, limit = annotations.get(f"{PLANNED_ANNOTATION}{key}"), hard.get(key)
            if planned is None or limit is None:
                continue
            if quantity(str(planned)) > quantity(str(limit)):
                yield r.urn, (f"the platform plans {planned} of {key} in its namespace but the quota allows {limit}: "
                              "rollouts and Dagster runs would wait forever for room. Raise "
                              "infrastructure.lifecycle.resource_quotas.namespace_limits, or lower "
                              "deployment.services.orchestration.max_concurrent_runs or the resource profiles")


RULES: tuple[Rule, ...] = (
    Rule("no-plaintext-secrets", "No secret values in Helm values, ConfigMaps, labels or plain outputs",
         Enforcement.MANDATORY, check_no_plaintext_secrets),
    Rule("s3-buckets-secured", "S3 buckets are encrypted, versioned and not public",
         Enforcement.MANDATORY, check_buckets_secured),
    Rule("stateful-protected", "Stateful resources are protected outside local",
         Enforcement.MANDATORY, check_stateful_protected),
    Rule("container-resources", "Every container has requests and limits",
         Enforcement.MANDATORY, check_resources_set),
    Rule("no-latest-images", "No `latest` or untagged images", Enforcement.MANDATORY, check_image_tags),
    Rule("quota-fits", "The namespace quota holds the platform's pods, its runs and a rollout",
         Enforcement.MANDATORY, check_quota_fits),
    Rule("chart-versions-pinned", "Every Helm chart version is pinned", Enforcement.MANDATORY, check_chart_versions),
    Rule("pipeline-namespaced", "Pipeline stacks create nothing cluster-scoped or outside their namespace",
         Enforcement.MANDATORY, check_pipeline_scope),
)
RULES_BY_ID = {rule.id: rule for rule in RULES}


def infer_facts(resources: Sequence[GuardedResource], outputs: Mapping[str, Any] | None = None) -> StackFacts:
    """Stack kind, environment and a pipeline's namespace, read from what the stack declares."""
    kind = "pipeline" if any(r.type.startswith("floe:pipeline:") or
                             _dig(r.props, ("metadata", "labels", "floe.dev/pipeline")) for r in resources) \
        else "platform"
    labels = [_dig(r.props, ("metadata", "labels")) or {} for r in resources]
    environments = {str(lab["floe.dev/environment"]) for lab in labels if "floe.dev/environment" in lab}
    environment = environments.pop() if len(environments) == 1 else "prod" if environments else "local"
    namespace = None
    if kind == "pipeline":
        # The runtime ConfigMaps are created in the platform's namespace, read from the contract.
        namespace = next((_dig(r.props, ("metadata", "namespace")) for r in resources if r.type == CONFIGMAP
                          and _dig(r.props, ("metadata", "labels", "app.kubernetes.io/component")) == "runtime-config"),
                         None)
    return StackFacts(kind=kind, environment=environment, namespace=namespace, outputs=outputs)


def enforcement_overrides(config: Mapping[str, Any]) -> dict[str, Enforcement]:
    """Per-rule enforcement from a CrossGuard policy config (`{"rule": "advisory"}`,
    `{"rule": {"enforcementLevel": "advisory"}}`, and `"all"` for every rule not named).

    Raises:
        ValueError: For an unknown rule or enforcement level.
    """
    def level_of(rule: str, value: Any) -> Enforcement:
        level = value.get("enforcementLevel") if isinstance(value, Mapping) else value
        try:
            return Enforcement(level)
        except ValueError:
            raise ValueError(f"guardrail '{rule}': enforcement must be mandatory, advisory or disabled, "
                             f"not {level!r}") from None

    unknown = sorted(set(config) - set(RULES_BY_ID) - {"all"})
    if unknown:
        raise ValueError(f"unknown guardrail {', '.join(unknown)} (known: all, {', '.join(RULES_BY_ID)})")
    out = {rule: level_of("all", config["all"]) for rule in RULES_BY_ID} if "all" in config else {}
    out |= {rule: level_of(rule, value) for rule, value in config.items() if rule != "all"}
    return out


def evaluate(resources: Sequence[GuardedResource], facts: StackFacts,
             overrides: Mapping[str, Enforcement] | None = None) -> list[Violation]:
    """Every violation of every enabled rule, in rule order."""
    violations = []
    for rule in RULES:
        level = (overrides or {}).get(rule.id, rule.default)
        if level is Enforcement.DISABLED:
            continue
        violations += [Violation(rule.id, level, urn, message) for urn, message in rule.check(resources, facts)]
    return violations
