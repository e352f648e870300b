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

import enum
import logging
import os
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

logger = logging.getLogger(__name__)


class WebConfigError(Exception):
    """The web configuration cannot be used; the message names the file and the key."""


class ClientAuth(enum.Enum):
    """exporter-toolkit's client_auth_type values (Go's tls.ClientAuthType names)."""

    NO_CLIENT_CERT = "NoClientCert"
    REQUEST_CLIENT_CERT = "RequestClientCert"
    REQUIRE_ANY_CLIENT_CERT = "RequireAnyClientCert"
    VERIFY_CLIENT_CERT_IF_GIVEN = "VerifyClientCertIfGiven"
    REQUIRE_AND_VERIFY_CLIENT_CERT = "RequireAndVerifyClientCert"

    @property
    def verify_mode(self) -> ssl.VerifyMode:
        """The closest OpenSSL policy; Python's ssl cannot ask for a certificate unverified.

        RequestClientCert admits every client in Go (the certificate is asked for but never
        checked), so CERT_NONE admits exactly the same clients. RequireAnyClientCert becomes
        CERT_REQUIRED against client_ca_file: stricter than Go, never looser.
        """
        return _VERIFY_MODES[self]

    @property
    def needs_client_ca(self) -> bool:
        return self.verify_mode != ssl.CERT_NONE


_VERIFY_MODES = {
    ClientAuth.NO_CLIENT_CERT: ssl.CERT_NONE,
    ClientAuth.REQUEST_CLIENT_CERT: ssl.CERT_NONE,
    ClientAuth.REQUIRE_ANY_CLIENT_CERT: ssl.CERT_REQUIRED,
    ClientAuth.VERIFY_CLIENT_CERT_IF_GIVEN: ssl.CERT_OPTIONAL,
    ClientAuth.REQUIRE_AND_VERIFY_CLIENT_CERT: ssl.CERT_REQUIRED,
}
# exporter-toolkit still accepts this older spelling of RequireAnyClientCert.
_CLIENT_AUTH_ALIASES = {"RequireClientCert": ClientAuth.REQUIRE_ANY_CLIENT_CERT}

_TLS_VERSIONS = {"TLS12": ssl.TLSVersion.TLSv1_2, "TLS13": ssl.TLSVersion.TLSv1_3}
_REFUSED_TLS_VERSIONS = ("TLS10", "TLS11")

# Go's names for crypto/tls's TLS 1.2 suites, and OpenSSL's names for the same suites.
_OPENSSL_CIPHERS = {
    "TLS_RSA_WITH_AES_128_CBC_SHA": "AES128-SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA": "AES256-SHA",
    "TLS_RSA_WITH_AES_128_GCM_SHA256": "AES128-GCM-SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384": "AES256-GCM-SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": "ECDHE-ECDSA-AES128-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": "ECDHE-ECDSA-AES256-SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": "ECDHE-RSA-AES128-SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": "ECDHE-RSA-AES256-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": "ECDHE-RSA-AES128-GCM-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": "ECDHE-RSA-AES256-GCM-SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-RSA-CHACHA20-POLY1305",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305",
}
# Valid Go names that Go itself does not let anyone configure (TLS 1.3 suites).
_FIXED_TLS13_CIPHERS = frozenset(
    {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}
)

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
_TLS_KEYS = frozenset(
    {
        "cert_file",
        "key_file",
        "client_auth_type",
        "client_ca_file",
        "min_version",
        "max_version",
        "cipher_suites",
        "prefer_server_cipher_suites",
        "curve_preferences",
    }
)
# Setting any of these (or client_auth_type) turns TLS on, as in exporter-toolkit.
_TLS_FILE_KEYS = ("cert_file", "key_file", "client_ca_file")
_HTTP_KEYS = frozenset({"http2", "headers"})
_REFUSED_KEYS = {
    "rate_limit": "is not implemented by lvs-arp-exporter; rate-limit in a reverse proxy",
    "tls_server_config.cert": "(inline PEM) is not supported; put it in a file for cert_file",
    "tls_server_config.key": "(inline PEM) is not supported; put it in a file for key_file",
    "tls_server_config.client_ca": (
        "(inline PEM) is not supported; put it in a file for client_ca_file"
    ),
    "tls_server_config.client_allowed_sans": (
        "is not implemented by lvs-arp-exporter; serving without it would admit every "
        "certificate the CA signed, so remove it only if that is acceptable"
    ),
}


@dataclass(frozen=True)
class TLSServerConfig:
    """The server side of TLS, with file paths already resolved against the config's folder."""

    source: Path
    cert_file: Path
    key_file: Path
    client_auth_type: ClientAuth = ClientAuth.NO_CLIENT_CERT
    client_ca_file: Path | None = None
    min_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2
    max_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_3
    openssl_ciphers: tuple[str, ...] = ()
    prefer_server_cipher_suites: bool = True


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
    document = _Section(Path(path), "", _read_document(Path(path)))
    document.check_keys(_TOP_KEYS)
    config = WebConfig(
        tls=_tls_server_config(document.section("tls_server_config")),
        basic_auth_users=_basic_auth_users(document.section("basic_auth_users")),
        headers=_http_headers(document.section("http_server_config")),
    )
    if config.tls is not None:
        server_ssl_context(config.tls)
    return config


def server_ssl_context(tls: TLSServerConfig) -> ssl.SSLContext:
    """A server-side SSLContext that enforces what tls_server_config says."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = tls.min_version
    context.maximum_version = tls.max_version
    _load_certificate(context, tls)
    _apply_cipher_policy(context, tls)
    _apply_client_auth(context, tls)
    return context


def _problem(source: Path, key: str, problem: str) -> WebConfigError:
    return WebConfigError(f"web config file {source}: {key} {problem}")


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice, as Go's yaml.UnmarshalStrict does."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is given twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _read_document(source: Path) -> Mapping[Any, Any]:
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise WebConfigError(f"cannot read web config file {source}: {err}") from err
    try:
        document = yaml.load(text, Loader=_StrictLoader)
    except yaml.YAMLError as err:
        raise WebConfigError(f"web config file {source} is not valid YAML: {err}") from err
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise WebConfigError(f"web config file {source} must hold a YAML mapping at the top")
    return document


@dataclass(frozen=True)
class _Section:
    """One mapping of the file, and where it sits, so that every message names its key."""

    source: Path
    prefix: str
    entries: Mapping[Any, Any]

    def problem(self, key: object, problem: str) -> WebConfigError:
        return _problem(self.source, f"{self.prefix}{key}", problem)

    def check_keys(self, known: frozenset[str]) -> None:
        for key in self.entries:
            refusal = _REFUSED_KEYS.get(f"{self.prefix}{key}")
            if refusal is not None:
                raise self.problem(key, refusal)
            if key not in known:
                raise self.problem(key, f"is not a known key (known: {', '.join(sorted(known))})")

    def section(self, key: str) -> _Section:
        """A nested mapping; absent or empty (null) reads as an empty mapping."""
        value = self.entries.get(key)
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise self.problem(key, "must be a mapping")
        return _Section(self.source, f"{self.prefix}{key}.", value)

    def text(self, key: str) -> str | None:
        """A string setting; empty counts as unset, as in exporter-toolkit."""
        value = self.entries.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise self.problem(key, f"must be a string, not {type(value).__name__}")
        return value

    def texts(self, key: str) -> list[str]:
        value = self.entries.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.problem(key, "must be a list of strings")
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.entries.get(key, default)
        if not isinstance(value, bool):
            raise self.problem(key, "must be true or false")
        return value

    def file(self, key: str) -> Path | None:
        """Relative names are relative to the config file's folder, as in exporter-toolkit."""
        name = self.text(key)
        if name is None:
            return None
        path = self.source.parent / name
        if not path.is_file():
            raise self.problem(key, f"names {path}, which is not a file")
        return path


def _tls_server_config(section: _Section) -> TLSServerConfig | None:
    section.check_keys(_TLS_KEYS)
    auth = _client_auth(section)
    if auth is None and not any(section.text(key) for key in _TLS_FILE_KEYS):
        if section.entries:
            logger.warning(
                "web config file %s: tls_server_config has no cert_file; serving plain HTTP",
                section.source,
            )
        return None
    cert_file, key_file = _key_pair(section)
    auth = auth or ClientAuth.NO_CLIENT_CERT
    min_version, max_version = _tls_versions(section)
    _warn_ignored_curves(section)
    return TLSServerConfig(
        source=section.source,
        cert_file=cert_file,
        key_file=key_file,
        client_auth_type=auth,
        client_ca_file=_client_ca_file(section, auth),
        min_version=min_version,
        max_version=max_version,
        openssl_ciphers=_openssl_ciphers(section),
        prefer_server_cipher_suites=section.flag("prefer_server_cipher_suites", True),
    )


def _key_pair(section: _Section) -> tuple[Path, Path]:
    if section.text("cert_file") is None:
        raise section.problem("cert_file", "is missing; TLS needs a certificate")
    if section.text("key_file") is None:
        raise section.problem("key_file", "is missing; cert_file needs its private key")
    cert_file, key_file = section.file("cert_file"), section.file("key_file")
    assert cert_file is not None and key_file is not None  # both names checked just above
    return cert_file, key_file


def _client_auth(section: _Section) -> ClientAuth | None:
    name = section.text("client_auth_type")
    if name is None:
        return None
    if name in _CLIENT_AUTH_ALIASES:
        return _CLIENT_AUTH_ALIASES[name]
    try:
        return ClientAuth(name)
    except ValueError:
        choices = ", ".join(auth.value for auth in ClientAuth)
        raise section.problem("client_auth_type", f"{name!r} is not one of {choices}") from None


def _client_ca_file(section: _Section, auth: ClientAuth) -> Path | None:
    ca_file = section.file("client_ca_file")
    if auth.needs_client_ca and ca_file is None:
        why = "to verify client certificates against"
        if auth is ClientAuth.REQUIRE_ANY_CLIENT_CERT:
            why = (
                "because Python's ssl verifies every certificate it requires (Go does not); "
                "a self-signed client certificate can be listed as its own CA"
            )
        raise section.problem(
            "client_ca_file", f"is missing; client_auth_type {auth.value} needs it {why}"
        )
    if auth is ClientAuth.NO_CLIENT_CERT and ca_file is not None:
        raise section.problem(
            "client_ca_file",
            "is set but client_auth_type is NoClientCert; "
            "set client_auth_type: RequireAndVerifyClientCert",
        )
    return ca_file


def _tls_versions(section: _Section) -> tuple[ssl.TLSVersion, ssl.TLSVersion]:
    low = _tls_version(section, "min_version", ssl.TLSVersion.TLSv1_2)
    high = _tls_version(section, "max_version", ssl.TLSVersion.TLSv1_3)
    if low > high:
        raise section.problem("min_version", "is above max_version")
    return low, high


def _tls_version(section: _Section, key: str, default: ssl.TLSVersion) -> ssl.TLSVersion:
    name = section.text(key)
    if name is None:
        return default
    if name in _REFUSED_TLS_VERSIONS:
        raise section.problem(key, f"{name} is refused: TLS below 1.2 is not served here")
    if name not in _TLS_VERSIONS:
        raise section.problem(key, f"{name!r} is not one of {', '.join(_TLS_VERSIONS)}")
    return _TLS_VERSIONS[name]


def _openssl_ciphers(section: _Section) -> tuple[str, ...]:
    """Go suite names as OpenSSL names; a typo fails, a valid but fixed TLS 1.3 name warns."""
    openssl_names = []
    for name in section.texts("cipher_suites"):
        if name in _OPENSSL_CIPHERS:
            openssl_names.append(_OPENSSL_CIPHERS[name])
        elif name in _FIXED_TLS13_CIPHERS:
            logger.warning(
                "web config file %s: tls_server_config.cipher_suites: %s ignored; "
                "TLS 1.3 suites are not configurable (in Go either)",
                section.source,
                name,
            )
        else:
            raise section.problem(
                "cipher_suites", f"names {name!r}, which is not a Go crypto/tls cipher suite"
            )
    return tuple(openssl_names)


def _warn_ignored_curves(section: _Section) -> None:
    # Python's ssl cannot set a group list; OpenSSL's defaults are all ones Go offers too.
    if section.texts("curve_preferences"):
        logger.warning(
            "web config file %s: tls_server_config.curve_preferences ignored; "
            "OpenSSL's default groups are used",
            section.source,
        )


def _basic_auth_users(section: _Section) -> Mapping[str, bytes]:
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


def _http_headers(section: _Section) -> Mapping[str, str]:
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


def _load_certificate(context: ssl.SSLContext, tls: TLSServerConfig) -> None:
    try:
        context.load_cert_chain(tls.cert_file, tls.key_file)
    except OSError as err:  # ssl.SSLError is an OSError
        raise _problem(
            tls.source,
            "tls_server_config.cert_file",
            f"{tls.cert_file} and key_file {tls.key_file} do not load as a certificate and its "
            f"key: {err}",
        ) from err


def _apply_cipher_policy(context: ssl.SSLContext, tls: TLSServerConfig) -> None:
    if tls.openssl_ciphers:
        try:
            context.set_ciphers(":".join(tls.openssl_ciphers))
        except ssl.SSLError as err:
            raise _problem(
                tls.source,
                "tls_server_config.cipher_suites",
                f"leaves no suite this OpenSSL offers: {err}",
            ) from err
    if tls.prefer_server_cipher_suites:
        context.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    else:
        context.options &= ~ssl.OP_CIPHER_SERVER_PREFERENCE


def _apply_client_auth(context: ssl.SSLContext, tls: TLSServerConfig) -> None:
    # RequestClientCert keeps its CA file unloaded: nothing is verified against it.
    if tls.client_auth_type.needs_client_ca and tls.client_ca_file is not None:
        try:
            context.load_verify_locations(cafile=tls.client_ca_file)
        except OSError as err:
            raise _problem(
                tls.source,
                "tls_server_config.client_ca_file",
                f"{tls.client_ca_file} holds no usable CA certificate: {err}",
            ) from err
    context.verify_mode = tls.client_auth_type.verify_mode
