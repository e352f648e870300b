"""Files and links under a fake root, as --sysctl-root reads them."""

from __future__ import annotations

from pathlib import Path


def put(root: Path, path: str, content: str | bytes = "") -> None:
    """Write *path* (as the host would name it) under *root*, making its directories."""
    file = root / path.lstrip("/")
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_bytes(content.encode() if isinstance(content, str) else content)


def link(root: Path, path: str, target: str) -> None:
    """A symlink at *path* under *root*, pointing at *target* exactly as given."""
    node = root / path.lstrip("/")
    node.parent.mkdir(parents=True, exist_ok=True)
    node.symlink_to(target)
