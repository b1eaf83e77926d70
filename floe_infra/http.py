"""HTTP for the catalog clients: a timeout on every request, and bounded retries only where safe.

The Polaris management client and pyiceberg's REST catalog both talk through a `requests`
session; `mount_policy` gives such a session what `requests` lacks by default:

- a connect and a read timeout on every request;
- urllib3's `Retry` with capped exponential backoff and jitter: a failed connection is retried
  for every method (nothing reached the server); 429 for every method (the server refused the
  request); 503 for a POST only with `Retry-After` (the Iceberg REST spec: a 503 may have been
  partly processed, and a non-idempotent request is retried only when the server says when);
  500/502/503/504 and lost answers (read timeout, reset) only for idempotent methods;
- `Retry-After` honoured up to a cap; a longer one fails at once with `CatalogBusyError`, as
  retrying sooner than the server asks is pointless and waiting a day is not a retry.

`transport_error` turns what `requests` raises into floe-infra's typed errors, naming the URL,
the operation and what to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, ProtocolError, ReadTimeoutError
from urllib3.util.retry import Retry

from floe_infra.errors import (
    CatalogBusyError,
    CatalogError,
    CatalogResponseError,
    CatalogTimeoutError,
    CatalogUnreachableError,
)

IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
SERVER_ERRORS = frozenset({500, 502, 503, 504})
# How much of an answer an error quotes when the server gives no message of its own.
ANSWER_QUOTE = 500
# Parse Retry-After unclipped so the refusal names the wait the server asked for.
_UNCLIPPED = 2**31


@dataclass(frozen=True)
class HttpPolicy:
    """Timeouts and retry bounds of one client.

    Attributes:
        connect_timeout: Seconds to establish a connection.
        read_timeout: Seconds to wait for each answer once connected.
        retries: Retries of one request (connection failures, 429 and 5xx), after the first try.
        read_retries: Retries of an idempotent request whose answer was lost (timeout, reset).
        backoff: Exponential backoff factor: waits 0, 2x, 4x, 8x ... this many seconds.
        backoff_max: Longest backoff between two tries.
        jitter: Up to this many seconds added at random to each backoff, so clients spread out.
        retry_after_max: Longest `Retry-After` honoured; a longer one fails at once.
    """

    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    retries: int = 4
    read_retries: int = 1
    backoff: float = 0.5
    backoff_max: float = 10.0
    jitter: float = 0.5
    retry_after_max: float = 30.0

    def retry(self) -> BoundedRetry:
        """The urllib3 retry configuration of this policy."""
        return BoundedRetry(
            total=self.retries, connect=self.retries, read=self.read_retries, status=self.retries, other=0,
            allowed_methods=IDEMPOTENT, backoff_factor=self.backoff, backoff_max=self.backoff_max,
            backoff_jitter=self.jitter, raise_on_status=False, retry_after_max=_UNCLIPPED,
            longest_wait=self.retry_after_max)


DEFAULT_POLICY = HttpPolicy()


class RetryAfterTooLongError(requests.exceptions.RequestException):
    """Raised (inside the transport) when a server asks to wait longer than the policy's cap.

    A `requests` exception, so it travels up through pyiceberg like any transport failure and
    `transport_error` names the operation it interrupted.
    """

    def __init__(self, url: str, status: int, wait: float, cap: float) -> None:
        self.url, self.status, self.wait, self.cap = url, status, wait, cap
        super().__init__(f"{url} answered HTTP {status} and asks to retry after {wait:.0f} s")


class BoundedRetry(Retry):
    """urllib3's `Retry`, with the status rules above and a cap on `Retry-After`."""

    def __init__(self, *args: Any, longest_wait: float = DEFAULT_POLICY.retry_after_max, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.longest_wait = longest_wait

    def new(self, **kw: Any) -> BoundedRetry:
        kw.setdefault("longest_wait", self.longest_wait)
        return super().new(**kw)

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if status_code == 429:
            return True
        if status_code == 503 and has_retry_after:
            return True
        return status_code in SERVER_ERRORS and method.upper() in IDEMPOTENT

    def increment(self, method: str | None = None, url: str | None = None, response: Any = None,
                  error: Exception | None = None, _pool: Any = None, _stacktrace: Any = None) -> BoundedRetry:
        header = response.headers.get("Retry-After") if response is not None else None
        if header is not None:
            wait = self.parse_retry_after(header)
            if wait > self.longest_wait:
                where = f"{_pool.scheme}://{_pool.host}:{_pool.port}{url}" if _pool is not None else str(url)
                raise RetryAfterTooLongError(where, response.status, wait, self.longest_wait)
        return super().increment(method, url, response, error, _pool, _stacktrace)


class _PolicyAdapter(HTTPAdapter):
    """A transport adapter that applies the policy's timeouts to requests that set none."""

    def __init__(self, policy: HttpPolicy) -> None:
        self.timeouts = (policy.connect_timeout, policy.read_timeout)
        super().__init__(max_retries=policy.retry())

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None,
             verify: bool | str = True, cert: Any = None, proxies: Any = None) -> requests.Response:
        return super().send(request, stream=stream, timeout=self.timeouts if timeout is None else timeout,
                            verify=verify, cert=cert, proxies=proxies)


def error_message(response: requests.Response) -> str:
    """The server's own message: OAuth2's `error` and `error_description` (RFC 6749), the Iceberg REST error
    model's `message` (Polaris' too), or the start of its answer."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:ANSWER_QUOTE] or response.reason
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return ": ".join(str(body[k]) for k in ("error", "error_description") if body.get(k))
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("message") or body["error"])
    return str(body)[:ANSWER_QUOTE]


def mount_policy(session: requests.Session, policy: HttpPolicy = DEFAULT_POLICY) -> requests.Session:
    """Give every request of `session` the policy's timeouts and retries; returns the session."""
    adapter = _PolicyAdapter(policy)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _reason(exc: BaseException) -> BaseException:
    """The urllib3 error under a `requests` exception (retries exhausted wrap it in MaxRetryError)."""
    inner = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc
    return inner.reason if isinstance(inner, MaxRetryError) and inner.reason is not None else inner


def certainly_not_applied(exc: BaseException) -> bool:
    """Whether a failed request certainly changed nothing (no connection was made, or the server refused it)."""
    return isinstance(exc, requests.ConnectTimeout) or isinstance(_reason(exc), ConnectTimeoutError
                                                                  | RetryAfterTooLongError)


def transport_error(exc: requests.RequestException, *, operation: str, url: str,
                    policy: HttpPolicy = DEFAULT_POLICY, hint: str = "") -> CatalogError:
    """The typed error for a request that got no usable answer.

    Args:
        exc: What `requests` raised.
        operation: What was being done (`create catalog lakehouse`, `load table bronze.orders`).
        url: The server (never with credentials).
        policy: The policy the request ran with (its timeouts are quoted).
        hint: What to check when the server cannot be reached at all.
    """
    reason = _reason(exc)
    fix = f"; {hint}" if hint else ""
    if isinstance(reason, RetryAfterTooLongError):  # requests wraps it in a ConnectionError
        return CatalogBusyError(f"{operation}: {reason}, longer than floe-infra waits ({reason.cap:g} s); nothing "
                                "was changed by that request: try again later")
    if isinstance(exc, requests.ConnectTimeout) or isinstance(reason, ConnectTimeoutError):
        return CatalogUnreachableError(f"{operation}: cannot connect to {url} (tried {policy.retries + 1} times, "
                                       f"{policy.connect_timeout:g} s each): {reason}{fix}")
    if isinstance(exc, requests.ReadTimeout) or isinstance(reason, ReadTimeoutError):
        return CatalogTimeoutError(
            f"{operation}: {url} accepted the connection but sent no answer within {policy.read_timeout:g} s; "
            "the server is stuck or overloaded: try again later")
    if isinstance(exc, requests.exceptions.ChunkedEncodingError | requests.exceptions.ContentDecodingError):
        return CatalogResponseError(f"{operation}: the answer of {url} was cut short ({reason}); a proxy or the "
                                    "server dropped the connection mid-answer: try again")
    if isinstance(exc, requests.ConnectionError) or isinstance(reason, ProtocolError):
        return CatalogUnreachableError(
            f"{operation}: the connection to {url} was lost before an answer arrived ({reason}); try again{fix}")
    return CatalogError(f"{operation}: request to {url} failed: {type(exc).__name__}: {exc}")
