"""Content-Encoding negotiation: whether a scraper takes its metrics gzipped."""

from __future__ import annotations

import gzip

# zlib's default, not 9: at 2,000 interfaces 5.6 ms a scrape against 12.5 ms, for nearly
# the same size.
GZIP_LEVEL = 6


def gzip_body(body: bytes) -> bytes:
    return gzip.compress(body, compresslevel=GZIP_LEVEL)


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
