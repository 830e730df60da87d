"""``mcp-workbench doctor``: named checks of an installation, each ✔ / ! / ✘ with the fix for
what it finds.

- :mod:`.report` — a :class:`~.report.Finding`, and the text and JSON renderings;
- :mod:`.context` — what the checks share: the configuration as loaded (or why it does not
  load), the launcher, and the one stdio handshake several checks read;
- :mod:`.runtime` — Python, bytecode, uv;
- :mod:`.configuration` — the config file, the data directory, the roots;
- :mod:`.sources` — each data source answers; read-only ones are read-only in the database too;
- :mod:`.egress` — the SSRF guard refuses cloud-metadata addresses under this configuration;
- :mod:`.stdio` — a handshake in both protocol eras, nothing but protocol on stdout, the tool
  count against client budgets;
- :mod:`.clients` — each client entry starts an existing launcher of this version;
- :mod:`.http` — auth, sealing keys (with a fingerprint to compare replicas), Redis, research's
  pacing store, the port;
- :mod:`.checks` — the registry: names, order, running them;
- :mod:`.command` / :mod:`.parser` — the argparse side.
"""
