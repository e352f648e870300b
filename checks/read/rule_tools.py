"""Running the programs that list firewall rules, and reading `nft -j` output.

Shared by the ARP filter and NAT readers: each program is found in a fixed sbin/bin path
(NRPE's environment lacks the sbin directories), run without a shell, in the C locale, with
a timeout and a cap on what it may print. Nothing here writes anything.
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable, Sequence
from ipaddress import IPv4Address, IPv4Network, summarize_address_range

from ..record import TYPE_CHECKING, Record

if TYPE_CHECKING:
    from typing import Any, TypeVar

    NftObject = dict[str, Any]
    R = TypeVar("R")

TOOL_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
TOOL_TIMEOUT_S = 5.0
TOOL_OUTPUT_CAP = 32 << 20
_STDERR_CAP = 4096


class ToolError(Exception):
    """A rule-listing program is missing, failed, ran too long or printed too much."""


def run_tool(
    program: str,
    args: Sequence[str],
    timeout_s: float = TOOL_TIMEOUT_S,
    max_bytes: int = TOOL_OUTPUT_CAP,
) -> str:
    """Run *program* (found in TOOL_PATH) with *args*, no shell, LC_ALL=C; return its stdout.

    Raises ToolError naming the command and the reason when the program is missing, exits
    non-zero (with the first line of its stderr), takes more than *timeout_s* seconds, or
    prints more than *max_bytes* bytes. Never writes anything.
    """
    path = shutil.which(program, path=TOOL_PATH)
    if path is None:
        raise ToolError(f"{program} is not installed (looked in {TOOL_PATH})")
    command = " ".join([path, *args])
    try:
        process = subprocess.Popen(
            [path, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={"LC_ALL": "C", "PATH": TOOL_PATH},
        )
    except OSError as err:
        raise ToolError(f"cannot run {command}: {err.strerror}") from err
    with process:
        try:
            out, messages = _collect(process, timeout_s, max_bytes, command)
            code = process.wait(timeout=timeout_s)  # its output is closed: it ends now
        except subprocess.TimeoutExpired as err:
            raise ToolError(f"{command} did not finish within {timeout_s:g} s") from err
        finally:
            if process.poll() is None:
                process.kill()
    if code != 0:
        message = messages.decode("utf-8", "replace").strip().splitlines()
        first = message[0] if message else "no message"
        raise ToolError(f"{command} exited {code}: {first}")
    return out.decode("utf-8", "replace")


def _collect(
    process: subprocess.Popen[bytes], timeout_s: float, max_bytes: int, command: str
) -> tuple[bytes, bytes]:
    # A selector instead of communicate(): communicate() would hold any amount of output.
    assert process.stdout is not None and process.stderr is not None
    caps = {process.stdout.fileno(): max_bytes, process.stderr.fileno(): _STDERR_CAP}
    chunks: dict[int, list[bytes]] = {fd: [] for fd in caps}
    sizes = dict.fromkeys(caps, 0)
    with selectors.DefaultSelector() as selector:
        for fd in caps:
            selector.register(fd, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout_s
        while selector.get_map():
            left = deadline - time.monotonic()
            ready = selector.select(left) if left > 0 else []
            if not ready:
                raise ToolError(f"{command} did not finish within {timeout_s:g} s")
            for key, _events in ready:
                fd = int(key.fd)
                data = os.read(fd, 65536)
                if not data:
                    selector.unregister(fd)
                    continue
                sizes[fd] += len(data)
                if sizes[fd] > caps[fd]:
                    if fd == process.stdout.fileno():
                        raise ToolError(f"{command} printed more than {max_bytes} bytes")
                    continue  # stderr beyond its cap: only its start is kept
                chunks[fd].append(data)
    return b"".join(chunks[process.stdout.fileno()]), b"".join(chunks[process.stderr.fileno()])


class Unreadable(Record):
    """A rule source that could not be read, and why (not installed, no CAP_NET_ADMIN, ...)."""

    source: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"


def unreadable(source: str, error: ToolError | OSError) -> Unreadable:
    """The Unreadable of *source*, with the root hint when the reader lacks privilege."""
    reason = str(error) if isinstance(error, ToolError) else f"{error.filename}: {error.strerror}"
    if os.geteuid() != 0:
        reason += "; reading firewall rules needs CAP_NET_ADMIN: run as root"
    return Unreadable(source, reason)


def gather(
    source: str, read: Callable[[], list[R]], rules: list[R], problems: list[Unreadable]
) -> bool:
    """read()'s rules added to *rules*, or why *source* could not be read added to
    *problems* (a tool that failed, output that could not be understood); never raises."""
    try:
        rules.extend(read())
    except ToolError as err:
        problems.append(unreadable(source, err))
    except ValueError as err:
        problems.append(Unreadable(source, f"cannot understand its rules: {err}"))
    else:
        return True
    return False


class LegacyTable(Record):
    """A legacy x_tables table and how to list it. Listing one creates it, so the kernel's
    list of tables (*names_file*, e.g. /proc/self/net/arp_tables_names) is asked first."""

    names_file: str
    table: str | None  # None: any table of that module
    source: str  # what the rules are called when they cannot be read
    program: str
    args: tuple[str, ...]


def gather_legacy(
    legacy: LegacyTable,
    parse: Callable[[str, str], list[R]],
    rules: list[R],
    problems: list[Unreadable],
) -> None:
    """The legacy table's rules, parsed by parse(listing, source), added to *rules*; nothing
    when the kernel has no such table; why not added to *problems*. Never raises."""
    try:
        with open(legacy.names_file, encoding="ascii", errors="replace") as handle:
            tables = handle.read().split()
    except FileNotFoundError:
        return  # that x_tables module is not loaded: no legacy rules can exist
    except OSError as err:
        problems.append(unreadable(legacy.source, err))
        return
    if not tables or (legacy.table is not None and legacy.table not in tables):
        return

    def read() -> list[R]:
        return parse(run_tool(legacy.program, legacy.args), legacy.source)

    gather(legacy.source, read, rules, problems)


# --- nft -j list ruleset --------------------------------------------------------------------


def parse_nft_document(text: str) -> list[NftObject]:
    """The objects of `nft -j list ruleset` output; ValueError when it is not that."""
    document = json.loads(text)
    objects = document.get("nftables") if isinstance(document, dict) else None
    if not isinstance(objects, list):
        raise ValueError("no `nftables` list in `nft -j` output")
    return [item for item in objects if isinstance(item, dict)]


def tables_with_xt(ruleset: Iterable[NftObject]) -> set[tuple[str, str]]:
    """(family, table) of tables holding iptables-nft's `xt` expressions (arguments hidden)."""
    return {
        (rule["family"], rule["table"])
        for item in ruleset
        if (rule := item.get("rule")) and any("xt" in expr for expr in rule.get("expr", ()))
    }


def base_chains(ruleset: Iterable[NftObject], family: str) -> dict[tuple[str, str], NftObject]:
    """(table, chain) -> the chain object, for base chains (those with a hook) of *family*."""
    return {
        (chain["table"], chain["name"]): chain
        for item in ruleset
        if (chain := item.get("chain")) and chain.get("family") == family and "hook" in chain
    }


def nft_networks(right: object) -> tuple[IPv4Network, ...]:
    """The IPv4 networks an nft JSON match value names: an address, a prefix, a set."""
    if isinstance(right, str):
        return (IPv4Network(right, strict=False),)
    if isinstance(right, dict) and "prefix" in right:
        prefix = right["prefix"]
        return (IPv4Network(f"{prefix['addr']}/{prefix['len']}", strict=False),)
    if isinstance(right, dict) and "set" in right:
        return tuple(network for element in right["set"] for network in nft_networks(element))
    if isinstance(right, dict) and "range" in right:
        low, high = (IPv4Address(end) for end in right["range"])
        return tuple(summarize_address_range(low, high))
    raise ValueError(f"unexpected address match {right!r}")


def describe_nft(expression: NftObject) -> str:
    """A short nft-like text of one JSON expression, for the rules a finding names."""
    kind, body = next(iter(expression.items()))
    if kind == "match":
        op = "" if body.get("op") in ("==", "in") else f"{body.get('op')} "
        return f"{describe_nft_value(body.get('left'))} {op}{describe_nft_value(body.get('right'))}"
    if kind == "counter":
        return ""
    if kind == "mangle" and isinstance(body, dict):
        return f"{describe_nft_value(body.get('key'))} set {describe_nft_value(body.get('value'))}"
    if kind in ("dnat", "redirect") and isinstance(body, dict):
        port = f":{body['port']}" if "port" in body else ""
        return f"{kind} to {body.get('addr', '')}{port}"
    if body is None:
        return str(kind)
    return f"{kind} {describe_nft_value(body)}"


def describe_nft_value(value: object) -> str:
    """nft-like text of a JSON value: a payload, meta key, prefix, set or literal."""
    if isinstance(value, dict) and len(value) == 1:
        key, inner = next(iter(value.items()))
        if key == "payload" and isinstance(inner, dict):
            return f"{inner.get('protocol')} {inner.get('field')}"
        if key == "meta" and isinstance(inner, dict):
            return f"meta {inner.get('key')}"
        if key == "prefix" and isinstance(inner, dict):
            return f"{inner.get('addr')}/{inner.get('len')}"
        if key == "set" and isinstance(inner, list):
            return "{ " + ", ".join(describe_nft_value(element) for element in inner) + " }"
    if isinstance(value, (str, int)):
        return str(value)
    return json.dumps(value, separators=(",", ":"))
