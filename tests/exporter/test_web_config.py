"""The web config file: what each setting becomes, and the sentence each mistake earns."""

from __future__ import annotations

import logging
import os
import ssl
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import bcrypt
import pytest

from exporter.tls import server_context
from exporter.web_config import (
    MAX_FILE_BYTES,
    ClientAuth,
    WebConfig,
    WebConfigError,
    load_web_config,
)

if TYPE_CHECKING:
    from conftest import Pki

HASH = bcrypt.hashpw(b"secret", bcrypt.gensalt(4)).decode()


def write(folder: Path, text: str, name: str = "web.yml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def touch_pair(folder: Path) -> None:
    """Stand-in certificate files for tests that never load them."""
    (folder / "server.crt").write_text("cert")
    (folder / "server.key").write_text("key")
    (folder / "ca.crt").write_text("ca")


def fails_with(path: Path, *fragments: str) -> str:
    """The file is refused at start: as it is read, or as its TLS context is built."""
    with pytest.raises(WebConfigError) as caught:
        config = load_web_config(path)
        if config.tls is not None:
            server_context(config.tls)
    message = str(caught.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message
    return message


def tls_config(pki: Pki, folder: Path, extra: str = "") -> Path:
    return write(
        folder,
        f"tls_server_config:\n"
        f"  cert_file: {pki.server_cert}\n"
        f"  key_file: {pki.server_key}\n"
        f"{extra}",
    )


# --- no file, empty file: plain HTTP ---------------------------------------------------------


@pytest.mark.parametrize("path", [None, ""])
def test_no_file_means_plain_http_without_auth(path: str | None) -> None:
    assert load_web_config(path) == WebConfig()


@pytest.mark.parametrize("text", ["", "# only a comment\n", "tls_server_config:\n"])
def test_empty_file_or_sections_mean_plain_http(tmp_path: Path, text: str) -> None:
    config = load_web_config(write(tmp_path, text))
    assert config.tls is None
    assert not config.basic_auth_users
    assert not config.headers


def test_tls_section_without_files_is_plain_http_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert (
        load_web_config(write(tmp_path, "tls_server_config:\n  min_version: TLS13\n")).tls is None
    )
    assert "serving plain HTTP" in caplog.text


# --- what a good file becomes ----------------------------------------------------------------


def test_relative_paths_are_relative_to_the_config_folder(tmp_path: Path, pki: Pki) -> None:
    folder = tmp_path / "etc"
    (folder / "tls").mkdir(parents=True)
    for source, name in [(pki.server_cert, "s.crt"), (pki.server_key, "s.key"), (pki.ca_cert, "c")]:
        (folder / "tls" / name).write_bytes(source.read_bytes())
    path = write(
        folder,
        "tls_server_config:\n"
        "  cert_file: tls/s.crt\n"
        "  key_file: tls/s.key\n"
        "  client_ca_file: tls/c\n"
        "  client_auth_type: RequireAndVerifyClientCert\n",
    )
    tls = load_web_config(path).tls
    assert tls is not None
    assert tls.cert_file == folder / "tls" / "s.crt"
    assert tls.key_file == folder / "tls" / "s.key"
    assert tls.client_ca_file == folder / "tls" / "c"
    assert tls.client_auth_type is ClientAuth.REQUIRE_AND_VERIFY_CLIENT_CERT


def test_absolute_paths_stay_as_written(tmp_path: Path, pki: Pki) -> None:
    tls = load_web_config(tls_config(pki, tmp_path)).tls
    assert tls is not None
    assert tls.cert_file == pki.server_cert


def test_full_file(tmp_path: Path, pki: Pki) -> None:
    path = tls_config(
        pki,
        tmp_path,
        f"  client_auth_type: VerifyClientCertIfGiven\n"
        f"  client_ca_file: {pki.ca_cert}\n"
        f"  min_version: TLS13\n"
        f"  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]\n"
        f"  prefer_server_cipher_suites: false\n"
        f"http_server_config:\n"
        f"  http2: false\n"
        f"  headers:\n"
        f"    X-Frame-Options: deny\n"
        f"    Content-Security-Policy: default-src 'self'\n"
        f"    X-XSS-Protection: ''\n"
        f"basic_auth_users:\n"
        f"  alice: {HASH}\n",
    )
    config = load_web_config(path)
    assert config.tls is not None
    assert config.tls.min_version is ssl.TLSVersion.TLSv1_3
    assert config.tls.max_version is ssl.TLSVersion.TLSv1_3
    assert config.tls.openssl_ciphers == ("ECDHE-ECDSA-AES128-GCM-SHA256",)
    assert config.tls.prefer_server_cipher_suites is False
    assert dict(config.headers) == {
        "X-Frame-Options": "deny",
        "Content-Security-Policy": "default-src 'self'",
    }
    assert dict(config.basic_auth_users) == {"alice": HASH.encode()}


def test_repr_never_shows_password_hashes(tmp_path: Path) -> None:
    config = load_web_config(write(tmp_path, f"basic_auth_users:\n  alice: {HASH}\n"))
    assert HASH not in repr(config)


def test_htpasswd_2y_hashes_are_accepted(tmp_path: Path) -> None:
    htpasswd_hash = HASH.replace("$2b$", "$2y$", 1)
    config = load_web_config(write(tmp_path, f"basic_auth_users:\n  bob: '{htpasswd_hash}'\n"))
    assert config.basic_auth_users["bob"] == htpasswd_hash.encode()


def test_legacy_require_client_cert_spelling(tmp_path: Path, pki: Pki) -> None:
    path = tls_config(
        pki, tmp_path, f"  client_auth_type: RequireClientCert\n  client_ca_file: {pki.ca_cert}\n"
    )
    tls = load_web_config(path).tls
    assert tls is not None
    assert tls.client_auth_type is ClientAuth.REQUIRE_ANY_CLIENT_CERT


def test_tls13_cipher_names_are_ignored_with_a_warning(
    tmp_path: Path, pki: Pki, caplog: pytest.LogCaptureFixture
) -> None:
    path = tls_config(pki, tmp_path, "  cipher_suites: [TLS_AES_128_GCM_SHA256]\n")
    tls = load_web_config(path).tls
    assert tls is not None
    assert tls.openssl_ciphers == ()
    assert "TLS_AES_128_GCM_SHA256 ignored" in caplog.text


def test_curve_preferences_are_ignored_with_a_warning(
    tmp_path: Path, pki: Pki, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        load_web_config(tls_config(pki, tmp_path, "  curve_preferences: [X25519]\n"))
    assert "curve_preferences ignored" in caplog.text


# --- the client_auth_type mapping ------------------------------------------------------------


@pytest.mark.parametrize(
    ("auth", "verify_mode"),
    [
        ("NoClientCert", ssl.CERT_NONE),
        ("RequestClientCert", ssl.CERT_NONE),
        ("RequireAnyClientCert", ssl.CERT_REQUIRED),
        ("VerifyClientCertIfGiven", ssl.CERT_OPTIONAL),
        ("RequireAndVerifyClientCert", ssl.CERT_REQUIRED),
    ],
)
def test_client_auth_type_becomes_verify_mode(
    tmp_path: Path, pki: Pki, auth: str, verify_mode: ssl.VerifyMode
) -> None:
    ca_line = "" if auth == "NoClientCert" else f"  client_ca_file: {pki.ca_cert}\n"
    tls = load_web_config(tls_config(pki, tmp_path, f"  client_auth_type: {auth}\n{ca_line}")).tls
    assert tls is not None
    context = server_context(tls)
    assert context.verify_mode == verify_mode
    assert context.minimum_version is ssl.TLSVersion.TLSv1_2


# --- every mistake, and its message ----------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    fails_with(tmp_path / "absent.yml", "cannot read web config file")


def test_bad_yaml(tmp_path: Path) -> None:
    fails_with(write(tmp_path, "tls_server_config: [unclosed\n"), "is not valid YAML")


def test_duplicate_key(tmp_path: Path) -> None:
    text = f"basic_auth_users:\n  alice: {HASH}\n  alice: {HASH}\n"
    fails_with(write(tmp_path, text), "'alice' is given twice")


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    fails_with(write(tmp_path, "- a\n- b\n"), "must hold a YAML mapping")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("tls_config: {}\n", "tls_config is not a known key"),
        ("tls_server_config:\n  certfile: x\n", "tls_server_config.certfile is not a known key"),
        ("http_server_config:\n  gzip: true\n", "http_server_config.gzip is not a known key"),
    ],
)
def test_unknown_key(tmp_path: Path, text: str, key: str) -> None:
    fails_with(write(tmp_path, text), key, "known:")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("rate_limit:\n  burst: 1\n", "rate_limit is not implemented"),
        ("tls_server_config:\n  cert: PEM\n", "tls_server_config.cert (inline PEM)"),
        ("tls_server_config:\n  client_ca: PEM\n", "tls_server_config.client_ca (inline PEM)"),
        (
            "tls_server_config:\n  client_allowed_sans: [a]\n",
            "tls_server_config.client_allowed_sans is not implemented",
        ),
    ],
)
def test_exporter_toolkit_settings_not_implemented_are_refused(
    tmp_path: Path, text: str, key: str
) -> None:
    fails_with(write(tmp_path, text), key)


def test_section_must_be_a_mapping(tmp_path: Path) -> None:
    fails_with(write(tmp_path, "tls_server_config: yes\n"), "tls_server_config must be a mapping")


def test_unknown_client_auth_type(tmp_path: Path) -> None:
    touch_pair(tmp_path)
    text = (
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
        "  client_auth_type: RequireCert\n"
    )
    fails_with(
        write(tmp_path, text),
        "tls_server_config.client_auth_type 'RequireCert' is not one of",
        "RequireAndVerifyClientCert",
    )


def test_cert_file_without_key_file(tmp_path: Path) -> None:
    touch_pair(tmp_path)
    text = "tls_server_config:\n  cert_file: server.crt\n"
    fails_with(write(tmp_path, text), "tls_server_config.key_file is missing")


def test_key_file_without_cert_file(tmp_path: Path) -> None:
    touch_pair(tmp_path)
    text = "tls_server_config:\n  key_file: server.key\n"
    fails_with(write(tmp_path, text), "tls_server_config.cert_file is missing")


def test_client_auth_type_alone_needs_a_certificate(tmp_path: Path) -> None:
    text = "tls_server_config:\n  client_auth_type: NoClientCert\n"
    fails_with(write(tmp_path, text), "tls_server_config.cert_file is missing")


def test_cert_file_that_does_not_exist(tmp_path: Path) -> None:
    touch_pair(tmp_path)
    text = "tls_server_config:\n  cert_file: nope.crt\n  key_file: server.key\n"
    fails_with(
        write(tmp_path, text), "tls_server_config.cert_file names", str(tmp_path / "nope.crt")
    )


@pytest.mark.parametrize(
    "auth", ["RequireAndVerifyClientCert", "VerifyClientCertIfGiven", "RequireAnyClientCert"]
)
def test_client_ca_file_needed_but_missing(tmp_path: Path, auth: str) -> None:
    touch_pair(tmp_path)
    text = (
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
        f"  client_auth_type: {auth}\n"
    )
    fails_with(write(tmp_path, text), "tls_server_config.client_ca_file is missing", auth)


def test_require_any_client_cert_explains_the_python_gap(tmp_path: Path) -> None:
    touch_pair(tmp_path)
    text = (
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
        "  client_auth_type: RequireAnyClientCert\n"
    )
    fails_with(write(tmp_path, text), "Python's ssl verifies", "its own CA")


def test_client_ca_file_without_client_auth(tmp_path: Path) -> None:
    touch_pair(tmp_path)
    text = (
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
        "  client_ca_file: ca.crt\n"
    )
    fails_with(write(tmp_path, text), "client_ca_file is set but client_auth_type is NoClientCert")


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("min_version: TLS10", "tls_server_config.min_version TLS10 is refused"),
        ("max_version: TLS11", "tls_server_config.max_version TLS11 is refused"),
        ("min_version: TLS14", "tls_server_config.min_version 'TLS14' is not one of TLS12, TLS13"),
        ("min_version: 1.2", "tls_server_config.min_version must be a string"),
        ("cipher_suites: [TLS_RSA_WITH_RC5]", "tls_server_config.cipher_suites names"),
        ("cipher_suites: TLS_AES_128_GCM_SHA256", "cipher_suites must be a list of strings"),
        ("prefer_server_cipher_suites: maybe", "prefer_server_cipher_suites must be true or"),
    ],
)
def test_bad_tls_settings(tmp_path: Path, line: str, fragment: str) -> None:
    touch_pair(tmp_path)
    text = f"tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  {line}\n"
    fails_with(write(tmp_path, text), fragment)


def test_min_version_above_max_version(tmp_path: Path) -> None:
    touch_pair(tmp_path)
    text = (
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
        "  min_version: TLS13\n  max_version: TLS12\n"
    )
    fails_with(write(tmp_path, text), "tls_server_config.min_version is above max_version")


@pytest.mark.parametrize(
    ("users", "fragment"),
    [
        ("alice: not-a-hash", "basic_auth_users.alice is not a bcrypt hash"),
        ("alice: '$1$abc$0123456789'", "basic_auth_users.alice is not a bcrypt hash"),
        ("alice: 42", "basic_auth_users.alice is not a bcrypt hash"),
        (f"123: {HASH}", "a key is not a string at line 2, column 3; every key must be a"),
        (f"'al:ice': {HASH}", "contains ':'"),
    ],
)
def test_bad_basic_auth_users(tmp_path: Path, users: str, fragment: str) -> None:
    message = fails_with(write(tmp_path, f"basic_auth_users:\n  {users}\n"), fragment)
    assert "not-a-hash" not in message  # values of basic_auth_users are never echoed


@pytest.mark.parametrize(
    ("header", "fragment"),
    [
        ("Server: lvs", "http_server_config.headers.Server can not be set"),
        ("X-Frame-Options: allow", "headers.X-Frame-Options 'allow' is not one of deny"),
        ("X-Content-Type-Options: sniff", "headers.X-Content-Type-Options 'sniff' is not one"),
        ("Content-Security-Policy: [a]", "Content-Security-Policy must be a string"),
    ],
)
def test_bad_headers(tmp_path: Path, header: str, fragment: str) -> None:
    fails_with(write(tmp_path, f"http_server_config:\n  headers:\n    {header}\n"), fragment)


def test_http2_must_be_a_boolean(tmp_path: Path) -> None:
    fails_with(
        write(tmp_path, "http_server_config:\n  http2: on2\n"), "http2 must be true or false"
    )


# --- certificates are loaded at start --------------------------------------------------------


def test_certificate_that_is_not_pem(tmp_path: Path) -> None:
    touch_pair(tmp_path)
    text = "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
    fails_with(write(tmp_path, text), "tls_server_config.cert_file", "do not load")


def test_key_that_does_not_match_the_certificate(tmp_path: Path, pki: Pki) -> None:
    path = write(
        tmp_path,
        f"tls_server_config:\n  cert_file: {pki.server_cert}\n  key_file: {pki.client_key}\n",
    )
    fails_with(path, "tls_server_config.cert_file", str(pki.client_key), "do not load")


def test_client_ca_file_without_certificates(tmp_path: Path, pki: Pki) -> None:
    (tmp_path / "empty.pem").write_text("no certificates here\n")
    path = tls_config(
        pki,
        tmp_path,
        "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: empty.pem\n",
    )
    fails_with(path, "tls_server_config.client_ca_file", "holds no usable CA certificate")


# --- accepted at start, broken at use: refused at start instead (issue 13, kind 5) -----------


def refused_within(path: Path, seconds: float = 10.0) -> str:
    """The refusal's message; fails (rather than hangs the suite) if reading never returns."""
    outcome: list[BaseException | object] = []

    def load() -> None:
        try:
            config = load_web_config(path)
            if config.tls is not None:
                server_context(config.tls)
            outcome.append(config)
        except BaseException as err:  # handed to the test thread below
            outcome.append(err)

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    worker.join(seconds)
    assert outcome, f"reading {path} did not return within {seconds:g}s"
    assert isinstance(outcome[0], WebConfigError), outcome[0]
    return str(outcome[0])


@pytest.mark.parametrize(
    "value",
    [
        '"max-age=1\\r\\nX-Injected: yes"',
        '"max-age=1\\nSet-Cookie: a=b"',
        '"max-age=1 \\u2603"',
        '"max-age=1\\x00"',
    ],
    ids=["CRLF", "LF", "not latin-1", "NUL"],
)
def test_header_values_http_cannot_carry_are_refused(tmp_path: Path, value: str) -> None:
    text = f"http_server_config:\n  headers:\n    Strict-Transport-Security: {value}\n"
    fails_with(write(tmp_path, text), "Strict-Transport-Security holds a character HTTP")


def test_latin1_header_values_are_accepted(tmp_path: Path) -> None:
    text = 'http_server_config:\n  headers:\n    Content-Security-Policy: "default-src \\xe9"\n'
    assert load_web_config(write(tmp_path, text)).headers["Content-Security-Policy"]


def bad_salt(hashed: str) -> str:
    # The 22nd salt character holds only 2 bits: "z" there is a salt bcrypt refuses.
    return hashed[:28] + "z" + hashed[29:]


@pytest.mark.parametrize(
    ("hashed", "fragment"),
    [
        (bad_salt(HASH), "bcrypt refuses its salt"),
        (HASH[:4] + "15" + HASH[6:], "has bcrypt cost 15, above 14"),
        (HASH[:4] + "31" + HASH[6:], "has bcrypt cost 31, above 14"),
        (HASH[:4] + "03" + HASH[6:], "is not a bcrypt hash"),
    ],
    ids=["invalid salt", "cost 15", "cost 31", "cost 3"],
)
def test_bcrypt_hashes_that_cannot_be_checked_in_time_are_refused(
    tmp_path: Path, hashed: str, fragment: str
) -> None:
    message = refused_within(write(tmp_path, f"basic_auth_users:\n  alice: '{hashed}'\n"), 5)
    assert fragment in message
    assert hashed[7:] not in message


@pytest.mark.parametrize(
    "text",
    [
        "1: x\n",
        "~: x\n",
        "basic_auth_users:\n  true: x\n",
        "http_server_config:\n  headers:\n    ? [a, b]\n    : c\n",
        "tls_server_config:\n  ? {a: b}\n  : c\n",
    ],
    ids=["number", "null", "boolean", "list", "mapping"],
)
def test_keys_that_are_not_strings_are_refused(tmp_path: Path, text: str) -> None:
    assert "every key must be a string" in refused_within(write(tmp_path, text))


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "web.yml"
    os.mkfifo(fifo)
    assert "is not a regular file" in refused_within(fifo)


def test_dev_zero_is_refused() -> None:
    assert "/dev/zero is not a regular file" in refused_within(Path("/dev/zero"))


def test_a_directory_is_refused(tmp_path: Path) -> None:
    assert "web config file" in refused_within(tmp_path)


def test_a_huge_file_is_refused_unread(tmp_path: Path) -> None:
    huge = tmp_path / "web.yml"
    with huge.open("wb") as sink:
        sink.truncate(MAX_FILE_BYTES + 1)  # sparse: a long run of NULs, never a YAML document
    assert f"larger than {MAX_FILE_BYTES} bytes" in refused_within(huge)


@pytest.mark.parametrize("key", ["cert_file", "key_file"])
def test_tls_files_that_are_not_regular_are_refused(tmp_path: Path, pki: Pki, key: str) -> None:
    files = {"cert_file": str(pki.server_cert), "key_file": str(pki.server_key), key: "/dev/zero"}
    text = "tls_server_config:\n" + "".join(f"  {k}: {v}\n" for k, v in files.items())
    assert f"{key} names /dev/zero, which is not a file" in refused_within(write(tmp_path, text))


def test_tls_settings_no_handshake_can_satisfy_are_refused(tmp_path: Path, pki: Pki) -> None:
    # The throw-away PKI's server key is ECDSA; these suites all need an RSA key, and TLS 1.3
    # (whose suites are not configurable) is ruled out.
    extra = "  max_version: TLS12\n  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]\n"
    message = refused_within(tls_config(pki, tmp_path, extra))
    assert "tls_server_config allows no TLS handshake with this certificate and key" in message


def test_tls_settings_some_handshake_satisfies_are_accepted(tmp_path: Path, pki: Pki) -> None:
    extra = "  max_version: TLS12\n  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]\n"
    tls = load_web_config(tls_config(pki, tmp_path, extra)).tls
    assert tls is not None
    assert server_context(tls).maximum_version == ssl.TLSVersion.TLSv1_2


def test_the_handshake_probe_leaves_client_verification_on(tmp_path: Path, pki: Pki) -> None:
    extra = f"  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: {pki.ca_cert}\n"
    tls = load_web_config(tls_config(pki, tmp_path, extra)).tls
    assert tls is not None
    assert server_context(tls).verify_mode == ssl.CERT_REQUIRED
