"""A protocol adapter in front of the e2e toolchain's Python language host (v3.68.0).

The engine runs CrossGuard policy packs through the language host's `RunPlugin`, describing the
pack with the newer `info` (ProgramInfo) field only; the v3.68.0 host, the newest the Go module
proxy serves, reads the older `pwd`/`program` fields and so runs the project's program instead of
the pack. This adapter starts that host, forwards every call to it byte for byte, and fills in the
older fields of `RunPlugin` from `info`. It is test infrastructure for the toolchain built here;
an installed Pulumi CLI needs nothing of the kind.

Run as the `pulumi-language-python` the engine finds on PATH (`engine.py` writes the launcher):
    python language_host_adapter.py <the real host> <the host's arguments...>
"""

from __future__ import annotations

import ctypes
import signal
import subprocess
import sys
from concurrent import futures
from typing import Any

import grpc
from pulumi.runtime.proto import language_pb2

SERVICE = "pulumirpc.LanguageRuntime"
# Server-streaming methods; every other method is unary.
STREAMING = frozenset({"RunPlugin", "InstallDependencies", "Pack"})
START_TIMEOUT_SECONDS = 30


def _run_plugin_request(raw: bytes) -> bytes:
    request = language_pb2.RunPluginRequest.FromString(raw)
    if request.HasField("info") and not request.program:
        request.program = request.info.program_directory
        request.pwd = request.info.program_directory
    return request.SerializeToString()


class Forwarder(grpc.GenericRpcHandler):
    """Every LanguageRuntime method, forwarded as bytes to the real host."""

    def __init__(self, channel: grpc.Channel) -> None:
        self.channel = channel

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        method = handler_call_details.method
        service, _, name = method.strip("/").partition("/")
        if service != SERVICE:
            return None
        if name in STREAMING:
            upstream = self.channel.unary_stream(method)

            def stream(request: bytes, context: grpc.ServicerContext) -> Any:
                if name == "RunPlugin":
                    request = _run_plugin_request(request)
                try:
                    yield from upstream(request)
                except grpc.RpcError as exc:
                    context.abort(exc.code(), exc.details())

            return grpc.unary_stream_rpc_method_handler(stream)
        unary = self.channel.unary_unary(method)

        def call(request: bytes, context: grpc.ServicerContext) -> Any:
            try:
                return unary(request)
            except grpc.RpcError as exc:
                # The engine falls back on UNIMPLEMENTED: the host's status must reach it unchanged.
                context.abort(exc.code(), exc.details())

        return grpc.unary_unary_rpc_method_handler(call)


def _die_with_parent() -> None:
    """The host dies with the adapter, however the engine stops it (PR_SET_PDEATHSIG, Linux)."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


def main(argv: list[str]) -> int:
    host = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, preexec_fn=_die_with_parent)
    assert host.stdout is not None
    port = host.stdout.readline().strip()
    if not port.isdigit():
        host.kill()
        print(f"the language host did not report its port: {port!r}", file=sys.stderr)
        return 1
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    grpc.channel_ready_future(channel).result(timeout=START_TIMEOUT_SECONDS)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8), handlers=[Forwarder(channel)])
    own = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(own, flush=True)

    def stop(_signum: int, _frame: object) -> None:
        # The engine stops plugins by signal: stop quietly, the host with us.
        server.stop(0)
        host.terminate()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    host.wait()
    server.stop(0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
