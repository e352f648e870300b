"""The exporter's web server over real sockets on 127.0.0.1: routes, gzip, auth, TLS, load."""

from __future__ import annotations

import base64
import contextlib
import gzip
import http.client
import logging
import select
import shutil
import socket
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import bcrypt
import pytest

from checks import __version__
from exporter.basic_auth import BasicAuthGate
from exporter.http_handler import accepts_gzip
from exporter.http_server import ConnectionLimits, ListenAddress, MetricsServer, ServeError
from exporter.web_config import WebConfig, load_web_config

if TYPE_CHECKING:
    from conftest import FakeRender, Pki, StartServer

PASSWORD = "correct horse battery staple"
HASH = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()
AUTH_CONFIG = WebConfig(basic_auth_users={"prometheus": HASH.encode()})


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes


def fetch(
    server: MetricsServer,
    path: str = "/metrics",
    *,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    context: ssl.SSLContext | None = None,
    host: str = "127.0.0.1",
) -> Answer:
    """One request with http.client, which hands back 4xx/5xx answers instead of raising."""
    if server.scheme == "https":
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            host, server.port, timeout=5, context=context
        )
    else:
        connection = http.client.HTTPConnection(host, server.port, timeout=5)
    try:
        connection.request(method, path, headers=dict(headers or {}))
        response = connection.getresponse()
        return Answer(response.status, dict(response.getheaders()), response.read())
    finally:
        connection.close()


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


# --- routes ----------------------------------------------------------------------------------


def test_landing_page_names_the_exporter_its_version_and_the_metrics_link(
    start_server: StartServer,
) -> None:
    answer = fetch(start_server(), "/")
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
    page = answer.body.decode()
    assert "lvs-arp-exporter" in page
    assert __version__ in page
    assert '<a href="/metrics">' in page


def test_metrics_serve_what_render_returns_for_the_accept_header(
    start_server: StartServer, fake_render: FakeRender
) -> None:
    accept = "application/openmetrics-text; version=1.0.0"
    answer = fetch(start_server(fake_render), headers={"Accept": accept})
    assert answer.status == 200
    assert answer.body == fake_render.body
    assert answer.headers["Content-Type"] == fake_render.content_type
    assert answer.headers["Content-Length"] == str(len(fake_render.body))
    assert fake_render.accept_headers == [accept]


def test_no_accept_header_reaches_render_as_none(
    start_server: StartServer, fake_render: FakeRender
) -> None:
    server = start_server(fake_render)
    connection = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    with connection:
        connection.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
        assert connection.recv(1024).startswith(b"HTTP/1.0 200")
    assert fake_render.accept_headers == [None]


def test_query_strings_do_not_change_the_route(start_server: StartServer) -> None:
    assert fetch(start_server(), "/metrics?collect[]=arp").status == 200


def test_other_telemetry_path(start_server: StartServer, fake_render: FakeRender) -> None:
    server = start_server(fake_render, telemetry_path="/probe")
    assert fetch(server, "/probe").body == fake_render.body
    assert fetch(server, "/metrics").status == 404
    assert b'<a href="/probe">' in fetch(server, "/").body


def test_telemetry_path_must_be_absolute() -> None:
    with pytest.raises(ServeError, match="must start with '/'"):
        MetricsServer("127.0.0.1:0", lambda accept: (b"", ""), telemetry_path="metrics")


@pytest.mark.parametrize("path", ["/metricsx", "/favicon.ico", "/metrics/"])
def test_other_paths_are_404(start_server: StartServer, path: str) -> None:
    assert fetch(start_server(), path).status == 404


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "BREW"])
def test_methods_other_than_get_and_head_are_405(start_server: StartServer, method: str) -> None:
    answer = fetch(start_server(), method=method, headers={"Content-Length": "0"})
    assert answer.status == 405
    assert answer.headers["Allow"] == "GET, HEAD"


def test_405_arrives_even_when_a_body_was_sent(start_server: StartServer) -> None:
    server = start_server()
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        connection.request("POST", "/metrics", body=b"x" * 20000)
        assert connection.getresponse().status == 405
    finally:
        connection.close()


@pytest.mark.parametrize("path", ["/", "/metrics"])
def test_head_has_the_headers_of_get_without_a_body(start_server: StartServer, path: str) -> None:
    server = start_server()
    get, head = fetch(server, path), fetch(server, path, method="HEAD")
    assert head.status == 200
    assert head.body == b""
    assert head.headers["Content-Length"] == get.headers["Content-Length"]
    assert head.headers["Content-Type"] == get.headers["Content-Type"]


def test_server_header_names_the_exporter_not_python(start_server: StartServer) -> None:
    assert fetch(start_server(), "/").headers["Server"] == f"lvs-arp-exporter/{__version__}"


def test_render_failure_is_500_and_logged(
    start_server: StartServer, caplog: pytest.LogCaptureFixture
) -> None:
    def broken_render(accept: str | None) -> tuple[bytes, str]:
        raise RuntimeError("collector exploded")

    answer = fetch(start_server(broken_render))
    assert answer.status == 500
    assert "collector exploded" not in answer.body.decode()
    assert "rendering metrics failed" in caplog.text
    assert "collector exploded" in caplog.text


def test_configured_headers_are_on_every_answer(tmp_path: Path, start_server: StartServer) -> None:
    config_file = tmp_path / "web.yml"
    config_file.write_text(
        "http_server_config:\n  headers:\n    X-Frame-Options: deny\n"
        "    X-Content-Type-Options: nosniff\n"
    )
    server = start_server(web_config=load_web_config(config_file))
    for path in ("/", "/metrics", "/nowhere"):
        answer = fetch(server, path)
        assert answer.headers["X-Frame-Options"] == "deny"
        assert answer.headers["X-Content-Type-Options"] == "nosniff"


# --- malformed requests: a 4xx each, never a traceback ---------------------------------------

MALFORMED = {
    "undecodable Content-Length": b"GET /metrics HTTP/1.0\r\nContent-Length: \xc2\xb2\r\n\r\n",
    "superscript Content-Length": "GET /metrics HTTP/1.0\r\nContent-Length: ²\r\n\r\n".encode(),
    "superscript Content-Length on a POST": b"POST / HTTP/1.0\r\nContent-Length: \xb2\r\n\r\n",
    "negative Content-Length": b"POST /metrics HTTP/1.0\r\nContent-Length: -1\r\n\r\n",
    "huge Content-Length": b"POST / HTTP/1.0\r\nContent-Length: " + b"9" * 40 + b"\r\n\r\n",
    "absolute URI with an open bracket": b"GET http://[/metrics HTTP/1.0\r\n\r\n",
    "target that is no path": b"GET metrics HTTP/1.0\r\n\r\n",
    "asterisk target": b"GET * HTTP/1.0\r\n\r\n",
    "request line of one word": b"GARBAGE\r\n\r\n",
    "bad version": b"GET / HTTP/x.y\r\n\r\n",
    "too many words": b"GET / HTTP/1.0 extra\r\n\r\n",
    "binary request line": b"\x16\x03\x01\x00\xff\r\n\r\n",
    "header without colon": b"GET / HTTP/1.0\r\nno colon here\r\n\r\n",
}


def raw_exchange(server: MetricsServer, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as connection:
        connection.sendall(request)
        return connection.makefile("rb").read()


@pytest.mark.parametrize("auth", [False, True], ids=["open", "behind basic auth"])
@pytest.mark.parametrize("request_bytes", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_request_gets_a_4xx_and_no_traceback(
    start_server: StartServer, caplog: pytest.LogCaptureFixture, request_bytes: bytes, auth: bool
) -> None:
    caplog.set_level(logging.INFO)
    server = start_server(web_config=AUTH_CONFIG if auth else None)
    answer = raw_exchange(server, request_bytes)
    assert answer[:10] in (b"HTTP/1.0 4", b"HTTP/1.1 4"), answer[:200]
    assert all(record.exc_info is None for record in caplog.records)
    assert "Traceback" not in caplog.text
    assert fetch(server, headers=basic("prometheus", PASSWORD)).status == 200


def test_an_absolute_uri_is_routed_by_its_path(start_server: StartServer) -> None:
    answer = raw_exchange(start_server(), b"GET http://localhost:9787/metrics?x HTTP/1.0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.0 200")


# --- gzip ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept_encoding", "gzipped"),
    [
        ("gzip", True),
        ("deflate, GZIP;q=0.5", True),
        ("br;q=1.0, gzip;q=0.8, *;q=0.1", True),
        (None, False),
        ("identity", False),
        ("gzip;q=0", False),
        ("gzip; q=0.000", False),
        ("xgzip", False),
    ],
)
def test_accepts_gzip(accept_encoding: str | None, gzipped: bool) -> None:
    assert accepts_gzip(accept_encoding) is gzipped


def test_metrics_are_gzipped_when_the_client_accepts_it(
    start_server: StartServer, fake_render: FakeRender
) -> None:
    answer = fetch(start_server(fake_render), headers={"Accept-Encoding": "gzip"})
    assert answer.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in answer.headers["Vary"]
    assert gzip.decompress(answer.body) == fake_render.body


def test_metrics_are_gzipped_at_a_middle_level(
    start_server: StartServer, fake_render: FakeRender
) -> None:
    answer = fetch(start_server(fake_render), headers={"Accept-Encoding": "gzip"})
    # The header's XFL byte: 2 would mean level 9 (twice the time for little gain), 4 level 1.
    assert answer.body[8] == 0


def test_metrics_are_plain_when_gzip_is_refused(
    start_server: StartServer, fake_render: FakeRender
) -> None:
    answer = fetch(start_server(fake_render), headers={"Accept-Encoding": "gzip;q=0"})
    assert "Content-Encoding" not in answer.headers
    assert answer.body == fake_render.body


# --- listen addresses ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("127.0.0.1:9100", "127.0.0.1", 9100),
        ("[::1]:9100", "::1", 9100),
        (":9100", "", 9100),
        ("localhost:0", "localhost", 0),
        ("[fe80::1%eth0]:80", "fe80::1%eth0", 80),
    ],
)
def test_listen_address_forms(text: str, host: str, port: int) -> None:
    assert ListenAddress.parse(text) == ListenAddress(host, port)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("127.0.0.1", "needs a port"),
        ("9100", "needs a port"),
        ("127.0.0.1:", "needs a port"),
        ("127.0.0.1:http", "needs a port"),
        ("127.0.0.1:65536", "needs a port"),
        ("::1:9100", "write IPv6 in brackets"),
        ("[nothost]:9100", "is not an IPv6 address"),
    ],
)
def test_bad_listen_addresses(text: str, fragment: str) -> None:
    with pytest.raises(ServeError, match=fragment):
        ListenAddress.parse(text)


def test_listen_address_prints_as_written() -> None:
    assert [str(ListenAddress.parse(text)) for text in ("[::1]:1", ":2", "a:3")] == [
        "[::1]:1",
        ":2",
        "a:3",
    ]


def require_ipv6_loopback() -> None:
    """CI and the project's machines have ::1: a missing one fails the test, never skips it."""
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError as err:
        pytest.fail(f"this test needs the IPv6 loopback ::1: {err}")


def test_port_alone_listens_on_every_address(start_server: StartServer) -> None:
    server = start_server(listen=":0")
    assert fetch(server, "/", host="127.0.0.1").status == 200
    require_ipv6_loopback()
    assert fetch(server, "/", host="::1").status == 200


def test_bracketed_ipv6_loopback(start_server: StartServer) -> None:
    require_ipv6_loopback()
    assert fetch(start_server(listen="[::1]:0"), "/", host="::1").status == 200


def test_a_taken_port_is_a_serve_error(start_server: StartServer) -> None:
    taken = start_server().port
    with pytest.raises(ServeError, match=f"cannot listen on 127.0.0.1:{taken}"):
        MetricsServer(f"127.0.0.1:{taken}", lambda accept: (b"", ""))


# --- basic auth ------------------------------------------------------------------------------


def test_missing_credentials_are_401_with_a_basic_challenge(start_server: StartServer) -> None:
    answer = fetch(start_server(web_config=AUTH_CONFIG))
    assert answer.status == 401
    assert answer.headers["WWW-Authenticate"] == 'Basic realm="lvs-arp-exporter"'


@pytest.mark.parametrize(
    "headers",
    [
        basic("prometheus", "wrong"),
        basic("grafana", PASSWORD),
        basic("Prometheus", PASSWORD),
        {"Authorization": "Bearer " + PASSWORD},
        {"Authorization": "Basic !!!not base64!!!"},
        {"Authorization": "Basic " + base64.b64encode(b"prometheus").decode()},
        basic("prometheus", PASSWORD + "x" * 80),
        basic("prometheus", PASSWORD + "\x00"),
    ],
    ids=[
        "wrong-password",
        "unknown-user",
        "case",
        "bearer",
        "garbage",
        "no-colon",
        "too-long",
        "nul",
    ],
)
def test_wrong_credentials_are_401(start_server: StartServer, headers: dict[str, str]) -> None:
    assert fetch(start_server(web_config=AUTH_CONFIG), headers=headers).status == 401


def test_right_credentials_are_200_on_every_path(start_server: StartServer) -> None:
    server = start_server(web_config=AUTH_CONFIG)
    credentials = basic("prometheus", PASSWORD)
    assert fetch(server, headers=credentials).status == 200
    assert fetch(server, "/", headers=credentials).status == 200
    assert fetch(server, "/nowhere", headers=credentials).status == 404
    assert fetch(server, "/nowhere").status == 401  # routes are not revealed before auth


def test_htpasswd_2y_hash_admits(start_server: StartServer) -> None:
    config = WebConfig(basic_auth_users={"prometheus": HASH.replace("$2b$", "$2y$").encode()})
    answer = fetch(start_server(web_config=config), headers=basic("prometheus", PASSWORD))
    assert answer.status == 200


@pytest.fixture
def bcrypt_checks(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Records the hash each bcrypt check is made against."""
    checked: list[bytes] = []
    real_checkpw = bcrypt.checkpw

    def counting_checkpw(password: bytes, hashed: bytes) -> bool:
        checked.append(hashed)
        return real_checkpw(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", counting_checkpw)
    return checked


def test_unknown_users_cost_a_bcrypt_check_of_the_same_cost(bcrypt_checks: list[bytes]) -> None:
    gate = BasicAuthGate({"prometheus": HASH.encode()})
    assert not gate.admits(basic("nobody", PASSWORD)["Authorization"])
    assert len(bcrypt_checks) == 1
    assert bcrypt_checks[0] != HASH.encode()
    assert bcrypt_checks[0][:7] == HASH.encode()[:7]  # "$2b$04$": same cost as the real hash


CHEAP_HASH = bcrypt.hashpw(b"cheap-password", bcrypt.gensalt(4))
DEAR_HASH = bcrypt.hashpw(b"dear-password", bcrypt.gensalt(6))


def costs(hashes: list[bytes]) -> list[int]:
    return [int(hashed[4:6]) for hashed in hashes]


@pytest.mark.parametrize(
    ("user", "password"),
    [
        ("nobody", "guess"),
        ("cheap", "guess"),
        ("dear", "guess"),
        ("cheap", "dear-password"),
    ],
    ids=["unknown user", "cheap user", "dear user", "another user's password"],
)
def test_every_failed_login_costs_the_same_bcrypt_work(
    bcrypt_checks: list[bytes], user: str, password: str
) -> None:
    # Timing cannot be asserted in a unit test; the work can: one check at each configured
    # cost, whichever user is named, so the cheap user fails no faster than an unknown one.
    gate = BasicAuthGate({"cheap": CHEAP_HASH, "dear": DEAR_HASH})
    assert not gate.admits(basic(user, password)["Authorization"])
    assert costs(bcrypt_checks) == [4, 6]


def test_a_login_checks_the_named_users_own_hash(bcrypt_checks: list[bytes]) -> None:
    gate = BasicAuthGate({"cheap": CHEAP_HASH, "dear": DEAR_HASH})
    assert gate.admits(basic("cheap", "cheap-password")["Authorization"])
    assert gate.admits(basic("dear", "dear-password")["Authorization"])
    assert CHEAP_HASH in bcrypt_checks[:2] and DEAR_HASH in bcrypt_checks[2:]


def test_success_is_remembered_but_failure_is_not(bcrypt_checks: list[bytes]) -> None:
    gate = BasicAuthGate({"prometheus": HASH.encode()})
    right, wrong = basic("prometheus", PASSWORD), basic("prometheus", "guess")
    assert gate.admits(right["Authorization"])
    assert gate.admits(right["Authorization"])
    assert len(bcrypt_checks) == 1
    assert not gate.admits(wrong["Authorization"])
    assert not gate.admits(wrong["Authorization"])
    assert len(bcrypt_checks) == 3


def test_a_remembered_password_admits_only_its_own_user(bcrypt_checks: list[bytes]) -> None:
    gate = BasicAuthGate({"alice": HASH.encode(), "bob": HASH.encode()})
    assert gate.admits(basic("alice", PASSWORD)["Authorization"])
    assert not gate.admits(basic("carol", PASSWORD)["Authorization"])
    assert gate.admits(basic("bob", PASSWORD)["Authorization"])
    assert len(bcrypt_checks) == 3


def test_logs_carry_no_credentials(
    start_server: StartServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server = start_server(web_config=AUTH_CONFIG)
    right, wrong = basic("prometheus", PASSWORD), basic("prometheus", "hunter2-wrong")
    assert fetch(server, headers=right).status == 200
    assert fetch(server, headers=wrong).status == 401
    assert fetch(server, "/", headers=basic("intruder", "hunter3")).status == 401
    assert "basic auth failed" in caplog.text  # proof that debug logging was on
    for secret in (PASSWORD, "hunter2", "hunter3", HASH, "Authorization", "Basic "):
        assert secret not in caplog.text
    for headers in (right, wrong):
        assert headers["Authorization"].split()[1] not in caplog.text


# --- TLS -------------------------------------------------------------------------------------


def tls_web_config(tmp_path: Path, pki: Pki, extra: str = "") -> WebConfig:
    config_file = tmp_path / "web.yml"
    config_file.write_text(
        f"tls_server_config:\n  cert_file: {pki.server_cert}\n  key_file: {pki.server_key}\n"
        + extra
    )
    return load_web_config(config_file)


def client_context(pki: Pki, cert: Path | None = None, key: Path | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki.ca_cert))
    if cert is not None:
        context.load_cert_chain(cert, key)
    return context


def refused(server: MetricsServer, context: ssl.SSLContext) -> bool:
    """Whether the TLS server turns this client away (in TLS 1.3, after the client's Finished)."""
    try:
        fetch(server, context=context)
    except (ssl.SSLError, ConnectionError, OSError):
        return True
    return False


def test_https_with_a_ca_trusting_client(
    tmp_path: Path, pki: Pki, start_server: StartServer, fake_render: FakeRender
) -> None:
    server = start_server(fake_render, web_config=tls_web_config(tmp_path, pki))
    assert server.scheme == "https"
    answer = fetch(server, context=client_context(pki))
    assert answer.status == 200
    assert answer.body == fake_render.body


def test_https_through_urllib(tmp_path: Path, pki: Pki, start_server: StartServer) -> None:
    server = start_server(web_config=tls_web_config(tmp_path, pki))
    url = f"https://localhost:{server.port}/metrics"
    with urllib.request.urlopen(url, context=client_context(pki), timeout=5) as response:
        assert response.status == 200


def test_plain_http_to_the_tls_port_fails_without_harm(
    tmp_path: Path, pki: Pki, start_server: StartServer
) -> None:
    server = start_server(web_config=tls_web_config(tmp_path, pki))
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    with pytest.raises((http.client.HTTPException, ConnectionError)):
        connection.request("GET", "/metrics")
        connection.getresponse()
    connection.close()
    assert fetch(server, context=client_context(pki)).status == 200


def verify_config(tmp_path: Path, pki: Pki, auth: str) -> WebConfig:
    return tls_web_config(
        tmp_path, pki, f"  client_auth_type: {auth}\n  client_ca_file: {pki.ca_cert}\n"
    )


@pytest.mark.parametrize(
    ("auth", "admits"),
    [
        # Which clients get in: (no certificate, the CA's client, a stranger CA's client).
        ("RequireAndVerifyClientCert", (False, True, False)),
        ("RequireAnyClientCert", (False, True, False)),  # stricter than Go: see ClientAuth
        ("VerifyClientCertIfGiven", (True, True, False)),
        ("RequestClientCert", (True, True, True)),
    ],
)
def test_client_auth_type_admits(
    tmp_path: Path, pki: Pki, start_server: StartServer, auth: str, admits: tuple[bool, ...]
) -> None:
    server = start_server(web_config=verify_config(tmp_path, pki, auth))
    clients = (
        client_context(pki),
        client_context(pki, pki.client_cert, pki.client_key),
        client_context(pki, pki.stranger_cert, pki.stranger_key),
    )
    assert tuple(not refused(server, client) for client in clients) == admits


def test_tls13_minimum_turns_tls12_clients_away(
    tmp_path: Path, pki: Pki, start_server: StartServer
) -> None:
    server = start_server(web_config=tls_web_config(tmp_path, pki, "  min_version: TLS13\n"))
    old_client = client_context(pki)
    old_client.maximum_version = ssl.TLSVersion.TLSv1_2
    assert refused(server, old_client)
    assert not refused(server, client_context(pki))


def test_tls_and_basic_auth_together(tmp_path: Path, pki: Pki, start_server: StartServer) -> None:
    config = tls_web_config(tmp_path, pki, f"basic_auth_users:\n  prometheus: {HASH}\n")
    server = start_server(web_config=config)
    context = client_context(pki)
    assert fetch(server, context=context).status == 401
    assert fetch(server, context=context, headers=basic("prometheus", PASSWORD)).status == 200


def test_curl_with_and_without_a_client_certificate(
    tmp_path: Path, pki: Pki, start_server: StartServer, fake_render: FakeRender
) -> None:
    if shutil.which("curl") is None:
        pytest.fail("curl is a real HTTPS client users have; .ci/run installs it")
    server = start_server(
        fake_render, web_config=verify_config(tmp_path, pki, "RequireAndVerifyClientCert")
    )
    curl = ["curl", "--silent", "--show-error", "--fail", "--max-time", "5"]
    curl += ["--cacert", str(pki.ca_cert), f"https://localhost:{server.port}/metrics"]
    with_cert = [*curl, "--cert", str(pki.client_cert), "--key", str(pki.client_key)]
    answered = subprocess.run(with_cert, capture_output=True, check=False)
    assert answered.returncode == 0, answered.stderr
    assert answered.stdout == fake_render.body
    assert subprocess.run(curl, capture_output=True, check=False).returncode != 0


# --- slow clients, timeouts, the connection cap, shutdown ------------------------------------


@contextmanager
def silent_client(server: MetricsServer) -> Iterator[socket.socket]:
    """A client that connects and then says nothing at all, not even a TLS hello."""
    connection = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    try:
        yield connection
    finally:
        connection.close()


def test_a_silent_client_does_not_stall_others(start_server: StartServer) -> None:
    server = start_server(limits=ConnectionLimits(timeout_seconds=10))
    with silent_client(server):
        started = time.monotonic()
        assert fetch(server).status == 200
        assert time.monotonic() - started < 2


def test_a_silent_client_does_not_stall_tls_handshakes(
    tmp_path: Path, pki: Pki, start_server: StartServer
) -> None:
    server = start_server(
        web_config=tls_web_config(tmp_path, pki), limits=ConnectionLimits(timeout_seconds=10)
    )
    with silent_client(server), silent_client(server):
        started = time.monotonic()
        assert fetch(server, context=client_context(pki)).status == 200
        assert time.monotonic() - started < 2


def test_a_silent_client_is_dropped_after_the_timeout(start_server: StartServer) -> None:
    server = start_server(limits=ConnectionLimits(timeout_seconds=0.3))
    with silent_client(server) as connection:
        started = time.monotonic()
        assert connection.recv(1024) == b""  # the server closed it
        assert time.monotonic() - started < 3


@dataclass(frozen=True)
class Dribbled:
    seconds: float  # from connecting until the server closed
    answer: bytes  # what the server sent back, if anything


def dribble(server: MetricsServer, data: bytes, interval: float = 0.3) -> Dribbled:
    """Send data one byte every interval until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as connection:
        started = time.monotonic()
        for byte in data:
            connection.sendall(bytes([byte]))
            # Waiting on select paces the bytes and notices the server's close at once.
            if select.select([connection], [], [], interval)[0]:
                try:
                    answer = connection.recv(1024)
                except ConnectionResetError:  # closed with our last byte unread
                    answer = b""
                return Dribbled(time.monotonic() - started, answer)
    raise AssertionError(f"the server read all {len(data)} bytes and never closed")


# 23 bytes at 0.3 s: 7 s, far past a 1 s deadline, each byte far within a 10 s read timeout.
SLOW_REQUEST = b"GET /metrics HTTP/1.0\r\n"
# A TLS handshake record header (length 512), then its body byte by byte.
SLOW_CLIENT_HELLO = b"\x16\x03\x01\x02\x00" + b"\x01" * 18
DEADLINE = ConnectionLimits(timeout_seconds=10, request_seconds=1.0)


def test_a_dribbling_client_is_cut_off_at_the_request_deadline(start_server: StartServer) -> None:
    server = start_server(limits=DEADLINE)
    with ThreadPoolExecutor(max_workers=1) as pool:
        dribbling = pool.submit(dribble, server, SLOW_REQUEST)
        time.sleep(0.4)
        started = time.monotonic()
        assert fetch(server).status == 200  # a scrape meanwhile is not held up
        assert time.monotonic() - started < 0.5
        dribbled = dribbling.result(timeout=10)
    assert dribbled.answer == b""  # closed without an answer, as Go's ReadHeaderTimeout does
    assert 0.9 <= dribbled.seconds < 1.5


def test_the_tls_handshake_counts_against_the_request_deadline(
    tmp_path: Path, pki: Pki, start_server: StartServer
) -> None:
    server = start_server(web_config=tls_web_config(tmp_path, pki), limits=DEADLINE)
    with ThreadPoolExecutor(max_workers=1) as pool:
        dribbling = pool.submit(dribble, server, SLOW_CLIENT_HELLO)
        time.sleep(0.4)
        assert fetch(server, context=client_context(pki)).status == 200
        dribbled = dribbling.result(timeout=10)
    assert dribbled.answer == b""
    assert 0.9 <= dribbled.seconds < 1.5


def test_a_slow_request_within_the_deadline_is_answered(
    start_server: StartServer, fake_render: FakeRender
) -> None:
    # Each pause is under the read timeout, all of them together over it: the two limits
    # are separate, and a request taking longer than one read timeout is fine.
    server = start_server(
        fake_render, limits=ConnectionLimits(timeout_seconds=0.5, request_seconds=3)
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as connection:
        for piece in (b"GET /met", b"rics HTTP/1.0\r\n", b"Accept: text/plain\r\n", b"\r\n"):
            connection.sendall(piece)
            time.sleep(0.3)
        answer = connection.makefile("rb").read()
    assert answer.startswith(b"HTTP/1.0 200")
    assert answer.endswith(fake_render.body)


def test_the_deadline_bounds_the_request_not_the_answer(start_server: StartServer) -> None:
    # 16 MB outgrows the loopback socket buffers, so the server's write waits on our reading.
    body = b"x" * (16 << 20)
    server = start_server(
        lambda accept: (body, "text/plain"),
        limits=ConnectionLimits(timeout_seconds=5, request_seconds=0.2),
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as connection:
        connection.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
        time.sleep(0.6)  # start reading well after the request deadline
        head, _, received = connection.makefile("rb").read().partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 200")
    assert len(received) == len(body)  # a write timed out by the deadline would cut it short


class BlockingRender:
    """A render that waits until released: holds the worker that called it."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self, accept: str | None) -> tuple[bytes, str]:
        self.entered.set()
        self.release.wait(10)
        return b"done\n", "text/plain"


def test_beyond_the_workers_and_queue_clients_get_503_until_a_slot_frees(
    start_server: StartServer,
) -> None:
    render = BlockingRender()
    server = start_server(render, limits=ConnectionLimits(max_connections=1, max_waiting=0))
    with ThreadPoolExecutor(max_workers=1) as pool:
        held = pool.submit(fetch, server)
        assert render.entered.wait(5)
        started = time.monotonic()
        answer = fetch(server)
        assert answer.status == 503
        assert answer.headers["Retry-After"] == "1"
        assert time.monotonic() - started < 2
        render.release.set()
        assert held.result(timeout=10).status == 200
    # The held client has its answer a moment before its worker counts itself free.
    deadline = time.monotonic() + 5
    while fetch(server).status == 503 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert fetch(server).status == 200


def test_silent_clients_hold_no_worker(start_server: StartServer) -> None:
    # One worker, and more silent clients than workers: each would have held one for 10 s.
    # One waiting place: the client reads an answer before its worker has counted itself
    # free, so back-to-back scrapes may overlap by a moment.
    server = start_server(limits=ConnectionLimits(max_connections=1, max_waiting=1))
    with contextlib.ExitStack() as stack:
        for _ in range(5):
            stack.enter_context(silent_client(server))
        time.sleep(0.2)
        assert [fetch(server).status for _ in range(5)] == [200] * 5


def test_beyond_the_open_connection_cap_the_oldest_silent_client_is_shed(
    start_server: StartServer,
) -> None:
    server = start_server(limits=ConnectionLimits(max_open_connections=3))
    with contextlib.ExitStack() as stack:
        silent = [stack.enter_context(silent_client(server)) for _ in range(3)]
        time.sleep(0.2)
        assert fetch(server).status == 200  # one more connection: the oldest goes
        assert silent[0].recv(1024) == b""  # closed by the server, without an answer
        silent[1].setblocking(False)
        with pytest.raises(BlockingIOError):
            silent[1].recv(1024)  # a younger one is still open


def test_a_refused_body_sent_slowly_holds_no_worker(start_server: StartServer) -> None:
    server = start_server(
        limits=ConnectionLimits(max_connections=1, max_waiting=1, request_seconds=2.0)
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as slow:
        slow.sendall(b"POST /metrics HTTP/1.0\r\nContent-Length: 100\r\n\r\n")
        started = time.monotonic()
        answered = b"never closed"
        for _ in range(30):  # a byte every 0.3 s: 9 s, far past the deadline
            with contextlib.suppress(OSError):
                slow.send(b"x")
            asked = time.monotonic()
            assert fetch(server).status == 200
            assert time.monotonic() - asked < 1.0  # the only worker was free, not held
            if select.select([slow], [], [], 0.3)[0]:
                with contextlib.suppress(ConnectionResetError):
                    answered = slow.recv(1024)
                break
        cut_after = time.monotonic() - started
    assert answered == b""  # closed without an answer at the deadline
    assert cut_after < 4


def test_a_silent_tls_client_holds_no_worker(
    tmp_path: Path, pki: Pki, start_server: StartServer
) -> None:
    limits = ConnectionLimits(max_connections=1, max_waiting=0)
    server = start_server(web_config=tls_web_config(tmp_path, pki), limits=limits)
    with silent_client(server), silent_client(server):
        time.sleep(0.2)
        assert fetch(server, context=client_context(pki)).status == 200


def test_shutdown_stops_listening() -> None:
    server = MetricsServer("127.0.0.1:0", lambda accept: (b"", "text/plain"))
    server.start()
    port = server.port
    server.shutdown()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_shutdown_right_after_start_stops_the_loop() -> None:
    server = MetricsServer("127.0.0.1:0", lambda accept: (b"", "text/plain"))
    server.start()
    server.shutdown()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", server.port), timeout=2).close()


def test_shutdown_of_a_server_never_started_returns() -> None:
    server = MetricsServer("127.0.0.1:0", lambda accept: (b"", "text/plain"))
    stopper = threading.Thread(target=server.shutdown)
    stopper.start()
    stopper.join(timeout=5)
    assert not stopper.is_alive()


def test_shutdown_while_a_silent_client_is_connected_is_quick(start_server: StartServer) -> None:
    server = start_server(limits=ConnectionLimits(timeout_seconds=10))
    with silent_client(server):
        time.sleep(0.1)
        started = time.monotonic()
        server.shutdown()
        assert time.monotonic() - started < 2


def test_context_manager_shuts_down() -> None:
    with MetricsServer("127.0.0.1:0", lambda accept: (b"", "text/plain")) as server:
        server.start()
        port = server.port
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
