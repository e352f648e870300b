"""The exporter-toolkit web configuration file (``--web.config.file``): TLS and basic auth.

The format is prometheus/exporter-toolkit's docs/web-configuration.md, so one file can serve
every exporter on a host. Differences, each one refused or warned about rather than ignored:

- The file is read once at start (exporter-toolkit re-reads it per request): restart to apply.
- Inline ``cert``/``key``/``client_ca``, ``client_allowed_sans`` and ``rate_limit`` are refused:
  silently dropping a security setting would serve more openly than the file says.
- ``RequireAnyClientCert`` needs ``client_ca_file`` here (see ``ClientAuth``).
- ``cipher_suites`` names that OpenSSL cannot honour, ``curve_preferences`` and ``http2`` are
  ignored with a log message; none of them widens who may connect.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .tls_context import server_ssl_context
from .tls_server_config import TLSServerConfig, tls_server_config
from .web_config_document import ConfigSection, read_document
from .web_config_error import WebConfigError

__all__ = ["WebConfig", "WebConfigError", "load_web_config"]

# Headers exporter-toolkit lets a file set; None means any value, else the allowed values.
_HEADER_VALUES: Mapping[str, frozenset[str] | None] = {
    "Strict-Transport-Security": None,
    "X-Content-Type-Options": frozenset({"nosniff"}),
    "X-Frame-Options": frozenset({"deny", "sameorigin"}),
    "X-XSS-Protection": None,
    "Content-Security-Policy": None,
}

# What Go's bcrypt.Cost accepts and pyca/bcrypt can check: $2a$, $2b$, $2y$, cost 4-31.
_BCRYPT_HASH = re.compile(r"\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}")

_TOP_KEYS = frozenset({"tls_server_config", "http_server_config", "basic_auth_users"})
_HTTP_KEYS = frozenset({"http2", "headers"})


def _no_entries() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True)
class WebConfig:
    """What the web config file asks for; the default is plain HTTP without authentication."""

    tls: TLSServerConfig | None = None
    # Hashes are kept out of repr so that logging a WebConfig never prints them.
    basic_auth_users: Mapping[str, bytes] = field(default_factory=_no_entries, repr=False)
    headers: Mapping[str, str] = field(default_factory=_no_entries)


def load_web_config(path: str | os.PathLike[str] | None) -> WebConfig:
    """Read and check the file; None or "" means no file: plain HTTP, no authentication.

    The certificate, key and client CAs are loaded once here too, so a bad one fails at start.
    """
    if path is None or os.fspath(path) == "":
        return WebConfig()
    document = ConfigSection(Path(path), "", read_document(Path(path)))
    document.check_keys(_TOP_KEYS)
    config = WebConfig(
        tls=tls_server_config(document.section("tls_server_config")),
        basic_auth_users=_basic_auth_users(document.section("basic_auth_users")),
        headers=_http_headers(document.section("http_server_config")),
    )
    if config.tls is not None:
        server_ssl_context(config.tls)
    return config


def _basic_auth_users(section: ConfigSection) -> Mapping[str, bytes]:
    hashes = {}
    for user, hashed in section.entries.items():
        if not isinstance(user, str):
            raise section.problem(user, "must be a user name written as a string")
        if ":" in user:
            raise section.problem(user, "contains ':', which HTTP basic auth cannot carry")
        # The hash is never echoed: it is a secret's digest and messages reach logs.
        if not isinstance(hashed, str) or not _BCRYPT_HASH.fullmatch(hashed):
            raise section.problem(user, "is not a bcrypt hash (make one with htpasswd -nBC 10)")
        hashes[user] = hashed.encode("ascii")
    return MappingProxyType(hashes)


def _http_headers(section: ConfigSection) -> Mapping[str, str]:
    section.check_keys(_HTTP_KEYS)
    section.flag("http2", True)  # checked, then unused: this server speaks HTTP/1.x only
    headers = section.section("headers")
    for name, value in headers.entries.items():
        allowed = _HEADER_VALUES.get(name, frozenset())
        if name not in _HEADER_VALUES:
            raise headers.problem(name, f"can not be set (allowed: {', '.join(_HEADER_VALUES)})")
        if not isinstance(value, str):
            raise headers.problem(name, "must be a string")
        if allowed is not None and value and value not in allowed:
            raise headers.problem(name, f"{value!r} is not one of {', '.join(sorted(allowed))}")
    # An empty value means "unset" in exporter-toolkit.
    return MappingProxyType({name: value for name, value in headers.entries.items() if value})
