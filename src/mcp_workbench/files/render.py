"""The text the model reads for each file operation (the structured data rides alongside).

Every truncated answer ends with the exact call that continues it.
"""

from __future__ import annotations

from typing import Any


def size_text(size: int | None) -> str:
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def _entry_line(entry: dict[str, Any], indent: str = "") -> str:
    name = entry["name"]
    if entry["type"] == "directory":
        return f"{indent}{name}/"
    if entry["type"] == "symlink":
        target = entry.get("target")
        return f"{indent}{name} -> {target if target is not None else '(outside the root, not followed)'}"
    if entry["type"] == "file":
        return f"{indent}{name}  ({size_text(entry.get('size'))})"
    return f"{indent}{name}  [{entry['type']}]"


def roots_text(roots: list[dict[str, Any]]) -> str:
    lines = [f"{r['name']}: {r['path']}{' (read-only)' if r['read_only'] else ''}" for r in roots]
    return "Roots (pass the name as 'root'; paths are relative to it):\n" + "\n".join(lines)


def list_text(data: dict[str, Any]) -> str:
    head = f"{data['path']} in root '{data['root']}': {data['total']} entr{'y' if data['total'] == 1 else 'ies'}"
    lines = [head, *(_entry_line(e) for e in data["entries"])]
    if data["truncated"]:
        lines.append(
            f"[{data['total'] - len(data['entries'])} more not shown: narrow with 'pattern', "
            "or use operation 'search' with a 'pattern']"
        )
    return "\n".join(lines)


def tree_text(data: dict[str, Any]) -> str:
    lines = [f"{data['path']}/ in root '{data['root']}' (depth {data['depth']}):"]
    lines += [_entry_line(e, "  " * e["depth"]) for e in data["entries"]]
    stopped = data.get("stopped_by")
    if stopped == "max_entries":
        lines.append("[entry cap reached: call again with a deeper 'path', a smaller 'depth', or 'exclude' patterns]")
    elif stopped == "time":
        lines.append("[time budget reached: call again with a deeper 'path' or a smaller 'depth']")
    if data.get("ignored"):
        lines.append(f"({data['ignored']} entries left out by exclude / .gitignore; gitignore: false shows them)")
    return "\n".join(lines)


def read_text(data: dict[str, Any]) -> str:
    path = data["path"]
    if data["kind"] == "binary":
        return (
            f"'{path}' is a binary file ({data['mime_type']}, {size_text(data['size'])}); its content is not shown. "
            "Operation 'info' describes it."
        )
    if data["kind"] == "image":
        size = f" {data['width']}x{data['height']}" if data.get("width") else ""
        if data.get("returned"):
            return f"Image '{path}': {data['mime_type']}{size}, {size_text(data['size'])}."
        return f"Image '{path}': {data['mime_type']}{size}, {size_text(data['size'])}; not returned: {data['reason']}."
    content: str = data["content"]
    return _text_header(data) + "\n" + content + _text_footer(data)


def _text_header(data: dict[str, Any]) -> str:
    total = data.get("total_lines")
    of_total = f" of {total}" if total is not None else ""
    if data.get("start_line") is not None and data["start_line"] == data["end_line"]:
        where = f"line {data['start_line']}{of_total}"
    elif data.get("start_line") is not None:
        where = f"lines {data['start_line']}-{data['end_line']}{of_total}"
    elif data.get("tail") is not None:
        where = f"last {data['tail']} lines"
    elif data.get("offset") is not None:
        where = f"from byte {data['offset']}"
    else:
        where = f"no lines in range ({total} lines)" if total is not None else "no lines"
    endings = " CRLF (shown as LF)" if data.get("line_endings") == "crlf" else ""
    return f"{data['path']} — {where} ({data['encoding']}{endings}, {size_text(data['size'])}):"


def _text_footer(data: dict[str, Any]) -> str:
    if data.get("next_start_line") is not None:
        return (
            f"\n[truncated at the {size_text(data.get('cap'))} read cap: call again with "
            f"start_line={data['next_start_line']} to continue]"
        )
    if data.get("next_offset") is not None:
        return f"\n[truncated: call again with offset={data['next_offset']} to continue]"
    return ""


def search_text(data: dict[str, Any]) -> str:
    matches = data["matches"]
    what = " and ".join(
        f"{label} {data[key]!r}"
        for key, label in (("pattern", "names matching"), ("contains", "content matching"))
        if data.get(key)
    )
    lines = [f"{len(matches)} match(es) for {what} under {data['path']} in root '{data['root']}':"]
    for match in matches:
        if "line" in match:
            lines.append(f"{match['path']}:{match['line']}: {match['text']}")
        else:
            size = f"  ({size_text(match['size'])})" if "size" in match else ""
            lines.append(f"{match['path']}{'/' if match['type'] == 'directory' else ''}{size}")
    stopped = data.get("stopped_by")
    notes = {
        "max_results": "[match cap reached: narrow the search (deeper path, stricter pattern) or raise max_results]",
        "max_files": "[file cap reached: search a deeper 'path' or add 'exclude' patterns to visit fewer files]",
        "time": "[time budget reached: results are partial; search a deeper 'path' or narrow 'pattern']",
        "directory_size": "[a directory was too large to list completely; results may be partial]",
    }
    if stopped in notes:
        lines.append(notes[stopped])
    skipped = data.get("skipped") or {}
    if skipped.get("too_large"):
        lines.append(f"({skipped['too_large']} file(s) too large to search were skipped)")
    return "\n".join(lines)


def info_text(data: dict[str, Any]) -> str:
    lines = [f"{data['path']} in root '{data['root']}': {data['type']}"]
    keys = (
        "size",
        "content",
        "encoding",
        "mime_type",
        "width",
        "height",
        "entries",
        "target",
        "modified",
        "created",
        "changed",
        "accessed",
        "permissions",
        "mode",
        "resolved_path",
    )
    for key in keys:
        if data.get(key) is not None:
            value = size_text(data[key]) + f" ({data[key]} bytes)" if key == "size" else data[key]
            lines.append(f"  {key}: {value}")
    if data["type"] == "symlink" and not data.get("target_inside_root"):
        lines.append("  target: outside the root (not followed)")
    return "\n".join(lines)


def write_text(operation: str, data: dict[str, Any]) -> str:
    prefix = "Dry run, nothing changed: would " if data.get("dry_run") else ""
    path = f"'{data['path']}'"
    if operation == "write":
        verb = "create" if data.get("created") else "replace"
        if not prefix:
            verb = "Created" if data.get("created") else "Replaced"
        text = f"{prefix}{verb} {path} ({data['bytes']} bytes, {data['encoding']})."
        if data.get("created_directories"):
            text += f" Directories created: {', '.join(data['created_directories'])}."
        return text
    if operation == "edit":
        count = sum(a["replacements"] for a in data["applied"])
        head = f"{prefix}{'make' if prefix else 'Made'} {count} replacement(s) in {path}."
        return head + ("\n" + data["diff"] if data.get("diff") else "")
    if operation == "mkdir":
        if data.get("existed"):
            return f"{path} already exists as a directory; nothing to do."
        return f"{prefix}{'create' if prefix else 'Created'} {', '.join(repr(c) for c in data['created'])}."
    if operation == "move":
        replaced = " (replacing what was there)" if data.get("replaced") else ""
        verb = "move" if prefix else "Moved"
        return f"{prefix}{verb} {path} to '{data['destination']}' in root '{data['destination_root']}'{replaced}."
    count = data.get("entries")
    entries = f" with {count} entr{'y' if count == 1 else 'ies'}" if count else ""
    verb = "delete" if prefix else "Deleted"
    return f"{prefix}{verb} {data['type']} {path}{entries}."
