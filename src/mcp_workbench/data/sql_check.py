"""Classifying caller-written SQL before it runs: one statement, read-only kinds only.

This is the first of two layers; the second is the engine (a read-only transaction, a
``query_only`` connection), so a statement this parser misjudges still cannot write. The
checks: exactly one statement; its root is SELECT / set operation / VALUES, or EXPLAIN of
one; no write, DDL, PRAGMA, ATTACH, COPY or transaction control anywhere in the tree (a
``WITH x AS (DELETE ...)`` is caught); no ``SELECT ... INTO``; no locking reads. Functions:
on PostgreSQL only those on an allow-list, judged on the names the server will resolve
(:mod:`pgfunctions`, :mod:`pglex`); on SQLite none of the few that reach files or load code
(the engine's authorizer refuses them again, by the name SQLite resolved).
"""

from __future__ import annotations

import difflib
import itertools
import logging
import re
from dataclasses import dataclass

import sqlglot
from sqlglot import Token, TokenType, exp
from sqlglot.errors import ParseError, TokenError

from mcp_workbench.data import pgfunctions
from mcp_workbench.data.pglex import function_calls
from mcp_workbench.platform.errors import InvalidInput, PermissionDenied

# sqlglot warns on stderr-bound logging about syntax it drops (e.g. FOR UPDATE); we check
# those tokens ourselves, so its warnings are noise.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

_DIALECTS = {"sqlite": "sqlite", "postgresql": "postgres"}

_FORBIDDEN_NODES = tuple(
    cls
    for name in (
        "Insert", "Update", "Delete", "Merge", "Create", "Drop", "Alter", "Command", "Pragma",
        "Attach", "Detach", "Copy", "Set", "Transaction", "Commit", "Rollback", "Use", "Grant",
        "Revoke", "LoadData", "TruncateTable", "Into", "Lock",
    )
    if (cls := getattr(exp, name, None)) is not None
)  # fmt: skip
_ALLOWED_ROOTS = tuple(
    cls for name in ("Select", "SetOperation", "Union", "Intersect", "Except", "Values", "Subquery")
    if (cls := getattr(exp, name, None)) is not None
)  # fmt: skip
FORBIDDEN_FUNCTIONS = frozenset(
    {
        # PostgreSQL: server files, large objects, other sessions, configuration, dynamic SQL
        "pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file", "pg_ls_logdir",
        "pg_ls_waldir", "pg_ls_tmpdir", "pg_ls_archive_statusdir", "lo_import", "lo_export",
        "lo_get", "lo_put", "lo_create", "lo_unlink", "lo_from_bytea", "pg_terminate_backend",
        "pg_cancel_backend", "pg_reload_conf", "pg_rotate_logfile", "set_config",
        "pg_advisory_lock", "pg_advisory_xact_lock", "pg_try_advisory_lock", "pg_sleep",
        "pg_sleep_for", "pg_sleep_until", "dblink", "dblink_exec", "dblink_connect",
        "query_to_xml", "query_to_xml_and_xmlschema", "query_to_xmlschema", "cursor_to_xml",
        "table_to_xml", "database_to_xml", "schema_to_xml", "pg_file_write", "pg_file_rename",
        "pg_file_unlink", "pg_logdir_ls", "pg_notify", "txid_current", "pg_current_xact_id",
        "nextval", "setval", "pg_switch_wal", "pg_create_restore_point",
        # SQLite: extensions and files
        "load_extension", "readfile", "writefile", "edit", "fts3_tokenizer",
    }
)  # fmt: skip
# EXPLAIN [QUERY PLAN] [ANALYZE] [VERBOSE] [(option, ...)]: the statement after it is checked.
_EXPLAIN = re.compile(
    r"^\s*EXPLAIN(?:\s+QUERY\s+PLAN)?(?:\s+ANALYZE)?(?:\s+VERBOSE)?(?:\s*\([\w\s,]*\))?\s+", re.IGNORECASE
)
# Statements refused by their first word, whatever the engine would make of the rest.
_WRITE_OR_ADMIN_KEYWORDS = frozenset(
    {"INSERT", "UPDATE", "DELETE", "MERGE", "UPSERT", "REPLACE", "CREATE", "DROP", "ALTER", "TRUNCATE",
     "PRAGMA", "ATTACH", "DETACH", "COPY", "VACUUM", "REINDEX", "ANALYZE", "BEGIN", "START", "COMMIT",
     "END", "ROLLBACK", "SAVEPOINT", "RELEASE", "SET", "RESET", "GRANT", "REVOKE", "CALL", "DO", "LOCK",
     "LISTEN", "NOTIFY", "UNLISTEN", "LOAD", "REFRESH", "CLUSTER", "DISCARD", "PREPARE", "EXECUTE",
     "DEALLOCATE", "CHECKPOINT", "COMMENT", "SECURITY", "IMPORT", "USE", "SHOW"}
)  # fmt: skip
_LOCKING = frozenset({"UPDATE", "SHARE", "NO", "KEY"})

_REFUSE_STEPS = (
    "data_read 'sql' runs one read-only statement: SELECT, WITH ... SELECT, VALUES, or EXPLAIN of those.",
    "For changes use data_write (insert, update, delete, create_table, drop_table).",
)


@dataclass(frozen=True)
class CheckedSql:
    """A statement that passed the checks, ready for the driver."""

    sql: str  # without a trailing semicolon, placeholders in the driver's style
    explain: bool  # EXPLAIN output is not wrapped in a row-capping subquery
    placeholders: int


def check_read_only(sql: str, dialect: str, allow_functions: frozenset[str] = frozenset()) -> CheckedSql:
    """Return the statement prepared for execution, or raise a WorkbenchError saying why not.

    ``allow_functions`` are the source's own functions a read may call besides the built-in
    allow-list (PostgreSQL; see :mod:`pgfunctions`).
    """
    explain = _EXPLAIN.match(sql)
    prefix = explain.group(0) if explain else ""
    body = sql[len(prefix) :]
    read = _DIALECTS[dialect]
    try:
        tokens = list(sqlglot.Dialect.get_or_raise(read).tokenize(body))
    except TokenError as exc:
        raise _syntax(str(exc)) from None
    tokens = _strip_trailing_semicolons(tokens)
    if not tokens:
        what = "EXPLAIN needs a statement to explain" if explain else "the SQL statement is empty"
        raise InvalidInput(what, recovery_steps=list(_REFUSE_STEPS))
    if any(t.token_type == TokenType.SEMICOLON for t in tokens):
        raise PermissionDenied(
            "only one SQL statement per call is allowed",
            recovery_steps=["Send one statement per call, without ';' between statements."],
        )
    leading = tokens[0].text.upper()
    if leading in _WRITE_OR_ADMIN_KEYWORDS:
        raise PermissionDenied(
            f"{leading} statements are not allowed in data_read 'sql'",
            recovery_steps=list(_REFUSE_STEPS),
            details={"statement": leading},
        )
    body = body[tokens[0].start : tokens[-1].end + 1]
    if dialect == "postgresql":
        _refuse_unlisted_functions(body, allow_functions)
    tokens = list(sqlglot.Dialect.get_or_raise(read).tokenize(body))
    _refuse_locking(tokens)
    try:
        statements = [s for s in sqlglot.parse(body, read=read) if s is not None and not isinstance(s, exp.Semicolon)]
    except ParseError as exc:
        raise _parse_problem(exc.errors[0] if exc.errors else {"description": str(exc)}, leading) from None
    if len(statements) != 1:
        raise PermissionDenied("only one SQL statement per call is allowed", recovery_steps=list(_REFUSE_STEPS))
    _refuse_unsafe(statements[0])
    prepared, count = _placeholders(body, tokens, dialect)
    return CheckedSql(sql=prefix.lstrip() + prepared, explain=bool(explain), placeholders=count)


_READ_STARTS = ("SELECT", "WITH", "VALUES", "TABLE", "EXPLAIN")
_CLAUSES = frozenset(
    {"SELECT", "FROM", "WHERE", "JOIN", "GROUP", "HAVING", "ORDER", "LIMIT", "OFFSET", "WITH", "VALUES"}
)
# sqlglot's descriptions name its own classes ("Required keyword: 'this' missing for <class
# 'sqlglot.expressions.query.Where'>"); the caller is told in SQL's words instead.
_LIBRARY_WORDS = re.compile(r"Required keyword: '\w+' missing for <class '[\w.]*?(\w+)'>")


def _parse_problem(error: dict[str, object], leading: str) -> InvalidInput:
    """A parse error as the caller can act on it: where (line, column, the words around it) and
    a plain hint, never the parser's internals."""
    description = str(error.get("description") or "")
    if missing := _LIBRARY_WORDS.search(description):
        clause = missing.group(1).upper()
        problem = f"an incomplete {clause} clause" if clause in _CLAUSES else "an incomplete expression"
    elif description.startswith("Invalid expression / Unexpected token"):
        problem = "an unexpected word"
    else:
        problem = re.sub(r"<class '[^']*'>", "an expression", description) or "a syntax error"
    near = str(error.get("highlight") or "")
    line, column = error.get("line"), error.get("col")
    where = f" near '{near[:40]}' (line {line}, column {column})" if near and line else ""
    steps = ["Fix the SQL at that place and call again."]
    if leading not in _READ_STARTS and not leading.startswith("("):
        guess = difflib.get_close_matches(leading, _READ_STARTS, n=1)
        steps.insert(0, f"A read starts with SELECT, WITH or VALUES{f' (did you mean {guess[0]}?)' if guess else ''}.")
    context = f"{error.get('start_context') or ''}{near}{error.get('end_context') or ''}"
    return InvalidInput(
        f"the SQL could not be parsed: {problem}{where}",
        recovery_steps=steps,
        details={"line": line, "column": column, "near": near[:80], "context": context[:200]},
    )


def _syntax(message: str) -> InvalidInput:
    return InvalidInput(
        f"the SQL could not be parsed: {message}",
        recovery_steps=["Fix the SQL syntax and call again."],
        details={"reason": message[:300]},
    )


def _strip_trailing_semicolons(tokens: list[Token]) -> list[Token]:
    while tokens and tokens[-1].token_type == TokenType.SEMICOLON:
        tokens = tokens[:-1]
    return tokens


def _refuse_locking(tokens: list[Token]) -> None:
    for current, following in itertools.pairwise(tokens):
        if current.text.upper() == "FOR" and following.text.upper() in _LOCKING:
            raise PermissionDenied(
                "locking reads (FOR UPDATE / FOR SHARE) are not allowed",
                recovery_steps=["Remove the FOR UPDATE/SHARE clause; reads here never lock rows."],
            )


def _refuse_unsafe(statement: exp.Expr) -> None:
    if not isinstance(statement, _ALLOWED_ROOTS):
        raise PermissionDenied(
            f"{statement.key.upper()} statements are not allowed in data_read 'sql'",
            recovery_steps=list(_REFUSE_STEPS),
            details={"statement": statement.key.upper()},
        )
    for node in statement.walk():
        if isinstance(node, _FORBIDDEN_NODES):
            raise PermissionDenied(
                f"the statement contains {node.key.upper()}, which can change data or the server",
                recovery_steps=list(_REFUSE_STEPS),
                details={"found": node.key.upper()},
            )
        if isinstance(node, exp.Select) and node.args.get("into") is not None:
            raise PermissionDenied(
                "SELECT ... INTO creates a table; it is not allowed", recovery_steps=list(_REFUSE_STEPS)
            )
        if isinstance(node, exp.Func):
            name = (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).lower()
            if name in FORBIDDEN_FUNCTIONS:
                raise PermissionDenied(
                    f"the function {name}() is not allowed",
                    recovery_steps=["Remove that function; it reaches outside the data (files, sessions, settings)."],
                    details={"function": name},
                )


def _refuse_unlisted_functions(sql: str, allow_functions: frozenset[str]) -> None:
    """PostgreSQL: every function the statement calls, as the server will resolve its name,
    must be on the allow-list (a parser's view of the names can be spelled around)."""
    for call in function_calls(sql):
        reason = pgfunctions.refusal(call, allow_functions)
        if reason is None:
            continue
        steps = ["Remove that function call; data_read 'sql' calls only functions that just read."]
        if not pgfunctions.never_allowed(call.name):
            steps.append(
                "If it is the database's own function and only reads, the operator can add it to this "
                "source's allow_functions setting."
            )
        raise PermissionDenied(
            f"the function {call}() is not allowed in a read: {reason}",
            recovery_steps=steps,
            details={"function": str(call)},
        )


def _placeholders(sql: str, tokens: list[Token], dialect: str) -> tuple[str, int]:
    """Count ``?`` placeholders; on PostgreSQL rewrite them to ``$1, $2, ...`` (asyncpg's style)."""
    marks = [t for t in tokens if t.token_type == TokenType.PLACEHOLDER and t.text == "?"]
    dollars = [t for t in tokens if t.token_type == TokenType.PARAMETER or t.text.startswith("$")]
    if dialect != "postgresql":
        return sql[: tokens[-1].end + 1], len(marks)
    if marks and dollars:
        raise InvalidInput("use either ? or $1-style placeholders, not both", recovery_steps=["Use ? placeholders."])
    if not marks:
        numbers = {t.text for t in dollars}
        return sql[: tokens[-1].end + 1], len(numbers)
    pieces: list[str] = []
    cursor = 0
    for number, mark in enumerate(marks, start=1):
        pieces.append(sql[cursor : mark.start])
        pieces.append(f"${number}")
        cursor = mark.end + 1
    pieces.append(sql[cursor : tokens[-1].end + 1])
    return "".join(pieces), len(marks)
