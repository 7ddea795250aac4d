"""``aggregator contacts``: add, rename, remove, block and unblock contacts; the pending requests and
invitations, and their answers. Each needs the running instance (``aggregator run``): the request goes
through its control socket to the connected account.

``run --headless`` prints each incoming request with ``request_line`` (``watch_requests``).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from aggregator.api import AggregatorError, ConfigurationError
from aggregator.app.accounts import AccountCommands
from aggregator.app.application import App
from aggregator.app.contacts import PendingRequest, RequestOutcome
from aggregator.app.runtime import InstanceLock, ProfilePaths, ProtocolRegistry
from aggregator.cli.errors import UsageError
from aggregator.cli.output import out, out_exact
from aggregator.control.client import request
from aggregator.events import ContactBlockChanged, ContactRequestClosed, ContactRequestReceived


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    contacts = sub.add_parser("contacts", help="add, remove, block contacts; answer contact requests")
    contacts.set_defaults(func=cmd_contacts, request=lambda _a: {"op": "contacts.requests"}, json=False)
    verbs = contacts.add_subparsers(dest="verb", metavar="VERB")

    def contact_verb(name: str, help_text: str) -> argparse.ArgumentParser:
        verb = verbs.add_parser(name, help=help_text)
        verb.add_argument("account", metavar="ACCOUNT", help="account id, address or label")
        verb.add_argument("address", metavar="ADDRESS", help="the contact's address")
        return verb

    add = contact_verb("add", "add a contact (and ask to see their presence)")
    add.add_argument("--name", help="your name for them")
    add.add_argument("--group", help="a group for them on the server's roster")
    add.set_defaults(request=lambda a: _contact("contacts.add", a, name=a.name, group=a.group))
    rename = contact_verb("rename", "give a contact your own name for them (without NAME: clear it)")
    rename.add_argument("name", metavar="NAME", nargs="?")
    rename.set_defaults(request=lambda a: _contact("contacts.rename", a, name=a.name))
    for name, help_text in (
        ("remove", "remove a contact (their history stays)"),
        ("block", "block someone: their messages, presence and requests stop"),
        ("unblock", "unblock someone"),
    ):
        contact_verb(name, help_text).set_defaults(request=lambda a, op=f"contacts.{name}": _contact(op, a))
    listing = verbs.add_parser("requests", help="contact requests and invitations waiting for an answer")
    listing.add_argument("--json", action="store_true", help="JSON output")
    listing.set_defaults(request=lambda _a: {"op": "contacts.requests"})
    blocked = verbs.add_parser("blocked", help="the people you blocked")
    blocked.add_argument("--json", action="store_true", help="JSON output")
    blocked.set_defaults(request=lambda _a: {"op": "contacts.blocked"})
    for name, help_text in (("accept", "accept a request or invitation"), ("decline", "decline one")):
        answer = verbs.add_parser(name, help=help_text)
        answer.add_argument("request_id", metavar="REQUEST", type=int, help="its number (aggregator contacts requests)")
        answer.set_defaults(request=lambda a, op=f"contacts.{name}": {"op": op, "request": a.request_id})


def _contact(op: str, args: argparse.Namespace, **extra: str | None) -> dict[str, Any]:
    try:
        account = AccountCommands.offline(args.paths).resolve(args.account)
    except ConfigurationError as exc:
        raise UsageError(str(exc)) from None
    return {"op": op, "account": account.id, "address": args.address, **extra}


def cmd_contacts(args: argparse.Namespace, paths: ProfilePaths, registry: ProtocolRegistry) -> int:
    args.paths = paths
    req = args.request(args)
    if not InstanceLock(paths.lock_file).is_held_elsewhere():
        raise AggregatorError("aggregator contacts needs the running instance: start it with aggregator run")
    reply = request(paths.control_socket, req)
    if not reply.get("ok"):
        error = str(reply.get("error", "the request was refused"))
        raise UsageError(error) if reply.get("usage") else AggregatorError(error)
    _show(args, reply)
    return 0


def _show(args: argparse.Namespace, reply: dict[str, Any]) -> None:
    if "requests" in reply:
        if args.json:
            out_exact(json.dumps(reply["requests"], ensure_ascii=False, indent=2))
        elif not reply["requests"]:
            out("No pending requests.")
        for r in [] if args.json else reply["requests"]:
            out(f"{r['id']:>4}  {r['account']}: {r['text']}" + (f': "{r["message"]}"' if r["message"] else ""))
        return
    if "blocked" in reply:
        if args.json:
            out_exact(json.dumps(reply["blocked"], ensure_ascii=False, indent=2))
            return
        for b in reply["blocked"]:
            out(f"{b['account']}: {b['address']}")
        if not reply["blocked"]:
            out("Nobody is blocked.")
        return
    if "outcome" in reply:
        r = reply["request"]
        done = "Accepted" if reply["outcome"] == RequestOutcome.ACCEPTED.value else "Declined"
        line = f"{done} request {r['id']}: {r['text']}"
        if reply.get("conversation") and r.get("room"):
            line += f"; joined {reply['conversation']}"
        elif reply.get("conversation"):
            line += f"; write to them with: aggregator send {r['account']} {reply['conversation']} TEXT"
        out(line)
        return
    contact, op = reply["contact"], str(reply["op"]).removeprefix("contacts.")
    what = {
        "add": "Added",
        "remove": "Removed",
        "block": "Blocked",
        "unblock": "Unblocked",
        "rename": "Renamed",
    }[op]
    line = f"{what} {contact['address']} on {contact['account']}"
    if op == "rename":
        line += f": now shown as {contact['name']}"
    if op == "add":
        line += "; they see your presence once they accept"
    out(line + ".")


# -- run --headless ----------------------------------------------------------------------------------


def request_line(request: PendingRequest) -> str:
    line = f"{request.account_id}: request {request.id}: {request.sentence()}"
    if request.message:
        line += f': "{request.message}"'
    return line + f" (aggregator contacts accept|decline {request.id})"


def closed_line(event: ContactRequestClosed) -> str:
    r = event.request
    if event.outcome is RequestOutcome.DECLINED_BY_POLICY:
        return f"{r.account_id}: declined at once by the policy: {r.sentence()}: {event.reason}"
    return f"{r.account_id}: request {r.id} {event.outcome.value}: {r.sentence()}"


def watch_requests(app: App, write: Callable[[str], None] = out, stamp: Callable[[], str] = str) -> Callable[[], None]:
    """Print every request, answer and block as it happens. Returns what prints the requests pending
    from before (those that came while nothing ran), to call on the engine thread."""

    def line(text: str) -> None:
        write(f"{stamp()} {text}".lstrip())

    app.subscribe(ContactRequestReceived, lambda e: line(request_line(e.request)))
    app.subscribe(ContactRequestClosed, lambda e: line(closed_line(e)))
    app.subscribe(
        ContactBlockChanged,
        lambda e: line(f"{e.contact.account_id}: {'blocked' if e.blocked else 'unblocked'} {e.contact.handle}"),
    )

    def show_pending() -> None:
        for pending in app.contacts.requests():
            line(request_line(pending))

    return show_pending
