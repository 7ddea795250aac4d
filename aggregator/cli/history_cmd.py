"""``aggregator history --with ADDRESS``: one conversation from the archive, oldest first."""

from __future__ import annotations

import argparse
import json

from aggregator.api import ConfigurationError, MessageKind, MessageState
from aggregator.app.accounts import AccountCommands
from aggregator.app.runtime import ProfilePaths, ProtocolRegistry
from aggregator.app.types import Direction
from aggregator.app.wire import message_json
from aggregator.cli.database import has_archive, open_archive
from aggregator.cli.errors import UsageError
from aggregator.cli.output import out_exact, out_message


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    hist = sub.add_parser("history", help="show a conversation from the archive, oldest first")
    hist.add_argument("--with", dest="peer", required=True, metavar="ADDRESS", help="contact or room address")
    hist.add_argument("--account", metavar="ACCOUNT", help="only this account (id, address or label)")
    hist.add_argument("--limit", type=int, metavar="N", help="only the newest N messages")
    hist.add_argument("--json", action="store_true", help="one JSON object per line")
    hist.set_defaults(func=cmd_history)


def cmd_history(args: argparse.Namespace, paths: ProfilePaths, registry: ProtocolRegistry) -> int:
    if args.limit is not None and args.limit <= 0:
        raise UsageError("--limit must be a positive number")
    store = AccountCommands.offline(paths)
    account_id: str | None = None
    candidates = {args.peer}
    try:
        if args.account:
            account = store.resolve(args.account)
            account_id = account.id
            candidates = {registry.get(account.protocol).normalize_handle(args.peer)}
        else:
            for account in store.accounts():
                try:
                    candidates.add(registry.get(account.protocol).normalize_handle(args.peer))
                except ConfigurationError:
                    continue
    except ConfigurationError as exc:
        raise UsageError(str(exc)) from None
    if not has_archive(args, paths):
        return 0
    archive = open_archive(args, paths)
    try:
        conv_ids = sorted({c for handle in candidates for c in archive.conversations_with(handle, account_id)})
        messages = archive.history(conv_ids, limit=args.limit)
    finally:
        archive.close()
    for m in messages:
        if args.json:
            out_exact(json.dumps(message_json(m), ensure_ascii=False))
            continue
        when = m.sent_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        who = m.sender_name or m.sender
        state = "" if m.state in (MessageState.RECEIVED, MessageState.SENT) else f"  [{m.state.name.lower()}]"
        if m.kind is MessageKind.ACTION:
            head = f"{when}  * {who} "
        elif m.kind is MessageKind.SYSTEM:  # a status line: nobody said it
            head = f"{when}  -- "
        else:
            arrow = "->" if m.direction is Direction.OUT else "<-"
            head = f"{when}  {arrow} {who}: "
        out_message(head, m.body, state)
    return 0
