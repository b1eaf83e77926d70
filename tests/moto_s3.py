"""A local S3 for tests: moto's server on 127.0.0.1, started and always stopped by the test that needs it.

pyiceberg writes tables to it through pyarrow (`s3.endpoint`), and boto3 reads its versions for
the lifecycle double (tests/s3_lifecycle.py). Start-up is bounded; the process is terminated (then
killed) when the block ends, also on failure.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
REGION = "us-east-1"
# moto accepts any key; these are obviously not credentials.
ACCESS = {"aws_access_key_id": "fake", "aws_secret_access_key": "fake"}


@dataclass(frozen=True)
class LocalS3:
    """Where the local S3 answers."""

    endpoint: str

    def client(self) -> Any:
        """A boto3 S3 client of it."""
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, region_name=REGION, **ACCESS)

    @property
    def properties(self) -> dict[str, str]:
        """pyiceberg FileIO properties reaching it."""
        return {"s3.endpoint": self.endpoint, "s3.region": REGION, "s3.access-key-id": ACCESS["aws_access_key_id"],
                "s3.secret-access-key": ACCESS["aws_secret_access_key"], "s3.force-virtual-addressing": "false"}

    def versioned_bucket(self, name: str) -> None:
        """Create a bucket with versioning on, as floe-infra's AWS buckets are."""
        s3 = self.client()
        s3.create_bucket(Bucket=name)
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def local_s3() -> Iterator[LocalS3]:
    """Run moto_server for the duration of the block."""
    binary = shutil.which("moto_server", path=str(Path(sys.executable).parent))
    if binary is None:
        raise RuntimeError("moto_server is missing: pip install -r requirements-dev.txt (moto[server])")
    port = _free_port()
    process = subprocess.Popen([binary, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto_server did not start on port {port}") from None
                time.sleep(0.1)
        yield LocalS3(f"http://127.0.0.1:{port}")
    finally:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)
