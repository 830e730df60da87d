"""Backups that restore: consistent archives of the databases, the key store and the config file.

- :mod:`.archive` writes and reads the archive (a tar of members plus a manifest with each
  member's sha256); :mod:`.verify` checks one without restoring.
- :mod:`.sqlite` snapshots SQLite files with the online backup API while the server keeps
  writing, and swaps a restored file into place; :mod:`.postgres` drives pg_dump/pg_restore.
- :mod:`.holders` finds the processes that hold a database open.
- :mod:`.backup` and :mod:`.restore` are the two operations; :mod:`.scheduler` takes backups
  while the server runs.

Nothing here knows MCP: the CLI (``cli/backup.py``) and the server's lifespan call in.
"""
