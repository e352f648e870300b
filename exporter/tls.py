"""The server's one SSLContext, built from tls_server_config and proven by a handshake.

Built once, when the server is made: a certificate that does not load, or settings no client
could ever complete a handshake with (min_version TLS13 with a key no TLS 1.3 signature
suits, an ECDSA key with only RSA cipher_suites), are refused at start with the file and key
named, rather than failing every handshake silently later.
"""

from __future__ import annotations

import ssl

from .web_config import TLSServerConfig, config_problem

_KEY = "tls_server_config"
# Enough round trips for any TLS 1.2 or 1.3 handshake; each one moves whole flights.
_MAX_ROUND_TRIPS = 10


def server_context(tls: TLSServerConfig) -> ssl.SSLContext:
    """A server-side SSLContext that enforces what tls_server_config says.

    Raises WebConfigError when a file does not load or no handshake can succeed.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = tls.min_version
    context.maximum_version = tls.max_version
    _load_certificate(context, tls)
    _apply_cipher_policy(context, tls)
    _apply_client_auth(context, tls)
    _prove_a_handshake(context, tls)
    return context


def _load_certificate(context: ssl.SSLContext, tls: TLSServerConfig) -> None:
    try:
        context.load_cert_chain(tls.cert_file, tls.key_file)
    except OSError as err:  # ssl.SSLError is an OSError
        raise config_problem(
            tls.source,
            f"{_KEY}.cert_file",
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
                f"{_KEY}.cipher_suites",
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
                f"{_KEY}.client_ca_file",
                f"{tls.client_ca_file} holds no usable CA certificate: {err}",
            ) from err
    context.verify_mode = tls.client_auth_type.verify_mode


def _prove_a_handshake(context: ssl.SSLContext, tls: TLSServerConfig) -> None:
    """Complete a handshake in memory with the most willing client there is, or refuse.

    The client offers every version from 1.2 up and every suite OpenSSL has, so a failure
    means no client could ever connect. Client certificates are not asked for here (the
    probe has none); they do not change which versions or suites can be agreed.
    """
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.check_hostname = False
    client.verify_mode = ssl.CERT_NONE
    client.minimum_version = ssl.TLSVersion.TLSv1_2
    client.set_ciphers("ALL")
    verify_mode = context.verify_mode
    context.verify_mode = ssl.CERT_NONE
    try:
        _handshake_in_memory(context, client)
    except ssl.SSLError as err:
        raise config_problem(
            tls.source,
            _KEY,
            "allows no TLS handshake with this certificate and key "
            f"(check min_version, max_version, cipher_suites and the key type): {err.reason}",
        ) from err
    finally:
        context.verify_mode = verify_mode


def _handshake_in_memory(server_context: ssl.SSLContext, client_context: ssl.SSLContext) -> None:
    to_server, to_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    server = server_context.wrap_bio(to_server, to_client, server_side=True)
    client = client_context.wrap_bio(to_client, to_server, server_side=False)
    done = {"server": False, "client": False}
    for _ in range(_MAX_ROUND_TRIPS):
        for name, side in (("client", client), ("server", server)):
            if not done[name]:
                try:
                    side.do_handshake()
                    done[name] = True
                except ssl.SSLWantReadError:
                    pass
        if all(done.values()):
            return
    raise ssl.SSLError("the handshake did not finish")
