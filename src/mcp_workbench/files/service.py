"""The files capability's domain API: one method per operation, from arguments to plain results
(the structured data a tool answers with; :mod:`~mcp_workbench.files.server` adds the text).

Each method runs its blocking file-system work in a worker thread (``anyio.to_thread``),
content searches in a killable child process. Writes are serialised within the process.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio

from mcp_workbench.files import reading, writing
from mcp_workbench.files.handles import DIR_FD_SUPPORTED
from mcp_workbench.files.models import (
    DeleteArgs,
    EditArgs,
    InfoArgs,
    ListArgs,
    MkdirArgs,
    MoveArgs,
    ReadArgs,
    RootsArgs,
    SearchArgs,
    TreeArgs,
    WriteArgs,
)
from mcp_workbench.files.paths import parse_relative, printable
from mcp_workbench.files.port import FileText, LineMatch
from mcp_workbench.files.roots import RootSet
from mcp_workbench.files.sandbox import Sandbox, Target
from mcp_workbench.files.search import SearchJob, run_search
from mcp_workbench.files.settings import FilesSettings
from mcp_workbench.files.textio import SAMPLE_BYTES, sniff
from mcp_workbench.platform.errors import InvalidInput, TooLarge, WorkbenchError
from mcp_workbench.platform.isolation import WorkerPool

T = TypeVar("T")
MAX_COMPLETIONS = 100
INLINE_READ_BYTES = 64 * 1024
"""Files up to this size are read on the event loop: cheaper than a hop to a worker thread."""


@dataclass(frozen=True, slots=True)
class FileContent:
    """A file (or a directory's JSON listing) as a resource serves it."""

    content: str | bytes
    mime_type: str


async def blocking(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run file-system work in a worker thread so the event loop never waits on a disk."""
    return await anyio.to_thread.run_sync(functools.partial(function, *args, **kwargs))


async def _to_the_end(work: Callable[[], T]) -> T:
    """``work`` in a worker thread; returns (or raises) only once the thread has returned, even if
    this task is cancelled meanwhile. A plain ``to_thread`` wait ends at once on a task's
    cancellation while its thread runs on."""
    running = asyncio.get_running_loop().create_task(blocking(work))
    try:
        return await asyncio.shield(running)
    except BaseException:
        if not running.done():
            with anyio.CancelScope(shield=True):
                await asyncio.wait({running})
        if not running.cancelled():
            running.exception()  # retrieved: the caller's own cancellation is what propagates
        raise


class FilesService:
    """The configured roots and one handler per operation."""

    name = "files"

    def __init__(
        self, settings: FilesSettings, *, use_dir_fd: bool = DIR_FD_SUPPORTED, roots: RootSet | None = None
    ) -> None:
        self.settings = settings
        self.roots = roots if roots is not None else RootSet(settings, use_dir_fd=use_dir_fd)
        self._use_dir_fd = use_dir_fd
        self._write_lock: anyio.Lock | None = None
        self._workers = WorkerPool("mcp-workbench-search", size=2, preload=["mcp_workbench.files.search"])
        self._limits = writing.Limits(
            max_write_bytes=settings.max_write_bytes,
            max_diff_chars=settings.max_read_bytes,
            max_delete_entries=settings.max_delete_entries,
        )

    async def aclose(self) -> None:
        """Stop the search worker processes."""
        await self._workers.aclose()

    def _locate(self, root: str | None, path: str, *, follow: bool = True) -> tuple[Sandbox, Target]:
        return self.roots.locate(root, path, follow=follow)

    # --- files_read ---------------------------------------------------------------------------

    async def list_roots(self, args: RootsArgs) -> dict[str, Any]:
        roots = self.roots.describe()
        return {"roots": roots}

    async def list_directory(self, args: ListArgs) -> dict[str, Any]:
        def work() -> dict[str, Any]:
            sandbox, target = self._locate(args.root, args.path)
            return reading.list_directory(sandbox, target, pattern=args.pattern, limit=self.settings.max_list_entries)

        data = await blocking(work)
        return data

    async def tree(self, args: TreeArgs) -> dict[str, Any]:
        depth = min(args.depth, self.settings.max_tree_depth)

        def work() -> dict[str, Any]:
            sandbox, target = self._locate(args.root, args.path)
            return reading.tree(
                sandbox,
                target,
                depth=depth,
                exclude=args.exclude,
                gitignore=args.gitignore,
                limit=self.settings.max_tree_entries,
                budget_s=self.settings.search_timeout_s,
            )

        data = await blocking(work)
        return data

    async def read(self, args: ReadArgs) -> reading.ReadResult:
        """Text with where to continue, an image, or a binary file's description."""
        request = reading.ReadRequest(
            start_line=args.start_line,
            end_line=args.end_line,
            head=args.head,
            tail=args.tail,
            offset=args.offset,
            encoding=args.encoding,
        )

        # Reaching and opening the file are a few metadata system calls: done here, they save
        # the thread hop that is a good part of a small read's cost; bigger files are read in a
        # worker thread.
        sandbox, target = self._locate(args.root, args.path)
        fd, info = sandbox.open_file(target)
        with os.fdopen(fd, "rb") as handle:
            work = functools.partial(
                reading.read_opened,
                sandbox,
                target,
                handle,
                info,
                request,
                cap=self.settings.max_read_bytes,
                image_cap=self.settings.max_image_bytes,
            )
            return work() if info.st_size <= INLINE_READ_BYTES else await blocking(work)

    async def search(self, args: SearchArgs) -> dict[str, Any]:
        """Files by name and/or lines by content, as ``search`` answers them."""

        def prepare() -> tuple[SearchJob, str]:
            sandbox, target = self._locate(args.root, args.path)
            start_is_file = False
            if not target.is_root:
                parent, _ = sandbox.open_parent(target)
                with parent:
                    found = sandbox.lstat(parent, target.name, target.shown)
                start_is_file = found is not None and stat.S_ISREG(found.st_mode)
            job = SearchJob(
                root_name=sandbox.name,
                root_path=str(sandbox.path),
                use_dir_fd=self._use_dir_fd,
                start=target.real,
                start_is_file=start_is_file,
                pattern=args.pattern,
                contains=args.contains,
                ignore_case=args.ignore_case,
                exclude=tuple(args.exclude),
                gitignore=args.gitignore,
                max_results=min(args.max_results, self.settings.max_search_matches),
                max_files=self.settings.max_search_files,
                max_file_bytes=self.settings.max_search_file_bytes,
                budget_s=self.settings.search_timeout_s,
            )
            return job, target.shown

        job, shown = await blocking(prepare)
        matches: list[dict[str, Any]] = []
        if job.contains is None:
            summary = await blocking(run_search, job, matches.append)
        else:
            outcome = await self._workers.run(run_search, job, budget_s=job.budget_s)
            matches = outcome.items
            summary = outcome.result or {"stopped_by": "time", "files_visited": None, "files_searched": None}
        return {
            "root": job.root_name,
            "path": shown,
            "pattern": args.pattern,
            "contains": args.contains,
            "matches": matches[: job.max_results],
            "truncated": summary.get("stopped_by") is not None,
            **summary,
        }

    async def info(self, args: InfoArgs) -> dict[str, Any]:
        def work() -> dict[str, Any]:
            sandbox, target = self._locate(args.root, args.path, follow=False)
            return reading.info(sandbox, target)

        data = await blocking(work)
        return data

    # --- files_write --------------------------------------------------------------------------

    async def _serialised(self, work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """One write at a time, and the next one only once this one's thread is done: a call
        that stops waiting (a TIMEOUT before its commit point) leaves a thread that cannot be
        stopped and is still undoing what it began, so the lock stays held until it returns."""
        if self._write_lock is None:
            self._write_lock = anyio.Lock()
        async with self._write_lock:
            return await _to_the_end(work)

    async def write(self, args: WriteArgs) -> dict[str, Any]:
        def work() -> dict[str, Any]:
            sandbox, target = self._locate(args.root, args.path, follow=False)
            return writing.write_file(
                self.roots,
                sandbox,
                target,
                content=args.content,
                encoding=args.encoding,
                create_only=args.create_only,
                parents=args.parents,
                dry_run=args.dry_run,
                limits=self._limits,
            )

        data = await self._serialised(work)
        return data

    async def edit(self, args: EditArgs) -> dict[str, Any]:
        def work() -> dict[str, Any]:
            sandbox, target = self._locate(args.root, args.path, follow=False)
            return writing.edit_file(
                self.roots, sandbox, target, edits=list(args.edits), dry_run=args.dry_run, limits=self._limits
            )

        data = await self._serialised(work)
        return data

    async def mkdir(self, args: MkdirArgs) -> dict[str, Any]:
        def work() -> dict[str, Any]:
            sandbox, target = self._locate(args.root, args.path, follow=False)
            return writing.make_directory(self.roots, sandbox, target, parents=args.parents, dry_run=args.dry_run)

        data = await self._serialised(work)
        return data

    async def move(self, args: MoveArgs) -> dict[str, Any]:
        def work() -> dict[str, Any]:
            source = self._locate(args.root, args.path, follow=False)
            destination_root = args.destination_root if args.destination_root is not None else source[0].name
            destination = self.roots.locate(destination_root, args.destination, field="destination", follow=False)
            return writing.move(self.roots, source, destination, overwrite=args.overwrite, dry_run=args.dry_run)

        data = await self._serialised(work)
        return data

    async def delete(self, args: DeleteArgs) -> dict[str, Any]:
        def work() -> dict[str, Any]:
            sandbox, target = self._locate(args.root, args.path, follow=False)
            return writing.delete(
                self.roots, sandbox, target, recursive=args.recursive, dry_run=args.dry_run, limits=self._limits
            )

        data = await self._serialised(work)
        return data

    # --- resource and completions -------------------------------------------------------------

    async def resource(self, root: str, path: str) -> FileContent:
        """The file ``path`` of ``root`` as text or bytes; a directory as a JSON listing."""
        return await blocking(self._resource, root, path)

    def _resource(self, root: str, path: str) -> FileContent:
        sandbox, target = self._locate(root, path)
        try:
            fd, info = sandbox.open_file(target)
        except WorkbenchError as exc:
            if exc.details.get("type") != "directory":
                raise
            listing = reading.list_directory(sandbox, target, pattern=None, limit=self.settings.max_list_entries)
            return FileContent(json.dumps(listing, ensure_ascii=False), "application/json")
        with os.fdopen(fd, "rb") as handle:
            sample = handle.read(SAMPLE_BYTES)
            sniffed = sniff(sample, whole=len(sample) < SAMPLE_BYTES)
            cap = self.settings.max_read_bytes if sniffed.kind == "text" else self.settings.max_image_bytes
            if info.st_size > cap:
                raise TooLarge(
                    f"'{target.shown}' is {info.st_size} bytes; the resource serves at most {cap}",
                    recovery_steps=[f"Read it in pieces with files_read operation 'read' and path '{target.shown}'."],
                )
            raw = sample + handle.read(cap + 1 - len(sample))
        if sniffed.kind == "text" and sniffed.encoding is not None:
            text = raw[len(sniffed.bom) :].decode(sniffed.encoding, "replace")
            return FileContent(text, _text_mime(target.shown))
        mime = sniffed.image.mime_type if sniffed.image else reading.guess_mime(target.shown)
        return FileContent(raw, mime)

    async def complete_files(
        self, argument_name: str, value: str, context_arguments: Mapping[str, str] | None
    ) -> list[str] | None:
        """Completions for the file resource's ``root`` and ``path``; ``None`` for other arguments."""
        if argument_name == "root":
            return [name for name in self.roots.names() if name.casefold().startswith(value.casefold())]
        if argument_name == "path":
            return await blocking(self._complete_path, value, (context_arguments or {}).get("root"))
        return None

    def _complete_path(self, value: str, root: str | None) -> list[str]:
        folder, _, prefix = value.rpartition("/")
        try:
            sandbox = self.roots.get(root)
            target = sandbox.resolve(parse_relative(folder))
            directory, _ = sandbox.open_dir(target.real)
        except WorkbenchError:
            return []
        found: list[str] = []
        with directory:
            try:
                with directory.scandir() as listing:
                    entries = [(entry.name, entry.is_dir(follow_symlinks=False)) for entry in listing]
            except OSError:
                return []
        for name, is_dir in entries:
            if name.startswith(".") and not prefix.startswith("."):
                continue
            if name.casefold().startswith(prefix.casefold()):
                shown = printable(name) + ("/" if is_dir else "")
                found.append(f"{folder}/{shown}" if folder else shown)
        return sorted(found)[:MAX_COMPLETIONS]


def _text_mime(shown: str) -> str:
    guessed = reading.guess_mime(shown)
    return guessed if guessed.startswith("text/") or guessed.endswith(("json", "xml", "javascript")) else "text/plain"


class RootReader:
    """:class:`~mcp_workbench.files.port.FilesReader` over this service."""

    def __init__(self, service: FilesService) -> None:
        self._service = service

    def root_names(self) -> list[str]:
        return self._service.roots.names()

    async def read_text(self, root: str | None, path: str) -> FileText:
        result = await self._service.read(ReadArgs(operation="read", root=root, path=path))
        if result.kind != "text":
            raise InvalidInput(
                f"'{path}' is not a text file",
                recovery_steps=["Name a text file; images and other binary files have no text to use."],
                details={"path": path, "content": result.kind},
            )
        return FileText(
            result.data.get("root", root or ""), result.data["path"], result.text, bool(result.data.get("truncated"))
        )

    async def search(
        self,
        contains: str,
        *,
        root: str | None = None,
        pattern: str | None = None,
        ignore_case: bool = True,
        max_results: int = 50,
    ) -> list[LineMatch]:
        roots = [root] if root is not None else self.root_names()
        found: list[LineMatch] = []
        for name in roots:
            if len(found) >= max_results:
                break
            args = SearchArgs(
                operation="search",
                root=name,
                contains=contains,
                pattern=pattern,
                ignore_case=ignore_case,
                max_results=max_results - len(found),
            )
            data = await self._service.search(args)
            found += [LineMatch(name, m["path"], m["line"], m["text"]) for m in data["matches"] if "line" in m]
        return found
