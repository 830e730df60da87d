"""Editing one entry keeps every other byte of a client's config: JSONC comments and trailing
commas, TOML layout, YAML layout; removing it gives back the file as it was; a file that does
not parse is refused with its line."""

from __future__ import annotations

from typing import Any

import pytest

from mcp_workbench.cli.install import jsonc
from mcp_workbench.cli.install.formats import JSON, TOML, YAML_FORMAT, ConfigParseError, Format, read_entry

ENTRY: dict[str, Any] = {
    "command": "/opt/py/bin/python",
    "args": ["-m", "mcp_workbench", "serve", "--root", "/home/me/dir with space"],
    "env": {"PYTHONUTF8": "1", "NOTE": 'quote " and é'},
}
CHANGED: dict[str, Any] = {**ENTRY, "args": ["-m", "mcp_workbench", "serve"]}

JSON_FILES = {
    "zed-style comments and trailing commas": """// Zed settings
{
  "theme": "One Dark", // my theme
  /* block
     comment */
  "context_servers": {
    "other": {"source": "custom", "command": "x", "args": [],}, // keep me
  },
  "vim_mode": true,
}
""",
    "container missing": '{\n    "theme": "x" // four spaces\n}\n',
    "container empty": '{\n\t"mcpServers": {}\n}',
    "container with only a comment": '{\n  "mcpServers": {\n    // add servers here\n  }\n}\n',
    "windows newlines": '{\r\n  "mcpServers": {\r\n    "a": {"command": "a"}\r\n  }\r\n}\r\n',
    "one line": '{"mcpServers": {"a": {"command": "a"}}, "x": [1, 2]}',
    "no trailing newline, last member without comma": '{\n  "mcpServers": {\n    "a": 1\n  }\n}',
    "nested in a larger state file": '{\n  "numStartups": 3,\n  "projects": {"/p": {"mcpServers": {}}},\n'
    '  "mcpServers": {\n    "a": {"type": "stdio", "command": "a"}\n  },\n  "userID": "u"\n}\n',
}

TOML_FILES = {
    "codex with comments and other servers": """# Codex config
model = "o3"  # the model
approval_policy = "on-request"

[mcp_servers.other]
command = "npx"
args = ["-y", "x"]   # aligned comment

[profiles.fast]
model = "o4-mini"
""",
    "empty": "",
    "no trailing newline": 'model = "o3"',
    "windows newlines": 'model = "o3"\r\n\r\n[mcp_servers.other]\r\ncommand = "x"\r\n',
    "servers as one inline table": 'model = "x"\nmcp_servers = { other = { command = "y" } }\n',
    "servers as dotted keys": 'mcp_servers.other.command = "y"  # dotted\n',
    "a [mcp_servers] table, then other tables": '[mcp_servers]\nother = { command = "y" }\n\n[x]\na = 1\n',
}

YAML_FILES = {
    "goose as goose writes it": """GOOSE_PROVIDER: openai
GOOSE_MODEL: gpt-4o
extensions:
  developer:
    bundled: true
    display_name: Developer
    enabled: true
    name: developer
    timeout: 300
    type: builtin
""",
    "hand-edited: comments, four-space indent, indented lists, blank lines": """# my goose
extensions:
    # the builtin one
    developer:
        enabled: true   # keep
        args:
            - a
            - 'b'

    memory: {enabled: false, type: builtin}

GOOSE_MODE: smart_approve
""",
    "empty": "",
    "no extensions yet": "GOOSE_PROVIDER: anthropic\n",
    "extensions as an empty flow mapping": "extensions: {}\nGOOSE_MODE: auto\n",
}

CASES = (
    [(JSON, ("context_servers",) if "zed" in k else ("mcpServers",), v) for k, v in JSON_FILES.items()]
    + [(TOML, ("mcp_servers",), v) for v in TOML_FILES.values()]
    + [(YAML_FORMAT, ("extensions",), v) for v in YAML_FILES.values()]
)
IDS = [f"json-{k}" for k in JSON_FILES] + [f"toml-{k}" for k in TOML_FILES] + [f"yaml-{k}" for k in YAML_FILES]


def _without_ours(fmt: Format, text: str, container: tuple[str, ...]) -> Any:
    """The file's data with our entry (and a container left empty) taken out."""
    data = fmt.load(text)
    inner = data.get(container[0])
    if isinstance(inner, dict):
        inner.pop("workbench", None)
        if not inner:
            data.pop(container[0])
    elif container[0] in data:
        data.pop(container[0])
    return data


def _had_other_entries(fmt: Format, text: str, container: tuple[str, ...]) -> bool:
    inner = fmt.load(text).get(container[0]) if text.strip() else None
    return bool(inner)


@pytest.mark.parametrize(("fmt", "container", "original"), CASES, ids=IDS)
class TestOneEntryEdits:
    def test_set_entry_adds_our_entry_and_changes_no_other_data(
        self, fmt: Format, container: tuple[str, ...], original: str
    ) -> None:
        new = fmt.set_entry(original, container, "workbench", ENTRY)
        assert read_entry(fmt, new, container, "workbench") == ENTRY
        assert _without_ours(fmt, new, container) == _without_ours(fmt, original, container)

    def test_removing_the_entry_gives_back_the_original(
        self, fmt: Format, container: tuple[str, ...], original: str
    ) -> None:
        new = fmt.set_entry(original, container, "workbench", ENTRY)
        restored = fmt.remove_entry(new, container, "workbench")
        assert read_entry(fmt, restored, container, "workbench") is None
        if _had_other_entries(fmt, original, container):
            assert restored == original  # byte-for-byte
        else:  # the container we created stays, empty
            assert _without_ours(fmt, restored, container) == _without_ours(fmt, original, container)

    def test_changing_the_entry_touches_only_the_entry(
        self, fmt: Format, container: tuple[str, ...], original: str
    ) -> None:
        once = fmt.set_entry(original, container, "workbench", ENTRY)
        changed = fmt.set_entry(once, container, "workbench", CHANGED)
        assert read_entry(fmt, changed, container, "workbench") == CHANGED
        assert fmt.remove_entry(changed, container, "workbench") == fmt.remove_entry(once, container, "workbench")

    def test_setting_the_same_entry_twice_is_stable(
        self, fmt: Format, container: tuple[str, ...], original: str
    ) -> None:
        once = fmt.set_entry(original, container, "workbench", ENTRY)
        assert fmt.set_entry(once, container, "workbench", ENTRY) == once


class TestJsoncKeepsComments:
    def test_comments_and_trailing_commas_survive_byte_for_byte(self) -> None:
        original = JSON_FILES["zed-style comments and trailing commas"]
        new = JSON.set_entry(original, ("context_servers",), "workbench", ENTRY)
        for fragment in (
            "// Zed settings",
            "// my theme",
            "/* block\n     comment */",
            "// keep me",
            '"vim_mode": true,',
        ):
            assert fragment in new
        assert new.startswith(original[: original.index('"other"')])
        assert new.endswith('  },\n  "vim_mode": true,\n}\n')

    @pytest.mark.parametrize(
        "text",
        ['{"a": "// not a comment", "b": "/* nor this */"}', '{"a": "\\"quoted\\" \\\\"}', "[1, 2,]", '"s"'],
    )
    def test_comment_markers_inside_strings_are_text(self, text: str) -> None:
        import json

        expected = json.loads(text.replace(",]", "]"))
        assert jsonc.loads(text) == expected


CORRUPT = [
    (JSON, '{\n  "mcpServers": {\n    "a": {"command": "x"\n  }\n}\n', 6),  # noticed at the end
    (JSON, '{\n  "a": 1\n  "b": 2\n}\n', 3),
    (JSON, "{\n  /* never closed\n}\n", 2),
    (JSON, '{\n  "a": "unterminated\n}\n', 2),
    (JSON, "[1, 2]\n", 1),
    (TOML, 'model = "o3"\n[mcp_servers.x\ncommand = "y"\n', 2),
    (TOML, "a = 1\na = 2\n", None),
    (YAML_FORMAT, "extensions:\n  a: [1, 2\nb: c\n", 3),
    (YAML_FORMAT, "- a\n- b\n", 1),
]


@pytest.mark.parametrize(("fmt", "text", "line"), CORRUPT)
def test_a_file_that_does_not_parse_is_refused_with_its_line(fmt: Format, text: str, line: int | None) -> None:
    with pytest.raises(ConfigParseError) as caught:
        fmt.set_entry(text, ("mcpServers",), "workbench", ENTRY)
    if line is not None:
        assert caught.value.line == line
    with pytest.raises(ConfigParseError):
        fmt.remove_entry(text, ("mcpServers",), "workbench")


# --- generated JSONC files ----------------------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.support.timeouts import PROPERTIES  # noqa: E402

_scalars = st.one_of(st.none(), st.booleans(), st.integers(-(10**6), 10**6), st.text(max_size=12))
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=8,
)
_names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=10).filter(
    lambda n: n != "workbench"
)


@st.composite
def jsonc_documents(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A settings file as people and tools write them: any indentation, comments between and
    after lines, trailing commas, CRLF or LF; with at least one other server in mcpServers."""
    servers = draw(st.dictionaries(_names, _values, min_size=1, max_size=4))
    data = draw(st.dictionaries(_names.filter(lambda n: n != "mcpServers"), _values, max_size=3))
    data["mcpServers"] = servers
    import json

    lines = json.dumps(data, indent=draw(st.sampled_from([1, 2, 4, "\t"])), ensure_ascii=draw(st.booleans())).split(
        "\n"
    )
    out: list[str] = []
    for i, original in enumerate(lines):
        line = original
        following = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if draw(st.integers(0, 4)) == 0 and following[:1] in {"}", "]"} and line.rstrip()[-1:] not in {"{", "[", ","}:
            line += ","  # a trailing comma (JSONC)
        if draw(st.integers(0, 4)) == 0:
            line += draw(st.sampled_from([" // note", " /* c */", '  // {"not": "json"}']))
        out.append(line)
        if i < len(lines) - 1 and draw(st.integers(0, 5)) == 0:
            out.append(draw(st.sampled_from(["  // a comment line", "/* a block\n   over lines */", ""])))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join(part.replace("\n", newline) for part in out)
    return text + draw(st.sampled_from(["", newline])), data


@PROPERTIES
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(jsonc_documents())
def test_generated_jsonc_files_get_our_entry_and_give_back_every_byte(doc: tuple[str, dict[str, Any]]) -> None:
    text, data = doc
    assert JSON.load(text) == data
    new = JSON.set_entry(text, ("mcpServers",), "workbench", ENTRY)
    assert JSON.load(new) == {**data, "mcpServers": {**data["mcpServers"], "workbench": ENTRY}}
    assert JSON.set_entry(new, ("mcpServers",), "workbench", ENTRY) == new
    assert JSON.remove_entry(new, ("mcpServers",), "workbench") == text


_yaml_keys = st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)
_yaml_scalars = st.one_of(
    st.booleans(), st.integers(-1000, 1000), st.text("abcdefghij XYZ-:#'\"", min_size=1, max_size=10)
)
_yaml_values = st.recursive(
    _yaml_scalars,
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3), st.dictionaries(_yaml_keys, inner, min_size=1, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def goose_documents(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A Goose config as its users leave it: any indentation of mappings and lists, comment lines
    and end-of-line comments, other extensions and settings around ours."""
    import io

    from ruamel.yaml import YAML

    extensions = draw(
        st.dictionaries(_yaml_keys.filter(lambda k: k != "workbench"), _yaml_values, min_size=1, max_size=3)
    )
    data = draw(st.dictionaries(_yaml_keys.filter(lambda k: k != "extensions"), _yaml_values, max_size=3))
    data["extensions"] = extensions
    yaml = YAML()
    mapping = draw(st.sampled_from([2, 4]))
    offset = draw(st.sampled_from([0, 2]))
    yaml.indent(mapping=mapping, sequence=offset + 2, offset=offset)
    buf = io.StringIO()
    yaml.dump(data, buf)
    out: list[str] = []
    for line in buf.getvalue().splitlines():
        out.append(line + (" # note" if draw(st.integers(0, 4)) == 0 else ""))
        if draw(st.integers(0, 5)) == 0:
            out.append(draw(st.sampled_from(["# a comment line", "", "    # indented comment"])))
    return "\n".join(out) + "\n", data


@PROPERTIES
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(goose_documents())
def test_generated_goose_files_get_our_entry_and_give_back_every_byte(doc: tuple[str, dict[str, Any]]) -> None:
    text, data = doc
    assert YAML_FORMAT.load(text) == data
    new = YAML_FORMAT.set_entry(text, ("extensions",), "workbench", ENTRY)
    assert YAML_FORMAT.load(new) == {**data, "extensions": {**data["extensions"], "workbench": ENTRY}}
    assert YAML_FORMAT.remove_entry(new, ("extensions",), "workbench") == text


_toml_scalars = st.one_of(st.booleans(), st.integers(-1000, 1000), st.text("abc XYZ#[]=\"'", max_size=8))
_toml_values = st.one_of(_toml_scalars, st.lists(st.integers(0, 9), max_size=3))


@st.composite
def codex_documents(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A Codex config: top-level settings, [mcp_servers.*] tables and other tables in any order,
    with comment lines, end-of-line comments and blank lines."""
    import tomlkit

    top = draw(
        st.dictionaries(_yaml_keys.filter(lambda k: k not in {"mcp_servers", "profiles"}), _toml_scalars, max_size=3)
    )
    servers = draw(
        st.dictionaries(
            _yaml_keys.filter(lambda k: k != "workbench"),
            st.dictionaries(_yaml_keys, _toml_values, min_size=1, max_size=3),
            min_size=1,
            max_size=3,
        )
    )
    profiles = draw(
        st.dictionaries(_yaml_keys, st.dictionaries(_yaml_keys, _toml_scalars, min_size=1, max_size=2), max_size=2)
    )
    doc = tomlkit.document()
    for key, value in top.items():
        doc[key] = value
    tables: list[tuple[str, str, dict[str, Any]]] = [("mcp_servers", k, v) for k, v in servers.items()]
    tables += [("profiles", k, v) for k, v in profiles.items()]
    order = draw(st.permutations(tables))
    text = tomlkit.dumps(doc)
    for group, key, values in order:
        block = tomlkit.document()
        block[group] = tomlkit.table(is_super_table=True)
        block[group][key] = values
        text += ("\n" if text else "") + tomlkit.dumps(block)
    out: list[str] = []
    for line in text.splitlines():
        out.append(line + (" # note" if line.strip() and draw(st.integers(0, 4)) == 0 else ""))
        if draw(st.integers(0, 5)) == 0:
            out.append(draw(st.sampled_from(["# a comment line", "", "  # [mcp_servers.fake] in a comment"])))
    text = "\n".join(out) + "\n"
    data = {**top, "mcp_servers": servers, **({"profiles": profiles} if profiles else {})}
    return text, data


@PROPERTIES
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(codex_documents())
def test_generated_codex_files_get_our_entry_and_give_back_every_byte(doc: tuple[str, dict[str, Any]]) -> None:
    text, data = doc
    assert TOML.load(text) == data
    new = TOML.set_entry(text, ("mcp_servers",), "workbench", ENTRY)
    assert TOML.load(new) == {**data, "mcp_servers": {**data["mcp_servers"], "workbench": ENTRY}}
    assert TOML.set_entry(new, ("mcp_servers",), "workbench", ENTRY) == new
    assert TOML.remove_entry(new, ("mcp_servers",), "workbench") == text
