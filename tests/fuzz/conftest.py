"""Fixtures of the fuzz tests: a server configured over real databases, file roots and a web site.

Nothing here imports hypothesis-jsonschema at import time: that import reads Hypothesis' unicode
tables, which must not happen while pytest is still loading conftest files.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from mcp_workbench.settings import Settings, load_settings
from tests.fuzz import profiles as _profiles  # noqa: F401 - registers the "ci" and "nightly" profiles
from tests.fuzz.world import (
    METADATA,
    PRIVATE,
    SITE,
    SITE_PATHS,
    Site,
    World,
    make_outside,
    make_tree,
    running_site,
    seed_postgres,
    seed_sqlite,
)

if TYPE_CHECKING:
    from tests.fuzz.strategies import Names


SQL_SAMPLES = [
    "SELECT * FROM notes",
    "SELECT title, count(*) FROM notes GROUP BY title ORDER BY 2 DESC",
    "SELECT * FROM notes WHERE id = ?",
    "WITH x AS (SELECT id FROM notes) SELECT * FROM x JOIN child ON child.note_id = x.id",
    "VALUES (1, 'a'), (2, NULL)",
    "EXPLAIN SELECT * FROM notes",
    'SELECT "weird col" FROM "odd name; --"',
    "SELECT * FROM docs WHERE docs MATCH 'quarterly'",
]


def _names(site: Site, work: Path) -> Names:
    from tests.fuzz.strategies import Names, safe_url_rewriter

    paths = sorted(str(p.relative_to(work)) for p in work.rglob("*"))
    tables = ["notes", "loose", "child", "odd name; --", "Odd Name; --", "nokey", "recent", "docs", "missing_table"]
    columns = ["id", "title", "body", "score", "day", "flag", "raw", "data", "tags", "doc", "weird col", 'x"y']
    columns += ["n", "j", "t", "tm", "b", "u", "nope"]
    return Names(
        by_field={
            "source": ["workspace", "archive", "pg", "nope"],
            "table": tables,
            "root": ["work", "docs", "nope"],
            "destination_root": ["work", "docs"],
            "path": [".", *paths],
            "destination": ["moved.txt", "src/moved.py", "docs-copy", "../escape.txt"],
            "query": ["quarterly", "Alpha", "%", "o'brien"],
            "pattern": ["*.txt", "**/*.py", "*", "src/**"],
            "contains": ["TODO", "hello", "(a+)+$", "[", "^line \\d+"],
            "encoding": ["utf-8", "latin-1", "utf-16", "ascii"],
            "sql": SQL_SAMPLES,
            "url": [f"http://{site.netloc}{path}" for path in SITE_PATHS],
        },
        defaults={
            "table": tables[:5],
            "root": ["work", "docs"],
            "sql": SQL_SAMPLES,
            "query": ["quarterly", "Alpha"],
            "path": ["a.txt", "src/app.py", "new.txt", "new-dir/x.txt", "ünïcødé ✓.md"],
            "destination": ["moved.txt", "src/moved.py"],
            "content": ["new text\n", "", "línea ✓\n" * 100],
            "edits": [[{"old": "hello", "new": "bye"}], [{"old": "world", "new": "w"}, {"old": "absent", "new": "x"}]],
            "rows": [[{"title": "t", "body": "b"}], [{"id": 1, "title": "dup"}], [{"title": None}]],
            "values": [{"title": "changed"}, {"score": "not a number"}],
            "pattern": ["*.txt"],
        },
        thinned=frozenset({"where", "offset", "start_index", "start_line"}),
        column_names=columns,
        url=safe_url_rewriter(site.netloc, [PRIVATE, METADATA]),
    )


@pytest.fixture
async def world(tmp_path: Path, postgres_db_url: str) -> AsyncIterator[World]:
    data_dir = tmp_path / "data"
    workspace_db, archive_db = data_dir / "workspace.db", tmp_path / "archive" / "archive.db"
    seed_sqlite(workspace_db)
    seed_sqlite(archive_db)
    await seed_postgres(postgres_db_url)
    outside, work, docs = tmp_path / "outside", tmp_path / "work", tmp_path / "docs"
    make_outside(outside)
    for root in (work, docs):
        root.mkdir()
        make_tree(root, outside)
    with running_site() as site:
        overrides: dict[str, Any] = {
            "data_dir": data_dir,
            "data": {
                "sources": {
                    "workspace": {"url": f"sqlite:///{workspace_db}"},
                    "archive": {"url": f"sqlite:///{archive_db}", "read_only": True},
                    "pg": {"url": postgres_db_url},
                },
                "statement_timeout_s": 1.0,
                "max_rows": 100_000,  # the schema's own bound, so a generated limit is accepted
            },
            "limits": {"default": "1000000/minute"},  # the fuzzer calls far faster than any agent
            "timeouts": {"default_s": 20},
            "web": {
                "allow_hosts": [SITE],
                "resolve": {SITE: ["127.0.0.1"], PRIVATE: ["10.0.0.1"], METADATA: ["169.254.169.254"]},
                "timeout_s": 5,
                "connect_timeout_s": 2,
                "max_bytes": 1_000_000,
            },
        }
        # the public research sources ask the loopback site (which knows none of their APIs, so
        # each fails at once and is reported), unpaced: the fuzzer checks the tool, not etiquette
        public = ("wikipedia", "arxiv", "crossref", "hackernews", "gdelt")
        base_url = f"http://{SITE}:{site.port}"
        overrides["research"] = {"sources": {name: {"base_url": base_url, "min_interval_s": 0} for name in public}}
        if "files" in Settings.model_fields:
            overrides["files"] = {
                "roots": {"work": {"path": work}, "docs": {"path": docs, "read_only": True}},
                "search_timeout_s": 2.0,
            }
        yield World(
            settings=load_settings(None, **overrides),
            workspace_db=workspace_db,
            archive_db=archive_db,
            pg_url=postgres_db_url,
            work_root=work,
            docs_root=docs,
            outside=outside,
            site=site,
            names=_names(site, work),
        )
