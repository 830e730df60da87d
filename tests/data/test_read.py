"""data_read on both engines and both protocol eras: discovery, select, count, search, sql."""

from __future__ import annotations

import sqlite3

import pytest

from tests.support.data_source import NOTES, make_notes
from tests.support.session import Session

pytestmark = pytest.mark.anyio


async def test_sources_lists_the_workspace_with_its_engine(db: Session, engine: str) -> None:
    data = await db.ok("data_read", operation="sources")
    [workspace] = data["sources"]
    assert workspace["name"] == "workspace"
    assert workspace["engine"] == engine
    assert workspace["read_only"] is False


async def test_a_new_workspace_has_no_tables_and_says_how_to_create_one(db: Session) -> None:
    outcome = await db.call("data_read", operation="tables")
    assert outcome.data["tables"] == []
    assert "create_table" in outcome.text


async def test_describe_shows_columns_types_and_primary_key(db: Session) -> None:
    await make_notes(db)
    data = await db.ok("data_read", operation="describe", table="notes")
    assert [c["name"] for c in data["columns"]] == ["id", "title", "body", "score", "day"]
    assert data["primary_key"] == ["id"]
    title = next(c for c in data["columns"] if c["name"] == "title")
    assert title["nullable"] is False


async def test_select_returns_all_rows_in_primary_key_order(db: Session) -> None:
    await make_notes(db)
    data = await db.ok("data_read", operation="select", table="notes")
    assert data["columns"] == ["id", "title", "body", "score", "day"]
    assert [row[0] for row in data["rows"]] == [1, 2, 3, 4]
    assert data["rows"][0] == [1, "Alpha report", "quarterly numbers for the board", 10, "2024-01-05"]
    assert data["truncated"] is False and data["next_offset"] is None
    assert data["row_count"] == 4


async def test_select_pages_exactly_with_next_offset(db: Session) -> None:
    await make_notes(db)
    first = await db.call("data_read", operation="select", table="notes", columns=["id"], limit=3)
    assert first.data["rows"] == [[1], [2], [3]]
    assert first.data["truncated"] is True and first.data["next_offset"] == 3
    assert "offset=3" in first.text
    second = await db.ok("data_read", operation="select", table="notes", columns=["id"], limit=3, offset=3)
    assert second["rows"] == [[4]]
    assert second["truncated"] is False and second["next_offset"] is None


async def test_a_page_that_ends_exactly_at_the_last_row_is_not_truncated(db: Session) -> None:
    await make_notes(db)
    data = await db.ok("data_read", operation="select", table="notes", limit=4)
    assert data["truncated"] is False


@pytest.mark.parametrize(
    ("where", "expected_ids"),
    [
        ([{"column": "score", "op": ">=", "value": 20}], [2, 3]),
        ([{"column": "score", "op": "<", "value": 20}], [1]),
        ([{"column": "score", "op": "!=", "value": 20}], [1, 3]),
        ([{"column": "id", "op": "in", "value": [1, 4]}], [1, 4]),
        ([{"column": "id", "op": "not_in", "value": [1, 4]}], [2, 3]),
        ([{"column": "title", "op": "like", "value": "%ta%"}], [2, 4]),
        ([{"column": "body", "op": "is_null"}], [3]),
        ([{"column": "score", "op": "is_not_null"}, {"column": "score", "op": "<=", "value": 20}], [1, 2]),
        ([{"column": "day", "op": ">", "value": "2024-02-01"}], [2, 3]),
        ([{"column": "title", "value": "Beta plan"}], [2]),
    ],
)
async def test_select_filters_with_every_operator(db: Session, where: list[dict], expected_ids: list[int]) -> None:
    await make_notes(db)
    data = await db.ok("data_read", operation="select", table="notes", columns=["id"], where=where)
    assert [row[0] for row in data["rows"]] == expected_ids


async def test_select_orders_by_several_columns(db: Session) -> None:
    await make_notes(db)
    data = await db.ok(
        "data_read",
        operation="select",
        table="notes",
        columns=["id"],
        where=[{"column": "score", "op": "is_not_null"}],
        order_by=[{"column": "score", "desc": True}, {"column": "id"}],
    )
    assert [row[0] for row in data["rows"]] == [3, 2, 1]


async def test_count_with_and_without_filters(db: Session) -> None:
    await make_notes(db)
    assert (await db.ok("data_read", operation="count", table="notes"))["count"] == 4
    filtered = await db.ok(
        "data_read", operation="count", table="notes", where=[{"column": "score", "op": ">", "value": 10}]
    )
    assert filtered["count"] == 2


async def test_search_finds_text_case_insensitively_in_one_table(db: Session) -> None:
    await make_notes(db)
    data = await db.ok("data_read", operation="search", query="QUARTERLY", table="notes")
    assert sorted(hit["row"]["id"] for hit in data["hits"]) == [1, 4]
    assert all(hit["matched_columns"] == ["body"] for hit in data["hits"])


async def test_search_treats_like_wildcards_in_the_query_literally(db: Session) -> None:
    await make_notes(db)
    data = await db.ok("data_read", operation="search", query="100%", table="notes")
    assert [hit["row"]["id"] for hit in data["hits"]] == [2]
    data = await db.ok("data_read", operation="search", query="e_g", table="notes")
    assert [hit["row"]["id"] for hit in data["hits"]] == [2]  # 'coverage_goal', not 'e?g'


async def test_search_across_all_tables_reports_where_it_looked(db: Session) -> None:
    await make_notes(db)
    await db.ok(
        "data_write",
        operation="create_table",
        table="people",
        columns=[{"name": "name", "type": "text"}, {"name": "age", "type": "integer"}],
    )
    await db.ok("data_write", operation="insert", table="people", rows=[{"name": "Ann Quarterly", "age": 3}])
    data = await db.ok("data_read", operation="search", query="quarterly")
    assert {hit["table"] for hit in data["hits"]} == {"notes", "people"}
    assert sorted(data["tables_searched"]) == ["notes", "people"]


async def test_search_stops_at_the_limit_and_says_so(db: Session) -> None:
    await make_notes(db)
    data = await db.ok("data_read", operation="search", query="a", table="notes", limit=2)
    assert data["hit_count"] == 2 and data["truncated"] is True


async def test_search_uses_the_fts5_index_of_an_sqlite_full_text_table(connect, make_settings, tmp_path) -> None:
    # FTS5 virtual tables exist only on SQLite; the scan path is covered above on both engines.
    path = tmp_path / "fts.db"
    settings = make_settings(data={"sources": {"workspace": {"url": f"sqlite:///{path}"}}})
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE VIRTUAL TABLE docs USING fts5(title, body)")
        conn.executemany("INSERT INTO docs VALUES (?, ?)", [("Intro", "hello search world"), ("Other", "nothing")])
    async with connect(settings) as session:
        tables = await session.ok("data_read", operation="tables")
        assert [t["name"] for t in tables["tables"]] == ["docs"]  # FTS shadow tables are hidden
        data = await session.ok("data_read", operation="search", query="search world")
        assert data["methods"] == {"docs": "fts5"}
        assert [hit["row"]["title"] for hit in data["hits"]] == ["Intro"]


async def test_sql_runs_a_read_only_statement_with_bound_params(db: Session) -> None:
    await make_notes(db)
    data = await db.ok(
        "data_read",
        operation="sql",
        sql="SELECT title, score FROM notes WHERE score > ? AND title LIKE ? ORDER BY score",
        params=[10, "%a%"],
    )
    assert data["columns"] == ["title", "score"]
    assert data["rows"] == [["Beta plan", 20], ["Gamma notes", 30]]


async def test_sql_with_cte_values_and_explain(db: Session, engine: str) -> None:
    await make_notes(db)
    cte = await db.ok(
        "data_read",
        operation="sql",
        sql="WITH s AS (SELECT score FROM notes WHERE score IS NOT NULL) SELECT sum(score) AS total FROM s",
    )
    assert cte["rows"] == [[60]]
    values = await db.ok("data_read", operation="sql", sql="VALUES (1, 'a'), (2, 'b');")
    assert values["row_count"] == 2
    explain = "EXPLAIN QUERY PLAN SELECT * FROM notes" if engine == "sqlite" else "EXPLAIN SELECT * FROM notes"
    plan = await db.ok("data_read", operation="sql", sql=explain)
    assert plan["row_count"] >= 1


async def test_sql_caps_rows_and_flags_truncation(db: Session) -> None:
    await make_notes(db)
    data = await db.ok("data_read", operation="sql", sql="SELECT id FROM notes ORDER BY id", limit=2)
    assert data["rows"] == [[1], [2]] and data["truncated"] is True


async def test_results_are_cut_at_the_byte_cap_with_an_exact_next_offset(connect, data_settings) -> None:
    async with connect(data_settings(max_result_bytes=1000)) as session:
        await session.ok("data_write", operation="create_table", table="blobs", columns=[{"name": "t", "type": "text"}])
        await session.ok("data_write", operation="insert", table="blobs", rows=[{"t": "x" * 300} for _ in range(10)])
        page = await session.ok("data_read", operation="select", table="blobs")
        assert page["truncated"] is True
        assert 0 < page["row_count"] < 10
        assert page["next_offset"] == page["row_count"]


async def test_views_are_listed_and_selectable(db: Session, engine: str, workspace_url: str) -> None:
    await make_notes(db)
    await _create_view(engine, workspace_url, "CREATE VIEW high AS SELECT id, title FROM notes WHERE score >= 20")
    tables = await db.ok("data_read", operation="tables")
    assert {"name": "high", "kind": "view"} in tables["tables"]
    data = await db.ok("data_read", operation="select", table="high", order_by=[{"column": "id"}])
    assert data["rows"] == [[2, "Beta plan"], [3, "Gamma notes"]]


async def _create_view(engine: str, url: str, ddl: str) -> None:
    """Run DDL as the database owner, outside the tools (data_write has no view DDL)."""
    if engine == "sqlite":
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            conn.execute(ddl)
    else:
        import asyncpg

        conn = await asyncpg.connect(url)
        try:
            await conn.execute(ddl)
        finally:
            await conn.close()


async def test_sql_refuses_ddl(db: Session) -> None:
    await make_notes(db)
    await db.error("data_read", "PERMISSION_DENIED", operation="sql", sql="CREATE VIEW v AS SELECT id FROM notes")


async def test_values_round_trip_through_insert_and_select(db: Session) -> None:
    await db.ok(
        "data_write",
        operation="create_table",
        table="kinds",
        columns=[
            {"name": "id", "type": "integer", "primary_key": True},
            {"name": "flag", "type": "boolean"},
            {"name": "amount", "type": "numeric"},
            {"name": "ratio", "type": "real"},
            {"name": "at", "type": "datetime"},
            {"name": "doc", "type": "json"},
        ],
    )
    row = {"id": 1, "flag": True, "amount": 12.5, "ratio": 0.25, "at": "2024-05-01T12:30:00", "doc": '{"a": 1}'}
    await db.ok("data_write", operation="insert", table="kinds", rows=[row])
    data = await db.ok("data_read", operation="select", table="kinds")
    assert data["rows"] == [[1, True, 12.5, 0.25, "2024-05-01T12:30:00", {"a": 1}]]


def test_notes_fixture_is_consistent() -> None:
    assert len({note["id"] for note in NOTES}) == len(NOTES)


async def test_search_uses_a_postgresql_tsvector_column_ranked(connect, make_settings, postgres_db_url: str) -> None:
    # tsvector columns exist only on PostgreSQL; the scan path is covered above on both engines.
    import asyncpg

    conn = await asyncpg.connect(postgres_db_url)
    try:
        await conn.execute(
            "CREATE TABLE articles (id int PRIMARY KEY, body text, "
            "tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', body)) STORED)"
        )
        await conn.execute("CREATE INDEX articles_tsv ON articles USING gin (tsv)")
        await conn.executemany(
            "INSERT INTO articles (id, body) VALUES ($1, $2)",
            [(1, "Running quarterly reports"), (2, "the report ran once"), (3, "nothing here")],
        )
    finally:
        await conn.close()
    async with connect(make_settings(data={"sources": {"workspace": {"url": postgres_db_url}}})) as session:
        data = await session.ok("data_read", operation="search", query="reports", table="articles")
        assert data["methods"] == {"articles": "tsvector"}
        assert sorted(hit["row"]["id"] for hit in data["hits"]) == [1, 2]  # stemmed: report/reports
        assert all("tsv" not in hit["row"] for hit in data["hits"])


async def test_a_table_recreated_with_other_columns_is_selected_with_its_new_columns(db: Session) -> None:
    await make_notes(db)
    assert (await db.ok("data_read", operation="select", table="notes", limit=1))["columns"][0] == "id"
    await db.ok("data_write", operation="drop_table", table="notes")
    await db.ok(
        "data_write",
        operation="create_table",
        table="notes",
        columns=[{"name": "label", "type": "text"}, {"name": "day", "type": "date"}],
    )
    await db.ok("data_write", operation="insert", table="notes", rows=[{"label": "new", "day": "2025-01-02"}])
    data = await db.ok("data_read", operation="select", table="notes")
    assert data["columns"] == ["label", "day"]
    assert data["rows"] == [["new", "2025-01-02"]]


async def test_a_table_created_outside_the_server_between_two_selects_is_found(
    db: Session, engine: str, workspace_url: str
) -> None:
    await make_notes(db)
    await db.ok("data_read", operation="select", table="notes", limit=1)
    await _create_view(engine, workspace_url, "CREATE TABLE outside (id int PRIMARY KEY, word text)")
    await _create_view(engine, workspace_url, "INSERT INTO outside VALUES (1, 'hello')")
    data = await db.ok("data_read", operation="select", table="outside")
    assert data["rows"] == [[1, "hello"]]


async def test_selects_of_other_columns_and_orders_of_one_table_do_not_mix(db: Session) -> None:
    await make_notes(db)
    first = await db.ok(
        "data_read", operation="select", table="notes", columns=["id"], order_by=[{"column": "id", "desc": True}]
    )
    titles = await db.ok("data_read", operation="select", table="notes", columns=["title"], limit=2)
    again = await db.ok(
        "data_read",
        operation="select",
        table="notes",
        columns=["id"],
        order_by=[{"column": "id", "desc": True}],
        offset=2,
    )
    assert first["rows"] == [[4], [3], [2], [1]]
    assert titles["rows"] == [["Alpha report"], ["Beta plan"]] and titles["next_offset"] == 2
    assert again["rows"] == [[2], [1]]


async def test_values_read_through_their_column_types_on_every_page(db: Session) -> None:
    await db.ok(
        "data_write",
        operation="create_table",
        table="typed",
        columns=[
            {"name": "id", "type": "integer", "primary_key": True},
            {"name": "flag", "type": "boolean"},
            {"name": "at", "type": "datetime"},
            {"name": "doc", "type": "json"},
            {"name": "blob", "type": "blob"},
        ],
    )
    rows = [
        {"id": 1, "flag": True, "at": "2024-05-01T12:30:00", "doc": '{"a": [1, "|"]}', "blob": "AAH/"},
        {"id": 2, "flag": None, "at": None, "doc": None, "blob": None},
    ]
    await db.ok("data_write", operation="insert", table="typed", rows=rows)
    for _ in range(2):  # the second select reuses what the first one prepared
        outcome = await db.call("data_read", operation="select", table="typed")
        assert outcome.data["rows"] == [
            [1, True, "2024-05-01T12:30:00", {"a": [1, "|"]}, "base64:AAH/"],
            [2, None, None, None, None],
        ]
        assert '1 | true | 2024-05-01T12:30:00 | {"a": [1, "\\|"]} | base64:AAH/' in outcome.text
        assert "2 | NULL | NULL | NULL | NULL" in outcome.text
    filtered = await db.ok(
        "data_read",
        operation="select",
        table="typed",
        columns=["id"],
        where=[{"column": "at", "op": ">", "value": "2024-05-01T00:00:00"}],
    )
    assert filtered["rows"] == [[1]]


async def test_a_refused_statement_stays_refused_when_sent_again(db: Session) -> None:
    await make_notes(db)
    for _ in range(2):
        await db.error("data_read", "PERMISSION_DENIED", operation="sql", sql="DELETE FROM notes")
    for score, note_id in ((10, 1), (20, 2)):
        data = await db.ok("data_read", operation="sql", sql="SELECT id FROM notes WHERE score = ?", params=[score])
        assert data["rows"] == [[note_id]]


async def test_the_byte_cap_counts_utf8_bytes_and_pages_exactly(connect, data_settings) -> None:
    async with connect(data_settings(max_result_bytes=1000)) as session:
        await session.ok("data_write", operation="create_table", table="words", columns=[{"name": "t", "type": "text"}])
        await session.ok("data_write", operation="insert", table="words", rows=[{"t": "é" * 150} for _ in range(10)])
        seen = 0
        offset: int | None = 0
        while offset is not None:
            page = await session.ok("data_read", operation="select", table="words", offset=offset)
            # each row is ["é"*150]: 300 bytes of text, 4 of JSON, 1 for the comma
            assert page["row_count"] == min(3, 10 - seen)
            seen += page["row_count"]
            offset = page["next_offset"]
        assert seen == 10
