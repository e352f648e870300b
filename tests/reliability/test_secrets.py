"""TLS client certificates and bcrypt basic auth from --web.config.file, with real clients;
credentials compared in constant time; no secret in any log line, at debug level.
"""

from __future__ import annotations

import ast
import base64
import inspect
import subprocess
import textwrap
from pathlib import Path

import bcrypt
import pytest
from fake_host import FakeHost

from exporter import basic_auth

from .pki import Pki, make_pki, write_web_config
from .processes import EXPORTER, running_exporter

PASSWORD = "s3cret-Correct-Horse"
WRONG_PASSWORD = "s3cret-Wrong-Guess"
USER = "prometheus"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def curl(pki: Pki, url: str, *extra: str) -> subprocess.CompletedProcess[bytes]:
    argv = ["curl", "--silent", "--show-error", "--max-time", "10", "--cacert", str(pki.ca_cert)]
    argv += ["--write-out", "\n%{http_code}", *extra, url]
    return subprocess.run(argv, capture_output=True, timeout=30, check=False)


def status(answer: subprocess.CompletedProcess[bytes]) -> str:
    return answer.stdout.rsplit(b"\n", 1)[-1].decode()


def secrets_in(text: str, hashed: str, pki: Pki) -> list[str]:
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    wrong = base64.b64encode(f"{USER}:{WRONG_PASSWORD}".encode()).decode()
    key_lines = [line for line in pki.server_key.read_text().splitlines() if "-----" not in line]
    candidates = [PASSWORD, WRONG_PASSWORD, hashed, hashed[7:29], token, wrong, *key_lines]
    return [secret for secret in candidates if secret in text]


def test_tls_client_certs_and_bcrypt_auth_from_the_web_config_file(
    tmp_path: Path, pki: Pki
) -> None:
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(10)).decode()
    config = write_web_config(tmp_path / "web.yml", pki, {USER: hashed})
    tree = FakeHost(1, 2, 1, 2).loopback("10.0.0.100/32").interface("eth0").write(tmp_path)
    argv = [EXPORTER, "--role=realserver", *tree.plugin_args(), "--no-boot-check"]
    argv += [f"--web.config.file={config}", "--log.level=debug"]
    argv.append("--web.listen-address=127.0.0.1:0")
    certificate = ["--cert", str(pki.client_cert), "--key", str(pki.client_key)]
    with running_exporter(argv, tmp_path / "exporter.log") as exporter:
        url = f"https://127.0.0.1:{exporter.port}/metrics"
        right = curl(pki, url, *certificate, "--user", f"{USER}:{PASSWORD}")
        again = curl(pki, url, *certificate, "--user", f"{USER}:{PASSWORD}")  # the cached path
        wrong = curl(pki, url, *certificate, "--user", f"{USER}:{WRONG_PASSWORD}")
        stranger = curl(pki, url, *certificate, "--user", f"nobody:{PASSWORD}")
        anonymous = curl(pki, url, *certificate)
        no_certificate = curl(pki, url, "--user", f"{USER}:{PASSWORD}")
        log = exporter.log_text()
    assert status(right) == "200" and b"lvs_arp_scrape_success 1" in right.stdout
    assert status(again) == "200"
    assert [status(a) for a in (wrong, stranger, anonymous)] == ["401"] * 3
    assert no_certificate.returncode != 0  # the handshake fails: no HTTP status at all
    assert "basic auth failed" in log  # debug logging was on
    assert secrets_in(log, hashed, pki) == []


BROKEN_CONFIGS = {
    # PyYAML quotes the line it stopped at; that line may hold a hash or a pasted password.
    "unterminated quote": 'basic_auth_users:\n  prometheus: "{hashed}\n',
    "bad indentation": "basic_auth_users:\n  prometheus: {hashed}\n   x: y: z\n",
    "tab": "basic_auth_users:\n\tprometheus: {password}\n",
    "flow": "basic_auth_users: [\n  prometheus: {password}\n",
    "not a hash": "basic_auth_users:\n  prometheus: {password}\n",
    "duplicate user": "basic_auth_users:\n  prometheus: {hashed}\n  prometheus: {hashed}\n",
}


@pytest.mark.parametrize("text", BROKEN_CONFIGS.values(), ids=BROKEN_CONFIGS.keys())
def test_a_broken_web_config_is_refused_without_quoting_secrets(
    tmp_path: Path, pki: Pki, text: str
) -> None:
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    config = tmp_path / "web.yml"
    config.write_text(text.format(hashed=hashed, password=PASSWORD))
    argv = [EXPORTER, "--role=realserver", f"--web.config.file={config}", "--log.level=debug"]
    done = subprocess.run(
        [*argv, "--web.listen-address=127.0.0.1:0"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 1
    assert "web.yml" in done.stderr  # the message still says which file is wrong
    assert secrets_in(done.stdout + done.stderr, hashed, pki) == []


# --- constant time, by inspection of the compare path ---------------------------------------

# Names that hold a credential, or something derived from one, on the compare path.
SECRET_NAMES = {
    "user", "password", "fingerprint", "remembered", "wanted", "name_digest", "hashed",
    "stored_hash", "credentials", "authorization",
}  # fmt: skip


def _names_in(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _is_none_test(node: ast.Compare) -> bool:
    operands = [node.left, *node.comparators]
    return all(isinstance(op, ast.Is | ast.IsNot) for op in node.ops) and any(
        isinstance(operand, ast.Constant) and operand.value is None for operand in operands
    )


def _compare_path() -> list[ast.FunctionDef]:
    source = textwrap.dedent(inspect.getsource(basic_auth.BasicAuthGate))
    gate = ast.parse(source).body[0]
    assert isinstance(gate, ast.ClassDef)
    return [f for f in gate.body if isinstance(f, ast.FunctionDef) and f.name != "__init__"]


def test_credentials_are_never_compared_with_ordinary_operators() -> None:
    """`==`, `in` and friends stop at the first differing byte; compare_digest does not."""
    offending = []
    for function in _compare_path():
        for node in ast.walk(function):
            if isinstance(node, ast.Compare) and _names_in(node) & SECRET_NAMES:
                if _is_none_test(node):
                    continue  # `x is None` looks at no byte of x
                offending.append(f"{function.name}: {ast.unparse(node)}")
    assert offending == []


def test_every_credential_comparison_is_compare_digest_or_bcrypt() -> None:
    calls = [
        ast.unparse(node.func)
        for function in _compare_path()
        for node in ast.walk(function)
        if isinstance(node, ast.Call) and _names_in(node) & SECRET_NAMES
    ]
    assert calls.count("hmac.compare_digest") == 2  # the user name, the remembered password
    assert calls.count("bcrypt.checkpw") == 1


def test_bcrypt_runs_whether_or_not_the_user_exists() -> None:
    """checkpw is not under a branch on `known`, so an unknown user costs the same."""
    admits = next(f for f in _compare_path() if f.name == "admits")
    for node in ast.walk(admits):
        if isinstance(node, ast.If) and "known" in _names_in(node.test):
            assert "checkpw" not in ast.unparse(node)
