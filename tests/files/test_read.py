"""files_read through a real client, in both protocol eras: roots, list, tree, read, info."""

from __future__ import annotations

import base64
import codecs
import os
from pathlib import Path

import pytest

from mcp_workbench.files import reading
from mcp_workbench.files.sandbox import Sandbox
from mcp_workbench.platform.errors import WorkbenchError
from tests.files.images import GIF, JPEG, PNG, WEBP_LOSSY
from tests.support.files_world import World
from tests.support.session import Session

pytestmark = pytest.mark.anyio


def lines_file(path: Path, count: int, *, newline: str = "\n") -> Path:
    path.write_bytes("".join(f"line {n}{newline}" for n in range(1, count + 1)).encode())
    return path


# --- roots, list, tree --------------------------------------------------------------------------


async def test_roots_name_each_root_with_its_directory(fs: Session, world: World) -> None:
    outcome = await fs.call("files_read", operation="roots")
    assert not outcome.is_error, outcome.text
    assert outcome.data["roots"] == [{"name": "root", "path": str(world.root.resolve()), "read_only": False}]
    assert f"root: {world.root.resolve()}" in outcome.text


async def test_list_shows_directories_first_then_files_with_sizes(fs: Session, world: World) -> None:
    (world.root / "b.txt").write_text("hello")
    (world.root / "a").mkdir()
    (world.root / "link").symlink_to("b.txt")
    data = await fs.ok("files_read", operation="list", path=".")
    assert [(e["name"], e["type"]) for e in data["entries"]] == [
        ("a", "directory"),
        ("b.txt", "file"),
        ("link", "symlink"),
    ]
    assert data["entries"][1]["size"] == 5 and data["entries"][2]["target"] == "b.txt"
    assert data["total"] == 3 and data["truncated"] is False


async def test_list_filters_by_pattern_and_caps_entries(connect, files_settings, world: World) -> None:
    for n in range(25):
        (world.root / f"f{n:02}.txt").write_text("x")
    (world.root / "other.md").write_text("x")
    async with connect(files_settings(max_list_entries=10)) as session:
        data = await session.ok("files_read", operation="list", pattern="*.txt")
        assert len(data["entries"]) == 10 and data["total"] == 25 and data["truncated"] is True
        outcome = await session.call("files_read", operation="list")
        assert "more not shown" in outcome.text


async def test_list_of_a_file_is_refused_with_a_pointer(fs: Session, world: World) -> None:
    (world.root / "f.txt").write_text("x")
    error = await fs.error("files_read", "VALIDATION_ERROR", operation="list", path="f.txt")
    assert "is a file, not a directory" in error["error"] and "'read'" in error["recovery_steps"][0]


async def test_tree_descends_to_the_depth_asked(fs: Session, world: World) -> None:
    (world.root / "a" / "b" / "c").mkdir(parents=True)
    (world.root / "a" / "b" / "c" / "deep.txt").write_text("x")
    (world.root / "a" / "top.txt").write_text("x")
    data = await fs.ok("files_read", operation="tree", depth=2)
    assert [(e["path"], e["depth"]) for e in data["entries"]] == [("a", 1), ("a/b", 2), ("a/top.txt", 2)]
    deeper = await fs.ok("files_read", operation="tree", path="a", depth=5)
    assert "a/b/c/deep.txt" in [e["path"] for e in deeper["entries"]]


async def test_tree_honours_gitignore_and_exclude(fs: Session, world: World) -> None:
    (world.root / ".gitignore").write_text("*.log\nbuild/\n!keep.log\n")
    (world.root / ".git").mkdir()
    (world.root / "build").mkdir()
    (world.root / "node_modules").mkdir()
    for name in ("a.log", "keep.log", "main.py", "build/out.bin", "node_modules/x.js", ".git/HEAD"):
        (world.root / name).write_text("x")
    data = await fs.ok("files_read", operation="tree", exclude=["node_modules"])
    assert sorted(e["path"] for e in data["entries"]) == [".gitignore", "keep.log", "main.py"]
    everything = await fs.ok("files_read", operation="tree", gitignore=False)
    assert {"a.log", ".git", "build", "node_modules"} <= {e["path"] for e in everything["entries"]}


async def test_tree_stops_at_the_entry_cap_and_says_how_to_narrow(connect, files_settings, world: World) -> None:
    for n in range(30):
        (world.root / f"d{n:02}").mkdir()
    async with connect(files_settings(max_tree_entries=10)) as session:
        outcome = await session.call("files_read", operation="tree")
        assert outcome.data["truncated"] is True and outcome.data["stopped_by"] == "max_entries"
        assert len(outcome.data["entries"]) == 10 and "entry cap reached" in outcome.text


# --- read: text by lines -------------------------------------------------------------------------


async def test_read_returns_a_line_range_with_the_total(fs: Session, world: World) -> None:
    lines_file(world.root / "a.py", 100)
    data = await fs.ok("files_read", operation="read", path="a.py", start_line=10, end_line=12)
    assert data["content"] == "line 10\nline 11\nline 12\n"
    assert (data["start_line"], data["end_line"], data["total_lines"]) == (10, 12, 100)
    assert data["truncated"] is False and data["encoding"] == "utf-8"


async def test_head_and_tail(fs: Session, world: World) -> None:
    lines_file(world.root / "a.txt", 50)
    head = await fs.ok("files_read", operation="read", path="a.txt", head=2)
    assert head["content"] == "line 1\nline 2\n"
    tail = await fs.ok("files_read", operation="read", path="a.txt", tail=2)
    assert tail["content"] == "line 49\nline 50\n" and tail["start_line"] == 49


async def test_a_read_cut_by_the_byte_cap_says_where_to_continue(connect, files_settings, world: World) -> None:
    lines_file(world.root / "big.txt", 5000)
    async with connect(files_settings(max_read_bytes=1024)) as session:
        seen: list[str] = []
        start = 1
        for _ in range(100):
            outcome = await session.call("files_read", operation="read", path="big.txt", start_line=start)
            data = outcome.data
            assert len(data["content"].encode()) <= 1024
            seen += data["content"].splitlines()
            if not data["truncated"]:
                break
            assert f"start_line={data['next_start_line']}" in outcome.text
            start = data["next_start_line"]
            if start > 300:
                break
        assert seen == [f"line {n}" for n in range(1, start)]


async def test_a_line_longer_than_the_cap_continues_by_offset(connect, files_settings, world: World) -> None:
    text = "".join(chr(0x4E00 + n % 500) for n in range(3000))  # three bytes per character
    (world.root / "min.js").write_text(text + "\nnext\n", encoding="utf-8")
    async with connect(files_settings(max_read_bytes=1024)) as session:
        first = await session.ok("files_read", operation="read", path="min.js")
        assert first["truncated"] and first["next_offset"] is not None
        pieces = [first["content"]]
        offset = first["next_offset"]
        while offset is not None and len("".join(pieces)) < len(text):
            outcome = await session.call("files_read", operation="read", path="min.js", offset=offset)
            assert f"offset={outcome.data['next_offset']}" in outcome.text or outcome.data["next_offset"] is None
            pieces.append(outcome.data["content"])
            offset = outcome.data["next_offset"]
        assert "".join(pieces).startswith(text)


async def test_reading_past_the_end_is_refused_with_the_line_count(fs: Session, world: World) -> None:
    lines_file(world.root / "a.txt", 3)
    error = await fs.error("files_read", "VALIDATION_ERROR", operation="read", path="a.txt", start_line=10)
    assert error["details"]["total_lines"] == 3
    await fs.error("files_read", "VALIDATION_ERROR", operation="read", path="a.txt", offset=10_000)


@pytest.mark.parametrize(
    "arguments",
    [
        {"head": 2, "tail": 2},
        {"start_line": 5, "end_line": 2},
        {"start_line": 1, "offset": 0},
        {"start_line": 0},
        {"encoding": "no-such-codec"},
    ],
    ids=str,
)
async def test_contradictory_read_arguments_are_validation_errors(fs: Session, world: World, arguments) -> None:
    lines_file(world.root / "a.txt", 3)
    await fs.error("files_read", "VALIDATION_ERROR", operation="read", path="a.txt", **arguments)


async def test_an_empty_file_reads_as_empty_text(fs: Session, world: World) -> None:
    (world.root / "empty.txt").write_bytes(b"")
    data = await fs.ok("files_read", operation="read", path="empty.txt")
    assert data["content"] == "" and data["total_lines"] == 0


# --- read: encodings and line endings ------------------------------------------------------------

ENCODED = [
    ("utf-8", "naïve café ✓ 日本\n".encode(), "utf-8"),
    ("utf-8 BOM", codecs.BOM_UTF8 + "naïve café ✓ 日本\n".encode(), "utf-8 with BOM"),
    ("utf-16 BOM", "naïve café ✓ 日本\n".encode("utf-16"), "utf-16-le with BOM"),
    ("utf-16-be BOM", codecs.BOM_UTF16_BE + "naïve café ✓ 日本\n".encode("utf-16-be"), "utf-16-be with BOM"),
    ("latin-1", "naïve café, Grüße\n".encode("latin-1"), "cp1252"),
]


@pytest.mark.parametrize(("label", "data", "encoding"), ENCODED, ids=[e[0] for e in ENCODED])
async def test_text_is_decoded_in_its_detected_encoding(
    fs: Session, world: World, label: str, data: bytes, encoding: str
) -> None:
    (world.root / "t.txt").write_bytes(data)
    read = await fs.ok("files_read", operation="read", path="t.txt")
    assert read["encoding"] == encoding
    assert read["content"] in ("naïve café ✓ 日本\n", "naïve café, Grüße\n")


async def test_utf16_files_are_read_by_lines_too(fs: Session, world: World) -> None:
    (world.root / "w.txt").write_bytes("".join(f"zeile {n} ü\r\n" for n in range(1, 21)).encode("utf-16"))
    data = await fs.ok("files_read", operation="read", path="w.txt", start_line=19)
    assert data["content"] == "zeile 19 ü\nzeile 20 ü\n"
    assert data["line_endings"] == "crlf" and data["total_lines"] == 20


async def test_an_encoding_can_be_forced(fs: Session, world: World) -> None:
    (world.root / "k.txt").write_bytes("Привет\n".encode("koi8_r"))
    data = await fs.ok("files_read", operation="read", path="k.txt", encoding="koi8_r")
    assert data["content"] == "Привет\n"


async def test_crlf_files_read_as_lf_and_say_so(fs: Session, world: World) -> None:
    lines_file(world.root / "dos.txt", 3, newline="\r\n")
    outcome = await fs.call("files_read", operation="read", path="dos.txt")
    assert outcome.data["content"] == "line 1\nline 2\nline 3\n" and outcome.data["line_endings"] == "crlf"
    assert "CRLF" in outcome.text


async def test_mixed_line_endings_are_shown_as_they_are(fs: Session, world: World) -> None:
    (world.root / "mixed.txt").write_bytes(b"a\r\nb\nc\r\n")
    data = await fs.ok("files_read", operation="read", path="mixed.txt")
    assert data["content"] == "a\r\nb\nc\r\n" and data["line_endings"] == "mixed"


# --- read: images and binaries -------------------------------------------------------------------

IMAGES = [
    ("p.png", PNG, "image/png"),
    ("g.gif", GIF, "image/gif"),
    ("j.jpg", JPEG, "image/jpeg"),
    ("w.webp", WEBP_LOSSY, "image/webp"),
]


@pytest.mark.parametrize(("name", "data", "mime"), IMAGES, ids=[i[0] for i in IMAGES])
async def test_images_come_back_as_image_content(fs: Session, world: World, name: str, data: bytes, mime: str) -> None:
    (world.root / name).write_bytes(data)
    result = await fs.client.call_tool_mcp("files_read", {"operation": "read", "path": name})
    assert not result.is_error
    text, image = result.content
    assert image.type == "image" and image.mime_type == mime
    assert base64.b64decode(image.data) == data
    assert "3x2" in text.text and result.structured_content["width"] == 3


async def test_an_image_named_like_text_is_still_an_image(fs: Session, world: World) -> None:
    (world.root / "not-really.txt").write_bytes(PNG)
    data = await fs.ok("files_read", operation="read", path="not-really.txt")
    assert data["kind"] == "image" and data["mime_type"] == "image/png"


async def test_an_image_over_the_cap_is_described_not_sent(connect, files_settings, world: World) -> None:
    (world.root / "big.png").write_bytes(PNG + b"\x00" * 4096)
    async with connect(files_settings(max_image_bytes=1024)) as session:
        result = await session.client.call_tool_mcp("files_read", {"operation": "read", "path": "big.png"})
        assert len(result.content) == 1 and result.structured_content["returned"] is False
        assert "not returned" in result.content[0].text


async def test_other_binaries_are_described_not_shown(fs: Session, world: World) -> None:
    (world.root / "prog.bin").write_bytes(b"\x7fELF\x02\x01\x01\x00" + os.urandom(5000))
    outcome = await fs.call("files_read", operation="read", path="prog.bin")
    assert outcome.data["kind"] == "binary" and outcome.data["size"] == 5008
    assert "content" not in outcome.data and "binary file" in outcome.text


async def test_a_large_file_is_read_in_pieces_without_loading_it(connect, files_settings, world: World) -> None:
    with (world.root / "huge.log").open("wb") as handle:
        for n in range(200_000):
            handle.write(f"{n:08} some log text that fills the line\n".encode())
    async with connect(files_settings()) as session:
        tail = await session.ok("files_read", operation="read", path="huge.log", tail=1)
        assert tail["content"] == "00199999 some log text that fills the line\n"
        middle = await session.ok("files_read", operation="read", path="huge.log", start_line=150_001, end_line=150_001)
        assert middle["content"].startswith("00150000 ")


async def test_a_mid_sized_file_is_read_off_the_event_loop_with_the_same_answers(fs: Session, world: World) -> None:
    lines_file(world.root / "mid.txt", 20_000)  # about 230 KB: read in a worker thread, cut into lines in memory
    head = await fs.ok("files_read", operation="read", path="mid.txt", start_line=19_999, end_line=20_000)
    assert head["content"] == "line 19999\nline 20000\n" and head["total_lines"] == 20_000
    tail = await fs.ok("files_read", operation="read", path="mid.txt", tail=1)
    assert tail["content"] == "line 20000\n" and tail["start_line"] == 20_000


READ_SAMPLES = {
    "lf.txt": "".join(f"line {n}\n" for n in range(1, 41)).encode(),
    "no_final_newline.txt": b"alpha\nbeta\ngamma",
    "crlf.txt": b"one\r\ntwo\r\nthree\r\n",
    "blank_lines.txt": b"\n\n\nx\n\n",
    "long_line.txt": b"short\n" + "\u00e9".encode() * 300 + b"\nafter\n",
    "bom.txt": codecs.BOM_UTF8 + b"bom first\nbom second\n",
    "cp1252.txt": "caf\u00e9\nna\u00efve\n\u20ac\n".encode("cp1252"),
    "utf16.txt": "erste\nzweite\ndritte\n".encode("utf-16"),
    "empty.txt": b"",
}
READ_REQUESTS = [
    {},
    {"start_line": 2},
    {"start_line": 3, "end_line": 3},
    {"start_line": 2, "end_line": 30},
    {"head": 2},
    {"tail": 1},
    {"tail": 25},
    {"end_line": 1},
    {"offset": 7},
]


def test_a_file_read_whole_answers_exactly_as_a_streamed_one(world: World) -> None:
    """Small files are read with one system call and cut into lines in memory; every answer
    (content, line numbers, where to continue, errors) is the one the streaming reader gives."""
    for name, data in READ_SAMPLES.items():
        (world.root / name).write_bytes(data)
    sandbox = Sandbox("root", world.root, read_only=True)

    def answer(name: str, request: dict[str, int], cap: int, whole_file_bytes: int) -> object:
        target = sandbox.resolve((name,))
        try:
            result = reading.read_file(
                sandbox,
                target,
                reading.ReadRequest(**request),
                cap=cap,
                image_cap=1 << 20,
                whole_file_bytes=whole_file_bytes,
            )
        except WorkbenchError as exc:
            return exc.code, exc.message, exc.details
        return result.kind, result.data, result.text

    for name in READ_SAMPLES:
        for request in READ_REQUESTS:
            for cap in (1, 4, 9, 20, 64, 1 << 20):
                whole = answer(name, request, cap, reading.WHOLE_FILE_BYTES)
                streamed = answer(name, request, cap, 0)
                assert whole == streamed, (name, request, cap)


# --- info ----------------------------------------------------------------------------------------


async def test_info_gives_size_type_times_and_permissions(fs: Session, world: World) -> None:
    target = world.root / "a.py"
    target.write_text("print('hi')\n")
    target.chmod(0o640)
    data = await fs.ok("files_read", operation="info", path="a.py")
    assert (data["type"], data["size"], data["mode"], data["permissions"]) == ("file", 12, "0640", "-rw-r-----")
    assert data["content"] == "text" and data["encoding"] == "utf-8" and data["modified"].endswith("Z")


async def test_info_on_a_directory_counts_its_entries(fs: Session, world: World) -> None:
    (world.root / "d").mkdir()
    for n in range(3):
        (world.root / "d" / str(n)).write_text("x")
    data = await fs.ok("files_read", operation="info", path="d")
    assert data["type"] == "directory" and data["entries"] == 3
    assert (await fs.ok("files_read", operation="info"))["entries"] == 1


async def test_info_on_a_missing_path_is_not_found(fs: Session) -> None:
    error = await fs.error("files_read", "NOT_FOUND", operation="info", path="nope/x.txt")
    assert error["recovery_steps"]


async def test_unicode_names_round_trip(fs: Session, world: World) -> None:
    (world.root / "données").mkdir()
    (world.root / "données" / "日本語 ✓.txt").write_text("ok", encoding="utf-8")
    listed = await fs.ok("files_read", operation="list", path="données")
    assert listed["entries"][0]["name"] == "日本語 ✓.txt"
    data = await fs.ok("files_read", operation="read", path="données/日本語 ✓.txt")
    assert data["content"] == "ok"


async def test_undecodable_names_are_listed_safely(fs: Session, world: World) -> None:
    os.mkdir(bytes(world.root) + b"/bad\xffname")
    data = await fs.ok("files_read", operation="list")
    assert data["entries"][0]["name"] == "bad\ufffdname"


# --- several roots ------------------------------------------------------------------------------


async def test_with_several_roots_the_root_must_be_named(connect, files_settings, world: World) -> None:
    (world.root / "a.txt").write_text("root")
    (world.sibling / "b.txt").write_text("sibling")
    roots = {"main": {"path": str(world.root)}, "other": {"path": str(world.sibling), "read_only": True}}
    async with connect(files_settings(roots)) as session:
        error = await session.error("files_read", "VALIDATION_ERROR", operation="read", path="a.txt")
        assert error["details"]["roots"] == ["main", "other"] and "main, other" in error["error"]
        assert (await session.ok("files_read", operation="read", root="other", path="b.txt"))["content"] == "sibling"
        assert (await session.ok("files_read", operation="read", root="MAIN", path="a.txt"))["content"] == "root"
        await session.error("files_read", "NOT_FOUND", operation="list", root="third")
