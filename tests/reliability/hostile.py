"""Hypothesis strategies for what a hostile or broken host can put in front of the check.

Interface names follow the kernel's dev_valid_name(): 1 to 15 bytes, any byte but NUL, '/',
':' and white space, never "." or "..". Non-ASCII bytes are allowed, UTF-8 or not; Python
sees a name that is not UTF-8 with surrogate escapes (os.fsdecode), and so does the check.
"""

from __future__ import annotations

import os
import string

from hypothesis import strategies as st

from checks.kernel_int import INT_MAX, INT_MIN

IFNAMSIZ = 16  # with the NUL: names are at most 15 bytes
# Bytes dev_valid_name() refuses: NUL, '/', ':' and what the kernel's isspace() accepts.
_REFUSED = frozenset(b"\0/: \t\n\v\f\r")
_NAME_BYTES = [b for b in range(1, 256) if b not in _REFUSED]
# conf/all and conf/default are not interfaces; lo is made by every FakeHost that needs it.
_TAKEN = {b".", b"..", b"all", b"default", b"lo"}
_PLAIN = (string.ascii_lowercase + string.digits).encode()


def _name_byte() -> st.SearchStrategy[int]:
    # Weighted towards the characters real names use, so dots, dashes and digits meet
    # non-ASCII bytes in the same name often.
    return st.one_of(
        st.sampled_from(list(_PLAIN)),
        st.sampled_from(list(b".-_@")),
        st.sampled_from(_NAME_BYTES),
    )


def kernel_name_bytes() -> st.SearchStrategy[bytes]:
    return (
        st.lists(_name_byte(), min_size=1, max_size=IFNAMSIZ - 1)
        .map(bytes)
        .filter(lambda name: name not in _TAKEN)
    )


def interface_names(min_size: int = 1, max_size: int = 4) -> st.SearchStrategy[list[str]]:
    """Distinct kernel-valid names, as Python sees them."""
    return st.lists(kernel_name_bytes(), min_size=min_size, max_size=max_size, unique=True).map(
        lambda names: [os.fsdecode(name) for name in names]
    )


def kernel_ints() -> st.SearchStrategy[int]:
    # The values that mean something (ARP-SEMANTICS §3-4), and the whole int range.
    return st.one_of(st.integers(-1, 9), st.integers(INT_MIN, INT_MAX))


def kernel_int_texts() -> st.SearchStrategy[tuple[str, int]]:
    """(text, value): the ways proc_dointvec accepts an int (ARP-SEMANTICS §7)."""

    def renderings(value: int) -> st.SearchStrategy[tuple[str, int]]:
        sign, magnitude = ("-" if value < 0 else ""), abs(value)
        forms = [f"{value}", f"{value}\n", f" {value} \n", f"{sign}{magnitude:#x}"]
        forms.append(f"{sign}0{magnitude:o}" if magnitude else "0")
        return st.sampled_from([(form, value) for form in forms])

    return kernel_ints().flatmap(renderings)


def file_contents() -> st.SearchStrategy[bytes]:
    """Anything at all, and near misses of an int (signs, fractions, words, huge numbers)."""
    near_misses = st.sampled_from(
        [b"", b"\n", b"+4", b"1.5", b"abc", b"2147483648", b"-2147483649", b"0x", b"08", b"1 2"]
    )
    return st.one_of(st.binary(max_size=48), near_misses)
