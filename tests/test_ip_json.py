"""Addresses from saved `ip -json address` output: interface, prefix and scope."""

from __future__ import annotations

import json
import re
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest
from fake_host import FakeAddress, FakeHost

from checks.errors import ReadError
from checks.model import Address
from checks.read.ip_json import read_ip_json


def saved(tmp_path: Path, links: Any) -> str:
    path = tmp_path / "ip-address.json"
    path.write_text(json.dumps(links))
    return str(path)


def link(*addr_info: dict[str, Any], ifname: str = "lo") -> dict[str, Any]:
    return {"ifindex": 1, "ifname": ifname, "flags": ["LOOPBACK", "UP"], "addr_info": [*addr_info]}


def inet(local: str = "10.0.0.100", prefixlen: Any = 32, **extra: Any) -> dict[str, Any]:
    return {"family": "inet", "local": local, "prefixlen": prefixlen, **extra}


def test_fake_host_output_reads_back(tmp_path: Path) -> None:
    host = (
        FakeHost().loopback(FakeAddress("10.0.0.100/32", "host")).interface("eth0", "10.0.0.10/24")
    )
    assert read_ip_json(saved(tmp_path, host.ip_json_links())) == host.state().addresses


@pytest.mark.parametrize(
    ("scope", "number"),
    [
        ("global", 0),
        ("universe", 0),
        ("site", 200),
        ("link", 253),
        ("host", 254),
        ("nowhere", 255),
        (254, 254),
    ],
    ids=["global", "universe", "site", "link", "host", "nowhere", "numeric"],
)
def test_scope_by_name(tmp_path: Path, scope: str | int, number: int) -> None:
    (address,) = read_ip_json(saved(tmp_path, [link(inet(scope=scope))]))
    assert address.scope == number


def test_missing_scope_is_global(tmp_path: Path) -> None:
    (address,) = read_ip_json(saved(tmp_path, [link(inet())]))
    assert address.scope == 0


def test_interface_is_the_link_not_the_label(tmp_path: Path) -> None:
    links = [link(inet(prefixlen=32, label="lo:vip"))]
    assert read_ip_json(saved(tmp_path, links)) == (
        Address("lo", IPv4Address("10.0.0.100"), 32, 0),
    )


def test_only_inet_entries_are_read(tmp_path: Path) -> None:
    links = [
        link(
            {"family": "inet6", "local": "::1", "prefixlen": 128, "scope": "host"},
            inet("127.0.0.1", 8, scope="host"),
        ),
        {"ifindex": 2, "ifname": "ifb0", "flags": ["BROADCAST", "NOARP"], "addr_info": []},
        {"ifindex": 3, "ifname": "sit0", "flags": ["NOARP"]},
        link({"family": "inet6", "local": "fe80::1", "prefixlen": 64}, ifname="eth0"),
    ]
    assert read_ip_json(saved(tmp_path, links)) == (
        Address("lo", IPv4Address("127.0.0.1"), 8, 254),
    )


BROKEN = {
    "not-json": "[{",
    "empty-file": "",
    "not-a-list": '{"ifname": "lo"}',
    "no-ifname": json.dumps([{"addr_info": [inet()]}]),
    "no-local": json.dumps([link({"family": "inet", "prefixlen": 32})]),
    "bad-address": json.dumps([link(inet("10.0.0.300"))]),
    "ipv6-as-inet": json.dumps([link(inet("::1"))]),
    "bad-prefixlen": json.dumps([link(inet(prefixlen="wide"))]),
    "prefixlen-over-32": json.dumps([link(inet(prefixlen=99))]),
    "unknown-scope": json.dumps([link(inet(scope="galaxy"))]),
    "link-not-an-object": "[1]",
    "addr-not-an-object": json.dumps([link("10.0.0.100")]),  # type: ignore[arg-type]
}


@pytest.mark.parametrize("text", BROKEN.values(), ids=BROKEN)
def test_malformed_output_is_a_read_error_naming_the_file(tmp_path: Path, text: str) -> None:
    path = tmp_path / "ip-address.json"
    path.write_text(text)
    with pytest.raises(ReadError, match=re.escape(str(path))):
        read_ip_json(str(path))


def test_missing_file_is_a_read_error(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="No such file"):
        read_ip_json(str(tmp_path / "absent.json"))


# Documents that once gave "internal error: OverflowError/RecursionError" without naming
# the file (issue 13, kind 8): each is a ReadError naming the file and the problem.
HOSTILE = {
    "deep-nesting": ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    "deep-in-an-entry": (
        json.dumps([link(inet())])[:-1] + ',{"ifname":"x","addr_info":' + "[" * 50_000,
        "nested too deeply|Expecting",
    ),
    "huge-integer": ('[{"ifname":"lo","addr_info":[{"prefixlen":' + "9" * 5000 + "}]}]", "digits"),
    "infinite-scope": (json.dumps([link(inet(scope=float("inf")))]), "scope inf is not"),
    "nan-prefixlen": (json.dumps([link(inet(prefixlen=float("nan")))]), "prefixlen nan is not"),
    "huge-scope": (json.dumps([link(inet(scope=10**300))]), "scope 1000.* is not"),
    "float-prefixlen": (json.dumps([link(inet(prefixlen=24.0))]), "prefixlen 24.0 is not"),
    "bool-prefixlen": (json.dumps([link(inet(prefixlen=True))]), "prefixlen True is not"),
    "negative-prefixlen": (json.dumps([link(inet(prefixlen=-1))]), "prefixlen -1 is not 0 to 32"),
    "prefixlen-33": (json.dumps([link(inet(prefixlen="33"))]), "prefixlen 33 is not 0 to 32"),
    "ipv6-local": (json.dumps([link(inet("2001:db8::1"))]), "'2001:db8::1' is not an IPv4"),
    "int-local": (json.dumps([link(inet(167772260))]), "local is a int"),  # type: ignore[arg-type]
    "list-ifname": (json.dumps([{"ifname": ["lo"], "addr_info": []}]), "ifname is a list"),
    "empty-ifname": (json.dumps([link(inet(), ifname="")]), "ifname is a str, not"),
    "addr-info-object": (json.dumps([{"ifname": "lo", "addr_info": {}}]), "addr_info is a dict"),
    "scope-object": (json.dumps([link(inet(scope={"a": 1}))]), "scope {'a': 1} is not"),
}


@pytest.mark.parametrize(("text", "problem"), HOSTILE.values(), ids=HOSTILE)
def test_hostile_document_is_a_read_error_naming_file_and_problem(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = tmp_path / "ip-address.json"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(ReadError) as caught:
        read_ip_json(str(path))
    message = str(caught.value)
    assert str(path) in message
    assert re.search(problem, message), message


def test_a_decimal_string_prefixlen_is_still_read(tmp_path: Path) -> None:
    (address,) = read_ip_json(saved(tmp_path, [link(inet(prefixlen="24"))]))
    assert address.prefixlen == 24
