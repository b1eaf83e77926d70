"""Faults that loopback test servers inject, the way servers, proxies and networks fail.

A `Fault` answers the next request that matches it, once. Some kinds answer instead of the
server (`status`, `hang`, `reset`, `not_json`); the others let the server do the work and then
spoil the answer (`after`: an error status although the change was made; `truncate`: the JSON
cut in half; `cut`: the connection closed mid-answer; `reset_after`: the connection reset after
the change was made). A hanging request waits until the server stops, at most `HANG_LIMIT`
seconds, so no test can hang for longer.
"""

from __future__ import annotations

import socket
import struct
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Literal

from floe_infra.http import HttpPolicy

HANG_LIMIT = 30.0
# Loopback answers fast (the fake Polaris loads its specs on the first request): short timeouts and no
# backoff keep fault tests fast and bounded.
FAST = HttpPolicy(connect_timeout=1.0, read_timeout=5.0, backoff=0.0, jitter=0.0, retry_after_max=5.0)
# For faults that cost timeouts: a 0.5 s read timeout (the servers are warm by then).
SHORT = HttpPolicy(connect_timeout=1.0, read_timeout=0.5, backoff=0.0, jitter=0.0, retry_after_max=5.0)
BEFORE = frozenset({"status", "hang", "reset", "not_json"})

FaultKind = Literal["status", "hang", "reset", "not_json", "after", "truncate", "cut", "reset_after"]


@dataclass
class Fault:
    """An injected failure for the next matching request.

    Attributes:
        status: The HTTP status of `status` and `after` faults.
        headers: Extra headers of `status` faults (`Retry-After`).
        match: Substring of "METHOD /path"; empty matches any request but token requests.
        kind: How the request fails (see the module docstring).
    """

    status: int = 503
    headers: dict[str, str] = field(default_factory=dict)
    match: str = ""
    kind: FaultKind = "status"

    def matches(self, call: str) -> bool:
        return self.match in call if self.match else "/oauth/" not in call


def take(faults: list[Fault], call: str) -> Fault | None:
    """The first fault matching `call`, removed from the list (callers hold their server's lock)."""
    fault = next((f for f in faults if f.matches(call)), None)
    if fault is not None:
        faults.remove(fault)
    return fault


def send(handler: BaseHTTPRequestHandler, status: int, payload: bytes, headers: dict[str, str] | None = None,
         content_type: str = "application/json") -> None:
    """A complete answer."""
    handler.send_response(status)
    for key, value in (headers or {}).items():
        handler.send_header(key, value)
    if payload:
        handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(payload)))
    handler.end_headers()
    handler.wfile.write(payload)


def reset(handler: BaseHTTPRequestHandler) -> None:
    """Abort the connection with a TCP reset (SO_LINGER 0), as a crashing proxy does."""
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.close_connection = True
    handler.connection.close()


def answer_instead(handler: BaseHTTPRequestHandler, fault: Fault, stopped: threading.Event) -> None:
    """Faults that answer in place of the server (it does nothing)."""
    if fault.kind == "status":
        body = (f'{{"error": {{"message": "injected {fault.status}", "type": "Injected", '
                f'"code": {fault.status}}}}}').encode()
        send(handler, fault.status, body, fault.headers)
    elif fault.kind == "hang":
        stopped.wait(HANG_LIMIT)
        handler.close_connection = True
    elif fault.kind == "reset":
        reset(handler)
    elif fault.kind == "not_json":
        send(handler, 200, b"<html><body>Please sign in to the corporate proxy</body></html>", content_type="text/html")


def spoil_answer(handler: BaseHTTPRequestHandler, fault: Fault, status: int, payload: bytes) -> None:
    """Faults that spoil the answer of work the server did."""
    if fault.kind == "after":
        body = (f'{{"error": {{"message": "injected {fault.status} after the change", "type": '
                f'"CommitStateUnknownException", "code": {fault.status}}}}}').encode()
        send(handler, fault.status, body)
    elif fault.kind == "truncate":
        send(handler, status, payload[: len(payload) // 2])
    elif fault.kind == "cut":
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload[: len(payload) // 2])
        handler.wfile.flush()
        handler.close_connection = True
    elif fault.kind == "reset_after":
        reset(handler)
