"""The real things the fuzzed server works on, and fingerprints that show whether they changed.

- two SQLite databases (``workspace``, writable; ``archive``, configured read-only) with odd
  names, a view, an FTS5 table, a foreign key, NULLs, unicode and a blob;
- a PostgreSQL database (``pg``) with arrays, jsonb, a tsvector column and odd names;
- two file roots (``work``, writable; ``docs``, read-only) with nested directories, unicode
  names, a binary file, an image, a .gitignore, and symbolic links that lead out of the root
  and round in a loop, plus an ``outside`` directory no tool may reach;
- a loopback web site reached through ``[web] resolve`` names (no DNS, no network).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.server
import json
import os
import sqlite3
import stat
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg

if TYPE_CHECKING:
    from mcp_workbench.settings import Settings
    from tests.fuzz.strategies import Names

# --- SQLite ----------------------------------------------------------------------------------

SQLITE_SCHEMA = """
CREATE TABLE notes (
    id INTEGER PRIMARY KEY, title TEXT NOT NULL, body TEXT, score REAL, day DATE, flag BOOLEAN, raw BLOB
);
CREATE TABLE child (id INTEGER PRIMARY KEY, note_id INTEGER REFERENCES notes(id), label TEXT UNIQUE);
CREATE TABLE "odd name; --" ("weird col" TEXT, "x""y" INTEGER, "ünï" TEXT);
CREATE TABLE nokey (a TEXT, b NUMERIC, j JSON, t DATETIME);
CREATE TABLE loose (n NUMERIC, j JSON, t DATETIME, tm TIME, b BOOLEAN, u UUID);
CREATE VIEW recent AS SELECT id, title FROM notes WHERE day > '2024-01-01';
CREATE VIRTUAL TABLE docs USING fts5(title, body);
CREATE INDEX notes_day ON notes(day);
"""
NOTES = [
    (1, "Alpha report", "quarterly numbers", 1.5, "2024-01-05", 1, b"\x00\x01"),
    (2, "Beta plan", "roadmap with 100% coverage_goal", -2.0, "2024-02-10", 0, None),
    (3, "Gämma ✓ notes", None, None, None, None, None),
    (4, "Delta", 'o\'brien said: "quarterly" is fine; DROP TABLE notes; --', 1e300, "not a date", 1, b""),
    (5, "nul\x00inside", "line1\nline2\r\n\t|pipe|", 0.0, "2023-12-31", None, None),
]


def seed_sqlite(path: Path) -> None:
    """Create and fill a database file; rollback journal, so reading never rewrites the file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA journal_mode = DELETE")
        db.executescript(SQLITE_SCHEMA)
        db.executemany("INSERT INTO notes VALUES (?, ?, ?, ?, ?, ?, ?)", NOTES)
        db.executemany("INSERT INTO child VALUES (?, ?, ?)", [(1, 1, "a"), (2, 1, "b"), (3, 2, None)])
        db.executemany('INSERT INTO "odd name; --" VALUES (?, ?, ?)', [("x", 1, "ü"), (None, None, None)])
        db.executemany(
            "INSERT INTO nokey VALUES (?, ?, ?, ?)",
            [("dup", 1, '{"a": 1}', "2024-01-05 10:00:00"), ("dup", 1, "[]", None), (None, 2.5, None, "2024-01-05")],
        )
        # SQLite keeps any value in any column: what real files hold, whatever the declared type says
        db.executemany(
            "INSERT INTO loose VALUES (?, ?, ?, ?, ?, ?)",
            [("abc", "{not json", "yesterday", "noon", "maybe", "not-a-uuid"), (1.5, "[1]", None, "12:00:00", 1, None)],
        )
        db.executemany("INSERT INTO docs VALUES (?, ?)", [("Alpha", "full text search"), ("Beta", "quarterly")])
        db.commit()


# --- PostgreSQL ------------------------------------------------------------------------------

PG_SCHEMA = [
    """CREATE TABLE notes (
        id serial PRIMARY KEY, title text NOT NULL, body text, score numeric(12, 3), day date,
        flag boolean, data jsonb, tags text[], at timestamptz, uid uuid, doc tsvector
    )""",
    "CREATE TABLE child (id int PRIMARY KEY, note_id int REFERENCES notes(id), label text UNIQUE)",
    'CREATE TABLE "Odd Name; --" ("weird col" text, "x""y" int)',
    "CREATE VIEW recent AS SELECT id, title FROM notes WHERE day > '2024-01-01'",
    """INSERT INTO notes (title, body, score, day, flag, data, tags, at, uid, doc) VALUES
        ('Alpha report', 'quarterly numbers', 1.5, '2024-01-05', true, '{"a": [1, 2]}', '{x,y}',
         '2024-01-05T10:00:00Z', '00000000-0000-0000-0000-000000000001', to_tsvector('quarterly numbers')),
        ('Gämma ✓', NULL, NULL, NULL, NULL, 'null', '{}', NULL, NULL, NULL),
        ('Delta', 'o''brien; DROP TABLE notes; --', -99.5, '1999-12-31', false, '"s"', NULL, NULL, NULL,
         to_tsvector('brien'))""",
    "INSERT INTO child VALUES (1, 1, 'a'), (2, 1, NULL)",
    """INSERT INTO "Odd Name; --" VALUES ('x', 1), (NULL, NULL)""",
]


async def seed_postgres(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        for statement in PG_SCHEMA:
            await conn.execute(statement)
    finally:
        await conn.close()


async def postgres_fingerprint(url: str) -> str:
    """Every table's columns and rows, in a stable order."""
    conn = await asyncpg.connect(url)
    try:
        digest = hashlib.sha256()
        tables = await conn.fetch(
            "SELECT table_name, table_type FROM information_schema.tables "
            "WHERE table_schema = 'public' ORDER BY table_name"
        )
        for table in tables:
            name = table["table_name"]
            columns = await conn.fetch(
                "SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns "
                "WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
                name,
            )
            quoted = '"' + name.replace('"', '""') + '"'
            rows = await conn.fetchval(f"SELECT string_agg(t::text, E'\\n' ORDER BY t::text) FROM {quoted} t")
            digest.update(repr((name, table["table_type"], [tuple(c) for c in columns], rows)).encode())
        sequences = await conn.fetch(
            "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1"
        )
        digest.update(repr([tuple(s) for s in sequences]).encode())
        return digest.hexdigest()
    finally:
        await conn.close()


# --- files -----------------------------------------------------------------------------------

PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def make_tree(root: Path, outside: Path) -> None:
    """A root with the shapes path handling gets wrong, and links that point out of it."""
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "empty-dir").mkdir()
    (root / "a.txt").write_text("hello\nworld\n", encoding="utf-8")
    (root / "src" / "app.py").write_text("import os\n\nprint('hi')  # TODO\n" * 50, encoding="utf-8")
    (root / "src" / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    (root / "ünïcødé ✓.md").write_text("# Títle\n\nçà et là\n", encoding="utf-8")
    (root / "latin1.txt").write_bytes("caf\xe9 cr\xe8me\n".encode("latin-1"))
    (root / "utf16.txt").write_text("wide text\n", encoding="utf-16")
    (root / "crlf.txt").write_bytes(b"one\r\ntwo\r\nthree")
    (root / "data.bin").write_bytes(bytes(range(256)) * 8)
    (root / "pixel.png").write_bytes(PNG_1PX)
    (root / "empty.txt").write_bytes(b"")
    (root / "long.log").write_text("".join(f"line {i} aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\n" for i in range(3000)))
    (root / ".gitignore").write_text("*.log\nbuild/\n", encoding="utf-8")
    (root / "build").mkdir()
    (root / "build" / "out.o").write_bytes(b"\x7fELF")
    (root / "has space and 'quote'.txt").write_text("x", encoding="utf-8")
    (root / "redos.txt").write_text("a" * 40 + "!\n", encoding="utf-8")
    os.symlink(outside / "secret.txt", root / "link-out")
    os.symlink(outside, root / "dir-out")
    os.symlink("loop", root / "loop")  # a link to itself
    os.symlink("a.txt", root / "link-in")


def make_outside(outside: Path) -> None:
    outside.mkdir(parents=True, exist_ok=True)
    (outside / "secret.txt").write_text("the tools must never read or change this\n", encoding="utf-8")


def tree_fingerprint(*roots: Path) -> dict[str, Any]:
    """Every entry under the roots: type, permissions, size, mtime, content digest, link target."""
    entries: dict[str, Any] = {}
    for root in roots:
        for directory, dirnames, filenames in os.walk(root, followlinks=False):
            for name in sorted(dirnames + filenames):
                path = Path(directory) / name
                info = path.lstat()
                key = str(path)
                if stat.S_ISLNK(info.st_mode):
                    entries[key] = ("link", os.readlink(path))
                elif stat.S_ISDIR(info.st_mode):
                    entries[key] = ("dir", stat.S_IMODE(info.st_mode))
                else:
                    digest = hashlib.sha256(path.read_bytes()).hexdigest()
                    entries[key] = ("file", stat.S_IMODE(info.st_mode), info.st_size, info.st_mtime_ns, digest)
    return entries


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- web -------------------------------------------------------------------------------------

SITE = "site.test"  # resolves to 127.0.0.1 and is allowed by name
PRIVATE = "private.test"  # resolves to a private address: refused by the SSRF guard
METADATA = "meta.test"  # resolves to the cloud metadata address: refused


def _routes(port: int) -> dict[str, tuple[int, dict[str, str], bytes]]:
    html = b"<html><head><title>T</title></head><body><nav>menu</nav><article><h1>Head</h1>"
    html += b"<p>" + "Unicode ✓ text. ".encode() * 50 + b"</p><a href='/x'>link</a></article></body></html>"
    return {
        "/page.html": (200, {"Content-Type": "text/html; charset=utf-8"}, html),
        "/data.json": (200, {"Content-Type": "application/json"}, json.dumps({"a": [1, 2, {"b": None}]}).encode()),
        "/bad.json": (200, {"Content-Type": "application/json"}, b"{not json"),
        "/bin": (200, {"Content-Type": "application/octet-stream"}, bytes(range(256)) * 40),
        "/big.txt": (200, {"Content-Type": "text/plain"}, b"0123456789abcdef\n" * 20_000),
        "/latin1": (200, {"Content-Type": "text/html; charset=iso-8859-1"}, "<p>caf\xe9</p>".encode("latin-1")),
        "/bomb": (
            200,
            {"Content-Type": "text/plain", "Content-Encoding": "gzip"},
            gzip.compress(b"\0" * 20_000_000, compresslevel=9),
        ),
        "/redirect": (302, {"Location": "/page.html"}, b""),
        "/redirect-out": (302, {"Location": f"http://{METADATA}/latest/meta-data/"}, b""),
        "/redirect-loop": (302, {"Location": "/redirect-loop"}, b""),
        "/error": (500, {"Content-Type": "text/plain"}, b"boom"),
        "/empty": (204, {}, b""),
        "/wrong-length": (200, {"Content-Type": "text/plain", "Content-Length": "100"}, b"short"),
    }


SITE_PATHS = (
    "/page.html",
    "/data.json",
    "/bad.json",
    "/bin",
    "/big.txt",
    "/latin1",
    "/bomb",
    "/redirect",
    "/redirect-out",
    "/redirect-loop",
    "/error",
    "/empty",
    "/wrong-length",
    "/missing",
)


@dataclass
class Site:
    server: http.server.ThreadingHTTPServer
    thread: threading.Thread
    requests: list[str] = field(default_factory=list)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def netloc(self) -> str:
        return f"{SITE}:{self.port}"


@contextlib.contextmanager
def running_site() -> Iterator[Site]:
    routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            status, headers, body = routes.get(self.path.split("?", 1)[0], (404, {}, b"not found"))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if "Content-Length" not in headers:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(OSError):
                self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:  # keep the test output clean
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    routes.update(_routes(server.server_address[1]))
    thread = threading.Thread(target=server.serve_forever, name="fuzz-site", daemon=True)
    thread.start()
    try:
        yield Site(server, thread, seen)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


# --- all of it, as the fuzz tests see it --------------------------------------------------------


@dataclass
class World:
    settings: Settings
    workspace_db: Path
    archive_db: Path  # configured read-only
    pg_url: str
    work_root: Path
    docs_root: Path  # configured read-only
    outside: Path  # no tool may reach it
    site: Site
    names: Names

    async def everything(self) -> dict[str, Any]:
        """What a read-only tool must leave exactly as it was."""
        return {
            "workspace.db": file_digest(self.workspace_db),
            "archive.db": file_digest(self.archive_db),
            "postgresql": await postgres_fingerprint(self.pg_url),
            "files": tree_fingerprint(self.work_root, self.docs_root, self.outside),
        }

    def protected(self) -> dict[str, Any]:
        """What not even a write tool may change: read-only sources and roots, and what lies outside."""
        return {
            "archive.db": file_digest(self.archive_db),
            "files": tree_fingerprint(self.docs_root, self.outside),
        }
