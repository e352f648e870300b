"""Shared fixtures: every policy test runs on a HostState built in Python and read from files."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from fake_host import FakeHost, StateOf

from checks.model import HostState


@pytest.fixture(params=["python", "fake_tree"])
def state_of(request: pytest.FixtureRequest, tmp_path: Path) -> StateOf:
    """The HostState of a FakeHost: built directly, or written out and read back by proc_reader."""
    if request.param == "python":
        return FakeHost.state

    def read_back(host: FakeHost) -> HostState:
        return host.write(Path(tempfile.mkdtemp(dir=tmp_path))).read()

    return read_back
