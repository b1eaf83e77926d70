"""Credential detection: platform.yaml names credentials, floe.yaml has none."""

from __future__ import annotations

from pathlib import Path

import pytest

from floe_infra.config import load_pipeline, load_platform
from floe_infra.config.credential_scan import credential_key, secret_value_kind
from floe_infra.errors import ConfigError
from tests.conftest import DEMO_PIPELINE, DEMO_PLATFORM, compat_files


@pytest.mark.parametrize("key", [
    "password", "db_password", "PASSWORD", "aws_secret_access_key", "secretAccessKey", "access_key",
    "AWS_ACCESS_KEY_ID", "api_key", "apiKey", "client_secret", "private_key", "token", "auth-token",
    "connection_string", "credentials", "passphrase", "dsn",
])
def test_credential_like_keys_are_recognised(key: str):
    assert credential_key(key)


@pytest.mark.parametrize("key", [
    "secret_ref", "client_id", "token_refresh_enabled", "secret_backends", "kms_key_id", "role_arn",
    "api_secret_ref", "service_account", "principal_role", "bucket", "key", "primary_key_columns", "mode",
])
def test_ordinary_keys_are_not_credentials(key: str):
    assert not credential_key(key)


@pytest.mark.parametrize(("value", "kind"), [
    ("AKIAIOSFODNN7EXAMPLE", "an AWS access key id"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nabc", "a private key"),
    ("postgresql://dagster:hunter22@db:5432/dagster", "a URL with a user and password"),
    ("Server=db;Database=x;User Id=a;Password=b", "a connection string with a password"),
    ("ghp_" + "a" * 36, "a GitHub token"),
])
def test_secret_values_are_recognised(value: str, kind: str):
    assert secret_value_kind(value) == kind


@pytest.mark.parametrize("value", [
    "http://polaris:8181/api/catalog", "PRINCIPAL_ROLE:ALL", "arn:aws:kms:us-east-1:123456789012:key/k",
    "postgresql://db:5432/dagster", "s3://floe-bronze/warehouse", "*/5 * * * *", "group:bronze",
])
def test_ordinary_values_are_not_secrets(value: str):
    assert secret_value_kind(value) is None


@pytest.mark.parametrize("path", [*compat_files("*.yaml"), DEMO_PLATFORM, DEMO_PIPELINE], ids=lambda p: p.name)
def test_no_false_positive_on_compat_and_demo_files(path: Path):
    if path.name.startswith("platform"):
        load_platform(path, env={})
    else:
        load_pipeline(path)


def test_platform_secret_reference_is_accepted_where_the_literal_is_refused(write_yaml):
    base = "storage:\n  default:\n    bucket: floe-data\ncatalogs:\n  default:\n    uri: http://p\n" \
           "    warehouse: w\n    credentials:\n      mode: oauth2\n      client_id: svc\n"
    ok = write_yaml(base + "      client_secret: {secret_ref: polaris-secret}\n", "ok.yaml")
    assert load_platform(ok, env={}).config.catalogs["default"].credentials.client_secret is not None
    bad = write_yaml(base + "      client_secret: plain-text-value\n", "bad.yaml")
    with pytest.raises(ConfigError) as caught:
        load_platform(bad, env={})
    messages = {p.message for p in caught.value.problems}
    assert "'client_secret' holds a plaintext credential; replace it with `{secret_ref: <kubernetes-secret-name>}`" \
        in messages


def test_rotating_a_secret_named_like_a_credential_is_not_a_plaintext_credential(write_yaml):
    """`deployment.rotate` is keyed by Secret names: a tenant's `<name>-s3-credentials` is a name, its count no key."""
    base = "storage:\n  default: {bucket: floe-data}\ndeployment:\n  rotate: {acme-s3-credentials: 1}\n"
    loaded = load_platform(write_yaml(base, "ok.yaml"), env={})
    assert loaded.config.deployment.rotate == {"acme-s3-credentials": 1}
    # A credential-like key holding a number elsewhere is still one.
    with pytest.raises(ConfigError, match="'password' holds a plaintext credential"):
        load_platform(write_yaml(base + "  services:\n    database:\n      values: {password: 1234}\n", "bad.yaml"),
                      env={})


def test_platform_credential_injected_through_environment_is_still_refused_and_never_echoed(write_yaml):
    path = write_yaml("storage:\n  default:\n    bucket: floe-data\n    endpoint: ${FLOE_S3_URL}\n")
    with pytest.raises(ConfigError, match="a URL with a user and password") as caught:
        load_platform(path, env={"FLOE_S3_URL": "http://root:fake-test-password@minio:9000"})
    assert "fake-test-password" not in str(caught.value)


def test_every_credential_of_a_floe_yaml_is_reported_at_once(write_yaml):
    path = write_yaml('name: sales\nversion: "1.0.0"\ncredentials: {token: abc}\n'
                      "observability:\n  attributes:\n    key: AKIAIOSFODNN7EXAMPLE\n")
    with pytest.raises(ConfigError) as caught:
        load_pipeline(path)
    located = sorted((p.line, p.path) for p in caught.value.problems if "floe.yaml holds" in p.message)
    assert located == [(3, "credentials"), (6, "observability.attributes.key")]


# --- errors never repeat a credential -------------------------------------------------------------------

CATALOG = "storage:\n  default:\n    bucket: floe-data\ncatalogs:\n  default:\n    uri: http://p\n    warehouse: w\n" \
          "    credentials:\n      mode: oauth2\n      client_id: svc\n"


@pytest.mark.parametrize(("line", "pasted"), [
    ("      client_secret: pol-fake-test-only-secret-0000\n", "pol-fake-test-only-secret-0000"),
    ("      client_secret: 4417123456789113\n", "4417123456789113"),  # a number is not shown either
    ("      client_secret: {secret_ref: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY}\n",
     "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),  # an AWS secret key pasted as a Secret name
    ("      client_secret: {secret_ref: AKIAIOSFODNN7EXAMPLE}\n", "AKIAIOSFODNN7EXAMPLE"),
])
def test_what_was_pasted_into_a_credential_field_is_never_echoed(write_yaml, capsys, line: str, pasted: str):
    from floe_infra.cli import main

    path = write_yaml(CATALOG + line)
    with pytest.raises(ConfigError) as caught:
        load_platform(path, env={})
    assert caught.value.problems, "refused"
    assert pasted not in str(caught.value)
    # Nor through the CLI, in text or JSON, where terminals and CI logs keep it.
    for json_flag in ([], ["--json"]):
        assert main(["validate", "--platform", str(path), *json_flag]) == 2
        captured = capsys.readouterr()
        assert pasted not in captured.out + captured.err
        assert "client_secret" in captured.out + captured.err


def test_a_secret_looking_value_in_any_field_is_not_echoed(write_yaml):
    path = write_yaml("storage:\n  default:\n    bucket: floe-data\n    endpoint: http://root:fake-test-password@minio:9000\n")
    with pytest.raises(ConfigError) as caught:
        load_platform(path, env={})
    assert "fake-test-password" not in str(caught.value)
    assert "storage.default.endpoint" in str(caught.value)


def test_ordinary_values_are_still_shown_to_help_fix_them(write_yaml):
    path = write_yaml("storage:\n  default:\n    bucket: Floe_Data\n")
    with pytest.raises(ConfigError, match="bucket 'Floe_Data' breaks the S3 naming rules"):
        load_platform(path, env={})


# --- ${VAR}: FLOE_* in platform.yaml, nothing in floe.yaml ------------------------------------------------

CI_ENVIRONMENT = {"PULUMI_CONFIG_PASSPHRASE": "platform-passphrase-of-ci", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMIK7",
                  "FLOE_CATALOG_CREDENTIAL": "fake-client-id:fake-client-secret",
                  "FLOE_TENANT_KEY": "floe-tenant-private-key:fake", "FLOE_NOTE": "fake-note-value",
                  "FLOE_BUCKET": "floe-data"}


@pytest.mark.parametrize(("variable", "why"), [
    ("PULUMI_CONFIG_PASSPHRASE", "platform.yaml expands only FLOE_* variables for endpoints and names"),
    ("AWS_SECRET_ACCESS_KEY", "platform.yaml expands only FLOE_* variables for endpoints and names"),
    # docs/ci.md gives this one to the `tables` job: a FLOE_ name is no licence to expand.
    ("FLOE_CATALOG_CREDENTIAL", "its name says it holds a credential (CREDENTIAL)"),
    ("FLOE_TENANT_KEY", "its name says it holds a credential (KEY)"),
    ("FLOE_NOTE", "expands only the variables docs/platform-config.md lists for endpoints and names"),
])
def test_a_platform_yaml_cannot_pull_a_ci_secret_out_of_the_environment(write_yaml, variable: str, why: str):
    path = write_yaml(f"storage:\n  default:\n    bucket: floe-data\nobservability:\n  attributes:\n"
                      f"    leak: ${{{variable}}}\n")
    with pytest.raises(ConfigError) as caught:
        load_platform(path, env=CI_ENVIRONMENT)
    assert CI_ENVIRONMENT[variable] not in str(caught.value)
    [problem] = caught.value.problems
    assert (problem.line, problem.path) == (6, "observability.attributes.leak")
    assert problem.message.startswith(f"${{{variable}}} is not expanded: ")
    assert why in problem.message


def test_a_refused_variable_is_refused_by_its_name_whether_or_not_it_is_set(write_yaml):
    path = write_yaml("storage:\n  default:\n    bucket: ${FLOE_CATALOG_CREDENTIAL:-floe-data}\n")
    with pytest.raises(ConfigError, match="its name says it holds a credential"):
        load_platform(path, env={})


@pytest.mark.parametrize("variable", ["FLOE_DATA_BUCKET", "FLOE_S3_URL", "FLOE_POLARIS_URI", "FLOE_OTLP_ENDPOINT",
                                      "FLOE_DB_HOST", "FLOE_DB_PORT", "FLOE_PLATFORM_NAME", "FLOE_NAMESPACE",
                                      "FLOE_REGION", "FLOE_WAREHOUSE", "FLOE_ROLE_ARN", "FLOE_ENVIRONMENT"])
def test_variables_of_endpoints_and_names_expand(write_yaml, variable: str):
    path = write_yaml(f"storage:\n  default: {{bucket: floe-data}}\nobservability:\n  attributes:\n"
                      f"    note: ${{{variable}}}\n")
    assert load_platform(path, env={variable: "expanded"}).config.observability.attributes["note"] == "expanded"


def test_an_error_about_an_expanded_value_names_the_variable_never_the_value(write_yaml):
    # A credential pasted into an allowed variable by mistake: its value is invalid as a bucket name, and the
    # error says where it came from without repeating it; the same for a value quoted by a cross-field rule.
    pasted = "Fake-Pasted-Credential_0123456789"
    path = write_yaml("storage:\n  default:\n    bucket: ${FLOE_DATA_BUCKET}\n"
                      "deployment:\n  namespace: x-${FLOE_NAMESPACE}\n")
    with pytest.raises(ConfigError) as caught:
        load_platform(path, env={"FLOE_DATA_BUCKET": pasted, "FLOE_NAMESPACE": pasted})
    text = str(caught.value)
    assert pasted not in text
    assert pasted[:20] not in text
    messages = {p.path: p.message for p in caught.value.problems}
    assert "the value of ${FLOE_DATA_BUCKET}" in messages["storage.default.bucket"]
    assert "the value of x-${FLOE_NAMESPACE}" in messages["deployment.namespace"]


def test_a_floe_yaml_expands_nothing_so_the_preview_shows_the_text_as_written(write_yaml, monkeypatch):
    for key, value in CI_ENVIRONMENT.items():
        monkeypatch.setenv(key, value)
    path = write_yaml('name: sales\nversion: "1.0.0"\nobservability:\n  attributes:\n'
                      '    bucket: ${FLOE_BUCKET}\n    deploy: ${PULUMI_CONFIG_PASSPHRASE:-none}\n', "floe.yaml")
    with pytest.raises(ConfigError) as caught:
        load_pipeline(path)
    # A reference to a credential variable is refused (floe-runtime would expand it in the pods) ...
    [problem] = caught.value.problems
    assert (problem.line, problem.path) == (6, "observability.attributes.deploy")
    assert "names a credential variable" in problem.message
    # ... and anything else stays as written, even a FLOE_* variable.
    path.write_text('name: sales\nversion: "1.0.0"\nobservability:\n  attributes:\n    bucket: ${FLOE_BUCKET}\n')
    assert load_pipeline(path).config.observability.attributes == {"bucket": "${FLOE_BUCKET}"}
