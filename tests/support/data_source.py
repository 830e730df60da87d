"""What the data tests put in a source and read back out of it: the ``notes`` table, and a
digest of everything a source holds (to show a refused call changed nothing)."""

from __future__ import annotations

import hashlib

from tests.support.session import Session

NOTES = [
    {"id": 1, "title": "Alpha report", "body": "quarterly numbers for the board", "score": 10, "day": "2024-01-05"},
    {"id": 2, "title": "Beta plan", "body": "roadmap with 100% coverage_goal", "score": 20, "day": "2024-02-10"},
    {"id": 3, "title": "Gamma notes", "body": None, "score": 30, "day": "2024-03-15"},
    {"id": 4, "title": "Delta review", "body": "o'brien said: quarterly is fine", "score": None, "day": None},
]


async def make_notes(session: Session, source: str = "workspace") -> None:
    await session.ok(
        "data_write",
        operation="create_table",
        source=source,
        table="notes",
        columns=[
            {"name": "id", "type": "integer", "primary_key": True},
            {"name": "title", "type": "text", "nullable": False},
            {"name": "body", "type": "text"},
            {"name": "score", "type": "integer"},
            {"name": "day", "type": "date"},
        ],
    )
    await session.ok("data_write", operation="insert", source=source, table="notes", rows=NOTES)


async def fingerprint(session: Session, source: str = "workspace") -> str:
    """A digest of every table's definition and rows, read through the server itself."""
    digest = hashlib.sha256()
    tables = (await session.ok("data_read", operation="tables", source=source))["tables"]
    for table in tables:
        described = await session.ok("data_read", operation="describe", source=source, table=table["name"])
        digest.update(repr(described["columns"]).encode())
        offset: int | None = 0
        while offset is not None:
            page = await session.ok(
                "data_read", operation="select", source=source, table=table["name"], limit=1000, offset=offset
            )
            digest.update(repr(page["rows"]).encode())
            offset = page["next_offset"]
    return digest.hexdigest()
