"""Cross-cutting pieces any FastMCP server can reuse: the error model, logging, call tracking,
and the operation-tool adapter. Imports no capability."""
