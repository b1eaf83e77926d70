"""A real Kubernetes control plane on loopback for the e2e scenario.

etcd, kube-apiserver, kube-controller-manager and kube-scheduler, built from their Go modules
(tools/toolchain.py), with certificates generated here, plus kwok: it plays the kubelet of a few
fake nodes, so pods are scheduled, become Running and Ready, and pods of Jobs complete, without
any container runtime. Everything listens on 127.0.0.1 only; every process is stopped when the
context exits, also on failure, and `atexit` is a second net for an interpreter that dies early.
"""

from __future__ import annotations

import atexit
import ctypes
import datetime
import ipaddress
import os
import signal
import socket
import subprocess
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests
import urllib3
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

START_TIMEOUT_SECONDS = 120
PR_SET_PDEATHSIG = 1
STOP_TIMEOUT_SECONDS = 15
HTTP_TIMEOUT_SECONDS = 5
SERVICE_CIDR = "10.96.0.0/16"
POD_CIDR = "10.244.0.1/16"
NODES = ("kwok-node-0", "kwok-node-1")
# Static volumes for PersistentVolumeClaims (there is no provisioner): kwok never mounts them.
VOLUMES = 12


def die_with_parent() -> None:
    """In a child before exec: get SIGTERM when the test process dies, however it dies (Linux).

    Teardown and `atexit` stop servers on failures and normal exits; this covers a test process
    that is itself killed.
    """
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    """A port nothing listens on at the moment (loopback only)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Process:
    """A started server, its log file and how to stop it."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.popen.poll() is not None:
            return
        # Each server leads its own process group: signal the group, so nothing it forked survives.
        os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(STOP_TIMEOUT_SECONDS)

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace").splitlines() if self.log.exists() else []
        return "\n".join(text[-lines:])


# --- certificates -------------------------------------------------------------------------------


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _write_key(key: rsa.RSAPrivateKey, path: Path) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                       serialization.NoEncryption()))
    path.chmod(0o600)


def _certificate(subject: x509.Name, key: rsa.RSAPrivateKey, issuer: x509.Name, signer: rsa.RSAPrivateKey, *,
                 ca: bool = False, sans: list[x509.GeneralName] | None = None,
                 usage: list[x509.ObjectIdentifier] | None = None) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=not ca, key_cert_sign=ca,
                                            crl_sign=ca, content_commitment=False, data_encipherment=False,
                                            key_agreement=False, encipher_only=False, decipher_only=False),
                              critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()),
                              critical=False))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    if usage:
        builder = builder.add_extension(x509.ExtendedKeyUsage(usage), critical=False)
    return builder.sign(signer, hashes.SHA256())


def _name(common_name: str, organization: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    return x509.Name(attributes)


@dataclass(frozen=True)
class Certificates:
    """Paths of the PKI of one control plane."""

    ca: Path
    ca_key: Path
    server: Path
    server_key: Path
    admin: Path
    admin_key: Path
    service_accounts: Path


def make_certificates(directory: Path) -> Certificates:
    """A CA, the API server's serving certificate, an admin client (system:masters) and the SA key."""
    directory.mkdir(parents=True, exist_ok=True)
    pem = serialization.Encoding.PEM
    ca_key = _key()
    ca_name = _name("floe-e2e-ca")
    ca = _certificate(ca_name, ca_key, ca_name, ca_key, ca=True)
    server_key = _key()
    service_ip = next(ipaddress.ip_network(SERVICE_CIDR).hosts())
    sans: list[x509.GeneralName] = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.IPAddress(service_ip),
                                    x509.DNSName("localhost")]
    sans += [x509.DNSName(n) for n in ("kubernetes", "kubernetes.default", "kubernetes.default.svc",
                                       "kubernetes.default.svc.cluster.local")]
    server = _certificate(_name("kube-apiserver"), server_key, ca_name, ca_key, sans=sans,
                          usage=[x509.oid.ExtendedKeyUsageOID.SERVER_AUTH])
    admin_key = _key()
    admin = _certificate(_name("floe-e2e-admin", "system:masters"), admin_key, ca_name, ca_key,
                         usage=[x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH])
    paths = Certificates(*(directory / n for n in ("ca.crt", "ca.key", "apiserver.crt", "apiserver.key",
                                                   "admin.crt", "admin.key", "service-accounts.key")))
    paths.ca.write_bytes(ca.public_bytes(pem))
    _write_key(ca_key, paths.ca_key)
    paths.server.write_bytes(server.public_bytes(pem))
    _write_key(server_key, paths.server_key)
    paths.admin.write_bytes(admin.public_bytes(pem))
    _write_key(admin_key, paths.admin_key)
    _write_key(_key(), paths.service_accounts)
    return paths


def write_kubeconfig(path: Path, server: str, certs: Certificates) -> None:
    """A kubeconfig for the admin client with every credential embedded (one self-contained file)."""
    import base64

    def b64(p: Path) -> str:
        return base64.b64encode(p.read_bytes()).decode()

    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "floe-e2e",
        "clusters": [{"name": "floe-e2e", "cluster": {"server": server, "certificate-authority-data": b64(certs.ca)}}],
        "users": [{"name": "admin", "user": {"client-certificate-data": b64(certs.admin),
                                             "client-key-data": b64(certs.admin_key)}}],
        "contexts": [{"name": "floe-e2e", "context": {"cluster": "floe-e2e", "user": "admin"}}],
    }))
    path.chmod(0o600)


# --- the control plane --------------------------------------------------------------------------


@dataclass
class ControlPlane:
    """A running control plane: its API address, admin kubeconfig and processes."""

    workdir: Path
    server: str
    kubeconfig: Path
    certs: Certificates
    processes: list[Process] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def request(self, method: str, path: str, **kwargs: object) -> requests.Response:
        """An API request as the admin, verifying the API server against our CA.

        `verify` goes with each request: a session's would lose to REQUESTS_CA_BUNDLE.
        """
        return requests.request(method, f"{self.server}{path}", cert=(str(self.certs.admin), str(self.certs.admin_key)),
                                verify=str(self.certs.ca), timeout=HTTP_TIMEOUT_SECONDS, **kwargs)  # type: ignore[arg-type]

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()

    def logs(self) -> str:
        return "\n".join(f"--- {p.name} (exit {p.popen.poll()}) ---\n{p.tail()}" for p in self.processes)


def _wait(what: str, check: Callable[[], bool], plane: ControlPlane, timeout: float = START_TIMEOUT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    last_error = "not ready yet"
    while time.monotonic() < deadline:
        dead = [p for p in plane.processes if p.popen.poll() is not None]
        if dead:
            raise RuntimeError(f"{dead[0].name} exited while waiting for {what}:\n{plane.logs()}")
        try:
            if check():
                return
        except requests.RequestException as exc:
            last_error = str(exc)
        time.sleep(0.5)
    raise TimeoutError(f"{what} not ready within {timeout:.0f} s ({last_error}):\n{plane.logs()}")


def _start(plane: ControlPlane, name: str, argv: list[str], env: dict[str, str] | None = None) -> Process:
    log = plane.workdir / "logs" / f"{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        popen = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 start_new_session=True, env={**os.environ, **(env or {})}, cwd=plane.workdir,
                                 preexec_fn=die_with_parent)
    process = Process(name, popen, log)
    plane.processes.append(process)
    return process


def _healthy(url: str) -> Callable[[], bool]:
    def check() -> bool:
        # The components serve /healthz with a certificate they made themselves, to anyone.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
            return requests.get(url, verify=False, timeout=HTTP_TIMEOUT_SECONDS).status_code == 200

    return check


def _node(name: str) -> dict[str, object]:
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "annotations": {"kwok.x-k8s.io/node": "fake"},
                     "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                                "kubernetes.io/arch": "amd64", "type": "kwok"}},
        "status": {"allocatable": {"cpu": "64", "memory": "256Gi", "pods": "250"},
                   "capacity": {"cpu": "64", "memory": "256Gi", "pods": "250"}},
    }


def _volume(index: int) -> dict[str, object]:
    return {
        "apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {"name": f"e2e-volume-{index}", "labels": {"floe.dev/e2e": "volume"}},
        "spec": {"capacity": {"storage": "100Gi"}, "accessModes": ["ReadWriteOnce"],
                 "persistentVolumeReclaimPolicy": "Delete", "storageClassName": "",
                 "hostPath": {"path": f"/tmp/floe-e2e-volume-{index}"}},
    }


@contextmanager
def control_plane(bin_dir: Path, workdir: Path) -> Iterator[ControlPlane]:
    """Start etcd, the API server, controller-manager, scheduler and kwok; stop them all on exit."""
    start = time.monotonic()
    certs = make_certificates(workdir / "pki")
    api_port = free_port()
    server = f"https://127.0.0.1:{api_port}"
    plane = ControlPlane(workdir=workdir, server=server, kubeconfig=workdir / "admin.kubeconfig", certs=certs)
    write_kubeconfig(plane.kubeconfig, server, certs)
    atexit.register(plane.stop)
    try:
        _run(plane, bin_dir, api_port)
        plane.timings["control plane ready"] = time.monotonic() - start
        yield plane
    finally:
        plane.stop()
        atexit.unregister(plane.stop)


def _run(plane: ControlPlane, bin_dir: Path, api_port: int) -> None:
    certs = plane.certs
    etcd_port, peer_port = free_port(), free_port()
    _start(plane, "etcd", [
        str(bin_dir / "etcd"), "--name=e2e", f"--data-dir={plane.workdir / 'etcd'}",
        f"--listen-client-urls=http://127.0.0.1:{etcd_port}", f"--advertise-client-urls=http://127.0.0.1:{etcd_port}",
        f"--listen-peer-urls=http://127.0.0.1:{peer_port}",
        f"--initial-advertise-peer-urls=http://127.0.0.1:{peer_port}",
        f"--initial-cluster=e2e=http://127.0.0.1:{peer_port}", "--unsafe-no-fsync", "--log-level=warn",
    ])
    _wait("etcd", lambda: requests.get(f"http://127.0.0.1:{etcd_port}/health",
                                       timeout=HTTP_TIMEOUT_SECONDS).status_code == 200, plane)
    _start(plane, "kube-apiserver", [
        str(bin_dir / "kube-apiserver"), f"--etcd-servers=http://127.0.0.1:{etcd_port}",
        "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", f"--secure-port={api_port}",
        f"--tls-cert-file={certs.server}", f"--tls-private-key-file={certs.server_key}",
        f"--client-ca-file={certs.ca}",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        f"--service-account-key-file={certs.service_accounts}",
        f"--service-account-signing-key-file={certs.service_accounts}",
        f"--service-cluster-ip-range={SERVICE_CIDR}", "--authorization-mode=Node,RBAC",
        # The default `kubernetes` Service would point at 127.0.0.1, which Endpoints refuse.
        "--endpoint-reconciler-type=none", "--allow-privileged=true", "--profiling=false",
    ])
    _wait("kube-apiserver", lambda: plane.request("GET", "/readyz").ok, plane)
    kcm_port, scheduler_port, kwok_port = free_port(), free_port(), free_port()
    _start(plane, "kube-controller-manager", [
        str(bin_dir / "kube-controller-manager"), f"--kubeconfig={plane.kubeconfig}",
        f"--authentication-kubeconfig={plane.kubeconfig}", f"--authorization-kubeconfig={plane.kubeconfig}",
        "--bind-address=127.0.0.1", f"--secure-port={kcm_port}", f"--cert-dir={plane.workdir / 'kcm-certs'}",
        "--leader-elect=false", f"--service-account-private-key-file={certs.service_accounts}",
        f"--root-ca-file={certs.ca}", f"--cluster-signing-cert-file={certs.ca}",
        f"--cluster-signing-key-file={certs.ca_key}", "--use-service-account-credentials=false",
        "--profiling=false",
    ])
    _start(plane, "kube-scheduler", [
        str(bin_dir / "kube-scheduler"), f"--kubeconfig={plane.kubeconfig}",
        f"--authentication-kubeconfig={plane.kubeconfig}", f"--authorization-kubeconfig={plane.kubeconfig}",
        "--bind-address=127.0.0.1", f"--secure-port={scheduler_port}",
        f"--cert-dir={plane.workdir / 'scheduler-certs'}", "--leader-elect=false", "--profiling=false",
    ])
    (plane.workdir / "kwok.yaml").write_text("")  # no ~/.kwok/kwok.yaml of the machine
    _start(plane, "kwok", [
        str(bin_dir / "kwok"), f"--config={plane.workdir / 'kwok.yaml'}", f"--kubeconfig={plane.kubeconfig}",
        "--manage-all-nodes=false", "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
        f"--cidr={POD_CIDR}", "--node-ip=127.0.0.1", f"--server-address=127.0.0.1:{kwok_port}",
        # Leases renewed every few seconds: without them nodes only report every ~55 s and the node
        # lifecycle controller marks them NotReady (and every pod unready) between reports.
        "--node-lease-duration-seconds=40",
    ])
    _wait("kube-controller-manager", _healthy(f"https://127.0.0.1:{kcm_port}/healthz"), plane)
    _wait("kube-scheduler", _healthy(f"https://127.0.0.1:{scheduler_port}/healthz"), plane)
    for node in NODES:
        plane.request("POST", "/api/v1/nodes", json=_node(node)).raise_for_status()
    for index in range(VOLUMES):
        plane.request("POST", "/api/v1/persistentvolumes", json=_volume(index)).raise_for_status()

    def nodes_ready() -> bool:
        items = plane.request("GET", "/api/v1/nodes").json()["items"]
        ready = [n for n in items
                 if any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"].get("conditions", []))]
        return len(ready) == len(NODES)

    def default_service_account() -> bool:
        return plane.request("GET", "/api/v1/namespaces/default/serviceaccounts/default").ok

    _wait("kwok nodes", nodes_ready, plane)
    _wait("the service account controller", default_service_account, plane)
