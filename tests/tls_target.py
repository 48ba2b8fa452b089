"""A remote target for tests: the sample app served over TLS on one of the test hosts.

The test makes its own CA (with the `cryptography` package), a server certificate signed by
it for the host's address, and runs the app under Gunicorn (`--certfile`/`--keyfile`; the
registry's servers speak plain HTTP, TLS is a deployment's business) inside the host's
network namespace, with a database migrated and seeded the way a deployment would be.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import os
import signal
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from servers.app import AppSettings, SeedPlan, prepare_database
from servers.http import request_json
from servers.registry import SAMPLEAPP_DIR, get_server
from servers.supervisor import LaunchRequest
from tests.netns_hosts import TestHost

TARGET_PORT = 8443


@dataclass(frozen=True)
class TestCa:
    """PEM files: the CA's certificate, and the server's certificate and key it signed."""

    __test__ = False  # not a pytest test class

    ca_file: Path
    cert_file: Path
    key_file: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def write_test_ca(directory: Path, address: str) -> TestCa:
    """A fresh CA, and a certificate for `address` (an IP SAN) signed by it."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("drf-bench test CA"))
        .issuer_name(_name("drf-bench test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(address))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(address))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    found = TestCa(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    found.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    found.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    found.key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return found


@contextlib.contextmanager
def tls_sample_app(
    host: TestHost, directory: Path, seed: SeedPlan, ca: TestCa | None
) -> Iterator[str]:
    """The sample app under Gunicorn (one worker) over TLS on `host` (plain HTTP when `ca`
    is None), its database seeded with `seed`'s accounts; yields its base URL once /healthz
    answers (over verified TLS), and kills its process group on the way out."""
    directory.mkdir(parents=True, exist_ok=True)
    settings = AppSettings(
        secret_key=f"remote-target-test-{os.getpid()}-" + "k" * 40,
        database_url=f"sqlite:///{directory / 'target.sqlite3'}",
        allowed_hosts=host.address,
    )
    prepare_database(settings, seed)
    launch = LaunchRequest(
        spec=get_server("gunicorn"),
        app=settings,
        host=host.address,
        port=TARGET_PORT,
        workers=1,
        threads=1,
        log_path=directory / "target.log",
    )
    argv = launch.argv
    if ca is not None:
        argv += ["--certfile", str(ca.cert_file), "--keyfile", str(ca.key_file)]
    url = f"{'https' if ca else 'http'}://{host.address}:{TARGET_PORT}"
    tls = ssl.create_default_context(cafile=str(ca.ca_file)) if ca else None
    with launch.log_path.open("wb") as log:
        process = subprocess.Popen(
            host.command(argv),
            env=launch.child_spec().environment,
            cwd=SAMPLEAPP_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_healthy(url, tls, process, launch)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def _wait_healthy(
    url: str, tls: ssl.SSLContext | None, process: subprocess.Popen[bytes], launch: LaunchRequest
) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the target exited:\n{launch.log_path.read_text()}")
        with contextlib.suppress(OSError):
            if request_json("GET", url + "/healthz", timeout_s=1.0, tls=tls).status == 200:
                return
        time.sleep(0.2)
    raise AssertionError(f"the target never answered:\n{launch.log_path.read_text()}")
