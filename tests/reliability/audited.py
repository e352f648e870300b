"""Run check_lvs_arp or lvs-arp-exporter in this process, under an audit hook (PEP 578).

    python -B audited.py plugin|exporter|selftest ARGS...

Every file opened for writing, every file-system change and every process started is
reported on stderr as an `AUDIT-VIOLATION` line the moment it happens, whatever the code
under test then does with the exception it may catch. The only writes allowed are the
exporter's own --textfile: a temp file beside the target, made, written, chmod'ed and
renamed over it. At exit an `AUDIT-SUMMARY` line counts what was opened for reading, so a
hook that saw nothing cannot pass for a clean run. Run with -B: Python's own .pyc writes
are not the check's.
"""

from __future__ import annotations

import atexit
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
WRITE_MODES = frozenset("wax+")
# File-system changes and ways around the hook (a child process is not audited).
MUTATIONS = frozenset(
    {
        "os.chflags", "os.chmod", "os.chown", "os.lchflags", "os.lchmod", "os.lchown",
        "os.link", "os.mkdir", "os.remove", "os.rename", "os.rmdir", "os.symlink",
        "os.truncate", "os.utime", "shutil.chown", "shutil.copyfile", "shutil.copymode",
        "shutil.copystat", "shutil.copytree", "shutil.make_archive", "shutil.move",
        "shutil.rmtree", "shutil.unpack_archive", "tempfile.mkdtemp", "tempfile.mkstemp",
        "os.exec", "os.fork", "os.forkpty", "os.posix_spawn", "os.spawn", "os.system",
        "subprocess.Popen", "ctypes.dlopen", "os.startfile",
    }
)  # fmt: skip


class Auditor:
    def __init__(self, textfile: str | None) -> None:
        self.textfile = os.path.abspath(textfile) if textfile else None
        self.reads = 0
        self.conf_reads = 0  # .../sys/net/ipv4/conf/* and .../class/net/*: the host itself
        self.textfile_steps = 0  # the allowed writes, counted so the exception is seen used
        self.violations = 0
        self._busy = False  # the hook's own os calls raise events too

    def __call__(self, event: str, args: tuple[Any, ...]) -> None:
        if self._busy or (event != "open" and event not in MUTATIONS):
            return
        self._busy = True
        try:
            if event == "open":
                self._open(*args[:3])
            elif self._allowed(event, args):
                self.textfile_steps += 1
            else:
                self._report(event, args)
        finally:
            self._busy = False

    def _open(self, path: Any, mode: Any, flags: Any) -> None:
        writing = bool(WRITE_MODES & set(mode or "")) or bool((flags or 0) & WRITE_FLAGS)
        if not writing:
            self.reads += 1
            if any(part in str(path) for part in ("/sys/net/ipv4/conf/", "/class/net/")):
                self.conf_reads += 1
        elif self._is_temp(path):
            self.textfile_steps += 1
        else:
            self._report("open", (path, mode, flags))

    def _allowed(self, event: str, args: tuple[Any, ...]) -> bool:
        if event in ("tempfile.mkstemp", "os.chmod", "os.remove"):
            return self._is_temp(args[0])
        if event == "os.rename":
            return self._is_temp(args[0]) and os.path.abspath(args[1]) == self.textfile
        return False

    def _is_temp(self, path: Any) -> bool:
        """The textfile writer's temp file: `.<name>.XXXX.tmp` in the target's directory."""
        if self.textfile is None:
            return False
        if isinstance(path, int):  # fdopen, fchmod: name the file behind the descriptor
            path = os.readlink(f"/proc/self/fd/{path}")
        directory, name = os.path.split(os.path.abspath(os.fsdecode(path)))
        prefix = f".{os.path.basename(self.textfile)}."
        return (
            directory == os.path.dirname(self.textfile)
            and name.startswith(prefix)
            and name.endswith(".tmp")
        )

    def _report(self, event: str, args: tuple[Any, ...]) -> None:
        self.violations += 1
        # os.write: print() and logging could be buffered, redirected or swallowed.
        os.write(2, f"AUDIT-VIOLATION {event} {args!r}\n".encode(errors="backslashreplace"))

    def summary(self) -> None:
        counts = {
            "reads": self.reads,
            "conf_reads": self.conf_reads,
            "textfile_steps": self.textfile_steps,
            "violations": self.violations,
        }
        fields = " ".join(f"{name}={count}" for name, count in counts.items())
        os.write(2, f"AUDIT-SUMMARY {fields}\n".encode())


def _textfile_argument(argv: Sequence[str]) -> str | None:
    for n, arg in enumerate(argv):
        if arg.startswith("--textfile="):
            return arg.split("=", 1)[1]
        if arg == "--textfile" and n + 1 < len(argv):
            return argv[n + 1]
    return None


def _selftest() -> None:
    """Writes on purpose: the test proves the hook reports what it must."""
    with open(os.devnull, "w") as sink:
        sink.write("x")


def _entry_point(kind: str) -> Callable[[], Any]:
    # Imported after the hook is in place, so that imports are audited too.
    if kind == "plugin":
        from checks.cli.nagios import main as plugin_main

        return plugin_main
    if kind == "exporter":
        from exporter.cli import main as exporter_main

        return exporter_main
    return _selftest


def main() -> None:
    kind, args = sys.argv[1], sys.argv[2:]
    auditor = Auditor(_textfile_argument(args))
    sys.addaudithook(auditor)
    atexit.register(auditor.summary)
    entry = _entry_point(kind)
    sys.argv = [kind, *args]
    sys.exit(entry())


if __name__ == "__main__":
    main()
