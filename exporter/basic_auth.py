"""HTTP basic authentication against the web config's bcrypt hashes."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import threading
from collections.abc import Mapping

import bcrypt


class BasicAuthGate:
    """Checks HTTP basic credentials against bcrypt hashes without revealing which users exist.

    Every attempt costs one bcrypt check (unknown users are checked against a dummy hash of
    the configured cost) and names are compared as SHA-256 digests with compare_digest, so
    neither timing nor name length tells a valid user from an invalid one. A successful check
    is remembered as an HMAC-SHA-256 of the password under a per-process key, so Prometheus
    pays bcrypt (~100 ms at cost 10) once per process rather than on every scrape; only the
    right password can hit that cache, so its speed reveals nothing an attacker lacks.
    """

    def __init__(self, users: Mapping[str, bytes]) -> None:
        self._users = [(_digest(name.encode("utf-8")), hashed) for name, hashed in users.items()]
        self._dummy_hash = bcrypt.hashpw(
            os.urandom(16).hex().encode(), bcrypt.gensalt(_highest_cost(users))
        )
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
        with self._bcrypt_lock:
            matches = bcrypt.checkpw(password, stored_hash)
        if matches and known:
            self._verified[user] = fingerprint
            return True
        return False

    def _stored_hash(self, user: bytes) -> tuple[bytes, bool]:
        """The user's hash, or the dummy; every entry is compared so the work is the same."""
        wanted = _digest(user)
        stored_hash, known = self._dummy_hash, False
        for name_digest, hashed in self._users:
            if hmac.compare_digest(name_digest, wanted):
                stored_hash, known = hashed, True
        return stored_hash, known


def _digest(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _highest_cost(users: Mapping[str, bytes]) -> int:
    # "$2b$10$...": the cost is the two digits after the second "$".
    return max(int(hashed[4:6]) for hashed in users.values())


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
