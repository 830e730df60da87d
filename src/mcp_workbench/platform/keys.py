"""API keys: created once, shown once, stored only as salted hashes.

A key looks like ``wbk_<id>_<secret>``. The id finds the record; the secret is checked
against ``sha256(salt || secret)`` with a constant-time compare. The secret has 256 bits of
entropy, so a fast hash is enough (a slow KDF would only cost every request). The store is
one JSON file (mode 0600) under the data directory, rewritten atomically; a running server
re-reads it when it changes, so ``keys revoke`` takes effect without a restart.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

KEY_PREFIX = "wbk"
STORE_NAME = "api_keys.json"
ALL_SCOPES = "*"


@dataclass
class KeyRecord:
    id: str
    name: str
    scopes: list[str]
    salt: str
    hash: str
    created_at: str
    revoked_at: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def public(self) -> dict[str, Any]:
        """What `keys list` shows: never the hash or salt."""
        return {"id": self.id, "name": self.name, "scopes": self.scopes, "created_at": self.created_at,
                "revoked_at": self.revoked_at}  # fmt: skip


@dataclass
class KeyStore:
    """The key file under the data directory."""

    path: Path
    _records: dict[str, KeyRecord] = field(default_factory=dict)
    _stamp: tuple[int, int] | None = None

    @classmethod
    def in_dir(cls, data_dir: Path) -> KeyStore:
        return cls(data_dir / STORE_NAME)

    def _load_if_changed(self) -> None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._records, self._stamp = {}, None
            return
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp == self._stamp:
            return
        raw = json.loads(self.path.read_text(encoding="utf-8") or "{}")
        self._records = {item["id"]: KeyRecord(**item) for item in raw.get("keys", [])}
        self._stamp = stamp

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = json.dumps({"keys": [asdict(r) for r in self._records.values()]}, indent=1)
        fd, tmp = tempfile.mkstemp(prefix=".api_keys.", dir=self.path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._stamp = None

    def create(self, name: str, scopes: list[str]) -> tuple[KeyRecord, str]:
        """Make a key; returns the record and the only copy of the secret key string."""
        self._load_if_changed()
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        salt = secrets.token_hex(16)
        record = KeyRecord(
            id=key_id,
            name=name,
            scopes=sorted(set(scopes)),
            salt=salt,
            hash=_digest(salt, secret),
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        self._records[key_id] = record
        self._save()
        return record, f"{KEY_PREFIX}_{key_id}_{secret}"

    def list(self) -> list[KeyRecord]:
        self._load_if_changed()
        return list(self._records.values())

    def revoke(self, key_id: str) -> bool:
        self._load_if_changed()
        record = self._records.get(key_id)
        if record is None or not record.active:
            return False
        record.revoked_at = datetime.now(UTC).isoformat(timespec="seconds")
        self._save()
        return True

    def verify(self, presented: str) -> KeyRecord | None:
        """The active record for a presented key, or None; timing does not reveal which part failed."""
        self._load_if_changed()
        parts = presented.split("_", 2)
        if len(parts) != 3 or parts[0] != KEY_PREFIX:
            return None
        record = self._records.get(parts[1])
        salt = record.salt if record else "0" * 32
        expected = record.hash if record else _digest(salt, "\0")
        ok = hmac.compare_digest(_digest(salt, parts[2]), expected)
        return record if ok and record is not None and record.active else None


def _digest(salt: str, secret: str) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + secret.encode()).hexdigest()


def parse_scopes(text: str, granting: Sequence[str]) -> list[str]:
    """``data:read,web`` → scopes, each one that opens something (one of ``granting``, or ``*``):
    a key whose scope opens nothing would only fail later, at every call."""
    scopes = [s.strip() for s in text.split(",") if s.strip()]
    useless = [s for s in scopes if s not in granting and s != ALL_SCOPES]
    if useless or not scopes:
        allowed = ", ".join((*granting, f"{ALL_SCOPES} (everything)"))
        given = ", ".join(repr(s) for s in useless) or "(none given)"
        raise ValueError(f"scope {given} opens nothing on this server; scopes that open something: {allowed}")
    return scopes
