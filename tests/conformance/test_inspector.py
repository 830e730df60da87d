"""The MCP Inspector's CLI (@modelcontextprotocol/inspector, pinned in package.json) drives our
server as a real third-party client: every transport x every protocol era.

- transports: stdio (the Inspector spawns ``python -m mcp_workbench serve`` itself, once per
  invocation) and streamable HTTP (one server per module, bearer auth on, with a key made by
  ``mcp-workbench keys create --scopes '*'``);
- eras: ``--protocol-era legacy`` (initialize handshake, 2025-11-25) and ``--protocol-era
  modern`` (pinned to the sessionless 2026-07-28; the Inspector fails if it is not spoken).

For each of the four, the Inspector lists tools, resources, resource templates and prompts, then
calls every listed tool with valid arguments, reads every listed resource and every listed
template (filled in), gets every listed prompt, and makes invalid calls whose result must be our
error shape. The tool calls are generated from what tools/list returns: a listed tool without
test arguments in TOOL_STEPS fails ``test_every_listed_tool_has_test_arguments`` (and a listed
template / prompt with required arguments and no entry here fails too), so a new tool cannot
slip through untested. Arguments are validated against the listed inputSchema first, so a
schema change shows up as that, not as a puzzling tool error.

How the Inspector CLI behaves (2.12.0, clients/cli/build/index.js):
- ``inspector --cli --format json -q [options] -- TARGET`` prints one JSON object
  ``{"result": ...}`` on stdout; with ``-q`` nothing else but an error envelope
  ``{"error": {"code", "message"}}`` on stderr. TARGET is a command (stdio) or a URL ending in
  /mcp (HTTP). ``--`` keeps the server's own flags (``--config``, ``--root``) and the
  variadic ``--header`` / ``--prompt-args`` from swallowing each other.
- exit codes: 0 ok, 1 usage/other error, 3 auth required, 4 unreachable, 5 the tool returned
  ``isError: true`` (the result is still printed on stdout).
- stdio servers get only HOME, PATH, SHELL, TERM and LC_CTYPE from the environment, plus each
  ``-e KEY=VALUE``. Its own state lives under $HOME/.mcp-inspector, so HOME is a temp dir here.

All invocations run once per module, in parallel threads (Node's and, for stdio, the server's
start-up dominate each one): per transport x era a chain of stages - the lists, then stage 1
(independent calls, and the writes others depend on), 2 (writes and reads that need stage 1's),
3 (reads of what stage 2 wrote) - the four chains sharing one pool. The tests judge the results.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import jsonschema
import pytest

from tests.conformance.nodepkgs import bin_entry, ensure_packages
from tests.support.servers import HttpServer, create_key

# The first test's setup runs the whole matrix (about 100 s of CPU, most of it stdio servers
# starting); on a busy 2-core machine that can near pytest-timeout's default of 300 s.
pytestmark = pytest.mark.timeout(900)

INSPECTOR = "@modelcontextprotocol/inspector"
TRANSPORTS = ("stdio", "http")
ERAS = ("legacy", "modern")
COMBOS = [f"{transport}-{era}" for transport in TRANSPORTS for era in ERAS]

CALL_TIMEOUT = 150.0  # seconds for one Inspector invocation (stdio includes the server's start)
# The Inspector gives a server 15 s to connect by default; a stdio server's cold start on a busy
# machine (Python imports, several of them at once) can take longer than that.
CONNECT_TIMEOUT_MS = 120_000
WORKERS = max(4, 2 * (os.cpu_count() or 2))

ERROR_KEYS = {"error", "error_code", "recovery_steps", "retryable", "details", "correlation_id"}
SERVER_INFO_META = "io.modelcontextprotocol/serverInfo"  # 2026-07-28 results name their server here
EXIT_OK, EXIT_AUTH_REQUIRED, EXIT_TOOL_ERROR = 0, 3, 5

SEED_TEXT = "Seeded by test_inspector: the quick brown fox.\n"
PAGE_MARKER = "Inspector matrix page"
PAGE = f"""<!doctype html><html><head><title>{PAGE_MARKER}</title></head><body>
<nav><a href="/">Home</a> <a href="/about">About</a></nav>
<main><article><h1>{PAGE_MARKER}</h1>
<p>This page is served on 127.0.0.1 for the MCP Inspector matrix. It has enough words in its main
content to be recognised as the article: web_fetch turns it into Markdown for the model.</p>
<p>Second paragraph, with a <a href="https://example.com/">link</a>.</p></article></main>
</body></html>"""


# --- what to call --------------------------------------------------------------------------


@dataclass(frozen=True)
class Ctx:
    """Names one transport x era uses, so the four never touch each other's tables or files."""

    combo: str
    root: str  # name of the files root
    site: str  # base URL of the loopback web site

    @property
    def table(self) -> str:
        return "inspector_" + self.combo.replace("-", "_")

    @property
    def note(self) -> str:
        return f"inspector/{self.combo}/note.txt"


@dataclass(frozen=True)
class Step:
    """One tools/call: run in `stage` (stages run in order; a stage's calls in parallel), and
    the result (as JSON text) must contain every string of `expect`."""

    stage: int
    tool: str
    args: dict[str, Any]
    expect: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        op = self.args.get("operation") or self.args.get("format") or ""
        return f"{self.tool}{' ' + op if op else ''}"


def _data_write(c: Ctx) -> list[Step]:
    columns = [
        {"name": "id", "type": "integer", "primary_key": True},
        {"name": "title", "type": "text", "nullable": False},
        {"name": "score", "type": "real"},
    ]
    rows = [{"id": 1, "title": "alpha", "score": 1.5}, {"id": 2, "title": "beta", "score": 2.5}]
    return [
        Step(1, "data_write", {"operation": "create_table", "table": c.table, "columns": columns}, (c.table,)),
        Step(2, "data_write", {"operation": "insert", "table": c.table, "rows": rows}, ('"inserted": 2',)),
    ]


def _data_read(c: Ctx) -> list[Step]:
    return [
        Step(3, "data_read", {"operation": "tables"}, (c.table,)),
        Step(
            3,
            "data_read",
            {
                "operation": "select",
                "table": c.table,
                "columns": ["id", "title"],
                "where": [{"column": "score", "op": ">=", "value": 1}],
                "order_by": [{"column": "id", "desc": True}],
                "limit": 10,
            },
            ("alpha", "beta"),
        ),
        Step(
            3,
            "data_read",
            {"operation": "sql", "sql": f"SELECT count(*) AS n FROM {c.table} WHERE score > ?", "params": [2]},
            ('"n"',),
        ),
    ]


def _files_read(c: Ctx) -> list[Step]:
    return [
        Step(1, "files_read", {"operation": "list", "root": c.root, "path": "seed"}, ("readme.md",)),
        # reads what files_write wrote in stage 1
        Step(2, "files_read", {"operation": "read", "root": c.root, "path": c.note}, (c.combo,)),
    ]


def _files_write(c: Ctx) -> list[Step]:
    content = f"Note written through the Inspector ({c.combo}).\n"
    args = {"operation": "write", "root": c.root, "path": c.note, "content": content, "parents": True}
    return [Step(1, "files_write", args, ("note.txt",))]


def _web_fetch(c: Ctx) -> list[Step]:
    return [Step(1, "web_fetch", {"url": f"{c.site}/page.html", "format": "markdown"}, (PAGE_MARKER,))]


def _analyze(c: Ctx) -> list[Step]:
    context = [{"kind": "text", "title": "scores", "text": "Alpha scored 1.5 points and beta scored 2.5 points."}]
    args = {"task": "Which of alpha and beta scored more?", "context": context, "max_iterations": 1}
    return [Step(1, "analyze", args, ('"route"', "beta"))]


def _research(c: Ctx) -> list[Step]:
    # the files root alone: the public sources are out of reach here, and would only be reported
    args = {"question": "quick brown fox", "sources": ["files"], "depth": "quick", "time_budget_s": 20}
    return [Step(1, "research", args, ("files://", '"synthesis"'))]


# Every tool the server may list, with argument sets that must succeed. A listed tool missing
# here fails test_every_listed_tool_has_test_arguments: add its calls when you add a tool.
TOOL_STEPS: dict[str, Callable[[Ctx], list[Step]]] = {
    "data_write": _data_write,
    "data_read": _data_read,
    "files_read": _files_read,
    "files_write": _files_write,
    "web_fetch": _web_fetch,
    "analyze": _analyze,
    "research": _research,
}

# Listed resource templates, filled in (stage 3: after the table exists).
TEMPLATE_URIS: dict[str, Callable[[Ctx], str]] = {
    "data://{source}/tables/{table}": lambda c: f"data://workspace/tables/{c.table}",
    "files://{root}/{path*}": lambda c: f"files://{c.root}/seed/readme.md",
}
TEMPLATE_EXPECT: dict[str, Callable[[Ctx], str]] = {
    "data://{source}/tables/{table}": lambda c: "title",
    "files://{root}/{path*}": lambda c: "quick brown fox",
}

# Arguments for listed prompts; a prompt without an entry is got with no arguments (and fails
# the test if it has required ones).
PROMPT_ARGS: dict[str, dict[str, str]] = {
    "explore_database": {"source": "workspace", "focus": "data quality"},
    "analysis": {"task": "Summarise the seed notes"},
    "research_brief": {"question": "What is the quick brown fox?"},
}

# Deliberately invalid calls: (label, tool, arguments, expected error_code). Each must exit 5
# with isError and our error JSON.
INVALID_CALLS: list[tuple[str, str, Callable[[Ctx], dict[str, Any]], str]] = [
    ("unknown operation", "data_read", lambda c: {"operation": "no_such_operation"}, "VALIDATION_ERROR"),
    ("missing table", "data_read", lambda c: {"operation": "describe", "table": "no_such_table"}, "NOT_FOUND"),
]


# --- running the Inspector -------------------------------------------------------------------


@dataclass
class Call:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def result(self) -> dict[str, Any] | None:
        try:
            doc = json.loads(self.stdout)
        except ValueError:
            return None
        return doc.get("result") if isinstance(doc, dict) else None

    @property
    def error(self) -> dict[str, Any] | None:
        """The CLI's error envelope on stderr, if any."""
        for line in reversed(self.stderr.strip().splitlines()):
            try:
                doc = json.loads(line)
            except ValueError:
                continue
            if isinstance(doc, dict) and isinstance(doc.get("error"), dict):
                return doc["error"]
        return None

    def describe(self) -> str:
        argv = " ".join(self.argv)
        return (
            f"$ {argv}\nexit {self.returncode} after {self.seconds:.1f}s\n--- stdout ---\n{self.stdout[:4000]}\n"
            f"--- stderr ---\n{self.stderr[-4000:]}"
        )


@dataclass
class Target:
    """How the Inspector reaches the server for one transport x era."""

    combo: str
    era: str
    options: list[str]  # Inspector options (-e / --header), before the method's
    target: list[str]  # after `--`: the command, or the URL


class Inspector:
    def __init__(self, node: Path, entry: Path, home: Path) -> None:
        self.prefix = [
            str(node), str(entry), "--cli", "--format", "json", "-q", "--connect-timeout", str(CONNECT_TIMEOUT_MS)
        ]  # fmt: skip
        env = {k: v for k, v in os.environ.items() if not k.startswith(("WORKBENCH_", "MCP_"))}
        # NODE_COMPILE_CACHE: Node 22 keeps V8's compiled code of the Inspector's bundle between
        # invocations (about a quarter less CPU per start, and there are dozens of starts)
        env.update(HOME=str(home), NO_COLOR="1", FORCE_COLOR="0", NODE_COMPILE_CACHE=str(home / "node-compile-cache"))
        self.env = env

    def run(self, target: Target, method: str, *args: str, options: list[str] | None = None) -> Call:
        argv = [
            *self.prefix,
            "--protocol-era", target.era,
            *(target.options if options is None else options),
            "--method", method, *args,
            "--", *target.target,
        ]  # fmt: skip
        started = time.monotonic()
        try:
            proc = subprocess.run(
                argv,
                env=self.env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=CALL_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else exc.stdout or ""
            err = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else exc.stderr or ""
            return Call(argv, -1, out, err + f"\n(timed out after {CALL_TIMEOUT:.0f}s)", CALL_TIMEOUT)
        return Call(argv, proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started)

    def call_tool(self, target: Target, tool: str, arguments: dict[str, Any], **kw: Any) -> Call:
        return self.run(target, "tools/call", "--tool-name", tool, "--tool-args-json", json.dumps(arguments), **kw)


# --- the world the server sees ---------------------------------------------------------------


class _Site(BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, tuple[str, str]]] = {
        "/robots.txt": ("text/plain", "User-agent: *\nAllow: /\n"),
        "/page.html": ("text/html; charset=utf-8", PAGE),
    }

    def do_GET(self) -> None:
        content_type, body = self.routes.get(self.path, ("text/plain", "not found"))
        data = body.encode()
        self.send_response(200 if self.path in self.routes else 404)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@dataclass
class World:
    workroot: Path
    config: Path
    site: str
    home: Path
    stdio_data: dict[str, Path] = field(default_factory=dict)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, site: str) -> World:
    tmp = tmp_path_factory.mktemp("inspector")
    workroot = tmp / "workroot"  # the root's name is its directory's name
    (workroot / "seed").mkdir(parents=True)
    (workroot / "seed" / "readme.md").write_text(SEED_TEXT, encoding="utf-8")
    config = tmp / "config.toml"
    # the loopback site is reachable only because the configuration allows it (SSRF guard)
    config.write_text('[web]\nallow_hosts = ["127.0.0.1"]\n', encoding="utf-8")
    home = tmp / "home"
    home.mkdir()
    w = World(workroot=workroot, config=config, site=site, home=home)
    for era in ERAS:  # one SQLite workspace per stdio era: their processes run concurrently
        w.stdio_data[era] = tmp / f"stdio-{era}-data"
        w.stdio_data[era].mkdir()
    return w


@pytest.fixture(scope="module")
def http_server(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HttpServer, str]]:
    data_dir = tmp_path_factory.mktemp("inspector-http-data")
    key = create_key(data_dir, "*", name="inspector")
    server = HttpServer(["--config", str(world.config), "--root", str(world.workroot)], data_dir).start()
    try:
        yield server, key
    finally:
        server.stop()


@pytest.fixture(scope="module")
def inspector(world: World) -> Inspector:
    node = ensure_packages(INSPECTOR)
    return Inspector(node, bin_entry(INSPECTOR, "inspector"), world.home)


def _targets(world: World, http_url: str, key: str) -> dict[str, Target]:
    targets = {}
    for era in ERAS:
        stdio_env = {
            "WORKBENCH_DATA_DIR": str(world.stdio_data[era]),
            # nothing from the developer's own config directory
            "XDG_CONFIG_HOME": str(world.stdio_data[era] / "xdg-config"),
            "XDG_DATA_HOME": str(world.stdio_data[era] / "xdg-data"),
        }
        targets[f"stdio-{era}"] = Target(
            combo=f"stdio-{era}",
            era=era,
            options=[arg for k, v in stdio_env.items() for arg in ("-e", f"{k}={v}")],
            target=[
                sys.executable, "-m", "mcp_workbench", "serve",
                "--config", str(world.config), "--root", str(world.workroot),
            ],
        )  # fmt: skip
        targets[f"http-{era}"] = Target(
            combo=f"http-{era}",
            era=era,
            # --stored-auth-only: on a 401 fail with exit 3 instead of starting an interactive OAuth login
            options=["--stored-auth-only", "--header", f"Authorization: Bearer {key}"],
            target=[http_url],
        )
    return targets


# --- the matrix: every invocation, run once per module -------------------------------------------

LISTS = {
    "tools/list": "tools",
    "resources/list": "resources",
    "resources/templates/list": "resourceTemplates",
    "prompts/list": "prompts",
}


@dataclass
class ComboRun:
    target: Target
    ctx: Ctx
    lists: dict[str, Call] = field(default_factory=dict)
    steps: list[tuple[Step, Call]] = field(default_factory=list)
    schema_problems: list[str] = field(default_factory=list)
    uncovered_tools: list[str] = field(default_factory=list)
    resources: list[tuple[str, str | None, Call]] = field(default_factory=list)  # (uri, expected text, call)
    unfilled_templates: list[str] = field(default_factory=list)
    prompts: list[tuple[str, Call]] = field(default_factory=list)
    invalid: list[tuple[str, str, Call]] = field(default_factory=list)  # (label, expected code, call)
    unauthenticated: Call | None = None

    def listed(self, method: str) -> list[dict[str, Any]]:
        call = self.lists.get(method)
        result = call.result if call else None
        items = (result or {}).get(LISTS[method])
        return items if isinstance(items, list) else []


def _plan_stages(run: ComboRun, inspector: Inspector) -> dict[int, list[Callable[[], None]]]:
    """Turn what the server listed into the calls of stages 1-3."""
    stages: dict[int, list[Callable[[], None]]] = {1: [], 2: [], 3: []}
    c, t = run.ctx, run.target

    for tool in run.listed("tools/list"):
        name = tool.get("name", "")
        make = TOOL_STEPS.get(name)
        if make is None:
            run.uncovered_tools.append(name)
            continue
        validator_cls = jsonschema.validators.validator_for(tool.get("inputSchema") or {})
        validator = validator_cls(tool.get("inputSchema") or {})
        for step in make(c):
            problems = [
                f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
                for e in validator.iter_errors(step.args)
            ]
            if problems:
                run.schema_problems.append(f"{step.label} {json.dumps(step.args)}: {'; '.join(problems)}")
                continue

            def do(step: Step = step) -> None:
                run.steps.append((step, inspector.call_tool(t, step.tool, step.args)))

            stages[step.stage].append(do)

    for resource in run.listed("resources/list"):
        uri = resource.get("uri", "")

        def read(uri: str = uri) -> None:
            run.resources.append((uri, None, inspector.run(t, "resources/read", "--uri", uri)))

        stages[1].append(read)
    for template in run.listed("resources/templates/list"):
        pattern = template.get("uriTemplate", "")
        if pattern not in TEMPLATE_URIS:
            run.unfilled_templates.append(pattern)
            continue
        uri, expect = TEMPLATE_URIS[pattern](c), TEMPLATE_EXPECT[pattern](c)

        def read_template(uri: str = uri, expect: str = expect) -> None:
            run.resources.append((uri, expect, inspector.run(t, "resources/read", "--uri", uri)))

        stages[3].append(read_template)

    for prompt in run.listed("prompts/list"):
        name = prompt.get("name", "")
        args = PROMPT_ARGS.get(name, {})
        extra = ["--prompt-args", *(f"{k}={v}" for k, v in args.items())] if args else []

        def get(name: str = name, extra: list[str] = extra) -> None:
            run.prompts.append((name, inspector.run(t, "prompts/get", "--prompt-name", name, *extra)))

        stages[1].append(get)

    for label, tool, make_args, code in INVALID_CALLS:
        args = make_args(c)

        def invalid(label: str = label, tool: str = tool, args: dict[str, Any] = args, code: str = code) -> None:
            run.invalid.append((label, code, inspector.call_tool(t, tool, args)))

        stages[1].append(invalid)

    if t.combo.startswith("http"):

        def unauthenticated() -> None:
            run.unauthenticated = inspector.run(t, "tools/list", options=["--stored-auth-only"])

        stages[1].append(unauthenticated)
    return stages


@pytest.fixture(scope="module")
def matrix(inspector: Inspector, world: World, http_server: tuple[HttpServer, str]) -> dict[str, ComboRun]:
    """Every Inspector invocation of the module, run once; the tests below judge the results."""
    server, key = http_server
    targets = _targets(world, server.url, key)
    runs = {
        combo: ComboRun(target=targets[combo], ctx=Ctx(combo=combo, root=world.workroot.name, site=world.site))
        for combo in COMBOS
    }
    # Each transport x era is a chain of stages (lists, then stages 1-3), driven by its own thread;
    # all chains share one pool of Inspector invocations, so one chain's waiting fills with
    # another's work. Stdio calls cost most (each starts a server), so those chains go first.
    with ThreadPoolExecutor(max_workers=WORKERS) as pool, ThreadPoolExecutor(max_workers=len(runs)) as drivers:

        def run_all(jobs: list[Callable[[], None]]) -> None:
            for future in [pool.submit(job) for job in jobs]:
                future.result()

        def drive(run: ComboRun) -> None:
            run_all([lambda m=method: run.lists.__setitem__(m, inspector.run(run.target, m)) for method in LISTS])
            plan = _plan_stages(run, inspector)
            for stage in sorted(plan):
                run_all(plan[stage])

        for future in [drivers.submit(drive, run) for run in runs.values()]:
            future.result()
    return runs


# --- assertions --------------------------------------------------------------------------------


def _failures(checks: list[tuple[str, Call, str | None]]) -> str:
    """`checks` is (what, call, problem or None); the message of every problem with its call."""
    bad = [f"== {what}: {problem}\n{call.describe()}" for what, call, problem in checks if problem]
    return "\n\n".join(bad)


def _era_problem(run: ComboRun, result: dict[str, Any]) -> str | None:
    """2026-07-28 results carry the server's identity in _meta; handshake-era ones do not."""
    has_info = SERVER_INFO_META in (result.get("_meta") or {})
    if run.target.era == "modern" and not has_info:
        return f"no _meta[{SERVER_INFO_META!r}]: the call did not go over 2026-07-28"
    if run.target.era == "legacy" and has_info:
        return f"_meta[{SERVER_INFO_META!r}] present: the call went over 2026-07-28, not the handshake era"
    return None


def _ok_problem(call: Call, expect: tuple[str, ...] = ()) -> str | None:
    if call.returncode != EXIT_OK:
        return f"exit code {call.returncode}, expected {EXIT_OK}"
    result = call.result
    if result is None:
        return "stdout is not {'result': ...}"
    if result.get("isError"):
        return "isError: true"
    text = json.dumps(result, ensure_ascii=False)
    missing = [e for e in expect if e not in text]
    return f"result lacks {missing}" if missing else None


@pytest.mark.parametrize("combo", COMBOS)
def test_lists(combo: str, matrix: dict[str, ComboRun]) -> None:
    run = matrix[combo]
    checks = [(method, call, _ok_problem(call)) for method, call in run.lists.items()]
    assert not _failures(checks), _failures(checks)
    tools = run.listed("tools/list")
    names = [t.get("name") for t in tools]
    # a files root, a writable database and the web are configured, and the HTTP key has scope
    # '*': every tool the server knows of must be offered
    every = {"data_read", "data_write", "files_read", "files_write", "web_fetch"}
    assert every <= set(names), f"tools/list lacks {sorted(every - set(names))}"
    for tool in tools:
        assert tool.get("description") and tool.get("title"), f"tool without title/description: {tool.get('name')}"
        assert (tool.get("inputSchema") or {}).get("type") == "object", f"{tool.get('name')}: inputSchema"
    assert run.listed("resources/list"), "resources/list is empty"
    assert run.listed("resources/templates/list"), "resources/templates/list is empty"
    assert run.listed("prompts/list"), "prompts/list is empty"


def test_eras_list_the_same_catalog(matrix: dict[str, ComboRun]) -> None:
    for transport in TRANSPORTS:
        catalogs = {
            era: {
                m: sorted(json.dumps(i, sort_keys=True) for i in matrix[f"{transport}-{era}"].listed(m)) for m in LISTS
            }
            for era in ERAS
        }
        assert catalogs["legacy"] == catalogs["modern"], f"{transport}: the eras list different things"


@pytest.mark.parametrize("combo", COMBOS)
def test_every_listed_tool_has_test_arguments(combo: str, matrix: dict[str, ComboRun]) -> None:
    run = matrix[combo]
    assert not run.uncovered_tools, (
        f"tools/list offers {run.uncovered_tools}, which TOOL_STEPS in {__file__} has no calls for: "
        "add at least one valid argument set for each"
    )
    assert not run.schema_problems, "test arguments no longer match the listed inputSchema:\n" + "\n".join(
        run.schema_problems
    )


@pytest.mark.parametrize("combo", COMBOS)
def test_every_listed_tool_succeeds(combo: str, matrix: dict[str, ComboRun]) -> None:
    run = matrix[combo]
    listed = {t.get("name") for t in run.listed("tools/list")}
    called = {step.tool for step, _ in run.steps}
    assert listed and listed <= called | set(run.uncovered_tools), f"not called: {sorted(listed - called)}"
    checks = []
    for step, call in sorted(run.steps, key=lambda sc: sc[0].stage):
        problem = _ok_problem(call, step.expect) or _era_problem(run, call.result or {})
        checks.append((f"stage {step.stage} {step.label} {json.dumps(step.args)}", call, problem))
    assert not _failures(checks), _failures(checks)


@pytest.mark.parametrize("combo", COMBOS)
def test_every_listed_resource_and_template_reads(combo: str, matrix: dict[str, ComboRun]) -> None:
    run = matrix[combo]
    assert not run.unfilled_templates, (
        f"resources/templates/list offers {run.unfilled_templates}, which TEMPLATE_URIS in {__file__} "
        "cannot fill in: add a URI for each"
    )
    static = {r.get("uri") for r in run.listed("resources/list")}
    assert static <= {uri for uri, _, _ in run.resources}, "a listed resource was not read"
    assert any(expect is not None for _, expect, _ in run.resources), "no templated resource was read"
    checks = []
    for uri, expect, call in run.resources:
        problem = _ok_problem(call, (expect,) if expect else ()) or _era_problem(run, call.result or {})
        contents = (call.result or {}).get("contents")
        if not problem and not (isinstance(contents, list) and contents and contents[0].get("uri") == uri):
            problem = f"contents do not hold {uri}"
        checks.append((f"resources/read {uri}", call, problem))
    assert not _failures(checks), _failures(checks)


@pytest.mark.parametrize("combo", COMBOS)
def test_every_listed_prompt_gets(combo: str, matrix: dict[str, ComboRun]) -> None:
    run = matrix[combo]
    listed = run.listed("prompts/list")
    for prompt in listed:
        required = [a["name"] for a in prompt.get("arguments") or [] if a.get("required")]
        missing = [a for a in required if a not in PROMPT_ARGS.get(prompt["name"], {})]
        assert not missing, f"prompt {prompt['name']!r} needs {missing}: add them to PROMPT_ARGS in {__file__}"
    assert {p["name"] for p in listed} == {name for name, _ in run.prompts}
    checks = []
    for name, call in run.prompts:
        problem = _ok_problem(call) or _era_problem(run, call.result or {})
        messages = (call.result or {}).get("messages")
        if not problem and not (isinstance(messages, list) and messages):
            problem = "no messages"
        if not problem and name in PROMPT_ARGS:
            text = json.dumps(messages, ensure_ascii=False)
            unused = [v for v in PROMPT_ARGS[name].values() if v not in text]
            problem = f"arguments not in the messages: {unused}" if unused else None
        checks.append((f"prompts/get {name}", call, problem))
    assert not _failures(checks), _failures(checks)


def _error_problem(call: Call, code: str) -> str | None:
    """An invalid call: exit 5, a result with isError and one text content holding our error JSON."""
    if call.returncode != EXIT_TOOL_ERROR:
        return f"exit code {call.returncode}, expected {EXIT_TOOL_ERROR} (tool error)"
    result = call.result or {}
    if result.get("isError") is not True:
        return "isError is not true"
    content = result.get("content") or []
    if len(content) != 1 or content[0].get("type") != "text":
        return f"expected one text content, got {content}"
    try:
        error = json.loads(content[0]["text"])
    except ValueError:
        return "the text content is not JSON"
    if set(error) != ERROR_KEYS:
        return f"error keys {sorted(error)} != {sorted(ERROR_KEYS)}"
    if error["error_code"] != code:
        return f"error_code {error['error_code']!r}, expected {code!r}"
    shape = (
        isinstance(error["error"], str) and error["error"],
        isinstance(error["recovery_steps"], list)
        and error["recovery_steps"]
        and all(isinstance(s, str) and s for s in error["recovery_steps"]),
        isinstance(error["retryable"], bool),
        isinstance(error["details"], dict),
        isinstance(error["correlation_id"], str) and len(error["correlation_id"]) >= 8,
    )
    if not all(shape):
        return f"malformed error object: {error}"
    envelope = call.error or {}
    if envelope.get("code") != "tool_is_error":
        return f"the CLI's error envelope is {envelope}, expected code 'tool_is_error'"
    return None


@pytest.mark.parametrize("combo", COMBOS)
def test_invalid_calls_give_our_error_shape(combo: str, matrix: dict[str, ComboRun]) -> None:
    run = matrix[combo]
    assert len(run.invalid) == len(INVALID_CALLS)
    checks = [
        (f"{label} (expect {code})", call, _error_problem(call, code) or _era_problem(run, call.result or {}))
        for label, code, call in run.invalid
    ]
    assert not _failures(checks), _failures(checks)


@pytest.mark.parametrize("era", ERAS)
def test_http_without_the_key_is_refused(era: str, matrix: dict[str, ComboRun]) -> None:
    call = matrix[f"http-{era}"].unauthenticated
    assert call is not None
    envelope = call.error or {}
    assert call.returncode == EXIT_AUTH_REQUIRED and envelope.get("code") == "auth_required", call.describe()
