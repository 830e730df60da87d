"""The files capability on MCP: two tools and a resource template (registered only when roots
are configured; ``files_write`` only when at least one root is writable).

Thin by design: everything here declares MCP components and forwards to
:class:`~mcp_workbench.files.service.FilesService`, which the first call that needs it builds;
installing only resolves the roots. Completions for the resource template's ``root`` and
``path`` are :meth:`FilesService.complete_files`, for the server-wide completion handler to
call (a FastMCP server has only one).
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastmcp import FastMCP
from fastmcp.resources.base import ResourceContent, ResourceResult
from fastmcp.tools.base import ToolResult
from mcp_types import ImageContent, TextContent, ToolAnnotations

from mcp_workbench.capability import Lazy, ServiceCapability, Services
from mcp_workbench.files import models, render
from mcp_workbench.files.port import FilesReader
from mcp_workbench.files.roots import RootSet
from mcp_workbench.files.settings import FilesSettings
from mcp_workbench.platform.errors import WorkbenchError, resource_error
from mcp_workbench.platform.tool_adapters import Answer, Operation, OperationTool
from mcp_workbench.scopes import FILES_READ, FILES_WRITE, scope_tags

if TYPE_CHECKING:
    from mcp_workbench.files.service import FilesService

log = logging.getLogger("mcp_workbench.files")

FILE_TEMPLATE = "files://{root}/{path*}"
"""A file by root name and path. Not ``file://``: clients normalise a ``file://`` host (lower
case, ``localhost`` dropped, digits read as an IPv4 address), which would mangle root names."""

READ_DESCRIPTION = """Read files under the configured roots; never changes anything.
Start with operation 'roots' or 'tree'. 'path' is relative to a root, '/' between names;
'root' may be omitted when only one root is configured.
'read' returns text by lines (start_line/end_line, head, tail) or from a byte offset; a cut answer ends
with the exact call that continues it (start_line=N or offset=N). Images (png, jpeg, gif, webp) come back
as images; other binary files are described, not shown.
'search' finds files by name with 'pattern' (a glob: '*.py' at any depth, 'src/**/test_*.py') and/or by
content with 'contains' (a regular expression), answering path:line: text.
'tree' and 'search' leave out what .gitignore files ignore unless gitignore: false.
Symbolic links that lead outside a root are never followed."""

WRITE_DESCRIPTION = """Change files under the writable roots: write a whole file (atomically), edit by exact text
replacement, mkdir, move, delete.
'edit' takes edits [{"old": ..., "new": ...}]: each old text must occur exactly once in the file (otherwise
CONFLICT: read the file again, or add surrounding lines); all edits apply or none; dry_run: true returns
the diff and changes nothing.
'write' replaces the whole file (create_only: true refuses to replace one); parents: true creates missing
directories.
'move' replaces an existing destination only with overwrite: true; destination_root moves to another root.
'delete' removes a file, a link or an empty directory; recursive: true removes a directory with everything
in it (use dry_run first).
Read-only roots answer READ_ONLY. Writes never go through symbolic links."""


def files_read_tool(service: Lazy[FilesService]) -> OperationTool:
    return OperationTool.build(
        name="files_read",
        title="Read files",
        description=READ_DESCRIPTION,
        operations=[
            Operation(
                models.RootsArgs,
                shown(lambda data: render.roots_text(data["roots"]), lambda args: service.get().list_roots(args)),
            ),
            Operation(models.ListArgs, shown(render.list_text, lambda args: service.get().list_directory(args))),
            Operation(models.TreeArgs, shown(render.tree_text, lambda args: service.get().tree(args))),
            Operation(models.ReadArgs, lambda args: read_answer(service.get(), args)),
            Operation(models.SearchArgs, shown(render.search_text, lambda args: service.get().search(args))),
            Operation(models.InfoArgs, shown(render.info_text, lambda args: service.get().info(args))),
        ],
        annotations=ToolAnnotations(readOnlyHint=True, destructiveHint=False, idempotentHint=True, openWorldHint=False),
        scope=FILES_READ,
    )


def files_write_tool(service: Lazy[FilesService]) -> OperationTool:
    def written(operation: str, work: Callable[[Any], Awaitable[dict[str, Any]]]) -> Callable[[Any], Awaitable[Answer]]:
        return shown(lambda data: render.write_text(operation, data), work)

    return OperationTool.build(
        name="files_write",
        title="Write files",
        description=WRITE_DESCRIPTION,
        operations=[
            Operation(models.WriteArgs, written("write", lambda args: service.get().write(args))),
            Operation(models.EditArgs, written("edit", lambda args: service.get().edit(args))),
            Operation(models.MkdirArgs, written("mkdir", lambda args: service.get().mkdir(args))),
            Operation(models.MoveArgs, written("move", lambda args: service.get().move(args))),
            Operation(models.DeleteArgs, written("delete", lambda args: service.get().delete(args))),
        ],
        annotations=ToolAnnotations(
            readOnlyHint=False, destructiveHint=True, idempotentHint=False, openWorldHint=False
        ),
        scope=FILES_WRITE,
    )


def shown(
    text: Callable[[dict[str, Any]], str], work: Callable[[Any], Awaitable[dict[str, Any]]]
) -> Callable[[Any], Awaitable[Answer]]:
    """An operation's handler: the service's result as the structured data, ``text`` of it for the model."""

    async def answer(args: Any) -> Answer:
        data = await work(args)
        return Answer(text(data), data)

    return answer


@dataclass
class MediaAnswer(Answer):
    """An answer that carries images after its text."""

    images: list[ImageContent] = field(default_factory=list)

    def to_tool_result(self) -> ToolResult:
        content = [TextContent(type="text", text=self.text), *self.images]
        return ToolResult(content=content, structured_content=self.data)


async def read_answer(service: FilesService, args: models.ReadArgs) -> Answer:
    result = await service.read(args)
    data = {**result.data, "cap": service.settings.max_read_bytes} if result.kind == "text" else result.data
    text = render.read_text(data)
    if result.image is not None and result.image_info is not None:
        image = ImageContent(
            type="image", data=base64.b64encode(result.image).decode("ascii"), mime_type=result.image_info.mime_type
        )
        return MediaAnswer(text, data, images=[image])
    return Answer(text, data)


class FilesCapability(ServiceCapability["FilesService"]):
    """The files capability as the composition root sees it: the roots, resolved at start-up,
    and the :class:`FilesService`, built by the first call or completion that needs it."""

    name = "files"

    def __init__(self, settings: FilesSettings) -> None:
        self.roots = RootSet(settings)
        super().__init__(lambda: _open(settings, self.roots))

    async def complete(self, ref: Any, argument: Any, context: Any) -> list[str] | None:
        if getattr(ref, "uri", None) != FILE_TEMPLATE:
            return None  # not ours: leave the files service unbuilt
        arguments = context.arguments if context else None
        return await self.service.get().complete_files(argument.name, argument.value, arguments)


def _open(settings: FilesSettings, roots: RootSet) -> FilesService:
    from mcp_workbench.files.service import FilesService

    return FilesService(settings, roots=roots)


def _reader(capability: FilesCapability) -> FilesReader:
    from mcp_workbench.files.service import RootReader

    return RootReader(capability.service.get())


def install(mcp: FastMCP, settings: FilesSettings, services: Services) -> FilesCapability | None:
    if not settings.roots:
        log.info("file tools off: no roots configured (add --root PATH or [files.roots.NAME] path = ...)")
        return None
    capability = FilesCapability(settings)
    register_files(mcp, capability)
    services.offer(FilesReader, Lazy(lambda: _reader(capability)), scope=FILES_READ, what="reading files")
    log.info(
        "file tools on",
        extra={
            "roots": {root.name: str(root.path) for root in capability.roots.all()},
            "writable": capability.roots.any_writable(),
        },
    )
    return capability


def register_files(mcp: FastMCP, capability: FilesCapability) -> None:
    service = capability.service
    mcp.add_tool(files_read_tool(service))
    if capability.roots.any_writable():
        mcp.add_tool(files_write_tool(service))

    @mcp.resource(
        FILE_TEMPLATE,
        name="file",
        title="File in a root",
        description="A file under a configured root: text as text, images and other binary files as blobs, "
        "a directory as a JSON listing. Large files: use files_read operation 'read'.",
        mime_type="text/plain",
        tags=scope_tags(FILES_READ),
    )
    async def file_resource(root: str, path: str) -> ResourceResult:
        try:
            found = await service.get().resource(root, path)
        except WorkbenchError as exc:
            raise resource_error(exc) from None
        return ResourceResult([ResourceContent(found.content, mime_type=found.mime_type)])
