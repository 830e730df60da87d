"""Edit one member of a JSON / JSONC document as text, leaving every other byte alone.

Client settings files (Zed, VS Code) are JSONC: comments and trailing commas. A JSON library
would parse them and write back a different file; instead this module parses the text into
nodes that know their offsets, and an edit replaces, inserts or deletes only the span of our
member. A document that does not parse raises :class:`ParseError` with its line and column.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any


class ParseError(ValueError):
    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(f"line {line}, column {column}: {message}")
        self.line, self.column = line, column


@dataclass
class Node:
    kind: str  # object, array, string, number, literal
    start: int
    end: int
    value: Any = None  # scalars only
    members: list[Member] = field(default_factory=list)  # objects
    items: list[Node] = field(default_factory=list)  # arrays

    def to_python(self) -> Any:
        if self.kind == "object":
            return {m.key: m.value.to_python() for m in self.members}
        if self.kind == "array":
            return [item.to_python() for item in self.items]
        return self.value

    def member(self, key: str) -> Member | None:
        found = [m for m in self.members if m.key == key]
        return found[-1] if found else None  # the last duplicate is the one parsers keep


@dataclass
class Member:
    key: str
    start: int  # the key's opening quote
    value: Node


_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_LITERALS = {"true": True, "false": False, "null": None}


class _Parser:
    def __init__(self, text: str) -> None:
        self.text, self.pos = text, 0

    def fail(self, message: str, pos: int | None = None) -> ParseError:
        at = self.pos if pos is None else pos
        line = self.text.count("\n", 0, at) + 1
        column = at - (self.text.rfind("\n", 0, at) + 1) + 1
        return ParseError(message, line, column)

    def skip(self) -> None:
        """Whitespace and comments."""
        text, n = self.text, len(self.text)
        while self.pos < n:
            ch = text[self.pos]
            if ch in " \t\r\n\ufeff":
                self.pos += 1
            elif text.startswith("//", self.pos):
                newline = text.find("\n", self.pos)
                self.pos = n if newline < 0 else newline + 1
            elif text.startswith("/*", self.pos):
                close = text.find("*/", self.pos + 2)
                if close < 0:
                    raise self.fail("unterminated /* comment")
                self.pos = close + 2
            else:
                return

    def peek(self) -> str:
        self.skip()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def value(self) -> Node:
        ch = self.peek()
        start = self.pos
        if ch == "{":
            return self.obj()
        if ch == "[":
            return self.array()
        if ch == '"':
            return Node("string", start, self._string_end(), value=self.string_value(start))
        match = _NUMBER.match(self.text, self.pos)
        if match and match.group():
            self.pos = match.end()
            return Node("number", start, self.pos, value=json.loads(match.group()))
        for word, literal in _LITERALS.items():
            if self.text.startswith(word, self.pos):
                self.pos += len(word)
                return Node("literal", start, self.pos, value=literal)
        raise self.fail("expected a value" if ch else "unexpected end of file")

    def _string_end(self) -> int:
        text, i = self.text, self.pos + 1
        while i < len(text):
            if text[i] == "\\":
                i += 2
            elif text[i] == '"':
                self.pos = i + 1
                return self.pos
            elif text[i] == "\n":
                break
            else:
                i += 1
        raise self.fail("unterminated string", self.pos)

    def string_value(self, start: int) -> str:
        try:
            value: str = json.loads(self.text[start : self.pos])  # the span is one JSON string
            return value
        except ValueError as exc:
            raise self.fail(f"bad string ({exc})", start) from None

    def obj(self) -> Node:
        node = Node("object", self.pos, -1)
        self.pos += 1
        while True:
            ch = self.peek()
            if ch == "}":
                break
            if ch != '"':
                raise self.fail("expected a member name in double quotes or '}'")
            key_start = self.pos
            self._string_end()
            key = self.string_value(key_start)
            if self.peek() != ":":
                raise self.fail("expected ':'")
            self.pos += 1
            node.members.append(Member(key, key_start, self.value()))
            ch = self.peek()
            if ch == ",":
                self.pos += 1
            elif ch != "}":
                raise self.fail("expected ',' or '}'")
        self.pos += 1
        node.end = self.pos
        return node

    def array(self) -> Node:
        node = Node("array", self.pos, -1)
        self.pos += 1
        while True:
            if self.peek() == "]":
                break
            node.items.append(self.value())
            ch = self.peek()
            if ch == ",":
                self.pos += 1
            elif ch != "]":
                raise self.fail("expected ',' or ']'")
        self.pos += 1
        node.end = self.pos
        return node


def parse(text: str) -> Node | None:
    """The document's root node; None for an empty (or comments-only) document."""
    parser = _Parser(text)
    if not parser.peek():
        return None
    root = parser.value()
    if parser.peek():
        raise parser.fail("unexpected content after the document")
    return root


def loads(text: str) -> Any:
    root = parse(text)
    return None if root is None else root.to_python()


def _find(root: Node | None, path: tuple[str, ...]) -> Node | None:
    node = root
    for key in path:
        if node is None or node.kind != "object":
            return None
        member = node.member(key)
        node = member.value if member else None
    return node


def get(text: str, path: tuple[str, ...]) -> Any:
    """The value at ``path`` (None when absent)."""
    node = _find(parse(text), path)
    return None if node is None else node.to_python()


# --- edits ------------------------------------------------------------------------------------


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _indent_unit(text: str) -> str:
    match = re.search(r"\n([ \t]+)\S", text)
    if match is None:
        return "  "
    unit = match.group(1)
    return "\t" if unit.startswith("\t") else " " * min(len(unit), 8)


def _line_indent(text: str, pos: int) -> str | None:
    """The whitespace before ``pos`` on its line, or None when something else precedes it."""
    line_start = text.rfind("\n", 0, pos) + 1
    before = text[line_start:pos]
    return before if before.strip() == "" else None


def _render(value: Any, indent: str, unit: str, newline: str) -> str:
    lines = json.dumps(value, indent=unit, ensure_ascii=False).split("\n")
    return (newline + indent).join(lines)


def set_member(text: str, path: tuple[str, ...], name: str, value: Any) -> str:
    """``text`` with ``path.name`` set to ``value`` (objects along ``path`` created as needed)."""
    root = parse(text)
    newline, unit = _newline(text), _indent_unit(text)
    if root is None:
        nested: Any = {name: value}
        for key in reversed(path):
            nested = {key: nested}
        return text + json.dumps(nested, indent=unit, ensure_ascii=False).replace("\n", newline) + newline
    node, missing = root, list(path)
    while missing:
        if node.kind != "object":
            break
        member = node.member(missing[0])
        if member is None:
            break
        node = member.value
        missing.pop(0)
    if node.kind != "object":
        where = ".".join(path[: len(path) - len(missing)]) or "the top level"
        raise ParseError(f"{where} is {node.kind}, not an object", *_line_col(text, node.start))
    if missing:
        nested = {name: value}
        for key in reversed(missing[1:]):
            nested = {key: nested}
        return _insert_member(text, node, missing[0], nested, newline=newline, unit=unit)
    existing = node.member(name)
    if existing is None:
        return _insert_member(text, node, name, value, newline=newline, unit=unit)
    indent = _line_indent(text, existing.start)  # None: the member shares its line, and stays on one
    rendered = json.dumps(value, ensure_ascii=False) if indent is None else _render(value, indent, unit, newline)
    return text[: existing.value.start] + rendered + text[existing.value.end :]


def _line_col(text: str, pos: int) -> tuple[int, int]:
    return text.count("\n", 0, pos) + 1, pos - (text.rfind("\n", 0, pos) + 1) + 1


def _insert_member(text: str, obj: Node, key: str, value: Any, *, newline: str, unit: str) -> str:
    outer = _line_indent(text, obj.start)
    if outer is None:  # the object opens mid-line (after its key): indent from that line
        line_start = text.rfind("\n", 0, obj.start) + 1
        outer = re.match(r"[ \t]*", text[line_start:]).group()  # type: ignore[union-attr]  # [ \t]* matches any text
    if obj.members:
        last = obj.members[-1]
        inner = _line_indent(text, last.start)
        if inner is None:  # members on one line: keep it that way
            member = f"{json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}"
            return text[: last.value.end] + ", " + member + text[last.value.end :]
        member = f"{json.dumps(key)}: {_render(value, inner, unit, newline)}"
        scan = _Parser(text)
        scan.pos = last.value.end
        has_comma = scan.peek() == ","
        comma = "" if has_comma else ","
        close_indent = _line_indent(text, obj.end - 1)
        if close_indent is not None:  # our lines go right before the closing brace's line
            at = obj.end - 1 - len(close_indent)
            head = text[: last.value.end] + comma + text[last.value.end : at]
            return head + inner + member + ("," if has_comma else "") + newline + text[at:]
        after = scan.pos + 1 if has_comma else last.value.end
        return text[:after] + comma + newline + inner + member + text[after:]
    inner = outer + unit
    member = f"{json.dumps(key)}: {_render(value, inner, unit, newline)}"
    body = text[obj.start + 1 : obj.end - 1]
    if body.strip() == "":
        return text[: obj.start + 1] + newline + inner + member + newline + outer + text[obj.end - 1 :]
    return text[: obj.start + 1] + newline + inner + member + text[obj.start + 1 :]


def remove_member(text: str, path: tuple[str, ...], name: str) -> str:
    """``text`` without ``path.name`` (unchanged when it is absent)."""
    obj = _find(parse(text), path)
    if obj is None or obj.kind != "object":
        return text
    index = next((i for i in range(len(obj.members) - 1, -1, -1) if obj.members[i].key == name), None)
    if index is None:
        return text
    member = obj.members[index]
    scan = _Parser(text)
    scan.pos = member.value.end
    has_comma = scan.peek() == ","
    end = scan.pos + 1 if has_comma else member.value.end
    start = member.start
    if _line_indent(text, start) is not None:
        rest = re.match(r"[ \t]*(\r?\n)?", text[end:])
        if rest and rest.group(1):  # the member had its own line(s): drop them whole
            start = text.rfind("\n", 0, start) + 1
            end += rest.end()
    cuts = [(start, end)]
    if not has_comma and index > 0:  # the last member: the comma before it goes too
        scan.pos = obj.members[index - 1].value.end
        if scan.peek() == ",":
            if cuts[0][0] == member.start and text[scan.pos + 1 : member.start].strip() == "":
                cuts = [(scan.pos, end)]  # one line: ", member" goes as one
            else:
                cuts.insert(0, (scan.pos, scan.pos + 1))
    for cut_start, cut_end in reversed(cuts):
        text = text[:cut_start] + text[cut_end:]
    return text
