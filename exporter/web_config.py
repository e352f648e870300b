"""The exporter-toolkit web configuration file (``--web.config.file``): TLS and basic auth.

The format is prometheus/exporter-toolkit's docs/web-configuration.md, so one file can serve
every exporter on a host. This module reads and checks the file; it loads no certificate
(`tls.server_context` does, once, when the server is made). Differences from
exporter-toolkit, each one refused or warned about rather than ignored:

- The file is read once at start (exporter-toolkit re-reads it per request): restart to apply.
  It must be a regular file of at most `MAX_FILE_BYTES`.
- Inline ``cert``/``key``/``client_ca``, ``client_allowed_sans`` and ``rate_limit`` are refused:
  silently dropping a security setting would serve more openly than the file says.
- ``RequireAnyClientCert`` needs ``client_ca_file`` here (see ``ClientAuth``).
- bcrypt hashes above cost `basic_auth.MAX_COST` are refused: each login would take seconds.
- ``cipher_suites`` names that OpenSSL cannot honour, ``curve_preferences`` and ``http2`` are
  ignored with a log message; none of them widens who may connect.
"""

from __future__ import annotations

import enum
import errno
import logging
import os
import re
import ssl
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from .basic_auth import hash_problem

__all__ = ["ClientAuth", "TLSServerConfig", "WebConfig", "WebConfigError", "load_web_config"]

logger = logging.getLogger(__name__)

# A web config is a few hundred bytes; a cap keeps /dev/zero or a log file named by mistake
# from filling memory. Certificates and keys named in it are held to the same cap.
MAX_FILE_BYTES = 1 << 20


class WebConfigError(Exception):
    """The web configuration cannot be used; the message names the file and the key."""


def config_problem(source: Path, key: str, problem: str) -> WebConfigError:
    return WebConfigError(f"web config file {source}: {key} {problem}")


# --- the document ----------------------------------------------------------------------------

# exporter-toolkit keys refused by name, so the message says why rather than "not a known key".
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


class _KeyNotText(yaml.constructor.ConstructorError):
    """A mapping key that is not a string: a number, null, or a list (unhashable)."""


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice, as Go's yaml.UnmarshalStrict does, and any
    key that is not a string (Go's structs have only string keys; a list key is unhashable)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[str] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str):
                raise _KeyNotText(None, None, "a key is not a string", key_node.start_mark)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is given twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_bounded(source: Path, what: str) -> bytes:
    """The bytes of a regular file of at most MAX_FILE_BYTES, or WebConfigError.

    Opened non-blocking and checked with fstat before reading, so a FIFO (which would block
    the open until a writer came), /dev/zero or a huge file is refused at once.
    """
    try:
        handle = os.open(source, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as err:
        raise WebConfigError(f"cannot read {what} {source}: {err.strerror}") from err
    if not stat.S_ISREG(os.fstat(handle).st_mode):
        os.close(handle)
        raise WebConfigError(f"{what} {source} is not a regular file")
    with os.fdopen(handle, "rb") as stream:
        try:
            data = stream.read(MAX_FILE_BYTES + 1)
        except OSError as err:
            raise WebConfigError(f"cannot read {what} {source}: {err.strerror}") from err
    if len(data) > MAX_FILE_BYTES:
        raise WebConfigError(f"{what} {source} is larger than {MAX_FILE_BYTES} bytes")
    return data


def read_document(source: Path) -> Mapping[str, Any]:
    try:
        text = read_bounded(source, "web config file").decode("utf-8")
    except UnicodeDecodeError as err:
        raise WebConfigError(f"cannot read web config file {source}: {err}") from err
    try:
        document = yaml.load(text, Loader=_StrictLoader)
    except _KeyNotText as err:
        raise WebConfigError(
            f"web config file {source}: {_yaml_problem(err)}; every key must be a string (quote it)"
        ) from err
    except yaml.YAMLError as err:
        raise WebConfigError(
            f"web config file {source} is not valid YAML: {_yaml_problem(err)}"
        ) from err
    except RecursionError as err:  # thousands of nested brackets
        raise WebConfigError(f"web config file {source} is nested too deeply") from err
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise WebConfigError(f"web config file {source} must hold a YAML mapping at the top")
    return document


def _yaml_problem(err: yaml.YAMLError) -> str:
    """What is wrong and where, without the line PyYAML quotes: it may hold a secret.

    The line the parser stopped at is often a basic_auth_users entry, and its hash (or a
    password pasted in by mistake) must not reach the log.
    """
    if isinstance(err, yaml.MarkedYAMLError) and err.problem_mark is not None:
        where = f"line {err.problem_mark.line + 1}, column {err.problem_mark.column + 1}"
        context = f"{err.context}: " if err.context else ""
        return f"{context}{err.problem} at {where}"
    return type(err).__name__


@dataclass(frozen=True)
class ConfigSection:
    """One mapping of the file, and where it sits, so that every message names its key."""

    source: Path
    prefix: str
    entries: Mapping[str, Any]

    def problem(self, key: object, problem: str) -> WebConfigError:
        return config_problem(self.source, f"{self.prefix}{key}", problem)

    def check_keys(self, known: frozenset[str]) -> None:
        for key in self.entries:
            refusal = _REFUSED_KEYS.get(f"{self.prefix}{key}")
            if refusal is not None:
                raise self.problem(key, refusal)
            if key not in known:
                raise self.problem(key, f"is not a known key (known: {', '.join(sorted(known))})")

    def section(self, key: str) -> ConfigSection:
        """A nested mapping; absent or empty (null) reads as an empty mapping."""
        value = self.entries.get(key)
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise self.problem(key, "must be a mapping")
        return ConfigSection(self.source, f"{self.prefix}{key}.", value)

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
        """Relative names are relative to the config file's folder, as in exporter-toolkit.

        The file must be regular and at most MAX_FILE_BYTES: OpenSSL would read a FIFO or
        /dev/zero for ever.
        """
        name = self.text(key)
        if name is None:
            return None
        path = self.source.parent / name
        try:
            info = path.stat()
        except OSError as err:
            if err.errno in (errno.ENOENT, errno.ENOTDIR):
                raise self.problem(key, f"names {path}, which is not a file") from err
            raise self.problem(key, f"names {path}, which cannot be read: {err.strerror}") from err
        if not stat.S_ISREG(info.st_mode):
            raise self.problem(key, f"names {path}, which is not a file")
        if info.st_size > MAX_FILE_BYTES:
            raise self.problem(key, f"names {path}, which is larger than {MAX_FILE_BYTES} bytes")
        return path


# --- tls_server_config -----------------------------------------------------------------------


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


def tls_server_config(section: ConfigSection) -> TLSServerConfig | None:
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


def _key_pair(section: ConfigSection) -> tuple[Path, Path]:
    if section.text("cert_file") is None:
        raise section.problem("cert_file", "is missing; TLS needs a certificate")
    if section.text("key_file") is None:
        raise section.problem("key_file", "is missing; cert_file needs its private key")
    cert_file, key_file = section.file("cert_file"), section.file("key_file")
    assert cert_file is not None and key_file is not None  # both names checked just above
    return cert_file, key_file


def _client_auth(section: ConfigSection) -> ClientAuth | None:
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


def _client_ca_file(section: ConfigSection, auth: ClientAuth) -> Path | None:
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


def _tls_versions(section: ConfigSection) -> tuple[ssl.TLSVersion, ssl.TLSVersion]:
    low = _tls_version(section, "min_version", ssl.TLSVersion.TLSv1_2)
    high = _tls_version(section, "max_version", ssl.TLSVersion.TLSv1_3)
    if low > high:
        raise section.problem("min_version", "is above max_version")
    return low, high


def _tls_version(section: ConfigSection, key: str, default: ssl.TLSVersion) -> ssl.TLSVersion:
    name = section.text(key)
    if name is None:
        return default
    if name in _REFUSED_TLS_VERSIONS:
        raise section.problem(key, f"{name} is refused: TLS below 1.2 is not served here")
    if name not in _TLS_VERSIONS:
        raise section.problem(key, f"{name!r} is not one of {', '.join(_TLS_VERSIONS)}")
    return _TLS_VERSIONS[name]


def _openssl_ciphers(section: ConfigSection) -> tuple[str, ...]:
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


def _warn_ignored_curves(section: ConfigSection) -> None:
    # Python's ssl cannot set a group list; OpenSSL's defaults are all ones Go offers too.
    if section.texts("curve_preferences"):
        logger.warning(
            "web config file %s: tls_server_config.curve_preferences ignored; "
            "OpenSSL's default groups are used",
            section.source,
        )


# --- basic_auth_users and http_server_config -------------------------------------------------

# Headers exporter-toolkit lets a file set; None means any value, else the allowed values.
_HEADER_VALUES: Mapping[str, frozenset[str] | None] = {
    "Strict-Transport-Security": None,
    "X-Content-Type-Options": frozenset({"nosniff"}),
    "X-Frame-Options": frozenset({"deny", "sameorigin"}),
    "X-XSS-Protection": None,
    "Content-Security-Policy": None,
}
# RFC 9110 field-value: visible latin-1 text, spaces and tabs; no CR or LF (header injection).
_FIELD_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")

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

    Raises WebConfigError naming the file and key. Certificates are loaded (and a handshake
    proven) by tls.server_context when the server is made, still at start.
    """
    if path is None or os.fspath(path) == "":
        return WebConfig()
    document = ConfigSection(Path(path), "", read_document(Path(path)))
    document.check_keys(_TOP_KEYS)
    return WebConfig(
        tls=tls_server_config(document.section("tls_server_config")),
        basic_auth_users=_basic_auth_users(document.section("basic_auth_users")),
        headers=_http_headers(document.section("http_server_config")),
    )


def _basic_auth_users(section: ConfigSection) -> Mapping[str, bytes]:
    hashes = {}
    for user, hashed in section.entries.items():
        if ":" in user:
            raise section.problem(user, "contains ':', which HTTP basic auth cannot carry")
        # The hash is never echoed: it is a secret's digest and messages reach logs.
        problem = hash_problem(hashed) if isinstance(hashed, str) else "is not a bcrypt hash"
        if problem is not None:
            raise section.problem(user, f"{problem} (make one with htpasswd -nBC 10)")
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
        if not _FIELD_VALUE.fullmatch(value):
            raise headers.problem(
                name, "holds a character HTTP cannot carry (a line break, control or non-latin-1)"
            )
        if allowed is not None and value and value not in allowed:
            raise headers.problem(name, f"{value!r} is not one of {', '.join(sorted(allowed))}")
    # An empty value means "unset" in exporter-toolkit.
    return MappingProxyType({name: value for name, value in headers.entries.items() if value})
