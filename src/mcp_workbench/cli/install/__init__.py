"""Putting this server into MCP clients' configs: ``install``, ``uninstall`` and ``install --list``.

- :mod:`.clients` — the table: each client's file, format, container key, entry shape, budget;
- :mod:`.paths` — where files live on Linux, macOS and Windows, from a passed-in :class:`Host`;
- :mod:`.entries` — what an entry starts (this installation, by absolute path) and its shapes;
- :mod:`.formats` / :mod:`.jsonc` — edits of one entry that keep the rest of a file byte-for-byte;
- :mod:`.configfile` — backup, temporary file, fsync, atomic rename; the dry-run diff;
- :mod:`.service` — plan / apply / status as typed results (``doctor`` reuses ``statuses``);
- :mod:`.verify` — start the written entry and complete a handshake in both protocol eras;
- :mod:`.command` — the argparse side.
"""
