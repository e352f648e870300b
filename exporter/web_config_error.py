"""The one way a web config file is refused, and the sentence shape its messages share."""

from __future__ import annotations

from pathlib import Path


class WebConfigError(Exception):
    """The web configuration cannot be used; the message names the file and the key."""


def config_problem(source: Path, key: str, problem: str) -> WebConfigError:
    return WebConfigError(f"web config file {source}: {key} {problem}")
