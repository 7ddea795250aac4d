"""``aggregator send ACCOUNT TO [TEXT] [--file PATH]``: through the running instance if there is one, else
on our own."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from aggregator.api import AggregatorError, ConfigurationError, MessageState
from aggregator.app.accounts import AccountCommands
from aggregator.app.runtime import InstanceLock, ProfilePaths, ProtocolRegistry
from aggregator.app.types import AccountConfig
from aggregator.app.wire import message_json
from aggregator.cli.errors import UsageError
from aggregator.cli.output import out
from aggregator.cli.session import running_app
from aggregator.control.client import request

log = logging.getLogger(__name__)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    send = sub.add_parser("send", help="send a message and wait until the server accepts it")
    send.add_argument("account", metavar="ACCOUNT", help="account id, address or label")
    send.add_argument("to", metavar="TO", help="the recipient's address")
    send.add_argument("text", metavar="TEXT", nargs="?", default="", help="the message (with --file: its caption)")
    send.add_argument("--file", metavar="PATH", type=Path, help="send this file with the message")
    send.add_argument(
        "--confirm", action="store_true", help="send even though the organisation's policy warns about the text"
    )
    send.set_defaults(func=cmd_send)


def _report(message: dict[str, object], account: AccountConfig) -> int:
    state = message.get("state")
    if state == "failed":
        raise AggregatorError(f"the message could not be sent: {message.get('error') or 'unknown reason'}")
    if state == "pending":
        out(
            f"Queued message {message['id']} to {message['conversation']}: {account.id} is not connected; "
            "it will be sent when it reconnects."
        )
        return 0
    out(f"Sent message {message['id']} to {message['conversation']}.")
    return 0


def cmd_send(args: argparse.Namespace, paths: ProfilePaths, registry: ProtocolRegistry) -> int:
    store = AccountCommands.offline(paths)
    try:
        account = store.resolve(args.account)
        registry.get(account.protocol).normalize_handle(args.to)
    except ConfigurationError as exc:
        raise UsageError(str(exc)) from None
    file: Path | None = None
    if args.file is not None:
        file = args.file.expanduser().resolve()
        if not file.is_file():
            raise UsageError(f"{args.file} is not a file")
    elif not args.text.strip():
        raise UsageError("the message is empty")
    if not account.enabled:
        raise AggregatorError(f"{account.id} is disabled; enable it first with: aggregator account enable {account.id}")
    lock = InstanceLock(paths.lock_file)
    if lock.is_held_elsewhere():
        reply = request(
            paths.control_socket,
            {
                "op": "send",
                "account": account.id,
                "to": args.to,
                "text": args.text,
                "confirm": args.confirm,
                "file": str(file) if file is not None else None,
            },
        )
        if not reply.get("ok"):
            error = str(reply.get("error", "the running instance refused the message"))
            raise UsageError(error) if reply.get("usage") else AggregatorError(error)
        message = reply["message"]
        assert isinstance(message, dict)
        return _report(message, account)
    lock.acquire()
    try:
        with running_app(paths) as (engine, app):
            row = engine.call(app.send_alone(account, args.to, args.text, args.confirm, file))
    finally:
        lock.release()
    if row.state is MessageState.PENDING:
        sup_reason = row.error or "the account could not connect"
        raise AggregatorError(
            f"{sup_reason}; message {row.id} is queued and will be sent when {account.id} next connects"
        )
    return _report(message_json(row), account)
