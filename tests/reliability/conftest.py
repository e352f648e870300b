"""Fixtures for the reliability tests: real namespaces fail (never skip) where unavailable."""

from __future__ import annotations

import pytest

from .node_netns import netns_available


@pytest.fixture(scope="session")
def netns_support() -> None:
    """A skipped real-kernel test proves nothing; CI runs as root with namespaces."""
    problem = netns_available()
    if problem is not None:
        pytest.fail(f"reliability tests on a real kernel: {problem}", pytrace=False)
