"""Write the metrics once for node_exporter's textfile collector, atomically.

node_exporter may read the directory at any moment: it must see the old file or the new one,
never half of one. So the text goes to a temp file in the same directory (rename is atomic
only within one filesystem), is flushed to disk, and is renamed over the target. The temp
name starts with a dot and does not end in `.prom`, so the collector never reads it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile

# node_exporter usually runs as its own user, and this as root from a timer: world-readable.
FILE_MODE = 0o644


class TextfileError(Exception):
    """The file could not be written; the message names the path."""


def write_atomically(path: str, content: bytes) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    prefix = f".{os.path.basename(path)}."
    try:
        handle, temp_path = tempfile.mkstemp(dir=directory, prefix=prefix, suffix=".tmp")
    except OSError as err:
        raise TextfileError(f"cannot create a temp file in {directory}: {err.strerror}") from err
    try:
        with os.fdopen(handle, "wb") as temp:
            temp.write(content)
            temp.flush()
            os.fchmod(temp.fileno(), FILE_MODE)  # mkstemp makes it 0600
            os.fsync(temp.fileno())
        os.replace(temp_path, path)
    except OSError as err:
        with contextlib.suppress(OSError):
            os.unlink(temp_path)
        raise TextfileError(f"cannot write {path}: {err.strerror or err}") from err
