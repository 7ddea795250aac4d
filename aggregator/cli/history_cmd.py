"""``aggregator history --with ADDRESS``: one conversation from the archive, oldest first;
``--person NAME|ADDRESS``: one person's timeline across all their accounts, as the window shows it."""

from __future__ import annotations

import argparse
import json

from aggregator.api import ConfigurationError, MessageKind, MessageState
from aggregator.app.accounts import AccountCommands
from aggregator.app.contacts_history import person_timeline
from aggregator.app.runtime import ProfilePaths, ProtocolRegistry
from aggregator.app.types import Direction, StoredMessage
from aggregator.app.wire import message_json
from aggregator.cli.database import has_archive, open_archive
from aggregator.cli.errors import UsageError
from aggregator.cli.output import out_exact, out_message


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    hist = sub.add_parser("history", help="show a conversation from the archive, oldest first")
    who = hist.add_mutually_exclusive_group(required=True)
    who.add_argument("--with", dest="peer", metavar="ADDRESS", help="contact or room address")
    who.add_argument(
        "--person", metavar="NAME|ADDRESS", help="one person across all their accounts (name, id or an address)"
    )
    hist.add_argument("--account", metavar="ACCOUNT", help="only this account (id, address or label)")
    hist.add_argument("--limit", type=int, metavar="N", help="only the newest N messages")
    hist.add_argument("--json", action="store_true", help="one JSON object per line")
    hist.set_defaults(func=cmd_history)


def cmd_history(args: argparse.Namespace, paths: ProfilePaths, registry: ProtocolRegistry) -> int:
    if args.limit is not None and args.limit <= 0:
        raise UsageError("--limit must be a positive number")
    if args.person is not None:
        return _person(args, paths)
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
    _print(args, messages)
    return 0


def _person(args: argparse.Namespace, paths: ProfilePaths) -> int:
    if args.account:
        raise UsageError("--person covers every account of the person; leave out --account")
    accounts = AccountCommands.offline(paths).accounts()
    if not has_archive(args, paths):
        raise UsageError(f"no person or contact {args.person!r}")
    archive = open_archive(args, paths)
    try:
        timeline = person_timeline(archive, accounts, args.person, limit=args.limit)
    except ConfigurationError as exc:
        raise UsageError(str(exc)) from None
    finally:
        archive.close()
    labels = {a.id: a.display_name for a in accounts}
    _print(args, list(timeline.messages), labels)
    return 0


def _print(args: argparse.Namespace, messages: list[StoredMessage], labels: dict[str, str] | None = None) -> None:
    """One line per message; with ``labels`` (a person's timeline over several accounts) each line ends
    with the account it went through, and ``--json`` adds ``account_label``."""
    for m in messages:
        if args.json:
            row = message_json(m)
            if labels is not None:
                row["account_label"] = labels.get(m.account_id, m.account_id)
            out_exact(json.dumps(row, ensure_ascii=False))
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
        if labels is not None:
            state += f"  [{labels.get(m.account_id, m.account_id)}]"
        out_message(head, m.body, state)
