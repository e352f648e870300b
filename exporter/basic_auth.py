"""HTTP basic authentication against the web config's bcrypt hashes, in equal time.

Every attempt that reaches bcrypt does the same work, whoever it names: one bcrypt check at
each distinct cost the configured hashes use, against the named user's hash at that user's
cost and against a dummy hash at every other. So an unknown user, a wrong password for a
cheap user and one for the most expensive user all cost the same (the sum of the distinct
costs: at least the highest configured cost), and timing does not tell which users exist.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import threading
from collections.abc import Mapping

import bcrypt

# Cost 15 takes about 2 s on a fast core, 31 takes days: refused at start, not found at login.
MAX_COST = 14
_BCRYPT_HASH = re.compile(r"\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}")
_MIN_COST = 4


def hash_problem(hashed: str) -> str | None:
    """Why *hashed* cannot serve as a basic-auth hash, or None; never quotes the hash.

    The salt is checked by bcrypt itself, on a copy of the hash at the lowest cost, so a hash
    at cost 14 is checked in a millisecond rather than a second.
    """
    shape = _BCRYPT_HASH.fullmatch(hashed)
    if shape is None or int(shape.group(1)) < _MIN_COST:
        return "is not a bcrypt hash"
    cost = int(shape.group(1))
    if cost > MAX_COST:
        return f"has bcrypt cost {cost}, above {MAX_COST}: every login would take seconds"
    cheap_copy = f"{hashed[:4]}{_MIN_COST:02d}{hashed[6:]}".encode("ascii")
    try:
        bcrypt.checkpw(b"", cheap_copy)
    except ValueError:
        return "is not a bcrypt hash: bcrypt refuses its salt"
    return None


class BasicAuthGate:
    """Checks HTTP basic credentials against bcrypt hashes without revealing which users exist.

    Names are compared as SHA-256 digests with compare_digest, and every attempt costs the
    same bcrypt work (see the module). A successful check is remembered as an HMAC-SHA-256 of
    the password under a per-process key, so Prometheus pays bcrypt (~70 ms at cost 10) once
    per process rather than on every scrape; only the right password can hit that cache, so
    its speed reveals nothing an attacker lacks. The hashes must have passed hash_problem.
    """

    def __init__(self, users: Mapping[str, bytes]) -> None:
        self._users = [(_digest(name.encode("utf-8")), hashed) for name, hashed in users.items()]
        self._costs = sorted({_cost(hashed) for hashed in users.values()})
        self._dummies = {
            cost: bcrypt.hashpw(os.urandom(16).hex().encode(), bcrypt.gensalt(cost))
            for cost in self._costs
        }
        self._cache_key = os.urandom(32)
        self._verified: dict[bytes, bytes] = {}
        # One bcrypt at a time, as exporter-toolkit does: a flood of guesses costs one core.
        self._bcrypt_lock = threading.Lock()

    def admits(self, authorization: str | None) -> bool:
        credentials = _basic_credentials(authorization)
        if credentials is None:
            return False
        user, password = credentials
        stored_hash, known = self._stored_hash(user)
        fingerprint = hmac.new(self._cache_key, password, hashlib.sha256).digest()
        remembered = self._verified.get(user, bytes(len(fingerprint)))
        if hmac.compare_digest(remembered, fingerprint) and known:
            return True
        matches = False
        with self._bcrypt_lock:
            for candidate in self._one_hash_per_cost(stored_hash):
                # Every check runs: `or` after the call, never before it.
                matches = bcrypt.checkpw(password, candidate) or matches
        if matches and known:
            self._verified[user] = fingerprint
            return True
        return False

    def _stored_hash(self, user: bytes) -> tuple[bytes, bool]:
        """The user's hash, or the top-cost dummy; every entry is compared: the same work."""
        wanted = _digest(user)
        stored_hash, known = self._dummies[self._costs[-1]], False
        for name_digest, hashed in self._users:
            if hmac.compare_digest(name_digest, wanted):
                stored_hash, known = hashed, True
        return stored_hash, known

    def _one_hash_per_cost(self, own: bytes) -> list[bytes]:
        """*own* at its cost, a dummy at every other configured cost, cheapest first."""
        own_cost = _cost(own)
        return [own if cost == own_cost else self._dummies[cost] for cost in self._costs]


def _digest(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _cost(hashed: bytes) -> int:
    # "$2b$10$...": the cost is the two digits after the second "$".
    return int(hashed[4:6])


_BCRYPT_MAX_PASSWORD = 72  # bcrypt ignores (pyca/bcrypt 5 refuses) bytes beyond this


def _basic_credentials(authorization: str | None) -> tuple[bytes, bytes] | None:
    """(user, password) from an "Authorization: Basic ..." header, or None."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    user, colon, password = decoded.partition(b":")
    # pyca/bcrypt 3.2 (Debian 12) raises on NUL: refuse before any user is looked up.
    if not colon or len(password) > _BCRYPT_MAX_PASSWORD or b"\x00" in password:
        return None
    return user, password
