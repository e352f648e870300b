"""The exporter's web config for process-level tests, over the shared throw-away PKI."""

from __future__ import annotations

from pathlib import Path

from throwaway_pki import Pki, make_pki

__all__ = ["Pki", "make_pki", "write_web_config"]


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
