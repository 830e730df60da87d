"""Which API-key scope each tool needs (see platform/auth.py). A tool not listed needs ``*``."""

TOOL_SCOPES: dict[str, str] = {
    "data_read": "data:read",
    "data_write": "data:write",
    "files_read": "files:read",
    "files_write": "files:write",
    "web_fetch": "web",
}
