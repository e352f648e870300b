"""Values are parsed as proc_dointvec parses a write (ARP-SEMANTICS §7)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from checks.kernel_int import INT_MAX, INT_MIN, parse_kernel_int

ACCEPTED = [
    ("9", 9),
    ("-1", -1),
    ("2147483647", INT_MAX),
    ("-2147483648", INT_MIN),
    ("0x3", 3),
    ("0X3", 3),
    ("-0x3", -3),
    ("010", 8),
    ("0", 0),
    (" 3 ", 3),
    ("2\n", 2),
    # Seen live: leading isspace() is skipped, and whatever follows a space, tab or
    # newline after the number is ignored by a one-int sysctl.
    ("\v1", 1),
    ("\r1", 1),
    ("1 2", 1),
    ("1 # hide the VIP", 1),
    ("1\tzz", 1),
    ("1 \r", 1),
]

REJECTED = [
    "2147483648",
    "-2147483649",
    "0x80000000",
    "+4",
    "abc",
    "1.5",
    "08",
    "",
    " \n",
    "-",
    "--1",
    "0x",
    "1_000",
    "1e3",
    # Seen live: refused, where str.strip() would have let them through.
    "1\r",
    "\x1c1",
    "1#x",
]


@pytest.mark.parametrize(("text", "value"), ACCEPTED, ids=[repr(t) for t, _ in ACCEPTED])
def test_accepts_what_the_kernel_accepts(text: str, value: int) -> None:
    assert parse_kernel_int(text) == value


@pytest.mark.parametrize("text", REJECTED, ids=[repr(t) for t in REJECTED])
def test_refuses_what_the_kernel_refuses(text: str) -> None:
    with pytest.raises(ValueError, match=r"not an integer|out of the kernel's int range"):
        parse_kernel_int(text)


@given(st.integers(INT_MIN, INT_MAX))
def test_every_int_reads_back_in_decimal_hex_and_octal(value: int) -> None:
    sign = "-" if value < 0 else ""
    magnitude = abs(value)
    assert parse_kernel_int(f"{value}\n") == value
    assert parse_kernel_int(f"{sign}{magnitude:#x}") == value
    assert parse_kernel_int(f"{sign}0{magnitude:o}") == value
