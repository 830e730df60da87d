"""PostgreSQL reads call only functions known to just read, however the name is spelled.

Against a real PostgreSQL with the dblink extension installed: every spelling of a refused
function (Unicode escapes, UESCAPE, quoting, case, schema qualification, comments between
name and parenthesis, nested in CTEs, subqueries, LATERAL, ORDER BY, windows, casts) is
refused and changes nothing; ordinary reads keep working; an operator extends the list per
source; and a role with more rights than it needs is reported.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import asyncpg
import pytest

from mcp_workbench.data.pglex import Call, function_calls
from mcp_workbench.data.service import DataService
from mcp_workbench.platform.errors import InvalidInput
from mcp_workbench.server import build_server
from mcp_workbench.settings import ConfigError, Settings
from tests.support.data_source import fingerprint, make_notes
from tests.support.session import Session

pytestmark = pytest.mark.anyio

REFUSED = [
    "SELECT pg_read_file('PG_VERSION')",
    r"SELECT U&" + '"pg\\005fread\\005ffile"' + "('PG_VERSION')",
    "SELECT U&\"pg!005fread!005ffile\" UESCAPE '!' ('PG_VERSION')",
    r"SELECT u&" + '"\\+000070g_read_file"' + "('PG_VERSION')",
    "SELECT \"pg_read_file\"('PG_VERSION')",
    "SELECT PG_READ_FILE('PG_VERSION')",
    "SELECT pg_catalog.pg_read_file('PG_VERSION')",
    'SELECT "pg_catalog"."pg_read_file"(\'PG_VERSION\')',
    "SELECT pg_read_file/* a comment */('PG_VERSION')",
    "SELECT pg_read_file\n-- a line comment\n('PG_VERSION')",
    "SELECT E'\\'', pg_read_file('PG_VERSION') --'",
    "SELECT $$x$$, pg_read_file('PG_VERSION')",
    "SELECT 1 /* /* nested */ */, pg_read_file('PG_VERSION')",
    "WITH x AS (SELECT pg_read_file('PG_VERSION') AS v) SELECT * FROM x",
    "SELECT * FROM (SELECT pg_read_file('PG_VERSION')) s",
    "SELECT * FROM notes n, LATERAL (SELECT pg_read_file('PG_VERSION')) f",
    "SELECT * FROM notes ORDER BY pg_read_file('PG_VERSION')",
    "SELECT count(*) OVER (PARTITION BY pg_read_file('PG_VERSION')) FROM notes",
    "SELECT pg_read_file('PG_VERSION')::text",
    "SELECT CAST(pg_read_file('PG_VERSION') AS text)",
    "SELECT * FROM pg_ls_dir('.')",
    "SELECT * FROM notes t(a, b, c, d, e) JOIN pg_ls_dir('.') d ON true",
    "SELECT ts_stat('SELECT to_tsvector(title) FROM notes')",
    "SELECT * FROM ts_stat('SELECT to_tsvector(title) FROM notes')",
    "SELECT ts_rewrite('a'::tsquery, 'SELECT ''a''::tsquery, ''b''::tsquery')",
    "SELECT query_to_xml('SELECT 1', true, true, '')",
    "SELECT table_to_xml('notes', true, true, '')",
    "SELECT database_to_xml(true, true, '')",
    "SELECT cursor_to_xml('c', 1, true, true, '')",
    "SELECT dblink_exec('dbname=' || current_database(), 'CREATE TABLE pwned (a int)')",
    "SELECT public.dblink_exec('dbname=' || current_database(), 'CREATE TABLE pwned (a int)')",
    r"SELECT U&" + '"dblink\\005fexec"' + "('dbname=' || current_database(), 'CREATE TABLE pwned (a int)')",
    "SELECT * FROM dblink('dbname=' || current_database(), 'CREATE TABLE pwned (a int) ') AS t(x text)",
    "SELECT dblink_connect('x', 'dbname=' || current_database())",
    "SELECT pg_try_advisory_lock_shared(1)",
    "SELECT pg_advisory_lock(1)",
    "SELECT pg_advisory_xact_lock(1)",
    'SELECT "pg_try_advisory_lock"(2)',
    "SELECT pg_catalog.pg_advisory_lock_shared(3)",
    "SELECT id FROM notes WHERE pg_try_advisory_lock(id)",
    "SELECT pg_sleep(0)",
    "SELECT set_config('search_path', 'public', false)",
    "SELECT lo_import('/etc/passwd')",
    "SELECT nextval('notes_id_seq')",
    "SELECT \"PG_READ_FILE\"('PG_VERSION')",
    "SELECT double_it(2)",
    "SELECT public.upper('x')",
    "SELECT txid_current()",
]

READS = [
    ("SELECT upper(title), length(body), coalesce(score, 0) FROM notes ORDER BY id", 4),
    ("SELECT count(*), sum(score), avg(score), string_agg(title, ',' ORDER BY id) FROM notes", 1),
    ("SELECT id, rank() OVER (ORDER BY score DESC), lag(score) OVER w FROM notes WINDOW w AS (ORDER BY id)", 4),
    ("SELECT date_trunc('month', day::timestamp), extract(year FROM day), now() > day FROM notes", 4),
    ("SELECT jsonb_build_object('t', title), to_jsonb(n) FROM notes n", 4),
    ("SELECT to_tsvector('english', body) @@ plainto_tsquery('english', 'quarterly') FROM notes", 4),
    ("SELECT x FROM generate_series(1, 3) AS g(x)", 3),
    ("SELECT * FROM (VALUES (1), (2)) v(a)", 2),
    ("WITH t(a) AS (SELECT 1), u(b) AS NOT MATERIALIZED (SELECT 2) SELECT a, b FROM t, u", 1),
    ("SELECT title::varchar(5), CAST(score AS numeric(10, 2)), 'a'::character varying(3) FROM notes", 4),
    ('SELECT pg_catalog.upper(title), "upper"(title) FROM notes', 4),
    ("SELECT count(*) FILTER (WHERE score > 10) FROM notes", 1),
    ("SELECT title FROM notes WHERE title ILIKE 'a%' AND id IN (SELECT id FROM notes) AND EXISTS (SELECT 1)", 1),
    (
        (
            "SELECT greatest(1, 2), nullif(1, 1), substring('abc' FROM 2), trim(both ' ' FROM ' x '), "
            "position('b' IN 'abc'), overlay('abc' PLACING 'x' FROM 2)"
        ),
        1,
    ),
    ("SELECT id FROM notes TABLESAMPLE bernoulli (100) REPEATABLE (1)", 4),
    ("SELECT score, count(*) FROM notes GROUP BY ROLLUP (score)", 5),
    ("SELECT score, count(*) FROM notes GROUP BY GROUPING SETS ((score), ())", 5),
    ("SELECT 'pg_read_file(1)' AS s, $$dblink_exec('x')$$ AS d -- pg_sleep(1)", 1),
    ("SELECT 1 /* pg_sleep(1) /* nested */ pg_read_file('x') */", 1),
    ("SELECT current_setting('server_version_num'), version()", 1),
    ("SELECT n.id FROM notes n JOIN notes m USING (id) ORDER BY (n.score + 1) DESC NULLS LAST LIMIT (2)", 2),
    ("SELECT ARRAY(SELECT id FROM notes), ROW(1, 2), (SELECT max(id) FROM notes)", 1),
    ("SELECT x AT TIME ZONE 'UTC' FROM (SELECT now() AS x) t", 1),
    ("SELECT * FROM notes t(a, b) ORDER BY a", 4),
    ("EXPLAIN SELECT upper(title) FROM notes", None),
]


async def _install_dblink(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS dblink")
        await conn.execute(
            "CREATE FUNCTION public.double_it(x int) RETURNS int IMMUTABLE LANGUAGE sql AS 'SELECT 2 * x'"
        )
    finally:
        await conn.close()


async def _advisory_locks(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"))
    finally:
        await conn.close()


@pytest.fixture
async def pg_url(postgres_db_url: str) -> str:
    await _install_dblink(postgres_db_url)
    return postgres_db_url


@pytest.fixture
def pg_settings(make_settings: Callable[..., Settings], pg_url: str) -> Callable[..., Settings]:
    def make(**source: Any) -> Settings:
        return make_settings(data={"sources": {"workspace": {"url": pg_url, **source}}})

    return make


@pytest.fixture
async def pg(connect: Callable[[Settings], Any], pg_settings: Callable[..., Settings]) -> AsyncIterator[Session]:
    async with connect(pg_settings()) as opened:
        await make_notes(opened)
        yield opened


class TestRefusedSpellings:
    async def test_every_spelling_of_a_refused_function_is_refused_and_changes_nothing(
        self, pg: Session, pg_url: str
    ) -> None:
        before = await fingerprint(pg)
        for sql in REFUSED:
            outcome = await pg.call("data_read", operation="sql", sql=sql)
            assert outcome.is_error and outcome.code == "PERMISSION_DENIED", f"{sql!r}: {outcome.text}"
            assert outcome.data["recovery_steps"], sql
        assert await fingerprint(pg) == before
        tables = await pg.ok("data_read", operation="tables")
        assert "pwned" not in [t["name"] for t in tables["tables"]]
        assert await _advisory_locks(pg_url) == 0

    async def test_the_operator_cannot_allow_sql_running_connection_or_lock_functions(
        self, connect: Callable[[Settings], Any], pg_settings: Callable[..., Settings], pg_url: str
    ) -> None:
        allowed = ["dblink_exec", "public.dblink_exec", "dblink", "pg_advisory_lock", "ts_stat", "query_to_xml"]
        async with connect(pg_settings(allow_functions=allowed)) as session:
            for sql in (
                "SELECT dblink_exec('dbname=' || current_database(), 'CREATE TABLE pwned (a int)')",
                "SELECT public.dblink_exec('dbname=' || current_database(), 'CREATE TABLE pwned (a int)')",
                "SELECT * FROM dblink('dbname=' || current_database(), 'SELECT 1') AS t(a int)",
                "SELECT pg_advisory_lock(7)",
                "SELECT ts_stat('SELECT to_tsvector(''a'')')",
                "SELECT query_to_xml('SELECT 1', true, true, '')",
            ):
                await session.error("data_read", "PERMISSION_DENIED", operation="sql", sql=sql)
            tables = await session.ok("data_read", operation="tables")
            assert "pwned" not in [t["name"] for t in tables["tables"]]
        assert await _advisory_locks(pg_url) == 0


class TestReadsKeepWorking:
    async def test_ordinary_reads_run(self, pg: Session) -> None:
        for sql, rows in READS:
            outcome = await pg.call("data_read", operation="sql", sql=sql)
            assert not outcome.is_error, f"{sql!r}: {outcome.text}"
            if rows is not None:
                assert outcome.data["row_count"] == rows, sql

    async def test_a_unicode_escaped_name_of_an_allowed_function_resolves_to_it(self, pg: Session) -> None:
        data = await pg.ok(
            "data_read", operation="sql", sql='SELECT U&"\\0075pper"(title) AS t FROM notes WHERE id = 1'
        )
        assert data["rows"] == [["ALPHA REPORT"]]


class TestOperatorAllowList:
    async def test_own_functions_run_only_as_listed(
        self, connect: Callable[[Settings], Any], pg_settings: Callable[..., Settings]
    ) -> None:
        async with connect(pg_settings(allow_functions=["double_it"])) as session:
            assert (await session.ok("data_read", operation="sql", sql="SELECT double_it(21)"))["rows"] == [[42]]
            # listed unqualified: a schema-qualified call names another function
            await session.error("data_read", "PERMISSION_DENIED", operation="sql", sql="SELECT public.double_it(21)")
        async with connect(pg_settings(allow_functions=["public.double_it"])) as session:
            data = await session.ok("data_read", operation="sql", sql="SELECT public.double_it(21)")
            assert data["rows"] == [[42]]
            await session.error("data_read", "PERMISSION_DENIED", operation="sql", sql="SELECT double_it(21)")

    def test_an_entry_that_is_not_a_function_name_is_a_configuration_error(
        self, make_settings: Callable[..., Settings]
    ) -> None:
        for entry in ("a.b.c", "has space", "", 'quo"te'):
            with pytest.raises(ConfigError, match="allow_functions"):
                make_settings(data={"sources": {"x": {"url": "sqlite:///x.db", "allow_functions": [entry]}}})


class TestNameResolution:
    """The lexer resolves names as PostgreSQL does; what it cannot read that way it refuses."""

    @pytest.mark.parametrize(
        ("sql", "calls"),
        [
            (r'SELECT U&"\0070g_sleep"(1)', [Call(None, "pg_sleep")]),
            (r'SELECT U&"\+000070g_sleep"(1)', [Call(None, "pg_sleep")]),
            ("SELECT U&\"#0070g_sleep\" UESCAPE '#' (1)", [Call(None, "pg_sleep")]),
            ("SELECT U&\"#0070g_sleep\" /* c */ uescape '#' (1)", [Call(None, "pg_sleep")]),
            (r'SELECT U&"\D83D\DE00"(1)', [Call(None, "\U0001f600")]),
            ('SELECT "Pg_Sleep"(1), PG_SLEEP(1)', [Call(None, "Pg_Sleep"), Call(None, "pg_sleep")]),
            ('SELECT "a""b"(1)', [Call(None, 'a"b')]),
            ("SELECT \u212aelvin(1), ÄBC(1)", [Call(None, "\u212aelvin"), Call(None, "Äbc")]),
            ("SELECT PG_CATALOG.Upper(x)", [Call("pg_catalog", "upper")]),
            ('SELECT "s"."f"(1)', [Call("s", "f")]),
            ("SELECT 1_pg_sleep(1)", [Call(None, "pg_sleep")]),
            ("SELECT f(g(h(1)))", [Call(None, "f"), Call(None, "g"), Call(None, "h")]),
            ("SELECT 'f(1)', E'g(\\'1)', $t$h(1)$t$, $$i(1)$$ -- j(1)", []),
        ],
    )
    def test_calls_are_named_as_the_server_resolves_them(self, sql: str, calls: list[Call]) -> None:
        assert function_calls(sql) == calls

    @pytest.mark.parametrize(
        "sql",
        [
            r'SELECT U&"\DE00"(1)',  # a lone surrogate
            r'SELECT U&"\00"(1)',  # a short escape
            r'SELECT U&"\0000"(1)',  # NUL
            "SELECT U&\"x\" UESCAPE 'ab' (1)",
            "SELECT U&\"x\" UESCAPE '+' (1)",
            "SELECT a.b.c(1)",
            "SELECT 'unterminated",
            "SELECT 1 /* unterminated",
            "SELECT $q$ unterminated",
            'SELECT ""(1)',
            "SELECT \x00",
        ],
    )
    def test_what_cannot_be_read_as_the_server_would_is_refused(self, sql: str) -> None:
        with pytest.raises(InvalidInput):
            function_calls(sql)


class TestSqliteGuardUnchanged:
    """The allow-list is PostgreSQL's; SQLite keeps its parser check and its engine authorizer."""

    @pytest.fixture
    async def lite(
        self, connect: Callable[[Settings], Any], make_settings: Callable[..., Settings], tmp_path: Any
    ) -> AsyncIterator[Session]:
        settings = make_settings(data={"sources": {"workspace": {"url": f"sqlite:///{tmp_path / 'w.db'}"}}})
        async with connect(settings) as opened:
            await make_notes(opened)
            yield opened

    async def test_sqlite_file_and_extension_functions_stay_refused(self, lite: Session) -> None:
        for sql in (
            "SELECT load_extension('/tmp/x.so')",
            "SELECT \"load_extension\"('/tmp/x.so')",
            "SELECT LOAD_EXTENSION('/tmp/x.so')",
            "SELECT fts3_tokenizer('simple')",
            "SELECT readfile('/etc/passwd')",
        ):
            outcome = await lite.call("data_read", operation="sql", sql=sql)
            assert outcome.is_error and outcome.code in {"PERMISSION_DENIED", "READ_ONLY"}, f"{sql}: {outcome.text}"
        assert (await lite.ok("data_read", operation="sql", sql="SELECT upper(title) FROM notes"))["row_count"] == 4


class TestPrivilegeFindings:
    async def test_a_superuser_source_with_dblink_is_reported(self, pg_settings: Callable[..., Settings]) -> None:
        service = DataService(pg_settings().data_section())
        try:
            risks = {finding.risk for finding in await service.audit()}
        finally:
            await service.aclose()
        assert {"superuser", "dblink"} <= risks

    async def test_a_least_privilege_role_is_not_reported_until_given_more(
        self, make_settings: Callable[..., Settings], pg_url: str
    ) -> None:
        admin = await asyncpg.connect(pg_url)
        role = "wb_reader_" + pg_url.rsplit("/", 1)[1][-8:]
        try:
            await admin.execute(f"CREATE ROLE {role} LOGIN")
            await admin.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
            await admin.execute(
                "REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC"
            )  # dblink's functions are executable by everyone unless revoked
            url = pg_url.replace("postgres@", f"{role}@", 1)
            settings = make_settings(data={"sources": {"workspace": {"url": url}}})

            async def risks() -> set[str]:
                service = DataService(settings.data_section())
                try:
                    return {finding.risk for finding in await service.audit()}
                finally:
                    await service.aclose()

            assert await risks() == set()
            await admin.execute(f"GRANT pg_read_server_files TO {role}")
            await admin.execute(f"GRANT CREATE ON SCHEMA public TO {role}")
            await admin.execute(f"GRANT EXECUTE ON FUNCTION dblink_exec(text, text) TO {role}")
            assert await risks() == {"server_files", "create_schema", "dblink"}
        finally:
            await admin.execute(f"DROP OWNED BY {role}")
            await admin.execute(f"DROP ROLE {role}")
            await admin.close()

    async def test_start_up_warns_naming_the_source_and_the_remedy(self, pg_settings: Callable[..., Settings]) -> None:
        from fastmcp import Client

        warned = anyio.Event()
        records: list[logging.LogRecord] = []

        class Catch(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                records.append(record)
                warned.set()

        logger = logging.getLogger("mcp_workbench.data.privileges")
        handler = Catch(level=logging.WARNING)
        logger.addHandler(handler)
        try:
            async with Client(build_server(pg_settings())):
                with anyio.fail_after(30):
                    await warned.wait()
        finally:
            logger.removeHandler(handler)
        message = records[0].getMessage()
        assert "'workspace'" in message and "superuser" in message and "role" in message


class TestAllowListAgainstTheCatalog:
    """The built-in list names real functions of the server, and only known volatile ones."""

    VOLATILE_BUT_READ_ONLY = frozenset(
        {
            "clock_timestamp", "timeofday", "random", "gen_random_uuid", "pg_database_size", "pg_relation_size",
            "pg_table_size", "pg_indexes_size", "pg_total_relation_size", "pg_is_in_recovery", "pg_jit_available",
        }
    )  # fmt: skip

    async def test_every_listed_builtin_exists_and_volatile_ones_are_known(self, postgres_db_url: str) -> None:
        from mcp_workbench.data.pgfunctions import BUILTIN_ALLOWED, never_allowed

        conn = await asyncpg.connect(postgres_db_url)
        try:
            rows = await conn.fetch(
                "SELECT proname::text AS name, bool_or(provolatile = 'v') AS volatile FROM pg_proc "
                "WHERE pronamespace = 'pg_catalog'::regnamespace AND proname = ANY($1::text[]) GROUP BY proname",
                sorted(BUILTIN_ALLOWED),
            )
        finally:
            await conn.close()
        found = {row["name"]: row["volatile"] for row in rows}
        syntax = {"cube", "rollup", "bernoulli", "system"}  # GROUP BY CUBE/ROLLUP, TABLESAMPLE methods
        assert set(BUILTIN_ALLOWED) - set(found) <= syntax
        assert {name for name, volatile in found.items() if volatile} - syntax <= self.VOLATILE_BUT_READ_ONLY
        assert not [name for name in BUILTIN_ALLOWED if never_allowed(name)]
