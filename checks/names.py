"""Interface names as a person or a label may show them: one line, unambiguous.

The kernel takes any bytes but '/', ':', white space and NUL as an interface name
(`dev_valid_name()` in net/core/dev.c), and the readers hand bytes that are not UTF-8 on
as surrogate escapes. Offline trees can hold anything. Every face shows names through
printable(), so a name never splits a line and two names never print alike.
"""

from __future__ import annotations

_SURROGATES = range(0xDC80, 0xDD00)  # os.fsdecode's escapes for bytes that are not UTF-8


def printable(name: str) -> str:
    """*name* with `\\` doubled, control characters and raw bytes as `\\xNN`.

    Injective: the byte 0xff prints `\\xff`, the four characters `\\xff` print `\\\\xff`.
    """
    if name.isprintable() and "\\" not in name:
        return name  # the usual case, asked once per name shown
    out = []
    for char in name:
        code = ord(char)
        if code in _SURROGATES:
            out.append(f"\\x{code - 0xDC00:02x}")
        elif char == "\\":
            out.append("\\\\")
        elif not char.isprintable():
            out.append(_escape(code))
        else:
            out.append(char)
    return "".join(out)


def _escape(code: int) -> str:
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
