"""Write the metrics once for node_exporter's textfile collector, atomically.

node_exporter may read the directory at any moment: it must see the old file or the new one,
never half of one. So the text goes to a temp file in the same directory (rename is atomic
only within one filesystem), is flushed to disk, and is renamed over the target. The temp
name starts with a dot and does not end in `.prom`, so the collector never reads it.

A SIGTERM or SIGINT while the file is written (a timer's stop, a Ctrl-C; fsync can take
seconds on a busy disk) removes the temp file before the process ends with 128+signum.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import tempfile
import threading
import time
from collections.abc import Iterator
from types import FrameType

# node_exporter usually runs as its own user, and this as root from a timer: world-readable.
FILE_MODE = 0o644
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
# For tests only: seconds to pause between writing and fsync, so a test can signal the
# process while its temp file exists (a slow disk, made reproducible). Unset in production.
PAUSE_BEFORE_FSYNC_ENV = "LVS_ARP_EXPORTER_TEST_PAUSE_BEFORE_FSYNC"


class TextfileError(Exception):
    """The file could not be written; the message names the path."""


class Interrupted(Exception):
    """A stop signal arrived while writing; the temp file is gone. Exit with exit_code."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name} while writing")
        self.exit_code = 128 + signum


def write_atomically(path: str, content: bytes) -> None:
    """Write *content* to *path* via a temp file and rename.

    Raises TextfileError (the path could not be written) or Interrupted (SIGTERM or
    SIGINT arrived); either way no temp file is left behind.
    """
    _refuse_to_replace(path)
    directory = os.path.dirname(os.path.abspath(path))
    prefix = f".{os.path.basename(path)}."
    with _stop_signals_raise():
        # Blocked across mkstemp, so a signal cannot land between the file's creation and
        # the moment its name is known; it is delivered at the unblock, inside the try.
        old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        try:
            handle, temp_path = tempfile.mkstemp(dir=directory, prefix=prefix, suffix=".tmp")
        except OSError as err:
            signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
            raise TextfileError(
                f"cannot create a temp file in {directory}: {err.strerror}"
            ) from err
        try:
            signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
            _write(handle, content)
            os.replace(temp_path, path)
        except OSError as err:
            _remove(temp_path)
            raise TextfileError(f"cannot write {path}: {err.strerror or err}") from err
        except Interrupted:
            _remove(temp_path)
            raise


def _refuse_to_replace(path: str) -> None:
    """The rename replaces whatever has the name: `--textfile /dev/null` turned the host's
    /dev/null into a regular file. Only a regular file (or nothing yet) is replaced."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as err:
        raise TextfileError(f"cannot write {path}: {err.strerror}") from err
    if not stat.S_ISREG(info.st_mode):
        kind = "a symbolic link" if stat.S_ISLNK(info.st_mode) else "not a regular file"
        raise TextfileError(
            f"{path} is {kind}; not replacing it: give the path of the .prom file in "
            "node_exporter's --collector.textfile.directory"
        )


def _write(handle: int, content: bytes) -> None:
    with os.fdopen(handle, "wb") as temp:
        temp.write(content)
        temp.flush()
        os.fchmod(temp.fileno(), FILE_MODE)  # mkstemp makes it 0600
        pause = os.environ.get(PAUSE_BEFORE_FSYNC_ENV)
        if pause:
            time.sleep(float(pause))
        os.fsync(temp.fileno())


def _remove(temp_path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(temp_path)


@contextlib.contextmanager
def _stop_signals_raise() -> Iterator[None]:
    """SIGTERM and SIGINT raise Interrupted in the main thread for the block's duration.

    Python runs the handler between bytecodes, so a signal during fsync takes effect when
    fsync returns, inside the block. Elsewhere (not the main thread) signals stay as they are.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise Interrupted(signum)

    previous = {number: signal.signal(number, interrupt) for number in _STOP_SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
