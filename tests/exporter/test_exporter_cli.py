"""lvs-arp-exporter as a user runs it: a subprocess, its exit code, its files, its HTTP answers."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

import bcrypt
import pytest
from daemon_processes import exporter_command, running_exporter
from fake_host import FakeHost, FakeTree
from prometheus_client.parser import text_string_to_metric_families

from checks import __version__
from exporter.cli_args import DEFAULT_PORT, build_parser, prometheus_duration
from exporter.textfile import PAUSE_BEFORE_FSYNC_ENV

if TYPE_CHECKING:
    from conftest import Pki

VIP = "192.0.2.100"


def leaking_tree(tmp_path: Path) -> FakeTree:
    return FakeHost().loopback(f"{VIP}/32").interface("eth0", "192.0.2.10/24").write(tmp_path)


def run_exporter(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [exporter_command(), *args], capture_output=True, text=True, timeout=60, check=False
    )


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_textfile_is_written_world_readable_and_nothing_else_is_left(tmp_path: Path) -> None:
    tree = leaking_tree(tmp_path / "host")
    out_dir = tmp_path / "textfiles"
    out_dir.mkdir()
    target = out_dir / "lvs_arp.prom"
    done = run_exporter("--role=realserver", *tree.plugin_args(), f"--textfile={target}")
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert os.listdir(out_dir) == ["lvs_arp.prom"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    found = samples(target.read_text())
    lan_ignore = (("interface", "eth0"), ("parameter", "arp_ignore"))
    assert found[("lvs_arp_misconfigured", lan_ignore)] == 1
    assert found[("lvs_arp_scrape_success", ())] == 1


def test_textfile_replaces_the_old_file(tmp_path: Path) -> None:
    tree = leaking_tree(tmp_path / "host")
    target = tmp_path / "lvs_arp.prom"
    target.write_text("stale\n")
    assert (
        run_exporter("--role=realserver", *tree.plugin_args(), f"--textfile={target}").returncode
        == 0
    )
    assert "lvs_arp_scrape_success 1" in target.read_text()


def test_a_failed_read_still_writes_the_file_saying_so(tmp_path: Path) -> None:
    target = tmp_path / "lvs_arp.prom"
    missing = tmp_path / "no-such-root"
    args = [f"--proc-root={missing}", f"--sys-root={missing}", f"--ip-json={missing}.json"]
    done = run_exporter("--role=realserver", *args, f"--textfile={target}")
    assert done.returncode == 0
    assert "lvs_arp_scrape_success 0" in target.read_text()
    assert 'lvs_arp_scrape_errors_total{reason="read"} 1' in target.read_text()
    assert "level=error" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unwritable_textfile_exits_1_with_one_log_line(tmp_path: Path) -> None:
    tree = leaking_tree(tmp_path / "host")
    target = tmp_path / "missing-dir" / "lvs_arp.prom"
    done = run_exporter("--role=realserver", *tree.plugin_args(), f"--textfile={target}")
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert "level=error" in line and "missing-dir" in line


@pytest.mark.parametrize(
    ("flag", "message"),
    [("--vip=192.0.2.300", "not an IPv4 address"), ("--exclude-interface=(", "not a valid regex")],
)
def test_bad_settings_are_refused_at_start(tmp_path: Path, flag: str, message: str) -> None:
    done = run_exporter("--role=realserver", flag, f"--textfile={tmp_path / 'x.prom'}")
    assert done.returncode == 1
    assert message in done.stderr
    assert not (tmp_path / "x.prom").exists()


def test_usage_errors_exit_2() -> None:
    assert run_exporter("--role=balancer").returncode == 2
    assert run_exporter("--role=realserver", "--scrape.timeout=5").returncode == 2


def test_version() -> None:
    done = run_exporter("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"lvs-arp-exporter {__version__}"


def test_help_names_the_prometheus_style_flags() -> None:
    text = build_parser().format_help()
    for flag in ("--web.listen-address", "--web.telemetry-path", "--web.config.file",
                 "--log.level", "--scrape.timeout", "--textfile", "--standby-ok"):  # fmt: skip
        assert flag in text
    assert f":{DEFAULT_PORT}" in text


@pytest.mark.parametrize(
    ("text", "seconds"), [("5s", 5), ("500ms", 0.5), ("1m30s", 90), ("2h", 7200)]
)
def test_scrape_timeout_takes_prometheus_durations(text: str, seconds: float) -> None:
    assert prometheus_duration(text) == seconds


def test_json_logs(tmp_path: Path) -> None:
    done = run_exporter(
        "--role=realserver", "--log.format=json", "--log.level=debug",
        f"--proc-root={tmp_path}", f"--textfile={tmp_path / 'x.prom'}",
    )  # fmt: skip
    records = [json.loads(line) for line in done.stderr.splitlines()]
    assert {"ts", "caller", "level", "msg"} <= set(records[0])
    assert any(r["level"] == "error" for r in records)


def test_serves_landing_page_and_metrics_on_its_telemetry_path(tmp_path: Path) -> None:
    tree = leaking_tree(tmp_path / "host")
    args = ["--role=realserver", *tree.plugin_args(), "--web.telemetry-path=/arp-metrics"]
    with running_exporter(args, tmp_path / "exporter.log") as exporter:
        landing = exporter.get("/").decode()
        assert 'href="/arp-metrics"' in landing
        found = samples(exporter.get("/arp-metrics").decode())
        assert found[("lvs_arp_scrape_success", ())] == 1
        assert found[("lvs_arp_role_info", (("role", "realserver"),))] == 1
        with pytest.raises(urllib.error.HTTPError) as missing:
            exporter.get("/metrics")
        assert missing.value.code == 404


def test_web_config_file_turns_on_basic_auth(tmp_path: Path) -> None:
    tree = leaking_tree(tmp_path / "host")
    hashed = bcrypt.hashpw(b"s3cret", bcrypt.gensalt(4)).decode()
    config = tmp_path / "web.yml"
    config.write_text(f"basic_auth_users:\n  prometheus: {hashed}\n")
    args = ["--role=realserver", *tree.plugin_args(), f"--web.config.file={config}"]
    with running_exporter(args, tmp_path / "exporter.log") as exporter:
        with pytest.raises(urllib.error.HTTPError) as refused:
            exporter.get()
        assert refused.value.code == 401
        request = urllib.request.Request(exporter.url())
        request.add_header("Authorization", "Basic cHJvbWV0aGV1czpzM2NyZXQ=")
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(request, timeout=10) as answer:
            assert b"lvs_arp_scrape_success 1" in answer.read()


def test_a_bad_web_config_file_exits_1(tmp_path: Path) -> None:
    config = tmp_path / "web.yml"
    config.write_text("no_such_key: 1\n")
    done = run_exporter("--role=realserver", f"--web.config.file={config}",
                        "--web.listen-address=127.0.0.1:0")  # fmt: skip
    assert done.returncode == 1
    assert "web.yml" in done.stderr


# --- refused at start, in one line (issue 13, kind 5) ----------------------------------------


@pytest.mark.parametrize("duration", ["0s", "0ms", "3000000h", "61m", "2h"])
def test_scrape_timeouts_that_cannot_be_armed_are_usage_errors(duration: str) -> None:
    done = run_exporter("--role=realserver", f"--scrape.timeout={duration}")
    assert done.returncode == 2
    [error] = [line for line in done.stderr.splitlines() if "error:" in line]
    assert "--scrape.timeout" in error
    assert "Traceback" not in done.stderr


def test_the_longest_scrape_timeout_is_an_hour() -> None:
    assert build_parser().parse_args(["--role=realserver", "--scrape.timeout=1h"]).scrape_timeout
    assert build_parser().parse_args(["--role=realserver", "--scrape.timeout=60m"])


BAD_WEB_CONFIGS = {
    "header with CRLF": 'http_server_config:\n  headers:\n    X-XSS-Protection: "0\\r\\nX: y"\n',
    "bcrypt cost 15": "basic_auth_users:\n  alice: '{cost15}'\n",
    "bcrypt invalid salt": "basic_auth_users:\n  alice: '{bad_salt}'\n",
    "number as a key": "basic_auth_users:\n  1: '{hashed}'\n",
    "list as a key": "http_server_config:\n  headers:\n    ? [a]\n    : b\n",
}


@pytest.mark.parametrize("text", BAD_WEB_CONFIGS.values(), ids=BAD_WEB_CONFIGS.keys())
def test_a_web_config_broken_at_use_is_refused_at_start_in_one_line(
    tmp_path: Path, text: str
) -> None:
    hashed = bcrypt.hashpw(b"s3cret", bcrypt.gensalt(4)).decode()
    config = tmp_path / "web.yml"
    config.write_text(
        text.format(
            hashed=hashed,
            cost15=hashed[:4] + "15" + hashed[6:],
            bad_salt=hashed[:28] + "z" + hashed[29:],
        )
    )
    done = run_exporter("--role=realserver", f"--web.config.file={config}",
                        "--web.listen-address=127.0.0.1:0")  # fmt: skip
    assert done.returncode == 1
    error_lines = [line for line in done.stderr.splitlines() if "level=error" in line]
    assert len(error_lines) == 1 and "web.yml" in error_lines[0], done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("special", ["fifo", "/dev/zero"])
def test_a_web_config_that_is_no_regular_file_is_refused_at_once(
    tmp_path: Path, special: str
) -> None:
    config = tmp_path / "web.yml"
    if special == "fifo":
        os.mkfifo(config)
    else:
        config = Path(special)
    done = run_exporter("--role=realserver", f"--web.config.file={config}",
                        "--web.listen-address=127.0.0.1:0")  # fmt: skip
    assert done.returncode == 1
    assert f"{config} is not a regular file" in done.stderr


def test_unsatisfiable_tls_settings_are_refused_at_start(tmp_path: Path, pki: Pki) -> None:
    config = tmp_path / "web.yml"
    config.write_text(
        f"tls_server_config:\n  cert_file: {pki.server_cert}\n  key_file: {pki.server_key}\n"
        "  max_version: TLS12\n  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]\n"
    )
    done = run_exporter("--role=realserver", f"--web.config.file={config}",
                        "--web.listen-address=127.0.0.1:0")  # fmt: skip
    assert done.returncode == 1
    assert "allows no TLS handshake" in done.stderr


# --- a stop signal while the textfile is written (issue 13, kind 8) --------------------------


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_while_writing_leaves_no_temp_file(
    tmp_path: Path, stop: signal.Signals
) -> None:
    tree = leaking_tree(tmp_path / "host")
    out_dir = tmp_path / "textfiles"
    out_dir.mkdir()
    target = out_dir / "lvs_arp.prom"
    # The documented test hook pauses between write and fsync: a slow disk, on demand.
    environment = {**os.environ, PAUSE_BEFORE_FSYNC_ENV: "30"}
    command = [exporter_command(), "--role=realserver", *tree.plugin_args()]
    process = subprocess.Popen(
        [*command, f"--textfile={target}"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not os.listdir(out_dir) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert os.listdir(out_dir), "the exporter never started writing"
        process.send_signal(stop)
        _, stderr = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 128 + stop
    assert os.listdir(out_dir) == []
    assert "Traceback" not in stderr
    [line] = stderr.splitlines()
    assert f"stopped by {stop.name}" in line
