"""Parse integers the way the kernel's proc_dointvec does (ARP-SEMANTICS §7)."""

import re

INT_MIN = -(2**31)
INT_MAX = 2**31 - 1

# proc_skip_spaces() skips the kernel's isspace(); the number then ends at one of
# proc_wspace_sep's characters, and a one-int sysctl ignores whatever follows it.
_KERNEL_SPACE = " \t\n\v\f\r"
_NUMBER_END = re.compile("[ \t\n]")


def parse_kernel_int(text: str) -> int:
    """Return the int the kernel would store for *text*, or raise ValueError.

    proc_dointvec skips white space, takes an optional '-', then base-0 digits
    (0x.. hex, 0.. octal) up to a space, tab or newline, after which the rest is
    ignored ("1 2" stores 1); '+', fractions, words and a number glued to anything
    else ("1\r") are refused, and so is anything outside a signed 32-bit int.
    """
    body = text.lstrip(_KERNEL_SPACE)
    end = _NUMBER_END.search(body)
    if end is not None:
        body = body[: end.start()]
    negative = body.startswith("-")
    digits = body[1:] if negative else body
    if not digits or not digits[0].isdigit():
        raise ValueError(f"not an integer: {text!r}")
    value = _parse_unsigned_base0(digits, text)
    if negative:
        value = -value
    if not INT_MIN <= value <= INT_MAX:
        raise ValueError(f"out of the kernel's int range: {text!r}")
    return value


def _parse_unsigned_base0(digits: str, original: str) -> int:
    lowered = digits.lower()
    if lowered.startswith("0x"):
        base, body = 16, lowered[2:]
    elif len(lowered) > 1 and lowered.startswith("0"):
        base, body = 8, lowered[1:]
    else:
        base, body = 10, lowered
    try:
        # int() alone would accept '_' separators and a second sign.
        if not body or not all(ch in "0123456789abcdef"[:base] for ch in body):
            raise ValueError(original)
        return int(body, base)
    except ValueError as err:
        raise ValueError(f"not an integer: {original!r}") from err
