"""``mcp-workbench keys create|list|revoke``: manage the API keys HTTP callers present.

The new key is printed once, as the last line of stdout; only its salted hash is stored
(under the data directory, see platform/keys.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from mcp_workbench.platform.keys import KeyStore, parse_scopes
from mcp_workbench.scopes import SCOPES
from mcp_workbench.settings import Settings

EXIT_USAGE = 2


def add_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: Callable[[argparse.ArgumentParser], None],
) -> None:
    keys = commands.add_parser("keys", help="create, list or revoke API keys for the HTTP transport")
    actions = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="make a key and print it once")
    create.add_argument("--name", required=True, help="who or what the key is for")
    create.add_argument("--scopes", required=True, help="comma-separated, e.g. data:read,web (or * for all)")
    actions.add_parser("list", help="list keys (never the secrets)")
    revoke = actions.add_parser("revoke", help="revoke a key by id")
    revoke.add_argument("key_id")
    for action in (create, actions.choices["list"], revoke):
        common(action)


def run(args: argparse.Namespace, settings: Settings) -> int:
    store = KeyStore.in_dir(settings.data_dir)
    if args.keys_command == "create":
        try:
            scopes = parse_scopes(args.scopes, SCOPES)
        except ValueError as exc:
            print(f"mcp-workbench: {exc}", file=sys.stderr)
            return EXIT_USAGE
        record, key = store.create(args.name, scopes)
        print(f"Created key {record.id} ({record.name}) with scopes {', '.join(record.scopes)}.", file=sys.stderr)
        print(
            "Store it now: it cannot be shown again. Clients send it as 'Authorization: Bearer <key>'.", file=sys.stderr
        )
        print(key)
        return 0
    if args.keys_command == "list":
        print(json.dumps([record.public() for record in store.list()], indent=1))
        return 0
    if store.revoke(args.key_id):
        print(f"Revoked key {args.key_id}.", file=sys.stderr)
        return 0
    print(f"mcp-workbench: no active key with id {args.key_id!r}", file=sys.stderr)
    return 1
