"""The three file formats client configs come in, each able to read, set and remove one named
entry under a container key while leaving the rest of the file byte-for-byte as it was.

- JSON and JSONC (most clients; Zed and VS Code allow comments): :mod:`.jsonc` edits spans.
- TOML (Codex): the entry is a ``[container.NAME]`` table; it is cut or appended as text.
- YAML (Goose): the entry is a block under the container mapping; it is cut or spliced as text.

Every text edit is checked by parsing the result: it must hold exactly the old data with our
entry set (or removed). When a file is laid out in a way the text edit cannot handle (the
container as an inline table, a flow mapping), the format library's own round trip (tomlkit,
ruamel.yaml) makes the edit instead: still comment-preserving, only less byte-exact.
"""

from __future__ import annotations

import copy
import io
import re
from typing import Any, Protocol

from mcp_workbench.cli.install import jsonc

# tomlkit and ruamel.yaml are imported where used: `mcp-workbench serve` builds the same argument
# parser (and so imports the client table), and must not pay for them at start-up.


class ConfigParseError(ValueError):
    """A config file that does not parse; nothing is written to it."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


class Format(Protocol):
    name: str

    def load(self, text: str) -> dict[str, Any]: ...
    def set_entry(self, text: str, container: tuple[str, ...], name: str, entry: dict[str, Any]) -> str: ...
    def remove_entry(self, text: str, container: tuple[str, ...], name: str) -> str: ...


def read_entry(fmt: Format, text: str, container: tuple[str, ...], name: str) -> dict[str, Any] | None:
    node: Any = fmt.load(text)
    for key in (*container, name):
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node if isinstance(node, dict) else None


def _expected(data: dict[str, Any], container: tuple[str, ...], name: str, entry: dict[str, Any] | None) -> Any:
    data = copy.deepcopy(data)
    put_entry(data, container, name, entry)
    return data


def put_entry(root: Any, container: tuple[str, ...], name: str, entry: dict[str, Any] | None) -> bool:
    """Set ``root[container…][name]`` to ``entry`` (making the containers), or remove it when
    ``entry`` is None; False when there was nothing to remove."""
    node = root
    for key in container:
        if not isinstance(node.get(key), dict):
            if entry is None:
                return False
            node[key] = {}
        node = node[key]
    if entry is None:
        node.pop(name, None)
    else:
        node[name] = entry
    return True


def _root_mapping(data: Any, fmt: str) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigParseError(f"the top level of this {fmt} file is not an object/table/mapping", 1, 1)
    return data


class JsonFormat:
    name = "JSON"

    def load(self, text: str) -> dict[str, Any]:
        try:
            return _root_mapping(jsonc.loads(text), self.name)
        except jsonc.ParseError as exc:
            raise ConfigParseError(str(exc).split(": ", 1)[1], exc.line, exc.column) from None

    def set_entry(self, text: str, container: tuple[str, ...], name: str, entry: dict[str, Any]) -> str:
        expected = _expected(self.load(text), container, name, entry)
        try:
            new = jsonc.set_member(text, container, name, entry)
        except jsonc.ParseError as exc:
            raise ConfigParseError(str(exc).split(": ", 1)[1], exc.line, exc.column) from None
        _check(self.load(new) == expected)
        return new

    def remove_entry(self, text: str, container: tuple[str, ...], name: str) -> str:
        expected = _expected(self.load(text), container, name, None)
        new = jsonc.remove_member(text, container, name)
        _check(_pruned(self.load(new), container) == _pruned(expected, container))
        return new


class EditCheckFailed(RuntimeError):
    """The edited text would not hold the intended data: a bug here, so nothing is written."""


def _check(ok: bool) -> None:
    if not ok:
        raise EditCheckFailed("the edited config does not hold the intended data; nothing was written")


def _loaded(fmt: Format, text: str) -> dict[str, Any] | None:
    """``text`` parsed, or None: a text edit that does not parse misjudged the layout, and the
    format library's round trip makes the edit instead."""
    try:
        return fmt.load(text)
    except ConfigParseError:
        return None


def _pruned(data: dict[str, Any] | None, container: tuple[str, ...]) -> dict[str, Any] | None:
    """``data`` without an empty container: after a removal, whether an emptied container stays
    (JSON, YAML) or vanishes (a TOML super-table) is the format's business."""
    if data is not None and container and data.get(container[0]) in ({}, None):
        return {k: v for k, v in data.items() if k != container[0]}
    return data


# --- TOML -------------------------------------------------------------------------------------

_HEADER = re.compile(r"^[ \t]*\[\[?(?P<key>[^\[\]]+)\]\]?[ \t]*(?:#.*)?$")


def _header_path(line: str) -> tuple[str, ...] | None:
    import tomlkit

    match = _HEADER.match(line.rstrip("\r\n"))
    if match is None:
        return None
    try:
        doc = tomlkit.parse(f"[{match.group('key')}]\n")
    except tomlkit.exceptions.TOMLKitError:
        return None
    path: list[str] = []
    node: Any = doc
    while isinstance(node, dict) and len(node) == 1:
        key = next(iter(node))
        path.append(key)
        node = node[key]
    return tuple(path)


class TomlFormat:
    name = "TOML"

    def load(self, text: str) -> dict[str, Any]:
        import tomlkit
        import tomlkit.exceptions

        try:
            return _root_mapping(tomlkit.parse(text).unwrap(), self.name)
        except tomlkit.exceptions.ParseError as exc:
            raise ConfigParseError(str(exc).split(" at line ")[0], exc.line, exc.col) from None
        except tomlkit.exceptions.TOMLKitError as exc:
            raise ConfigParseError(str(exc)) from None

    def _render(self, container: tuple[str, ...], name: str, entry: dict[str, Any]) -> str:
        import tomlkit

        table = tomlkit.table()
        for key, value in entry.items():
            if isinstance(value, dict):
                inline = tomlkit.inline_table()
                inline.update(value)
                table.add(key, inline)
            else:
                table.add(key, value)
        doc = tomlkit.document()
        node: Any = doc
        for key in container:
            node[key] = tomlkit.table(is_super_table=True)
            node = node[key]
        node[name] = table
        return tomlkit.dumps(doc)

    def _block(self, lines: list[str], path: tuple[str, ...]) -> tuple[int, int] | None:
        """Line range [start, end) of the table at ``path`` and its sub-tables, without the
        blank lines that follow it."""
        start = end = None
        for i, line in enumerate(lines):
            header = _header_path(line)
            if header is None:
                continue
            if header[: len(path)] == path:
                if start is None:
                    start = i
                end = None
            elif start is not None and end is None:
                end = i
        if start is None:
            return None
        end = len(lines) if end is None else end
        while end > start + 1 and lines[end - 1].strip() == "":
            end -= 1
        return start, end

    def set_entry(self, text: str, container: tuple[str, ...], name: str, entry: dict[str, Any]) -> str:
        import tomlkit
        import tomlkit.items

        expected = _expected(self.load(text), container, name, entry)
        newline = "\r\n" if "\r\n" in text else "\n"
        block = self._render(container, name, entry).replace("\n", newline)
        lines = text.splitlines(keepends=True)
        found = self._block(lines, (*container, name))
        if found is not None:
            new = "".join(lines[: found[0]]) + block + "".join(lines[found[1] :])
        else:
            sep = "" if not text.strip() else (newline if text.endswith(("\n", "\r")) else newline * 2)
            new = text + sep + block
        if _loaded(self, new) == expected:
            return new
        doc = tomlkit.parse(text)  # the container is inline or dotted: let tomlkit place it
        node: Any = doc
        for key in container:
            node = node.setdefault(key, tomlkit.table(is_super_table=True))
        if isinstance(node, tomlkit.items.InlineTable):  # `mcp_servers = { ... }`: stay inline
            inline = tomlkit.inline_table()
            inline.update(entry)
            node[name] = inline
        else:
            node[name] = tomlkit.parse(self._render((), name, entry))[name]
        new = tomlkit.dumps(doc)
        _check(self.load(new) == expected)
        return new

    def remove_entry(self, text: str, container: tuple[str, ...], name: str) -> str:
        import tomlkit

        expected = _expected(self.load(text), container, name, None)
        lines = text.splitlines(keepends=True)
        found = self._block(lines, (*container, name))
        if found is not None:
            start, end = found
            if end == len(lines) and start > 0 and lines[start - 1].strip() == "":
                start -= 1  # the blank line set before an appended table
            new = "".join(lines[:start]) + "".join(lines[end:])
            if _pruned(_loaded(self, new), container) == _pruned(expected, container):
                return new
        doc = tomlkit.parse(text)
        node: Any = doc
        for key in container:
            if key not in node:
                return text
            node = node[key]
        if name in node:
            del node[name]
        new = tomlkit.dumps(doc)
        _check(_pruned(self.load(new), container) == _pruned(expected, container))
        return new


# --- YAML -------------------------------------------------------------------------------------


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


class YamlFormat:
    name = "YAML"

    def _parse(self, text: str) -> Any:
        from ruamel.yaml import YAML
        from ruamel.yaml.error import MarkedYAMLError, YAMLError

        try:
            return YAML().load(text)
        except MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            problem = exc.problem or exc.context or "not valid YAML"
            raise ConfigParseError(
                problem, mark.line + 1 if mark else None, mark.column + 1 if mark else None
            ) from None
        except YAMLError as exc:
            raise ConfigParseError(str(exc)) from None

    def load(self, text: str) -> dict[str, Any]:
        return _root_mapping(_plain(self._parse(text)), self.name)

    @staticmethod
    def _dump(data: Any, indent: str) -> str:
        from ruamel.yaml import YAML

        buf = io.StringIO()
        YAML().dump(data, buf)
        return "".join(indent + line if line.strip() else line for line in buf.getvalue().splitlines(keepends=True))

    @staticmethod
    def _block_end(lines: list[str], start: int, column: int) -> int:
        """End (exclusive) of the block that starts at line ``start`` with its key at ``column``:
        up to the next content line indented at most as far (a ``- `` item at the key's own column
        still belongs to it: an indentless list), without the blank and comment lines before it."""
        end = start + 1
        last_content = start
        while end < len(lines):
            stripped = lines[end].strip()
            if stripped and not stripped.startswith("#"):
                indent = len(lines[end]) - len(lines[end].lstrip(" "))
                if indent < column or (indent == column and not stripped.startswith("- ") and stripped != "-"):
                    break
                last_content = end
            end += 1
        return last_content + 1

    def _splice(self, text: str, container: tuple[str, ...], name: str, entry: dict[str, Any] | None) -> str | None:
        """The text edit, or None when the layout needs the round trip."""
        from ruamel.yaml.comments import CommentedMap

        if len(container) != 1:
            return None
        root = self._parse(text)
        lines = text.splitlines(keepends=True)
        newline = "\r\n" if "\r\n" in text else "\n"
        (key,) = container
        if root is None or key not in root:
            if entry is None:
                return text
            sep = "" if not text or text.endswith("\n") else newline
            return text + sep + self._dump({key: {name: entry}}, "").replace("\n", newline)
        mapping = root[key]
        key_line: int
        key_col: int
        key_line, key_col = root.lc.key(key)
        if mapping is None or (isinstance(mapping, CommentedMap) and not mapping and mapping.fa.flow_style()):
            if entry is None:
                return text
            if key_line != len(lines) - 1 and self._block_end(lines, key_line, key_col) != key_line + 1:
                return None
            head = " " * key_col + self._dump({key: {name: entry}}, " " * key_col).lstrip(" ")
            line_end = newline if lines[key_line].endswith("\n") else ""
            return (
                "".join(lines[:key_line])
                + head.replace("\n", newline).rstrip("\r\n")
                + line_end
                + "".join(lines[key_line + 1 :])
            )
        if not isinstance(mapping, CommentedMap) or mapping.fa.flow_style() or not mapping:
            return None
        names = list(mapping)
        columns: set[int] = {mapping.lc.key(n)[1] for n in names}
        if len(columns) != 1:
            return None
        column = columns.pop()
        indent = " " * column
        if name in mapping:
            start: int = mapping.lc.key(name)[0]
            end = self._block_end(lines, start, column)
            if entry is None:
                if len(names) == 1:  # an empty container stays a mapping, not null
                    head = lines[key_line].rstrip("\r\n")
                    line_end = lines[key_line][len(head) :]
                    return "".join(lines[:key_line]) + head + " {}" + line_end + "".join(lines[end:])
                return "".join(lines[:start]) + "".join(lines[end:])
            block = self._dump({name: entry}, indent).replace("\n", newline)
            return "".join(lines[:start]) + block + "".join(lines[end:])
        if entry is None:
            return text
        last: int = mapping.lc.key(names[-1])[0]
        end = self._block_end(lines, last, column)
        before = "".join(lines[:end])
        if not before.endswith("\n"):
            before += newline
        return before + self._dump({name: entry}, indent).replace("\n", newline) + "".join(lines[end:])

    def _round_trip(self, text: str, container: tuple[str, ...], name: str, entry: dict[str, Any] | None) -> str:
        from ruamel.yaml import YAML

        yaml = YAML()
        root = yaml.load(text) or {}
        if not put_entry(root, container, name, entry):
            return text
        buf = io.StringIO()
        yaml.dump(root, buf)
        return buf.getvalue()

    def set_entry(self, text: str, container: tuple[str, ...], name: str, entry: dict[str, Any]) -> str:
        return self._edit(text, container, name, entry)

    def remove_entry(self, text: str, container: tuple[str, ...], name: str) -> str:
        return self._edit(text, container, name, None)

    def _edit(self, text: str, container: tuple[str, ...], name: str, entry: dict[str, Any] | None) -> str:
        expected = _expected(self.load(text), container, name, entry)
        new = self._splice(text, container, name, entry)
        if new is not None and _pruned(_loaded(self, new), container) == _pruned(expected, container):
            return new
        new = self._round_trip(text, container, name, entry)
        _check(_pruned(self.load(new), container) == _pruned(expected, container))
        return new


JSON, TOML, YAML_FORMAT = JsonFormat(), TomlFormat(), YamlFormat()
