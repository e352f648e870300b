"""Reading the web config file: strict YAML, and sections whose every message names its key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .web_config_error import WebConfigError, config_problem

# exporter-toolkit keys refused by name, so the message says why rather than "not a known key".
_REFUSED_KEYS = {
    "rate_limit": "is not implemented by lvs-arp-exporter; rate-limit in a reverse proxy",
    "tls_server_config.cert": "(inline PEM) is not supported; put it in a file for cert_file",
    "tls_server_config.key": "(inline PEM) is not supported; put it in a file for key_file",
    "tls_server_config.client_ca": (
        "(inline PEM) is not supported; put it in a file for client_ca_file"
    ),
    "tls_server_config.client_allowed_sans": (
        "is not implemented by lvs-arp-exporter; serving without it would admit every "
        "certificate the CA signed, so remove it only if that is acceptable"
    ),
}


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice, as Go's yaml.UnmarshalStrict does."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is given twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_document(source: Path) -> Mapping[Any, Any]:
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise WebConfigError(f"cannot read web config file {source}: {err}") from err
    try:
        document = yaml.load(text, Loader=_StrictLoader)
    except yaml.YAMLError as err:
        raise WebConfigError(
            f"web config file {source} is not valid YAML: {_yaml_problem(err)}"
        ) from err
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise WebConfigError(f"web config file {source} must hold a YAML mapping at the top")
    return document


def _yaml_problem(err: yaml.YAMLError) -> str:
    """What is wrong and where, without the line PyYAML quotes: it may hold a secret.

    The line the parser stopped at is often a basic_auth_users entry, and its hash (or a
    password pasted in by mistake) must not reach the log.
    """
    if isinstance(err, yaml.MarkedYAMLError) and err.problem_mark is not None:
        where = f"line {err.problem_mark.line + 1}, column {err.problem_mark.column + 1}"
        context = f"{err.context}: " if err.context else ""
        return f"{context}{err.problem} at {where}"
    return type(err).__name__


@dataclass(frozen=True)
class ConfigSection:
    """One mapping of the file, and where it sits, so that every message names its key."""

    source: Path
    prefix: str
    entries: Mapping[Any, Any]

    def problem(self, key: object, problem: str) -> WebConfigError:
        return config_problem(self.source, f"{self.prefix}{key}", problem)

    def check_keys(self, known: frozenset[str]) -> None:
        for key in self.entries:
            refusal = _REFUSED_KEYS.get(f"{self.prefix}{key}")
            if refusal is not None:
                raise self.problem(key, refusal)
            if key not in known:
                raise self.problem(key, f"is not a known key (known: {', '.join(sorted(known))})")

    def section(self, key: str) -> ConfigSection:
        """A nested mapping; absent or empty (null) reads as an empty mapping."""
        value = self.entries.get(key)
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise self.problem(key, "must be a mapping")
        return ConfigSection(self.source, f"{self.prefix}{key}.", value)

    def text(self, key: str) -> str | None:
        """A string setting; empty counts as unset, as in exporter-toolkit."""
        value = self.entries.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise self.problem(key, f"must be a string, not {type(value).__name__}")
        return value

    def texts(self, key: str) -> list[str]:
        value = self.entries.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.problem(key, "must be a list of strings")
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.entries.get(key, default)
        if not isinstance(value, bool):
            raise self.problem(key, "must be true or false")
        return value

    def file(self, key: str) -> Path | None:
        """Relative names are relative to the config file's folder, as in exporter-toolkit."""
        name = self.text(key)
        if name is None:
            return None
        path = self.source.parent / name
        if not path.is_file():
            raise self.problem(key, f"names {path}, which is not a file")
        return path
