"""The server-side SSLContext that enforces a tls_server_config."""

from __future__ import annotations

import ssl

from .tls_server_config import TLSServerConfig
from .web_config_error import config_problem


def server_ssl_context(tls: TLSServerConfig) -> ssl.SSLContext:
    """A server-side SSLContext that enforces what tls_server_config says."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = tls.min_version
    context.maximum_version = tls.max_version
    _load_certificate(context, tls)
    _apply_cipher_policy(context, tls)
    _apply_client_auth(context, tls)
    return context


def _load_certificate(context: ssl.SSLContext, tls: TLSServerConfig) -> None:
    try:
        context.load_cert_chain(tls.cert_file, tls.key_file)
    except OSError as err:  # ssl.SSLError is an OSError
        raise config_problem(
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
            raise config_problem(
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
            raise config_problem(
                tls.source,
                "tls_server_config.client_ca_file",
                f"{tls.client_ca_file} holds no usable CA certificate: {err}",
            ) from err
    context.verify_mode = tls.client_auth_type.verify_mode
