"""Content-Encoding negotiation: whether a scraper takes its metrics gzipped."""

from __future__ import annotations


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether an Accept-Encoding header allows gzip (a q=0 entry refuses it)."""
    for entry in (accept_encoding or "").split(","):
        coding, _, parameters = entry.partition(";")
        if coding.strip().lower() == "gzip":
            return _quality(parameters) > 0
    return False


def _quality(parameters: str) -> float:
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value)
            except ValueError:
                return 1.0
    return 1.0
