"""Globs with .gitignore semantics (for .gitignore files, ``exclude`` and ``pattern``)."""

from __future__ import annotations

import pytest

from mcp_workbench.files.ignore import Ignorer, Rules, matcher, parse


def ignored(lines: list[str], path: str, *, is_dir: bool = False, base: tuple[str, ...] = ()) -> bool:
    ignorer = Ignorer([Rules.from_lines(base, lines)])
    return ignorer.ignored(tuple(path.split("/")), is_dir=is_dir)


CASES = [
    (["*.log"], "a.log", False, True),
    (["*.log"], "deep/down/a.log", False, True),
    (["*.log"], "a.log.txt", False, False),
    (["build/"], "build", True, True),
    (["build/"], "build", False, False),
    (["build/"], "src/build", True, True),
    (["/build"], "build", True, True),
    (["/build"], "src/build", True, False),
    (["src/*.py"], "src/a.py", False, True),
    (["src/*.py"], "src/sub/a.py", False, False),
    (["src/*.py"], "lib/src/a.py", False, False),
    (["docs/**/*.md"], "docs/a.md", False, True),
    (["docs/**/*.md"], "docs/x/y/a.md", False, True),
    (["**/cache"], "a/b/cache", True, True),
    (["**/cache"], "cache", True, True),
    (["logs/**"], "logs/a/b.txt", False, True),
    (["*.log", "!keep.log"], "keep.log", False, False),
    (["*.log", "!keep.log"], "other.log", False, True),
    (["!keep.log", "*.log"], "keep.log", False, True),
    (["\\#literal"], "#literal", False, True),
    (["# comment"], "# comment", False, False),
    (["\\!bang"], "!bang", False, True),
    (["a\\*b"], "a*b", False, True),
    (["a\\*b"], "axb", False, False),
    (["[abc].txt"], "b.txt", False, True),
    (["[!abc].txt"], "b.txt", False, False),
    (["[^abc].txt"], "d.txt", False, True),
    (["file?.txt"], "file1.txt", False, True),
    (["trailing   "], "trailing", False, True),
    (["Case.TXT"], "case.txt", False, False),
    ([""], "anything", False, False),
]


@pytest.mark.parametrize(("lines", "path", "is_dir", "expected"), CASES, ids=repr)
def test_gitignore_semantics(lines: list[str], path: str, is_dir: bool, expected: bool) -> None:
    assert ignored(lines, path, is_dir=is_dir) is expected


def test_rules_apply_only_below_their_directory() -> None:
    rules = Rules.from_lines(("sub",), ["*.tmp", "/top.txt"])
    assert rules.decide(("sub", "x.tmp"), is_dir=False) is True
    assert rules.decide(("sub", "top.txt"), is_dir=False) is True
    assert rules.decide(("x.tmp",), is_dir=False) is None
    assert rules.decide(("sub", "deeper", "top.txt"), is_dir=False) is None


def test_deeper_gitignore_files_win_over_shallower_ones() -> None:
    ignorer = Ignorer()
    ignorer.push(Rules.from_lines((), ["*.txt"]))
    ignorer.push(Rules.from_lines(("keep",), ["!*.txt"]))
    assert ignorer.ignored(("keep", "a.txt"), is_dir=False) is False
    assert ignorer.ignored(("other", "a.txt"), is_dir=False) is True
    ignorer.enter(("other",))
    assert ignorer.ignored(("keep", "a.txt"), is_dir=False) is True


def test_caller_globs_are_relative_to_the_searched_directory() -> None:
    rules = matcher(["tests/*.py"], ("proj",))
    assert rules.decide(("proj", "tests", "a.py"), is_dir=False) is True
    assert rules.decide(("tests", "a.py"), is_dir=False) is None


def test_a_hostile_pattern_against_a_long_name_finishes() -> None:
    """A naive glob-to-regex translation of this pattern backtracks for ages on this name."""
    pattern = parse("*a*a*a*a*a*a*a*a*a*a*a*a*b")
    assert pattern is not None
    assert pattern.matches(("a" * 250,), is_dir=False) is False
    many_stars = parse("/".join(["**"] * 16) + "/x")
    assert many_stars is not None
    assert many_stars.matches((*tuple("d" * 100), "y"), is_dir=False) is False


def test_blank_lines_comments_and_lone_slashes_are_not_patterns() -> None:
    assert parse("") is None
    assert parse("   ") is None
    assert parse("# x") is None
    assert parse("/") is None
    assert parse("!") is None
