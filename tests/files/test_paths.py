"""The pure path rules, Windows forms included (checked on every OS through the flag and the
PureWindowsPath flavour)."""

from __future__ import annotations

from pathlib import PurePosixPath, PureWindowsPath

import pytest

from mcp_workbench.files.paths import (
    MAX_COMPONENTS,
    MAX_NAME_BYTES,
    MAX_PATH_CHARS,
    check_portable_name,
    display,
    is_absolute_form,
    is_windows_device_name,
    is_within,
    parse_relative,
    printable,
    relative_parts,
    suggest_relative,
)
from mcp_workbench.platform.errors import InvalidInput, PermissionDenied

GOOD = [
    ("src/app.py", ("src", "app.py")),
    ("./src//app.py", ("src", "app.py")),
    ("src/./app.py/", ("src", "app.py")),
    (".", ()),
    ("", ()),
    ("a..b/c...d", ("a..b", "c...d")),
    (".hidden/.env", (".hidden", ".env")),
    ("…/‥", ("…", "‥")),
    ("日本語/файл.txt", ("日本語", "файл.txt")),
    ("name with spaces/x", ("name with spaces", "x")),
    ("~/x", ("~", "x")),
    ("$HOME/x", ("$HOME", "x")),
    ("%2e%2e/x", ("%2e%2e", "x")),
]


@pytest.mark.parametrize(("text", "parts"), GOOD, ids=[t or "empty" for t, _ in GOOD])
def test_relative_paths_split_into_their_components(text: str, parts: tuple[str, ...]) -> None:
    assert parse_relative(text, windows=False) == parts


ESCAPES = [
    "..",
    "../secret.txt",
    "a/../../secret.txt",
    "a/..",
    "src/../README.md",
    "..\\secret.txt",
    "a\\..\\..\\b",
    "/etc/passwd",
    "/",
    "//server/share/x",
    "\\\\server\\share\\x",
    "\\\\?\\C:\\Windows",
    "\\\\.\\PhysicalDrive0",
    "\\Windows\\win.ini",
    "C:\\Windows\\win.ini",
    "C:/Windows/win.ini",
    "c:win.ini",
    "C:",
    "z:relative",
]


@pytest.mark.parametrize("text", ESCAPES)
@pytest.mark.parametrize("windows", [False, True], ids=["posix", "windows"])
def test_escapes_and_absolute_forms_are_permission_denied_on_every_os(text: str, windows: bool) -> None:
    with pytest.raises(PermissionDenied) as raised:
        parse_relative(text, windows=windows)
    assert raised.value.details["reason"] in {"absolute", "dotdot"}
    assert raised.value.recovery_steps


MALFORMED = [
    ("a\x00b", "NUL"),
    ("a/b\x00", "NUL"),
    ("a\nb", "control"),
    ("a\tb", "control"),
    ("a\x1bb", "control"),
    ("a\x7fb", "control"),
    ("src\\app.py", "backslash"),
    ("a\ud800b", "Unicode"),
    ("x" * (MAX_PATH_CHARS + 1), "longer than"),
    ("/".join(["d"] * (MAX_COMPONENTS + 1)), "components"),
    ("a/" + "n" * (MAX_NAME_BYTES + 1), "bytes"),
    ("é" * (MAX_NAME_BYTES // 2 + 1), "bytes"),
]


@pytest.mark.parametrize(("text", "why"), MALFORMED, ids=[why for _, why in MALFORMED])
def test_malformed_paths_are_validation_errors(text: str, why: str) -> None:
    with pytest.raises(InvalidInput, match=why):
        parse_relative(text, windows=False)


WINDOWS_SPECIAL = [
    "CON",
    "con.txt",
    "logs/NUL",
    "nul.tar.gz",
    "Aux",
    "prn.md",
    "COM1",
    "lpt9.txt",
    "COM¹",
    "CONIN$",
    "NUL .txt",
    "a.txt:secret",
    "a.txt::$DATA",
    "dir/file:stream:$DATA",
    "report.",
    "report ",
    "dir./x",
    "a<b",
    "a>b",
    'a"b',
    "a|b",
    "a?b",
    "a*b",
]


@pytest.mark.parametrize("text", WINDOWS_SPECIAL)
def test_names_windows_gives_a_meaning_are_refused_on_windows(text: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_relative(text, windows=True)
    assert raised.value.details.get("reason") == "not_portable"


@pytest.mark.parametrize("text", ["CON", "a.txt:stream", "report.", "a?b"])
def test_the_same_names_are_ordinary_existing_names_on_posix(text: str) -> None:
    assert parse_relative(text, windows=False) == (text,)


@pytest.mark.parametrize("name", ["CON", "nul.txt", "a:b", "x.", "x ", "a*b", "a\nb", "COM3.log"])
def test_names_the_tools_create_must_be_portable_on_every_os(name: str) -> None:
    with pytest.raises(InvalidInput):
        check_portable_name(name)


@pytest.mark.parametrize("name", ["console.txt", "CONFIG", "nullable.py", "COM10", "a.b.c", ".env", "日本語.md"])
def test_ordinary_names_are_portable(name: str) -> None:
    check_portable_name(name)
    assert not is_windows_device_name(name)


@pytest.mark.parametrize(
    "text", ["C:\\x", "C:x", "\\\\srv\\share", "//srv/share", "/x", "\\x", "\\\\?\\UNC\\srv\\s", "\\\\.\\pipe\\x"]
)
def test_absolute_forms_of_any_os_are_recognised(text: str) -> None:
    assert is_absolute_form(text)


@pytest.mark.parametrize("text", ["x", "x/y", "1:2", "file.txt", "~x"])
def test_relative_forms_are_not_absolute(text: str) -> None:
    assert not is_absolute_form(text)


CONTAINMENT = [
    (PurePosixPath("/srv/root"), PurePosixPath("/srv/root"), True),
    (PurePosixPath("/srv/root"), PurePosixPath("/srv/root/a/b"), True),
    (PurePosixPath("/srv/root"), PurePosixPath("/srv/rootX"), False),
    (PurePosixPath("/srv/root"), PurePosixPath("/srv/rootX/a"), False),
    (PurePosixPath("/srv/root"), PurePosixPath("/srv"), False),
    (PurePosixPath("/srv/root"), PurePosixPath("/etc/passwd"), False),
    (PurePosixPath("/srv/root"), PurePosixPath("/SRV/ROOT/a"), False),
    (PurePosixPath("/srv/root"), PurePosixPath("relative/a"), False),
    (PureWindowsPath("C:/Work/Proj"), PureWindowsPath("c:/work/proj/src/a.py"), True),
    (PureWindowsPath("C:/Work/Proj"), PureWindowsPath("C:/Work/Proj2/a.py"), False),
    (PureWindowsPath("C:/Work/Proj"), PureWindowsPath("D:/Work/Proj/a.py"), False),
    (PureWindowsPath("C:/Work/Proj"), PureWindowsPath("C:/Work"), False),
    (PureWindowsPath("\\\\srv\\share\\proj"), PureWindowsPath("\\\\SRV\\Share\\proj\\a"), True),
    (PureWindowsPath("\\\\srv\\share\\proj"), PureWindowsPath("\\\\srv\\share2\\proj\\a"), False),
]


@pytest.mark.parametrize(("root", "candidate", "inside"), CONTAINMENT, ids=str)
def test_containment_is_component_wise_and_case_insensitive_on_windows(root, candidate, inside: bool) -> None:
    assert is_within(root, candidate) is inside
    assert (relative_parts(root, candidate) is not None) is inside


def test_relative_parts_are_the_components_below_the_root() -> None:
    assert relative_parts(PurePosixPath("/r"), PurePosixPath("/r/a/b")) == ("a", "b")
    assert relative_parts(PurePosixPath("/r"), PurePosixPath("/r")) == ()
    assert relative_parts(PureWindowsPath("C:/R"), PureWindowsPath("c:/r/A")) == ("A",)


def test_an_absolute_path_inside_a_root_gets_a_relative_suggestion() -> None:
    roots = {"docs": PurePosixPath("/home/u/docs"), "proj": PurePosixPath("/home/u/proj")}
    assert suggest_relative("/home/u/proj/src/a.py", roots) == ("proj", "src/a.py")
    assert suggest_relative("/home/u/proj", roots) == ("proj", ".")
    assert suggest_relative("/home/u/projX/a", roots) is None
    assert suggest_relative("/home/u/proj/../docs/a", roots) is None
    assert suggest_relative("C:\\Users\\u\\proj\\a", {"proj": PureWindowsPath("C:/Users/U/Proj")}) == ("proj", "a")


def test_display_and_printable_never_produce_invalid_unicode() -> None:
    assert display(()) == "."
    assert display(("a", "b")) == "a/b"
    undecodable = b"bad\xff.txt".decode("utf-8", "surrogateescape")
    shown = printable(undecodable)
    shown.encode("utf-8")
    assert shown == "bad\ufffd.txt"
    assert printable("fine") == "fine"
