"""Which functions a PostgreSQL statement calls, read with PostgreSQL's own lexical rules.

A guard that judges function names must see the names the server will resolve, not what a
general-purpose parser makes of the text: ``U&"pg\\005fread\\005ffile"`` is ``pg_read_file``
to PostgreSQL, ``"Upper"`` is not ``upper``, ``pg_read_file/**/(...)`` is still a call, and a
name inside a string, a dollar-quoted body or a nested comment is not one. So this module
lexes the statement as PostgreSQL's scanner does (``src/backend/parser/scan.l``): unquoted
names fold ASCII letters only, quoted names keep their case, Unicode escapes (``\\XXXX``,
``\\+XXXXXX``, ``UESCAPE``) are resolved, comments nest. Anything it cannot lex the way the
server would is refused rather than guessed.

A call is a name (optionally qualified) followed by ``(``, except where PostgreSQL's grammar
makes that ``(`` something else: after a reserved or column-name keyword (``IN (``,
``CAST (``, ``COALESCE (``, ``varchar(10)``), after ``::`` or ``AS`` (a type, an alias's
column list), after ``)`` (``t(a, b)`` aliasing a subquery, ``OVER (``), a table alias's
column list (``FROM t x(a)``), a CTE's column list (``WITH x(a) AS (``). When in doubt the
name is reported as a call, so a mistake here refuses a query; it never lets a call through.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mcp_workbench.platform.errors import InvalidInput


def words(text: str) -> frozenset[str]:
    """The names in a whitespace-separated list."""
    return frozenset(text.split())


# PostgreSQL 15's keywords that are never a plain function name before "(" (pg_get_keywords():
# catcode R, reserved; C, column-name keywords, which have their own call syntax or are types).
_RESERVED = words(
    """
    all analyse analyze and any array as asc asymmetric both case cast check collate column constraint create
    current_catalog current_date current_role current_time current_timestamp current_user default deferrable desc
    distinct do else end except false fetch for foreign from grant group having in initially intersect into lateral
    leading limit localtime localtimestamp not null offset on only or order placing primary references returning
    select session_user some symmetric table then to trailing true union unique user using variadic when where
    window with
    """
)
_COLUMN_NAME_KEYWORDS = words(
    """
    between bigint bit boolean char character coalesce dec decimal exists extract float greatest grouping inout int
    integer interval least national nchar none normalize nullif numeric out overlay position precision real row
    setof smallint substring time timestamp treat trim values varchar xmlattributes xmlconcat xmlelement xmlexists
    xmlforest xmlnamespaces xmlparse xmlpi xmlroot xmlserialize xmltable
    """
)
# Type-or-function-name keywords that before "(" are join or predicate syntax (JOIN (subquery),
# LIKE (pattern)); a function of one of these names would have to be created by the owner.
_SYNTAX_TYPE_FUNC_KEYWORDS = words(
    "authorization binary concurrently cross freeze full ilike inner is isnull join natural notnull outer similar "
    "tablesample verbose"
)
_NOT_A_CALL_BEFORE = _RESERVED | _COLUMN_NAME_KEYWORDS | _SYNTAX_TYPE_FUNC_KEYWORDS
# Unreserved words that before "(" are syntax when the word before them is one of these:
# ORDER BY (a + b), GROUPING SETS (...), FETCH FIRST (n), character varying(10), AT TIME ZONE (z),
# AS NOT MATERIALIZED (...). OPERATOR(schema.op) names an operator wherever it appears.
_SYNTAX_AFTER: dict[str, frozenset[str]] = {
    "by": frozenset({"order", "group", "partition"}),
    "sets": frozenset({"grouping"}),
    "first": frozenset({"fetch"}),
    "next": frozenset({"fetch"}),
    "varying": frozenset({"character", "char", "bit", "nchar"}),
    "zone": frozenset({"time"}),
    "materialized": frozenset({"as", "not"}),
}
_ALWAYS_SYNTAX = frozenset({"operator"})
# Where "name alias(" is a table alias with a column list: FROM t x(a), JOIN s.t x(a), FROM a, b x(a)
_TABLE_LIST = frozenset({"from", "join", "only", ","})

_SPACE = " \t\n\r\f\v"
_SKIP = re.compile(r"[ \t\n\r\f\v]+|--[^\r\n]*")
_OP_CHARS = frozenset("+-*/<>=~!@#%^&|`?")
_DOLLAR_TAG = re.compile(r"\$([A-Za-z_\x80-\U0010ffff][A-Za-z0-9_\x80-\U0010ffff]*)?\$")
_PARAM = re.compile(r"\$[0-9]+")
_NUMBER = re.compile(
    r"(?:0[xX][0-9A-Fa-f_]+|0[oO][0-7_]+|0[bB][01_]+"
    r"|(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)(?:[eE][+-]?[0-9]+)?)"
)
_HEX = frozenset("0123456789abcdefABCDEF")
# Unquoted names take any non-ASCII character, as PostgreSQL's scanner takes any high-bit byte.
_PATTERNS = (
    ("word", re.compile(r"[A-Za-z_\x80-\U0010ffff][A-Za-z0-9_$\x80-\U0010ffff]*")),
    ("number", _NUMBER),
    ("::", re.compile("::")),
    ("punct", re.compile(r"[(),;\[\]:.]")),
)


@dataclass(frozen=True)
class Tok:
    kind: str  # "word" | "ident" (quoted) | "string" | "number" | "param" | "op" | punctuation itself
    text: str  # word: ASCII-folded; ident: the resolved name; op/punctuation: as written

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.text in words


@dataclass(frozen=True)
class Call:
    """A function call as PostgreSQL will resolve it: the schema (if written) and the name."""

    schema: str | None
    name: str

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name


def function_calls(sql: str) -> list[Call]:
    """Every function call in the statement, in order; InvalidInput when it cannot be lexed."""
    tokens = tokenize(sql)
    calls = []
    for index, token in enumerate(tokens):
        if token.kind == "(" and (call := _call_before(tokens, index)) is not None:
            calls.append(call)
    return calls


def _call_before(tokens: list[Tok], paren: int) -> Call | None:
    if paren == 0 or tokens[paren - 1].kind not in ("word", "ident"):
        return None
    start, parts = _name_chain(tokens, paren - 1)
    last = parts[-1]
    before = tokens[start - 1] if start > 0 else None
    if len(parts) == 1 and last.kind == "word":
        if last.text in _NOT_A_CALL_BEFORE or last.text in _ALWAYS_SYNTAX:
            return None
        if before is not None and before.kind == "word" and before.text in _SYNTAX_AFTER.get(last.text, ()):
            return None
    if before is not None and len(parts) == 1:
        if before.kind in (")", "::") or before.is_word("as"):
            return None  # a subquery's or function's alias column list, OVER (...), a type's modifier
        if before.kind in ("word", "ident") and _is_table_alias(tokens, start - 1):
            return None
        if (before.kind == "," or before.is_word("with", "recursive")) and _cte_columns(tokens, paren):
            return None
    if before is not None and before.kind == ".":
        raise _unlexable("a function name qualified by an expression")
    if len(parts) > 2:
        raise _unlexable(f"the function name {'.'.join(p.text for p in parts)} (qualified by a database)")
    return Call(schema=parts[0].text if len(parts) == 2 else None, name=last.text)


def _name_chain(tokens: list[Tok], end: int) -> tuple[int, list[Tok]]:
    """The qualified name ending at ``end`` (``a . b . c``): its first index and its parts."""
    start = end
    parts = [tokens[end]]
    while start >= 2 and tokens[start - 1].kind == "." and tokens[start - 2].kind in ("word", "ident"):
        start -= 2
        parts.insert(0, tokens[start])
    return start, parts


def _is_table_alias(tokens: list[Tok], table_end: int) -> bool:
    """Whether the name ending at ``table_end`` is a table in a FROM list (so what follows it is
    that table's alias): the name is no keyword and FROM, JOIN, ONLY or ',' comes before it."""
    start, parts = _name_chain(tokens, table_end)
    if start == 0 or any(p.kind == "word" and p.text in _NOT_A_CALL_BEFORE for p in parts):
        return False
    before = tokens[start - 1]
    return before.kind == "," or before.is_word(*_TABLE_LIST)


def _cte_columns(tokens: list[Tok], paren: int) -> bool:
    """``name ( a, b ) AS [NOT] [MATERIALIZED] (`` — a CTE's column list, not a call."""
    depth = 0
    for index in range(paren, len(tokens)):
        kind = tokens[index].kind
        if kind == "(":
            depth += 1
        elif kind == ")":
            depth -= 1
            if depth == 0:
                rest = [t for t in tokens[index + 1 : index + 5]]
                if not rest or not rest[0].is_word("as"):
                    return False
                rest = rest[1:]
                while rest and rest[0].is_word("not", "materialized"):
                    rest = rest[1:]
                return bool(rest) and rest[0].kind == "("
    return False


def tokenize(sql: str) -> list[Tok]:
    """The statement's tokens as PostgreSQL's scanner sees them, comments and spaces dropped."""
    tokens: list[Tok] = []
    i, n = 0, len(sql)
    while i < n:
        token, i = _next(sql, i)
        if token is not None:
            tokens.append(token)
    return tokens


def _next(sql: str, i: int) -> tuple[Tok | None, int]:
    if match := _SKIP.match(sql, i):
        return None, match.end()
    if sql.startswith("/*", i):
        return None, _skip_block_comment(sql, i)
    c = sql[i]
    prefixed = sql[i + 1 : i + 3]
    if c in "uU" and prefixed in ('&"', "&'"):
        raw, end = _quoted(sql, i + 3, prefixed[1])
        escape, end = _uescape(sql, end)
        text = _unicode_escapes(raw, escape)
        return (Tok("ident", _identifier(text)) if prefixed[1] == '"' else Tok("string", text)), end
    if c in "eE" and prefixed[:1] == "'":
        return Tok("string", ""), _skip_escape_string(sql, i + 2)
    if c in "bBxXnN" and prefixed[:1] == "'":
        return Tok("string", ""), _quoted(sql, i + 2, "'")[1]
    if c in "'\"":
        text, end = _quoted(sql, i + 1, c)
        return (Tok("string", text) if c == "'" else Tok("ident", _identifier(text))), end
    if c == "$":
        return _dollar(sql, i)
    for kind, pattern in _PATTERNS:
        if match := pattern.match(sql, i):
            text = match.group(0)
            if kind == "punct":
                return Tok(text, text), match.end()
            return Tok(kind, _fold(text) if kind == "word" else text), match.end()
    if c in _OP_CHARS:
        end = i
        while end < len(sql) and sql[end] in _OP_CHARS and not sql.startswith(("--", "/*"), end):
            end += 1
        return Tok("op", sql[i:end]), end
    raise _unlexable(f"the character {c!r}")


def _dollar(sql: str, i: int) -> tuple[Tok, int]:
    if match := _PARAM.match(sql, i):
        return Tok("param", match.group(0)), match.end()
    if match := _DOLLAR_TAG.match(sql, i):
        end = sql.find(match.group(0), match.end())
        if end < 0:
            raise _unlexable("an unterminated dollar-quoted string")
        return Tok("string", ""), end + len(match.group(0))
    raise _unlexable("a '$' that starts neither a parameter nor a dollar quote")


def _fold(word: str) -> str:
    """PostgreSQL folds unquoted names to lower case in ASCII only (not 'K', the Kelvin sign)."""
    return "".join(chr(ord(ch) + 32) if "A" <= ch <= "Z" else ch for ch in word)


def _identifier(name: str) -> str:
    if not name:
        raise _unlexable("a zero-length quoted name")
    return name


def _skip_block_comment(sql: str, i: int) -> int:
    depth = 0
    n = len(sql)
    while i < n:
        if sql.startswith("/*", i):
            depth += 1
            i += 2
        elif sql.startswith("*/", i):
            depth -= 1
            i += 2
            if depth == 0:
                return i
        else:
            i += 1
    raise _unlexable("an unterminated comment")


def _quoted(sql: str, i: int, quote: str) -> tuple[str, int]:
    """Text up to the closing quote (a doubled quote is one quote); the index after it."""
    pieces = []
    while True:
        end = sql.find(quote, i)
        if end < 0:
            raise _unlexable("an unterminated quoted string or name")
        pieces.append(sql[i:end])
        if sql.startswith(quote * 2, end):
            pieces.append(quote)
            i = end + 2
        else:
            return "".join(pieces), end + 1


def _skip_escape_string(sql: str, i: int) -> int:
    n = len(sql)
    while i < n:
        if sql[i] == "\\" or sql.startswith("''", i):
            i += 2
        elif sql[i] == "'":
            return i + 1
        else:
            i += 1
    raise _unlexable("an unterminated E'...' string")


def _uescape(sql: str, i: int) -> tuple[str, int]:
    """An optional ``UESCAPE 'c'`` after a U& literal: the escape character and where it ends."""
    j = i
    n = len(sql)
    while True:
        while j < n and sql[j] in _SPACE:
            j += 1
        if sql.startswith("--", j):
            while j < n and sql[j] not in "\r\n":
                j += 1
        elif sql.startswith("/*", j):
            j = _skip_block_comment(sql, j)
        else:
            break
    if sql[j : j + 7].lower() != "uescape" or (j + 7 < n and (sql[j + 7].isalnum() or sql[j + 7] in "_$")):
        return "\\", i
    j += 7
    while j < n and sql[j] in _SPACE:
        j += 1
    if sql.startswith("'", j) and len(sql) > j + 2 and sql[j + 2] == "'" and sql[j + 1] != "'":
        escape = sql[j + 1]
        if escape in _HEX or escape in "+'\"" or escape in _SPACE:
            raise _unlexable(f"the UESCAPE character {escape!r}")
        return escape, j + 3
    raise _unlexable("a UESCAPE clause that is not one quoted character")


def _unicode_escapes(raw: str, escape: str) -> str:
    out: list[str] = []
    i, n = 0, len(raw)
    while i < n:
        c = raw[i]
        if c != escape:
            out.append(c)
            i += 1
            continue
        if raw.startswith(escape, i + 1):
            out.append(escape)
            i += 2
        elif raw.startswith("+", i + 1) and _all_hex(raw[i + 2 : i + 8], 6):
            out.append(_code_point(int(raw[i + 2 : i + 8], 16)))
            i += 8
        elif _all_hex(raw[i + 1 : i + 5], 4):
            out.append(_code_point(int(raw[i + 1 : i + 5], 16)))
            i += 5
        else:
            raise _unlexable("an invalid Unicode escape")
    return _join_surrogates("".join(out))


def _all_hex(text: str, length: int) -> bool:
    return len(text) == length and all(ch in _HEX for ch in text)


def _code_point(value: int) -> str:
    if value == 0 or value > 0x10FFFF:
        raise _unlexable("an invalid Unicode escape value")
    return chr(value)


def _join_surrogates(text: str) -> str:
    """PostgreSQL pairs UTF-16 surrogate escapes into one character; a lone one is an error."""
    if not any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):
        return text
    try:
        return text.encode("utf-16", "surrogatepass").decode("utf-16")
    except UnicodeError:
        raise _unlexable("an unpaired Unicode surrogate escape") from None


def _unlexable(what: str) -> InvalidInput:
    return InvalidInput(
        f"the SQL could not be read safely: {what}",
        recovery_steps=["Write names and strings plainly (without that construct) and call again."],
        details={"reason": what},
    )
