"""OAuth2 client credentials for REST catalogs, bounded like every other catalog request.

pyiceberg 0.12's default (legacy) OAuth2 manager posts its token request through a bare session
before floe-infra can mount its policy on it, so a token endpoint that accepts the connection and
never answers hung `floe-infra tables` and `pulumi up` forever. `ClientCredentials` is a pyiceberg
`AuthManager` (its `auth.type: custom` extension point) whose token requests go through a session
with floe-infra's timeouts and bounded retries (`floe_infra.http`), and whose failures are typed
errors naming the token endpoint. One `TokenSource` serves every session pyiceberg opens for one
catalog (the config request's and the main one), so opening a catalog costs one token request; the
token is renewed shortly before it expires.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pydantic
import requests
from pyiceberg.catalog.rest.auth import AuthManager
from pyiceberg.catalog.rest.response import TokenResponse

from floe_infra.errors import CatalogBusyError, CatalogCredentialError, CatalogError, CatalogResponseError
from floe_infra.http import SERVER_ERRORS, HttpPolicy, error_message, mount_policy, transport_error

TOKEN_PATH = "v1/oauth/tokens"
# Renew this long before the server says the token expires, so no request carries an expired one.
RENEW_MARGIN = 60.0
DEFAULT_SCOPE = "catalog"
CREDENTIAL_HINT = ("check the credential: $FLOE_CATALOG_CREDENTIAL for `floe-infra tables`, the credentials the "
                   "platform publishes for the tenant for a pipeline stack (run `pulumi up` after a rotation)")
UNREACHABLE_HINT = "check the catalog URI (--catalog-uri, or the platform's catalog deploy_uri) and the network"


def token_url(uri: str) -> str:
    """The catalog's OAuth2 token endpoint (the Iceberg REST spec's, as pyiceberg derives it)."""
    return f"{uri.rstrip('/')}/{TOKEN_PATH}"


class TokenSource:
    """Access tokens for one client of one catalog, fetched with a bounded session and shared by its sessions.

    Attributes:
        url: The token endpoint.
        scope: The OAuth2 scope asked for.
        policy: Timeouts and retries of the token request.
    """

    def __init__(self, url: str, credential: str, scope: str | None, policy: HttpPolicy) -> None:
        self.url = url
        self.scope = scope or DEFAULT_SCOPE
        self.policy = policy
        self._credential = credential
        self._lock = threading.Lock()
        self._token: str | None = None
        self._renew_at = 0.0

    def __repr__(self) -> str:  # never the credential
        return f"TokenSource(url={self.url!r}, scope={self.scope!r})"

    def token(self) -> str:
        """A valid access token: the current one, or a new one when there is none or it is about to expire.

        Raises:
            CatalogCredentialError: When the server refuses the credential (HTTP 400 or 401).
            CatalogError: (typed) When the token endpoint is unreachable, silent, throttled through every
                retry, or answers something that is not a token.
        """
        with self._lock:
            if self._token is None or time.monotonic() >= self._renew_at:
                self._token, lifetime = self._fetch()
                self._renew_at = time.monotonic() + max(lifetime - RENEW_MARGIN, 0.0) if lifetime else float("inf")
            return self._token

    def _fetch(self) -> tuple[str, float | None]:
        client_id, separator, secret = self._credential.partition(":")
        # As pyiceberg: a credential without a colon is a secret alone.
        data = {"grant_type": "client_credentials", "client_secret": secret if separator else client_id,
                "scope": self.scope, **({"client_id": client_id} if separator else {})}
        operation = "get a token from the catalog"
        try:
            with mount_policy(requests.Session(), self.policy) as session:
                response = session.post(self.url, data=data)
        except requests.RequestException as exc:
            raise transport_error(exc, operation=operation, url=self.url, policy=self.policy,
                                  hint=UNREACHABLE_HINT) from exc
        status = response.status_code
        if status in (400, 401):
            raise CatalogCredentialError(f"{operation}: {self.url} refused the credential (HTTP {status}: "
                                         f"{error_message(response)}); {CREDENTIAL_HINT}")
        if status == 429 or status in SERVER_ERRORS:
            raise CatalogBusyError(f"{operation}: {self.url} is overloaded or unavailable (HTTP {status}: "
                                   f"{error_message(response)}), also after the retries that are safe; try again "
                                   "later")
        if status != 200:
            raise CatalogError(f"{operation}: {self.url} answered HTTP {status}: {error_message(response)}")
        try:
            answer = TokenResponse.model_validate_json(response.text)
        except pydantic.ValidationError:
            raise CatalogResponseError(
                f"{operation}: {self.url} answered HTTP 200 without an OAuth2 token ({response.text.strip()[:80]!r}); "
                "check that the URI is the catalog's REST endpoint") from None
        return answer.access_token, answer.expires_in


class ClientCredentials(AuthManager):
    """pyiceberg's `AuthManager` for OAuth2 client credentials, backed by a `TokenSource`."""

    def __init__(self, tokens: TokenSource) -> None:
        self.tokens = tokens

    def auth_header(self) -> str:
        return f"Bearer {self.tokens.token()}"


def client_credentials_auth(uri: str, credential: str, scope: str | None, policy: HttpPolicy) -> dict[str, Any]:
    """The `auth` property of a pyiceberg REST catalog that authenticates through `ClientCredentials`."""
    return {"type": "custom", "impl": f"{ClientCredentials.__module__}.{ClientCredentials.__qualname__}",
            "custom": {"tokens": TokenSource(token_url(uri), credential, scope, policy)}}
