"""Whether a source connects with more rights than reads and writes of its tables need.

The read guard and the read-only transaction are layers over the database's own
permissions, not a replacement for them: a role that is a superuser, may read or write the
server's files, run programs on it, create functions, or call ``dblink`` turns any gap in the
layers above into a breach. The README asks for a least-privilege role; :func:`audit` notices
when a source was not given one. Start-up logs its findings as warnings; a ``doctor`` command
can show the same typed findings.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mcp_workbench.data.sources import Source
from mcp_workbench.platform.errors import WorkbenchError

log = logging.getLogger(__name__)

LEAST_PRIVILEGE = (
    "Connect this source as a role made for it: not a superuser, no pg_read_server_files / "
    "pg_write_server_files / pg_execute_server_program membership, no CREATE on any schema, "
    "SELECT (and for writes INSERT/UPDATE/DELETE) on its tables only, and no EXECUTE on dblink."
)

_QUERY = """
SELECT r.rolsuper,
       pg_has_role(current_user, 'pg_read_server_files', 'MEMBER'),
       pg_has_role(current_user, 'pg_write_server_files', 'MEMBER'),
       pg_has_role(current_user, 'pg_execute_server_program', 'MEMBER'),
       ARRAY(SELECT n.nspname::text FROM pg_namespace n
             WHERE has_schema_privilege(n.oid, 'CREATE')
               AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
             ORDER BY 1),
       ARRAY(SELECT DISTINCT p.proname::text FROM pg_proc p
             WHERE p.proname LIKE 'dblink%' AND has_function_privilege(p.oid, 'EXECUTE')
               AND p.proname IN ('dblink', 'dblink_exec', 'dblink_connect', 'dblink_connect_u',
                                 'dblink_send_query', 'dblink_open')
             ORDER BY 1),
       current_setting('standard_conforming_strings'),
       current_user::text
FROM pg_roles r WHERE r.rolname = current_user
"""


@dataclass(frozen=True)
class Finding:
    """One risk in how a source is connected."""

    source: str
    risk: str  # superuser | server_files | server_program | create_schema | dblink | backslash_strings | unchecked
    message: str
    remedy: str = LEAST_PRIVILEGE


async def audit(source: Source) -> list[Finding]:
    """What the source's role may do beyond reading and writing its tables (PostgreSQL)."""
    if source.dialect != "postgresql":
        return []
    try:
        async with source.reading() as conn:
            row: Sequence[Any] = (await conn.exec_driver_sql(_QUERY)).one()  # Row[Any] would be one column
    except WorkbenchError as exc:
        return [Finding(source.name, "unchecked", f"the role's rights could not be checked: {exc.message}")]
    superuser, read_files, write_files, program, create_in, dblink, conforming, role = row
    name = source.name
    found: list[Finding] = []
    if superuser:
        found.append(
            Finding(name, "superuser", f"connects as superuser {role!r}: it may read and write any file, run programs")
        )
    if not superuser and (read_files or write_files):
        found.append(Finding(name, "server_files", f"role {role!r} may read or write the database server's files"))
    if not superuser and program:
        found.append(Finding(name, "server_program", f"role {role!r} may run programs on the database server"))
    if create_in and not superuser:
        found.append(
            Finding(
                name,
                "create_schema",
                f"role {role!r} may create objects (functions, operators) in schema(s) {', '.join(create_in)}",
            )
        )
    if dblink:
        found.append(
            Finding(
                name,
                "dblink",
                f"dblink is installed and role {role!r} may call {', '.join(dblink)}: "
                "it opens other sessions that are not read-only (reads refuse it; the role should not have it)",
                remedy="REVOKE EXECUTE on the dblink functions from this role (or drop the extension). "
                + LEAST_PRIVILEGE,
            )
        )
    if conforming != "on":
        found.append(
            Finding(
                name,
                "backslash_strings",
                "standard_conforming_strings is off: backslashes escape in plain strings",
                remedy="Set standard_conforming_strings = on (the default) for this database or role.",
            )
        )
    return found


_WRITABLE_TABLES = """
SELECT n.nspname::text || '.' || c.relname::text
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
  AND (has_table_privilege(c.oid, 'INSERT') OR has_table_privilege(c.oid, 'UPDATE')
       OR has_table_privilege(c.oid, 'DELETE') OR has_table_privilege(c.oid, 'TRUNCATE'))
ORDER BY 1
LIMIT $1
"""


async def writable_tables(source: Source, limit: int = 20) -> list[str]:
    """Tables the source's role may change (PostgreSQL; at most ``limit``, as ``schema.table``).

    A source configured ``read_only`` is read-only in the server whatever its role may do; a
    role that may also write keeps that promise only as long as the server's layers hold, so
    for a read-only source this list should be empty.
    """
    if source.dialect != "postgresql":
        return []
    async with source.reading() as conn:
        rows = (await conn.exec_driver_sql(_WRITABLE_TABLES, (limit,))).all()
    return [row[0] for row in rows]


def log_findings(findings: list[Finding]) -> None:
    for finding in findings:
        log.warning(
            "data source %r: %s. %s",
            finding.source,
            finding.message,
            finding.remedy,
            extra={"source": finding.source, "risk": finding.risk},
        )
