"""The API-key scopes of the capabilities. Each component names its own where it is registered
(``tags=scope_tags(DATA_READ)``, see :func:`mcp_workbench.platform.auth.scope_tags`)."""

from mcp_workbench.platform.auth import scope_tags

DATA_READ = "data:read"
DATA_WRITE = "data:write"
FILES_READ = "files:read"
FILES_WRITE = "files:write"
WEB = "web"
ANALYZE = "analyze"
RESEARCH = "research"

SCOPES = (DATA_READ, DATA_WRITE, FILES_READ, FILES_WRITE, WEB, ANALYZE, RESEARCH)
"""Every scope some component of this server needs: a key may be given these (or ``*``)."""

__all__ = ["ANALYZE", "DATA_READ", "DATA_WRITE", "FILES_READ", "FILES_WRITE", "RESEARCH", "SCOPES", "WEB", "scope_tags"]
