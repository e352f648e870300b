"""A throw-away CA, a server certificate for 127.0.0.1 and a client certificate, via openssl.

The same shape as tests/exporter's PKI, made here because that one is a fixture of another
directory; these tests drive the exporter as a process, from --web.config.file.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

_EXTENSIONS = """\
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
[server]
basicConstraints = critical,CA:FALSE
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
[client]
basicConstraints = critical,CA:FALSE
extendedKeyUsage = clientAuth
"""


@dataclass(frozen=True)
class Pki:
    ca_cert: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _openssl(folder: Path, *args: str) -> None:
    subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True, timeout=60)


def _key_and_request(folder: Path, name: str) -> None:
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    files = ["-keyout", f"{name}.key", "-out", f"{name}.csr"]
    _openssl(folder, "req", "-new", *key, "-subj", f"/CN={name}", *files)


def _sign(folder: Path, name: str, kind: str) -> None:
    issuer = ["-signkey", f"{name}.key"] if kind == "ca" else ["-CA", "ca.crt", "-CAkey", "ca.key"]
    extensions = ["-extfile", "extensions.cnf", "-extensions", kind]
    _openssl(folder, "x509", "-req", "-in", f"{name}.csr", *issuer, "-days", "2", *extensions,
             "-out", f"{name}.crt")  # fmt: skip


def make_pki(folder: Path) -> Pki:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "extensions.cnf").write_text(_EXTENSIONS)
    for name in ("ca", "server", "client"):
        _key_and_request(folder, name)
        _sign(folder, name, name)
    return Pki(
        ca_cert=folder / "ca.crt",
        server_cert=folder / "server.crt",
        server_key=folder / "server.key",
        client_cert=folder / "client.crt",
        client_key=folder / "client.key",
    )


def write_web_config(path: Path, pki: Pki, users: dict[str, str]) -> Path:
    """exporter-toolkit's web config: TLS demanding a client certificate, and basic auth."""
    lines = [
        "tls_server_config:",
        f"  cert_file: {pki.server_cert}",
        f"  key_file: {pki.server_key}",
        "  client_auth_type: RequireAndVerifyClientCert",
        f"  client_ca_file: {pki.ca_cert}",
        "basic_auth_users:",
        *(f"  {user}: {hashed}" for user, hashed in users.items()),
    ]
    path.write_text("\n".join(lines) + "\n")
    return path
