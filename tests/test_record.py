"""checks.record: NamedTuple's class syntax without typing, and a start-up kept lean."""

from __future__ import annotations

import subprocess
import sys

import pytest

from checks.record import Record


class Reading(Record):
    """A record with a default, a method, a property and a dunder of its own."""

    name: str
    value: int = 0

    def doubled(self) -> int:
        return self.value * 2

    @property
    def label(self) -> str:
        return f"{self.name}={self.value}"

    def __bool__(self) -> bool:
        return self.value != 0


def test_record_behaves_like_a_named_tuple() -> None:
    reading = Reading("eth0", 3)
    assert reading == ("eth0", 3)
    assert reading.doubled() == 6
    assert reading.label == "eth0=3"
    assert Reading("lo") == Reading("lo", 0)
    assert not Reading("lo")
    assert reading._replace(value=8) == Reading("eth0", 8)
    assert Reading.__doc__ is not None and Reading.__doc__.startswith("A record")
    assert hash(reading) == hash(Reading("eth0", 3))
    with pytest.raises(AttributeError):
        reading.value = 4  # type: ignore[misc]


def test_a_field_without_default_after_one_with_is_refused() -> None:
    with pytest.raises(TypeError, match="defaults must come last"):

        class Broken(Record):
            first: int = 1
            second: int  # type: ignore[misc]


def test_the_plugin_path_imports_neither_typing_nor_dataclasses() -> None:
    """Each costs 4-5 ms of every NRPE poll; the start-up target is 1.5x nagiosplugin's."""
    probe = (
        "import sys, checks.cli.nagios, checks.boot.view, checks.boot.reboot\n"
        "print(sorted(m for m in ('typing', 'dataclasses', 'inspect') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
