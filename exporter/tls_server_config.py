"""tls_server_config: the TLS settings exporter-toolkit's file can hold, read and checked."""

from __future__ import annotations

import enum
import logging
import ssl
from dataclasses import dataclass
from pathlib import Path

from .web_config_document import ConfigSection

logger = logging.getLogger(__name__)


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
