"""Tool arguments for fuzzing: drawn from a tool's published input schema, then made hostile.

``schema_arguments`` follows the schema (hypothesis-jsonschema), one operation at a time, and
mostly swaps names for ones that exist (a real table, column, root, path), so generated calls get
past the name checks and reach the SQL, file and HTTP code underneath. ``invalid_arguments`` starts
from such an object and breaks it in one of the ways clients and models do: a wrong type, the
``operation`` missing or unknown, an unknown field, a string or list past its bound, deep
nesting, control characters and unusual unicode, SQL-ish and path-ish payloads.
"""

from __future__ import annotations

import copy
import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

# The in-process client serialises arguments with pydantic, which refuses very deep values; deeper
# nesting is sent as raw bytes by the protocol-level tests.
MAX_CLIENT_DEPTH = 120

SQLISH = (
    "' OR '1'='1",
    "1; DROP TABLE notes; --",
    'notes"; DROP TABLE notes; --',
    "Robert'); DROP TABLE students;--",
    "' UNION SELECT sql FROM sqlite_master --",
    "SELECT * FROM notes WHERE 1=1",
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
    "SELECT * FROM notes a, notes b, notes c, notes d, notes e, notes f, notes g",
    "SELECT load_extension('/tmp/x.so')",
    "ATTACH DATABASE '/tmp/evil.db' AS evil",
    "PRAGMA writable_schema = 1",
    "SELECT pg_sleep(30)",
    "SELECT * FROM notes FOR UPDATE",
    "EXPLAIN ANALYZE DELETE FROM notes",
    "SELECT $1, ?, :name, @v",
    "SELECT '\\' || char(0)",
    "sqlite_master",
    "information_schema.tables",
    "pg_catalog.pg_authid",
    "`notes`",
    "[notes]",
    '"notes"',
    "notes --",
    "%",
    "_",
    "\\",
    "::text",
    "/* */",
)
PATHISH = (
    "..",
    "../",
    "../../../../etc/passwd",
    "/etc/passwd",
    "..\\..\\windows\\win.ini",
    "C:\\Windows\\System32",
    "\\\\server\\share\\x",
    "~",
    "~/.ssh/id_rsa",
    "%2e%2e%2fetc%2fpasswd",
    "a/../../b",
    "src/../../outside/secret.txt",
    "./././a.txt",
    "//a.txt",
    "a.txt/",
    "a.txt/.",
    "link-out",
    "dir-out/secret.txt",
    "loop/loop/loop",
    "link-in",
    "/proc/self/environ",
    "file:///etc/passwd",
    "CON",
    "nul.txt",
    ".git/config",
    "*",
    "**/*",
    "[!a]*",
    "{a,b}",
    "a" * 300,
    "/".join(["d"] * 1200),
    "",
    " ",
)
UNICODE = (
    "\x00",
    "a\x00b",
    "\x01\x1f\x7f",
    "\u202etxt.exe",
    "\ufeffBOM",
    "\U0001f600 emoji",
    "e\u0301",
    "İı",
    "ß",
    "\u2028\u2029",
    "\uffff\ufffe",
    "\ud800",
    "\udfff lone",
    "\r\n\t",
    "ﬁ ligature",
    "Ω≈ç√",
    "\u0000" * 10,
)
URLISH = (
    "http://",
    "https://",
    "ftp://example.invalid/",
    "file:///etc/passwd",
    "gopher://127.0.0.1:70/",
    "javascript:alert(1)",
    "data:text/html,<script>",
    "http://[::1]/",
    "http://0/",
    "http://0x7f000001/",
    "http://2130706433/",
    "http://127.1/",
    "http://user:pass@private.test/",
    "http://private.test/",
    "http://meta.test/latest/meta-data/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fe80::1%25eth0]/",
    "http://a b/",
    "http://%00/",
    "//site.test/",
    "HTTP://SITE.TEST/",
    "http://site.test:99999/",
    "http://site.test:0/",
)
HOSTILE = SQLISH + PATHISH + UNICODE + URLISH


@dataclass
class Names:
    """Values that exist, per field name, so generated calls get past the name checks."""

    by_field: dict[str, list[Any]] = field(default_factory=dict)  # replace a generated value
    defaults: dict[str, list[Any]] = field(default_factory=dict)  # add where an operation has the field but omits it
    thinned: frozenset[str] = frozenset()  # drop half the time: filters and offsets that leave no row to read
    column_names: list[str] = field(default_factory=list)
    url: Callable[[str], str] | None = None  # makes a URL safe to fetch (no real network)


def _walk(value: Any, visit: Callable[[Any, Any, Any], None], parent: Any = None, key: Any = None) -> None:
    visit(parent, key, value)
    if isinstance(value, dict):
        for k, v in list(value.items()):
            _walk(v, visit, value, k)
    elif isinstance(value, list):
        for i, v in enumerate(list(value)):
            _walk(v, visit, value, i)


def _mostly() -> st.SearchStrategy[bool]:
    """True four times in five."""
    return st.integers(min_value=0, max_value=4).map(bool)


_SCALAR_OPS = ("=", "!=", "<", "<=", ">", ">=", "like")


def _consistent(condition: dict[str, Any]) -> dict[str, Any]:
    """A filter whose value fits its op (the flat schema cannot say that 'in' takes a list)."""
    op = condition.get("op", "=")
    value = condition.get("value")
    if op in ("is_null", "is_not_null"):
        condition.pop("value", None)
    elif op in ("in", "not_in"):
        condition["value"] = value if isinstance(value, list) and value else [value if value is not None else 1]
    else:
        if isinstance(value, list):
            value = value[0] if value else None
        if value is None:
            value = "%a%" if op == "like" else 1
        condition["value"] = str(value) if op == "like" else value
    return condition


@st.composite
def _realistic(
    draw: st.DrawFn, arguments: dict[str, Any], names: Names, fields: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """Mostly: swap generated names for existing ones, add the names an operation needs even where
    the schema leaves them optional (a table to select from, a root to read in, a path to write),
    and make filters consistent, so generated calls get past validation into the work itself."""
    arguments = copy.deepcopy(arguments)
    for name, candidates in names.by_field.items():
        if name in arguments and candidates and draw(_mostly()):
            arguments[name] = draw(st.sampled_from(candidates))
    for name, candidates in names.defaults.items():
        if name in fields and name not in arguments and draw(_mostly()):
            arguments[name] = copy.deepcopy(draw(st.sampled_from(candidates)))
    for name in sorted(names.thinned & set(arguments)):
        if draw(st.booleans()):
            del arguments[name]
    for condition in arguments.get("where", []) if isinstance(arguments.get("where"), list) else []:
        if isinstance(condition, dict):
            _consistent(condition)
    if names.column_names:
        spots: list[tuple[Any, Any]] = []
        renames: list[dict[str, Any]] = []

        def visit(parent: Any, key: Any, value: Any) -> None:
            if key == "column" and isinstance(value, str):
                spots.append((parent, key))
            if key == "columns" and isinstance(value, list) and all(isinstance(v, str) for v in value):
                spots.extend((value, i) for i in range(len(value)))
            if key == "values" and isinstance(value, dict):
                renames.append(value)
            if key == "rows" and isinstance(value, list):
                renames.extend(row for row in value if isinstance(row, dict))

        _walk(arguments, visit)
        for parent, key in spots:
            if draw(_mostly()):
                parent[key] = draw(st.sampled_from(names.column_names))
        for row in renames:
            for old in list(row):
                if draw(_mostly()):
                    row[draw(st.sampled_from(names.column_names))] = row.pop(old)
    if names.url is not None and isinstance(arguments.get("url"), str):
        arguments["url"] = names.url(arguments["url"])
    return arguments


def operation_schemas(schema: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The published schema split per operation.

    A portmanteau tool publishes one flat object; each field's description ends with the
    operations that use it, ``(operations: select, count)`` (no note: every operation). An
    object drawn from the flat schema nearly always mixes fields of several operations and is
    refused at once, so arguments are drawn per operation from the fields that operation has.
    """
    properties = dict(schema.get("properties", {}))
    operations = properties.get("operation", {}).get("enum")
    if not operations:
        return [dict(schema)]
    split = []
    for operation in operations:
        own: dict[str, Any] = {"operation": {"const": operation}}
        for name, field_schema in properties.items():
            note = re.search(r"\(operations: ([^)]*)\)", str(field_schema.get("description", "")))
            if name != "operation" and (note is None or operation in [o.strip() for o in note.group(1).split(",")]):
                own[name] = field_schema
        split.append({"type": "object", "properties": own, "required": ["operation"], "additionalProperties": False})
    return split


def schema_arguments(schema: Mapping[str, Any], names: Names) -> st.SearchStrategy[dict[str, Any]]:
    """Objects valid against the published schema (one operation's fields), names mostly made real."""
    return st.one_of(
        *(
            from_schema(part).flatmap(
                lambda arguments, own=frozenset(part["properties"]): _realistic(arguments, names, own)
            )
            for part in operation_schemas(schema)
        )
    )


def _string_spots(arguments: dict[str, Any]) -> list[tuple[Any, Any]]:
    spots: list[tuple[Any, Any]] = []

    def visit(parent: Any, key: Any, value: Any) -> None:
        if parent is not None and isinstance(value, str):
            spots.append((parent, key))

    _walk(arguments, visit)
    return spots


def _other_type(value: Any) -> st.SearchStrategy[Any]:
    choices: list[st.SearchStrategy[Any]] = [
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        st.booleans(),
        st.text(max_size=20),
        st.lists(st.integers(), max_size=3),
        st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    ]
    return st.one_of(*choices).filter(lambda other: type(other) is not type(value))


def _nested(depth: int, leaf: Any) -> Any:
    value = leaf
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


@st.composite
def invalid_arguments(
    draw: st.DrawFn, schema: Mapping[str, Any], names: Names, operations: list[str]
) -> dict[str, Any]:
    """A schema-valid object broken in one of the ways a client or a model breaks arguments."""
    arguments = copy.deepcopy(draw(schema_arguments(schema, names)))
    properties = dict(schema.get("properties", {}))
    kind = draw(
        st.sampled_from(
            [
                "wrong_type",
                "missing_required",
                "unknown_operation",
                "unknown_field",
                "huge_string",
                "huge_list",
                "deep_nesting",
                "hostile_string",
                "hostile_string",
                "hostile_name",
            ]
        )
    )
    if kind == "wrong_type" and arguments:
        key = draw(st.sampled_from(sorted(arguments)))
        arguments[key] = draw(_other_type(arguments[key]))
    elif kind == "missing_required":
        for key in schema.get("required", []):
            if draw(st.booleans()) or key == "operation":
                arguments.pop(key, None)
    elif kind == "unknown_operation" and operations:
        arguments["operation"] = draw(
            st.one_of(
                st.sampled_from(["", "SELECT", "drop", "select ", "Select", "__class__", "sources\x00"]),
                st.text(max_size=30),
                st.integers(),
                st.none(),
                st.lists(st.sampled_from(operations), min_size=1, max_size=2),
            )
        )
    elif kind == "unknown_field":
        key = draw(st.text(min_size=1, max_size=40).filter(lambda k: k not in properties))
        arguments[key] = draw(st.one_of(st.none(), st.integers(), st.text(max_size=50), st.sampled_from(HOSTILE)))
    elif kind == "huge_string":
        size = draw(st.sampled_from([4_097, 8_193, 100_001, 1_000_001, 3_000_000]))
        chunk = draw(st.sampled_from(["A", "é", "\x00", "../", "' OR 1=1 --", "\U0001f600"]))
        huge = (chunk * (size // len(chunk) + 1))[:size]
        spots = _string_spots(arguments)
        if spots and draw(st.booleans()):
            parent, key = draw(st.sampled_from(spots))
            parent[key] = huge
        else:
            arguments[draw(st.sampled_from(sorted(properties) or ["x"]))] = huge
    elif kind == "huge_list":
        size = draw(st.sampled_from([51, 501, 1_001, 100_001]))
        item = draw(st.sampled_from([{"column": "id", "op": "=", "value": 1}, {"id": 1}, "id", 1, None]))
        target = draw(st.sampled_from(sorted(properties) or ["x"]))
        arguments[target] = [copy.deepcopy(item) for _ in range(size)]
    elif kind == "deep_nesting":
        target = draw(st.sampled_from(sorted(properties) or ["x"]))
        arguments[target] = _nested(draw(st.integers(min_value=20, max_value=MAX_CLIENT_DEPTH)), "leaf")
    elif kind in ("hostile_string", "hostile_name"):
        spots = _string_spots(arguments)
        payload = draw(st.one_of(st.sampled_from(HOSTILE), st.text(alphabet=st.characters(codec=None), max_size=30)))
        if kind == "hostile_name" or not spots:
            target = draw(
                st.sampled_from(
                    [k for k in ("table", "source", "path", "root", "sql", "query", "url", "column") if k in properties]
                    or sorted(properties)
                    or ["x"]
                )
            )
            arguments[target] = payload
        else:
            parent, key = draw(st.sampled_from(spots))
            parent[key] = payload
    if names.url is not None and isinstance(arguments.get("url"), str):
        arguments["url"] = names.url(arguments["url"])
    return arguments


# Hosts that never need the network: the loopback site's name, names fixed to refused addresses,
# and numeric spellings of non-public addresses (getaddrinfo parses those without DNS).
_OFFLINE_HOSTS = frozenset({"0", "0x7f000001", "2130706433", "127.1"})


def _offline(host: str, known: set[str]) -> bool:
    if host in known or host in _OFFLINE_HOSTS:
        return True
    try:
        return not ipaddress.ip_address(host.strip("[]").split("%", 1)[0]).is_global
    except ValueError:
        return False


def safe_url_rewriter(site_netloc: str, blocked_hosts: list[str]) -> Callable[[str], str]:
    """Keep the fuzzed server off the real network: an http(s) URL whose host is not known to be
    offline (the loopback site by its ``[web] resolve`` name, names fixed to refused addresses,
    non-public IP literals) gets one of those hosts instead. Odd paths and queries are kept."""
    targets = [site_netloc, site_netloc, *blocked_hosts]
    known = {site_netloc.split(":", 1)[0], *blocked_hosts}

    def rewrite(url: str) -> str:
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
        except ValueError:
            return url  # unparseable here; the server must refuse it too (VALIDATION_ERROR)
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc or _offline(host, known):
            return url
        target = targets[sum(map(ord, parts.netloc)) % len(targets)]
        return urlunsplit(("http", target, parts.path, parts.query, parts.fragment))

    return rewrite
