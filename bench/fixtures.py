"""The data every subject works on, generated once into the work directory and reused.

- ``bench.db``: SQLite, table ``items`` with 10,000 rows (the same file for every SQL server);
- ``tree/``: 20,000 text files (200 directories of 99 source-like files and a README.md), with
  a rare marker on 100 lines for the content search, and ``tree/big_module.py`` (1,000 lines)
  for the file read; no hidden files, no .gitignore, so every searcher visits the same files;
- ``pages/``: a small article page (~8 KB) and a 1 MB article page with navigation,
  sidebars and comments around the content, served by :mod:`bench.servers.pages`.

Everything is deterministic (a seeded generator), so runs on different days see the same bytes.
"""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

VERSION = "4"  # bump when the generated data changes
ROWS = 10_000
DIRS_TOP, DIRS_SUB, FILES_PER_DIR = 20, 10, 99  # 200 dirs x (99 + README.md) = 20,000 files
MARKER_FILES = 100
MARKER_REGEX = r"needle_[0-9]+_marker"
NAME_GLOB = "README.md"

WORDS = (  # noqa: SIM905 - a sentence of words reads better than a list literal
    "alpha beta gamma delta epsilon zeta theta kappa lambda sigma omega vector matrix tensor "
    "record field value index table query cursor buffer stream packet socket thread worker "
    "session request response handler router parser lexer token schema column filter order"
).split()


@dataclass(frozen=True)
class Fixtures:
    root: Path

    @property
    def db(self) -> Path:
        return self.root / "bench.db"

    @property
    def tree(self) -> Path:
        return self.root / "tree"

    @property
    def read_file(self) -> str:
        return "big_module.py"

    @property
    def pages(self) -> Path:
        return self.root / "pages"

    @property
    def stamp(self) -> Path:
        return self.root / "fixtures.json"

    def facts(self) -> dict:
        return json.loads(self.stamp.read_text())


def ensure(root: Path) -> Fixtures:
    fx = Fixtures(root)
    if fx.stamp.is_file() and fx.facts().get("version") == VERSION:
        return fx
    root.mkdir(parents=True, exist_ok=True)
    rng = random.Random(20261124)
    _make_db(fx.db, rng)
    facts = _make_tree(fx.tree, rng)
    _make_pages(fx.pages, rng)
    facts.update(version=VERSION, rows=ROWS)
    fx.stamp.write_text(json.dumps(facts, indent=1))
    return fx


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def _make_db(path: Path, rng: random.Random) -> None:
    path.unlink(missing_ok=True)
    con = sqlite3.connect(path)
    con.execute(
        "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, category TEXT NOT NULL, "
        "price REAL NOT NULL, quantity INTEGER NOT NULL, created_at TEXT NOT NULL, description TEXT)"
    )
    categories = ["books", "tools", "garden", "kitchen", "toys", "music", "sports", "office"]
    con.executemany(
        "INSERT INTO items VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (
                i,
                f"item-{i:05d} {rng.choice(WORDS)}",
                rng.choice(categories),
                round(rng.uniform(1, 500), 2),
                rng.randint(0, 1000),
                f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:00:00",
                _sentence(rng, 14),
            )
            for i in range(1, ROWS + 1)
        ],
    )
    con.commit()
    con.execute("VACUUM")
    con.close()


def _source_file(rng: random.Random, lines: int) -> list[str]:
    out = ['"""' + _sentence(rng, 8) + '"""', ""]
    for n in range(lines):
        kind = n % 7
        if kind == 0:
            out.append(f"def {rng.choice(WORDS)}_{n}({rng.choice(WORDS)}, {rng.choice(WORDS)}):")
        elif kind == 6:
            out.append("")
        else:
            out.append(f"    {rng.choice(WORDS)} = {rng.choice(WORDS)}({_sentence(rng, 4).replace(' ', ', ')})")
    return out


def _make_tree(tree: Path, rng: random.Random) -> dict:
    if tree.exists():
        shutil.rmtree(tree)
    files: list[Path] = []
    for top in range(DIRS_TOP):
        for sub in range(DIRS_SUB):
            folder = tree / f"pkg{top:02d}" / f"mod{sub:02d}"
            folder.mkdir(parents=True)
            for n in range(FILES_PER_DIR):
                files.append(folder / f"file_{n:03d}.py")
            (folder / NAME_GLOB).write_text(f"# pkg{top:02d}/mod{sub:02d}\n\n{_sentence(rng, 30)}\n")
    marked = set(rng.sample(range(len(files)), MARKER_FILES))
    total_bytes = 0
    for index, path in enumerate(files):
        lines = _source_file(rng, rng.randint(20, 80))
        if index in marked:
            lines.insert(rng.randint(2, len(lines)), f"    # needle_{index}_marker {_sentence(rng, 3)}")
        data = "\n".join(lines) + "\n"
        total_bytes += len(data)
        path.write_text(data)
    big = "\n".join(_source_file(rng, 1000)[:1000]) + "\n"
    (tree / "big_module.py").write_text(big)
    readmes = DIRS_TOP * DIRS_SUB
    return {
        "tree_files": len(files) + readmes + 1,
        "tree_dirs": DIRS_TOP * DIRS_SUB + DIRS_TOP,
        "tree_bytes": total_bytes,
        "marker_lines": MARKER_FILES,
        "readme_files": readmes,
        "read_file_bytes": len(big.encode()),
    }


def _article(rng: random.Random, paragraphs: int, title: str) -> str:
    body = []
    for n in range(paragraphs):
        if n % 12 == 0:
            body.append(f"<h2>{_sentence(rng, 4).title()}</h2>")
        body.append(f"<p>{_sentence(rng, 60)} <a href='/ref/{n}'>{rng.choice(WORDS)}</a> {_sentence(rng, 30)}.</p>")
        if n % 25 == 24:
            items = "".join(f"<li>{_sentence(rng, 6)}</li>" for _ in range(5))
            body.append(f"<ul>{items}</ul>")
    return f"<article><h1>{title}</h1>{''.join(body)}</article>"


def _boilerplate(rng: random.Random, links: int) -> tuple[str, str, str]:
    nav = "".join(f"<li><a href='/section/{i}'>{rng.choice(WORDS).title()}</a></li>" for i in range(links))
    side = "".join(f"<div class='promo'><a href='/ad/{i}'>{_sentence(rng, 5)}</a></div>" for i in range(links // 2))
    comments = "".join(
        f"<div class='comment'><b>user{i}</b> <span>{_sentence(rng, 12)}</span></div>" for i in range(links)
    )
    return f"<nav><ul>{nav}</ul></nav>", f"<aside>{side}</aside>", f"<section class='comments'>{comments}</section>"


def _page(rng: random.Random, title: str, paragraphs: int, links: int, target_bytes: int | None = None) -> str:
    nav, side, comments = _boilerplate(rng, links)
    article = _article(rng, paragraphs, title)
    html = (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
        "<style>body{font-family:sans-serif}</style><script>var analytics = 1;</script></head>"
        f"<body><header><a href='/'>Home</a>{nav}</header><main>{article}</main>{side}"
        f"<footer>{comments}<p>Copyright 2026</p></footer></body></html>"
    )
    if target_bytes is not None:  # scale the article so that the whole page is about target_bytes
        for _ in range(3):
            fixed = len(html) - len(article)
            paragraphs = max(1, int(paragraphs * (target_bytes - fixed) / len(article)))
            article = _article(random.Random(paragraphs), paragraphs, title)
            html = html[: html.index("<main>") + 6] + article + html[html.index("</main>") :]
    return html


def _make_pages(pages: Path, rng: random.Random) -> None:
    pages.mkdir(parents=True, exist_ok=True)
    (pages / "small.html").write_text(_page(rng, "A small article", paragraphs=12, links=20))
    (pages / "big.html").write_text(_page(rng, "A long article", paragraphs=2000, links=400, target_bytes=1_000_000))
