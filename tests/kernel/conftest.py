"""Fixtures for the real-kernel tests: they need root and network namespaces, and never skip."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from .netns import NetnsError, Topology, lvs_topology, run, unique_netns_names


@pytest.fixture(scope="session")
def netns_support() -> None:
    """Fail loudly (CI is root with namespaces): a skipped kernel test proves nothing."""
    if os.geteuid() != 0:
        pytest.fail(
            "kernel tests need root: they create network namespaces and veth pairs; "
            "run pytest as root (CI does)",
            pytrace=False,
        )
    probe_name, _ = unique_netns_names()
    try:
        run(["ip", "netns", "add", probe_name])
        run(["ip", "netns", "del", probe_name])
    except NetnsError as err:
        pytest.fail(
            f"kernel tests need network namespaces, and `ip netns add` failed: {err}", pytrace=False
        )


@pytest.fixture
def topology(netns_support: None) -> Iterator[Topology]:
    with lvs_topology() as wired:
        yield wired
