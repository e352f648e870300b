"""The registry as bytes: negotiated for HTTP scrapes, plain text for node_exporter files."""

from __future__ import annotations

from collections.abc import Callable
from typing import Optional

from prometheus_client.exposition import choose_encoder, generate_latest
from prometheus_client.registry import CollectorRegistry

Render = Callable[[Optional[str]], tuple[bytes, str]]


def renderer(registry: CollectorRegistry) -> Render:
    """render(accept_header) -> (body, content_type), as the HTTP server expects it."""

    def render(accept_header: str | None) -> tuple[bytes, str]:
        encoder, content_type = choose_encoder(accept_header or "")
        return encoder(registry), content_type

    return render


def text_format(registry: CollectorRegistry) -> bytes:
    """Text format 0.0.4: what node_exporter's textfile collector parses."""
    return generate_latest(registry)
